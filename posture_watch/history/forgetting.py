"""Forgetting history: deleting everything older than a cut, or all of it.

Profiles are settings, not history, and stay. Sessions go only when they ended before the
cut; a session spanning it keeps its row and loses its older seconds. Context spans go
when they ended by the cut, or with their session; one across the cut is cut to start
there. The day rollups of every day the cut reaches into go too, so no rollup outlives the
rows it summed.
"""

from __future__ import annotations

import math
import sqlite3

from posture_watch.errors import UserError
from posture_watch.history.connection import SharedConnection, rollback

_TABLES = ("samples", "reminders", "breaks", "sessions", "discomfort")


def forget(db: SharedConnection, before: float | None) -> int:
    """Delete history older than `before` (None: all of it); returns rows removed."""
    with db.lock:
        conn = db.require_open()
        try:
            removed = _delete(conn, before)
            if before is None:  # leave nothing readable behind in free pages or the WAL
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            rollback(conn)
            raise UserError(f"cannot delete history in {db.path}: {exc}") from None
    return removed


def _delete(conn: sqlite3.Connection, before: float | None) -> int:
    if before is None:
        where = [("", ())] * 5
    else:
        where = [(" WHERE t < ?", (math.ceil(before),)), (" WHERE t < ?", (before,)),
                 (" WHERE start < ?", (before,)),
                 (" WHERE COALESCE(ended_at, last_seen_at, started_at) < ?", (before,)),
                 (" WHERE t < ?", (before,))]
    removed = 0
    conn.execute("BEGIN IMMEDIATE")
    for table, (clause, args) in zip(_TABLES, where, strict=True):
        removed += conn.execute(f"DELETE FROM {table}{clause}", args).rowcount
    removed += _forget_spans(conn, before)
    # derived data, not counted: the rollups of every day the cut reaches into
    conn.execute("DELETE FROM day_rollups" + (" WHERE lo < ?" if before is not None
                                              else ""), where[0][1])
    conn.execute("COMMIT")
    return removed


def _forget_spans(conn: sqlite3.Connection, before: float | None) -> int:
    """Delete the context spans over by the cut or left without their session (so run
    after the sessions); cut one across the cut to start there. Returns rows deleted."""
    if before is None:
        return conn.execute("DELETE FROM context_spans").rowcount
    removed = conn.execute("DELETE FROM context_spans WHERE end <= ? OR session_id NOT IN "
                           "(SELECT id FROM sessions)", (before,)).rowcount
    conn.execute("UPDATE context_spans SET start = ? WHERE start < ?", (before, before))
    return removed
