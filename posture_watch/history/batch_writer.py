"""Writing one flush's worth of buffered history in one transaction.

All of a batch commits or none of it: the rows of complete seconds, sessions started while
the database was unwritable, reminders, breaks, context spans and session ends. What a
commit establishes (the database ids of such sessions, the ids of interned rule and note
names) is remembered only once it has committed, so a failed batch can be retried exactly
as it was.

A batch also deletes the day rollups of the days it writes seconds into, in the same
transaction, so a stored rollup always matches its day's rows. (Rollups hold per-second
figures only; breaks, reminders and context spans are read for each summary.)
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from posture_watch.history.connection import rollback
from posture_watch.history.seconds import FoldedSeconds, write_seconds

MAX_PENDING_EVENTS = 1000  # reminders / breaks / spans kept in memory while unwritable
INSERT_SESSION = ("INSERT INTO sessions (started_at, source, kind, profile, config_fingerprint) "
                  "VALUES (?, ?, ?, ?, ?)")


def _event_queue() -> deque[tuple[Any, ...]]:
    return deque(maxlen=MAX_PENDING_EVENTS)


@dataclass(slots=True)
class PendingEvents:
    """What waits for the next commit besides the seconds (oldest events drop first)."""

    sessions: dict[int, tuple[Any, ...]] = field(default_factory=dict)  # provisional id -> row
    reminders: deque[tuple[Any, ...]] = field(default_factory=_event_queue)
    breaks: deque[tuple[Any, ...]] = field(default_factory=_event_queue)
    spans: deque[tuple[Any, ...]] = field(default_factory=_event_queue)
    ends: dict[int, float] = field(default_factory=dict)  # session id -> ended_at

    def __bool__(self) -> bool:
        """Whether anything waits to be written."""
        return bool(self.sessions or self.reminders or self.breaks or self.spans
                    or self.ends)

    def clear(self) -> None:
        self.sessions.clear()
        self.reminders.clear()
        self.breaks.clear()
        self.spans.clear()
        self.ends.clear()


class BatchWriter:
    """Commits batches; remembers the ids that committed batches gave out."""

    def __init__(self) -> None:
        self._session_ids: dict[int, int] = {}  # provisional id -> id in the database
        self._string_ids: dict[str, int] = {}  # rule or note name -> id in `strings`

    @property
    def sessions_mapped(self) -> int:
        """How many provisional session ids have been given a database id."""
        return len(self._session_ids)

    def write(self, conn: sqlite3.Connection, seconds: FoldedSeconds,
              events: PendingEvents) -> None:
        """Write `seconds` and `events` in one transaction; on an SQLite error roll it back
        and raise, remembering nothing."""
        try:
            self._write(conn, seconds, events)
        except sqlite3.Error:
            rollback(conn)
            raise

    def _write(self, conn: sqlite3.Connection, seconds: FoldedSeconds,
               events: PendingEvents) -> None:
        conn.execute("BEGIN IMMEDIATE")
        real = self._insert_sessions(conn, events.sessions)
        ids = dict(self._string_ids)
        needed = {n for _, acc in seconds for n in (acc.main_rule(), acc.note) if n}
        _intern(conn, needed - ids.keys(), ids)
        write_seconds(conn, seconds, ids, real)
        if seconds:  # the rollups of the days written into no longer hold
            written = [second for (_, second), _ in seconds]
            conn.execute("DELETE FROM day_rollups WHERE lo <= ? AND hi > ?",
                         (max(written), min(written)))
        conn.executemany(
            "INSERT INTO reminders (session_id, t, kind, title, message, reason, response) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(real.get(r[0], r[0]), *r[1:]) for r in events.reminders])
        conn.executemany("INSERT INTO breaks (session_id, start, end, kind) VALUES (?, ?, ?, ?)",
                         [(real.get(b[0], b[0]), *b[1:]) for b in events.breaks])
        conn.executemany("INSERT INTO context_spans (session_id, kind, start, end, detail) "
                         "VALUES (?, ?, ?, ?, ?)",
                         [(real.get(c[0], c[0]), *c[1:]) for c in events.spans])
        _update_sessions(conn, seconds, events.ends, real)
        conn.execute("COMMIT")
        self._string_ids = ids
        self._session_ids.update(real)

    def _insert_sessions(self, conn: sqlite3.Connection,
                         pending: dict[int, tuple[Any, ...]]) -> dict[int, int]:
        """Insert the sessions still waiting for a row; returns every known id mapping."""
        real = dict(self._session_ids)
        for provisional, row in pending.items():
            cur = conn.execute(INSERT_SESSION, row)
            assert cur.lastrowid is not None
            real[provisional] = cur.lastrowid
        return real


def _intern(conn: sqlite3.Connection, names: Iterable[str], ids: dict[str, int]) -> None:
    for name in names:
        conn.execute("INSERT OR IGNORE INTO strings (name) VALUES (?)", (name,))
        ids[name] = conn.execute("SELECT id FROM strings WHERE name = ?", (name,)).fetchone()[0]


def _update_sessions(conn: sqlite3.Connection, seconds: FoldedSeconds, ends: dict[int, float],
                     real: dict[int, int]) -> None:
    """Move each session's last_seen_at up to its newest written second; record ends."""
    seen: dict[int, int] = {}
    for (sid, second), _ in seconds:
        seen[sid] = max(seen.get(sid, second), second)
    conn.executemany(
        "UPDATE sessions SET last_seen_at = MAX(COALESCE(last_seen_at, 0), ?) "
        "WHERE id = ?", [(second + 1, real.get(sid, sid)) for sid, second in seen.items()])
    conn.executemany("UPDATE sessions SET ended_at = ? WHERE id = ?",
                     [(end, real.get(sid, sid)) for sid, end in ends.items()])
