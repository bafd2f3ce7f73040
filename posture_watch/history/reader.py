"""Reading the history back as plain rows, and the per-day rollup cache.

Nothing here flushes the write buffer: the Store does that before the reads that must see
its own latest writes. Summaries over months read per-day rollups (one small JSON row per
completed local day) instead of millions of rows. A rollup is stored only if no other
write landed since its rows were read, and writes and forgetting delete the rollups of the
days they touch, so a rollup always matches its day's rows.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

from posture_watch.core.types import ReminderKind, State
from posture_watch.history.connection import SharedConnection, rollback
from posture_watch.history.rows import (
    CODE_STATE,
    BreakRow,
    DiscomfortRow,
    ReminderRow,
    SampleRow,
    SessionRow,
    SpanRow,
)
from posture_watch.history.seconds import read_seconds

log = logging.getLogger(__name__)


class HistoryReader:
    """Range queries over the shared connection; a failed read is a one-line UserError."""

    def __init__(self, db: SharedConnection) -> None:
        self._db = db

    def sessions(self, since: float | None, until: float | None) -> list[SessionRow]:
        """Sessions overlapping [since, until), oldest first."""
        lo = -math.inf if since is None else since
        hi = math.inf if until is None else until
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT id, started_at, ended_at, last_seen_at, source, kind, profile, "
                "config_fingerprint FROM sessions WHERE started_at < ? AND "
                "COALESCE(ended_at, last_seen_at, started_at) >= ? ORDER BY started_at, id",
                (hi, lo)).fetchall()
        return [SessionRow(*r) for r in rows]

    def samples(self, since: float, until: float) -> list[SampleRow]:
        """Per-second rows with since <= t < until, in time order."""
        with self._db.reading() as conn:
            return read_seconds(conn, since, until)

    def cached_rollups(self, since: float, until: float) -> dict[tuple[int, int], Any]:
        """Stored day rollups lying within [since, until), decoded: (lo, hi) -> data.

        An undecodable row is left out (it will be computed again)."""
        with self._db.reading() as conn:
            rows = conn.execute("SELECT lo, hi, data FROM day_rollups WHERE lo >= ? AND "
                                "hi <= ?", (math.floor(since), math.ceil(until))).fetchall()
        out = {}
        for lo, hi, data in rows:
            try:
                out[(lo, hi)] = json.loads(data)
            except ValueError:
                continue
        return out

    def rollup_day(self, lo: int, hi: int,
                   compute: Callable[[list[SampleRow]], dict[str, Any]]) -> dict[str, Any]:
        """compute(samples of [lo, hi)), stored as that day's rollup; returns it.

        The rows are read and the rollup written in one transaction: if another
        connection wrote in between, the write fails (SQLite refuses to upgrade a stale
        read) and nothing is stored. A failed write is ignored: the rollup is still
        returned.
        """
        with self._db.reading() as conn:
            conn.execute("BEGIN")
            try:
                data = compute(read_seconds(conn, lo, hi))
            except BaseException:
                rollback(conn)
                raise
            try:
                conn.execute("INSERT OR REPLACE INTO day_rollups (lo, hi, data) VALUES "
                             "(?, ?, ?)", (lo, hi, json.dumps(data, separators=(",", ":"))))
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                rollback(conn)
                log.debug("history: day rollup %d-%d not stored: %s", lo, hi, exc)
        return data

    def reminders(self, since: float, until: float) -> list[ReminderRow]:
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT session_id, t, kind, title, message, reason, response FROM reminders "
                "WHERE t >= ? AND t < ? ORDER BY t, id", (since, until)).fetchall()
        return [ReminderRow(sid, t, ReminderKind(kind), title, message, reason, response)
                for sid, t, kind, title, message, reason, response in rows]

    def breaks(self, since: float, until: float) -> list[BreakRow]:
        """Breaks that started in [since, until)."""
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT session_id, start, end, kind FROM breaks WHERE start >= ? "
                "AND start < ? ORDER BY start, id", (since, until)).fetchall()
        return [BreakRow(*r) for r in rows]

    def spans(self, since: float, until: float) -> list[SpanRow]:
        """Context spans overlapping [since, until) (whole, not cut), by start."""
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT session_id, kind, start, end, detail FROM context_spans "
                "WHERE end > ? AND start < ? ORDER BY start, id", (since, until)).fetchall()
        return [SpanRow(*r) for r in rows]

    def discomfort(self, since: float, until: float) -> list[DiscomfortRow]:
        """Discomfort entries with since <= t < until, oldest first."""
        with self._db.reading() as conn:
            rows = conn.execute("SELECT t, area, level, note FROM discomfort WHERE t >= ? "
                                "AND t < ? ORDER BY t, id", (since, until)).fetchall()
        return [DiscomfortRow(*r) for r in rows]

    def state_seconds_by_day(self, since: float, until: float) -> dict[str, dict[State, int]]:
        """Seconds in each state per local calendar day (YYYY-MM-DD), counted in SQL.

        One small query per local day (boundaries from the C library, so DST days are
        23 or 25 hours): a GROUP BY over months of rows would sort millions of them.
        """
        out: dict[str, dict[State, int]] = {}
        with self._db.reading() as conn:
            for day, lo, hi in _local_days(since, until):
                rows = conn.execute("SELECT state, COUNT(*) FROM samples WHERE t >= ? AND "
                                    "t < ? GROUP BY state", (lo, hi)).fetchall()
                if rows:
                    out[day] = {CODE_STATE[code]: count for code, count in rows}
        return out

    def profile_data(self, name: str) -> str | None:
        """The stored JSON of a calibration profile, or None."""
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT data FROM profiles WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]


def _local_days(since: float, until: float) -> Iterator[tuple[str, int, int]]:
    """(YYYY-MM-DD, first second, end second) of each local day overlapping the range."""
    lo, end = math.ceil(since), math.ceil(until)
    day = time.localtime(lo)
    while lo < end:
        next_midnight = int(time.mktime((day.tm_year, day.tm_mon, day.tm_mday + 1,
                                         0, 0, 0, 0, 0, -1)))
        hi = min(next_midnight, end)
        yield time.strftime("%Y-%m-%d", day), lo, hi
        lo, day = hi, time.localtime(hi)
