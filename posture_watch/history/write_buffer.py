"""Buffered writing of a monitoring session: samples, reminders, breaks, context spans and
session ends wait in memory and are committed together every `flush_every_s`.

Why it is built this way:
- One transaction every couple of seconds (WAL, synchronous=NORMAL) instead of one per
  sample, so a kill -9 loses at most the last couple of seconds and never leaves a broken
  file. The second still being filled is held back until it is complete.
- A write that fails (disk full, I/O error, locked) is logged once and retried at the next
  flush; the buffer is capped, dropping the oldest seconds, so memory stays bounded.
  Monitoring never stops for it, so nothing here raises for a failed write.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Callable
from typing import Any

from posture_watch.core.types import PostureState, Reminder
from posture_watch.history.batch_writer import INSERT_SESSION, BatchWriter, PendingEvents
from posture_watch.history.connection import SharedConnection
from posture_watch.history.rows import BREAK_KINDS, REMINDER_RESPONSES, SPAN_KINDS
from posture_watch.history.seconds import FoldedSeconds, SecondFold

log = logging.getLogger(__name__)

MAX_BUFFERED_SECONDS = 3600  # per-second rows kept in memory while the database is unwritable
_DROP_LOG_EVERY_S = 60.0  # how often a long outage repeats its dropped-samples count


class WriteBuffer:
    """Holds what the monitor records until a flush commits it; counts what failed."""

    def __init__(self, db: SharedConnection, *, now: Callable[[], float],
                 flush_every_s: float, max_buffered_s: int) -> None:
        self._db = db
        self._now = now
        self._flush_every_s = flush_every_s
        self._max_buffered = max_buffered_s
        self._batches = BatchWriter()
        self._seconds: dict[tuple[int, int], SecondFold] = {}  # insertion order ~ time order
        self._latest: dict[int, int] = {}  # session -> newest second seen
        self._events = PendingEvents()
        self._last_flush = now()
        self._failures = 0
        self._dropped = 0
        self._rows_written = 0
        self._last_drop_log = -math.inf

    @property
    def rows_written(self) -> int:
        return self._rows_written

    @property
    def buffered_seconds(self) -> int:
        return len(self._seconds)

    def start_session(self, row: tuple[Any, ...]) -> int:
        """Insert a session row at once (its id is needed now); if the database cannot be
        written, hand out a provisional id and insert the row at a later flush."""
        with self._db.lock:
            conn = self._db.require_open()
            try:
                cur = conn.execute(INSERT_SESSION, row)
                assert cur.lastrowid is not None
                return cur.lastrowid
            except sqlite3.Error as exc:
                self._note_failure(exc)
                provisional = -(self._batches.sessions_mapped + len(self._events.sessions) + 1)
                self._events.sessions[provisional] = row
                return provisional

    def add_sample(self, session_id: int, state: PostureState, wall_time: float) -> None:
        """Fold a sample into its session-second; flushes when the interval is due."""
        second = math.floor(wall_time)
        with self._db.lock:
            key = (session_id, second)
            acc = self._seconds.get(key)
            if acc is None:
                acc = self._seconds[key] = SecondFold()
                self._bound_buffer()
            acc.add(state)
            if second > self._latest.get(session_id, second - 1):
                self._latest[session_id] = second
        self._maybe_flush()

    def add_reminder(self, session_id: int, reminder: Reminder, wall_time: float,
                     response: str | None) -> None:
        if response not in REMINDER_RESPONSES:
            raise ValueError(f"reminder response must be one of {REMINDER_RESPONSES}")
        with self._db.lock:
            self._events.reminders.append((session_id, wall_time, reminder.kind.value,
                                           reminder.title, reminder.message, reminder.reason,
                                           response))
        self._maybe_flush()

    def add_break(self, session_id: int, start: float, end: float, kind: str) -> None:
        if kind not in BREAK_KINDS:
            raise ValueError(f"break kind must be one of {BREAK_KINDS}")
        with self._db.lock:
            self._events.breaks.append((session_id, start, end, kind))
        self._maybe_flush()

    def add_span(self, session_id: int, kind: str, start: float, end: float,
                 detail: str | None) -> None:
        """Queue a context span; a bad kind or an empty span is a bug in the caller."""
        if kind not in SPAN_KINDS:
            raise ValueError(f"span kind must be one of {SPAN_KINDS}")
        if not (math.isfinite(start) and math.isfinite(end) and end > start):
            raise ValueError(f"a span must end after it starts (got {start} to {end})")
        with self._db.lock:
            self._events.spans.append((session_id, kind, start, end, detail))
        self._maybe_flush()

    def end_session(self, session_id: int, ended_at: float) -> None:
        with self._db.lock:
            self._events.ends[session_id] = ended_at
            self._latest.pop(session_id, None)  # its last second is complete now
        self.flush()

    def flush(self) -> None:
        """Write what is ready in one transaction; on failure keep it for the next flush."""
        with self._db.lock:
            self._last_flush = self._now()
            conn = self._db.conn
            if conn is None:
                return
            batch = self._ready_seconds()
            if not (batch or self._events):
                return
            try:
                self._batches.write(conn, batch, self._events)
            except sqlite3.Error as exc:
                self._note_failure(exc)
                return
            self._after_write(batch)

    def flush_all(self) -> None:
        """Flush the open seconds too (the store is closing); warn about what is left."""
        with self._db.lock:
            self._latest.clear()
            self.flush()
            if self._seconds or self._events:
                log.warning("history: closing with %d unwritten seconds of samples "
                            "(the database could not be written)", len(self._seconds))

    def _maybe_flush(self) -> None:
        if self._now() - self._last_flush >= self._flush_every_s:
            self.flush()

    def _bound_buffer(self) -> None:
        """Drop the oldest buffered seconds beyond the cap (the database is unwritable)."""
        while len(self._seconds) > self._max_buffered:
            oldest = next(iter(self._seconds))
            self._dropped += self._seconds.pop(oldest).n

    def _ready_seconds(self) -> FoldedSeconds:
        """Complete seconds: older than the newest second seen for their session."""
        latest = self._latest
        return [(key, acc) for key, acc in self._seconds.items()
                if key[0] not in latest or key[1] < latest[key[0]]]

    def _after_write(self, batch: FoldedSeconds) -> None:
        for key, _ in batch:
            del self._seconds[key]
        self._rows_written += len(batch)
        self._events.clear()
        if self._failures or self._dropped:
            log.warning("history: writing again after %d failed attempts%s", self._failures,
                        f"; {self._dropped} samples were dropped meanwhile"
                        if self._dropped else "")
        self._failures = self._dropped = 0

    def _note_failure(self, exc: sqlite3.Error) -> None:
        self._failures += 1
        if self._failures == 1:
            log.warning("history: cannot write to %s (%s); keeping up to %d s of samples in "
                        "memory and retrying", self._db.path, exc, self._max_buffered)
        else:
            log.debug("history: write attempt %d failed: %s", self._failures, exc)
        now = self._now()
        if self._dropped and now - self._last_drop_log >= _DROP_LOG_EVERY_S:
            self._last_drop_log = now
            log.warning("history: dropped the %d oldest samples so far (database still "
                        "unwritable: %s)", self._dropped, exc)
