"""The history schema: every migration, in order, and the version they lead to.

The version is kept in PRAGMA user_version. MIGRATIONS[i] takes a file from version i to
i + 1; they are only ever appended to (a shipped migration is never edited, since files in
the field were made by it), and `migrate` runs all that are due in one transaction, so a
failed upgrade leaves the file at its old version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from posture_watch.errors import UserError


def _v1_create(conn: sqlite3.Connection) -> None:
    """The first schema (kept exactly as shipped: later versions migrate from it).

    Statement by statement: executescript() would commit the migration transaction.
    """
    for statement in _V1_TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)


_V1_TABLES = """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            started_at REAL NOT NULL,
            ended_at REAL,
            last_seen_at REAL,
            source TEXT NOT NULL,
            kind TEXT NOT NULL,
            profile TEXT,
            config_fingerprint TEXT NOT NULL
        );
        CREATE TABLE strings (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE TABLE samples (
            t INTEGER NOT NULL,
            session_id INTEGER NOT NULL,
            state INTEGER NOT NULL,
            n INTEGER NOT NULL,
            score_x10 INTEGER,
            rule INTEGER,
            distance_mm INTEGER,
            head_pitch_ddeg INTEGER,
            neck_ddeg INTEGER,
            quality_pm INTEGER,
            note INTEGER,
            PRIMARY KEY (t, session_id)
        ) WITHOUT ROWID;
        CREATE TABLE reminders (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL,
            t REAL NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            message TEXT NOT NULL,
            reason TEXT NOT NULL
        );
        CREATE TABLE breaks (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL,
            start REAL NOT NULL,
            end REAL NOT NULL,
            kind TEXT NOT NULL
        );
        CREATE TABLE profiles (
            name TEXT PRIMARY KEY,
            data TEXT NOT NULL,
            saved_at REAL NOT NULL
        );
"""


def _v2_reminder_response(conn: sqlite3.Connection) -> None:
    """v2: how the user answered a reminder, and time indexes for the range readers."""
    conn.execute("ALTER TABLE reminders ADD COLUMN response TEXT")
    conn.execute("CREATE INDEX reminders_t ON reminders (t)")
    conn.execute("CREATE INDEX breaks_start ON breaks (start)")
    conn.execute("CREATE INDEX sessions_started ON sessions (started_at)")


def _v3_discomfort(conn: sqlite3.Connection) -> None:
    """v3: discomfort the user logs by hand (area, 0-10 level), shown beside posture.

    The allowed areas are spelled out here, not taken from rows.DISCOMFORT_AREAS, so that
    a later change to the constant cannot change what this migration did.
    """
    conn.execute("""
        CREATE TABLE discomfort (
            id INTEGER PRIMARY KEY,
            t REAL NOT NULL,
            area TEXT NOT NULL
                CHECK (area IN ('neck', 'shoulders', 'upper_back', 'lower_back')),
            level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 10),
            note TEXT NOT NULL DEFAULT ''
        )""")
    conn.execute("CREATE INDEX discomfort_t ON discomfort (t)")


def _v4_day_rollups(conn: sqlite3.Connection) -> None:
    """v4: a cache of per-local-day summary figures, keyed by the day's [lo, hi) seconds.

    Derived data only (rebuilt from samples when missing), so dropping rows is always safe.
    """
    conn.execute("""
        CREATE TABLE day_rollups (
            lo INTEGER NOT NULL,
            hi INTEGER NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (lo, hi)
        ) WITHOUT ROWID""")


def _v5_context_spans(conn: sqlite3.Connection) -> None:
    """v5: context spans, stretches a session's camera was not watching for a reason of
    their own (a call, the screen locked, asleep, outside working hours), in wall time.

    No CHECK on kind or times: they are checked before they are queued, and a row the
    database refused would fail its whole batch (samples included) at every retry. The
    index on end serves "spans overlapping [since, until)" for recent periods.
    """
    conn.execute("""
        CREATE TABLE context_spans (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            start REAL NOT NULL,
            end REAL NOT NULL,
            detail TEXT
        )""")
    conn.execute("CREATE INDEX context_spans_end ON context_spans (end)")


# MIGRATIONS[i] takes the schema from version i to i + 1. Append only; never edit one.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _v1_create,
    _v2_reminder_response,
    _v3_discomfort,
    _v4_day_rollups,
    _v5_context_spans,
)
SCHEMA_VERSION = len(MIGRATIONS)


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to `target` in one transaction; returns the version found.

    The version is read again under the write lock, so two processes opening an old file
    at once migrate it only once.
    """
    found = _user_version(conn)
    if found > SCHEMA_VERSION:
        raise UserError(f"history database has schema version {found}, newer than this "
                        f"posture-watch understands ({SCHEMA_VERSION}); upgrade posture-watch")
    if found >= target:
        return found
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = _user_version(conn)
        for version in range(found, target):
            MIGRATIONS[version](conn)
        conn.execute(f"PRAGMA user_version = {max(found, target):d}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found
