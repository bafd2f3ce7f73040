"""The local session history: an SQLite database of sessions, per-second posture,
reminders, breaks, context spans, discomfort and calibration profiles (the standard
library's sqlite3, no ORM).

Store is the one way in, and it only puts the parts together:
- database: where the file lives, opening it, moving a corrupt file aside (schema: the
  versioned migrations run on open);
- write_buffer: the monitor's writes, buffered and committed in batches
  (batch_writer: one batch's transaction; seconds: the per-second fold);
- reader: range queries and the per-day rollup cache;
- forgetting: deleting old history.
The readers that must see this store's own latest writes flush its buffer first. Writes
the user typed (discomfort, profiles, a reminder's response) go to the database at once,
and a failure is reported rather than retried.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from posture_watch.core.calibration import Baseline
from posture_watch.core.types import PostureState, Reminder, State
from posture_watch.errors import UserError
from posture_watch.history import forgetting
from posture_watch.history.connection import SharedConnection
from posture_watch.history.database import default_path, open_database
from posture_watch.history.reader import HistoryReader
from posture_watch.history.rows import (
    DISCOMFORT_AREAS,
    REMINDER_RESPONSES,
    BreakRow,
    DiscomfortRow,
    ReminderRow,
    SampleRow,
    SessionRow,
    SpanRow,
)
from posture_watch.history.write_buffer import MAX_BUFFERED_SECONDS, WriteBuffer

log = logging.getLogger(__name__)


class Store:
    """Session history. Writers buffer; readers return plain rows. Thread-safe."""

    def __init__(self, path: Path | None = None, *, flush_every_s: float = 2.0,
                 now: Callable[[], float] = time.time,
                 max_buffered_s: int = MAX_BUFFERED_SECONDS) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._now = now
        self._db = SharedConnection(self.path, open_database(self.path, now()))
        self._writer = WriteBuffer(self._db, now=now, flush_every_s=flush_every_s,
                                   max_buffered_s=max_buffered_s)
        self._reader = HistoryReader(self._db)

    @property
    def rows_written(self) -> int:
        """Per-second sample rows committed by this store so far (for status and tests)."""
        return self._writer.rows_written

    @property
    def buffered_seconds(self) -> int:
        """Per-second rows waiting in memory (complete or not)."""
        return self._writer.buffered_seconds

    # -- context manager

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing

    def start_session(self, *, started_at: float, source: str, kind: str,
                      profile: str | None, config_fingerprint: str) -> int:
        """Record a session at once (its id is needed now); if the database cannot be
        written, hand out a provisional id and insert the row at a later flush."""
        return self._writer.start_session(
            (started_at, source, kind, profile, config_fingerprint))

    def add_sample(self, session_id: int, state: PostureState, wall_time: float) -> None:
        """Fold a sample into its session-second; flushes when the interval is due."""
        self._writer.add_sample(session_id, state, wall_time)

    def add_reminder(self, session_id: int, reminder: Reminder, wall_time: float,
                     response: str | None = None) -> None:
        self._writer.add_reminder(session_id, reminder, wall_time, response)

    def respond_to_reminders(self, session_id: int, since: float, until: float,
                             response: str) -> int:
        """Mark the session's reminders fired in [since, until] (and not yet answered) with
        the user's response; returns how many. Never raises: a failure is logged."""
        if response not in REMINDER_RESPONSES or response is None:
            raise ValueError(f"reminder response must be one of {REMINDER_RESPONSES}")
        self.flush()  # reminders still in the buffer must be in the table first
        with self._db.lock:
            conn = self._db.conn
            if conn is None:
                return 0
            try:
                with conn:
                    cursor = conn.execute(
                        "UPDATE reminders SET response = ? WHERE session_id = ? AND t >= ? "
                        "AND t <= ? AND response IS NULL", (response, session_id, since, until))
                return cursor.rowcount
            except sqlite3.Error as exc:
                log.warning("could not record the reminder response: %s", exc)
                return 0

    def add_break(self, session_id: int, start: float, end: float, kind: str) -> None:
        self._writer.add_break(session_id, start, end, kind)

    def add_span(self, session_id: int, kind: str, start: float, end: float,
                 detail: str | None = None) -> None:
        """A context span in wall time (kind: rows.SPAN_KINDS), batched like a break.

        A kind not in SPAN_KINDS, or end <= start, is a bug in the caller (ValueError)."""
        self._writer.add_span(session_id, kind, start, end, detail)

    def add_discomfort(self, t: float, area: str, level: int, note: str = "") -> None:
        """Log discomfort at once (typed by the user, so an error is reported, not queued)."""
        if area not in DISCOMFORT_AREAS:
            raise UserError(f"discomfort area {area!r}: use one of {', '.join(DISCOMFORT_AREAS)}")
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 10:
            raise UserError(f"discomfort level {level!r}: use a whole number from 0 to 10")
        with self._db.lock:
            conn = self._db.require_open()
            try:
                conn.execute("INSERT INTO discomfort (t, area, level, note) VALUES (?, ?, ?, ?)",
                             (t, area, level, note))
            except sqlite3.Error as exc:
                raise UserError(f"cannot log discomfort to {self.path}: {exc}") from None

    def end_session(self, session_id: int, ended_at: float) -> None:
        self._writer.end_session(session_id, ended_at)

    def flush(self) -> None:
        """Write what is ready in one transaction; on failure keep it for the next flush."""
        self._writer.flush()

    def close(self) -> None:
        """Flush everything (the open seconds too) and close; safe to call twice."""
        with self._db.lock:
            if self._db.conn is None:
                return
            self._writer.flush_all()
            self._db.close()

    # -- profiles

    def save_profile(self, name: str, baseline: Baseline) -> None:
        _check_profile_name(name)
        data = json.dumps(baseline.to_dict(), sort_keys=True)
        with self._db.lock:
            conn = self._db.require_open()
            try:
                conn.execute("INSERT OR REPLACE INTO profiles (name, data, saved_at) "
                             "VALUES (?, ?, ?)", (name, data, self._now()))
            except sqlite3.Error as exc:
                raise UserError(f"cannot save profile {name!r} to {self.path}: {exc}") from None

    def load_profile(self, name: str) -> Baseline | None:
        _check_profile_name(name)
        stored = self._reader.profile_data(name)
        if stored is None:
            return None
        try:
            data = json.loads(stored)
        except json.JSONDecodeError as exc:
            raise UserError(f"profile {name!r} in {self.path} is unreadable: {exc}") from None
        return Baseline.from_dict(data, origin=f"profile {name!r} in {self.path}")

    # -- reading (flushing first where this store's own writes must show)

    def sessions(self, since: float | None = None,
                 until: float | None = None) -> list[SessionRow]:
        """Sessions overlapping [since, until), oldest first."""
        self.flush()
        return self._reader.sessions(since, until)

    def samples(self, since: float, until: float) -> list[SampleRow]:
        """Per-second rows with since <= t < until, in time order.

        Meant for a day or a session (28,800 rows for 8 hours); summaries over months
        should aggregate in SQL instead (see state_seconds_by_day).
        """
        self.flush()
        return self._reader.samples(since, until)

    def cached_rollups(self, since: float, until: float) -> dict[tuple[int, int], Any]:
        """Stored day rollups lying within [since, until), decoded: (lo, hi) -> data.

        An undecodable row is left out (it will be computed again)."""
        return self._reader.cached_rollups(since, until)

    def rollup_day(self, lo: int, hi: int,
                   compute: Callable[[list[SampleRow]], dict[str, Any]]) -> dict[str, Any]:
        """compute(samples of [lo, hi)), stored as that day's rollup unless another write
        landed meanwhile; returns it. Only call this for a completed day."""
        self.flush()
        return self._reader.rollup_day(lo, hi, compute)

    def reminders(self, since: float, until: float) -> list[ReminderRow]:
        self.flush()
        return self._reader.reminders(since, until)

    def breaks(self, since: float, until: float) -> list[BreakRow]:
        """Breaks that started in [since, until)."""
        self.flush()
        return self._reader.breaks(since, until)

    def spans(self, since: float, until: float) -> list[SpanRow]:
        """Context spans overlapping [since, until), whole (not cut to it), by start."""
        self.flush()
        return self._reader.spans(since, until)

    def discomfort(self, since: float, until: float) -> list[DiscomfortRow]:
        """Discomfort entries with since <= t < until, oldest first."""
        return self._reader.discomfort(since, until)

    def state_seconds_by_day(self, since: float, until: float) -> dict[str, dict[State, int]]:
        """Seconds in each state per local calendar day (YYYY-MM-DD), counted in SQL."""
        self.flush()
        return self._reader.state_seconds_by_day(since, until)

    # -- forgetting

    def forget(self, before: float | None) -> int:
        """Delete history older than `before` (None: all of it); returns rows removed.

        Profiles are settings, not history, and stay (see forgetting)."""
        self.flush()
        return forgetting.forget(self._db, before)

    def apply_retention(self, days: int) -> int:
        """Forget everything older than `days` days (by the store's clock)."""
        if days < 1:
            raise UserError(f"history retention must be at least 1 day, not {days}")
        return self.forget(self._now() - days * 86400.0)


def _check_profile_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise UserError(f"profile name {name!r}: use 1 to 64 characters")
