"""Where the history database lives and how it is opened: connection settings, the
integrity check, migration, and what happens to a corrupt file.

The connection runs in WAL mode with synchronous=NORMAL, so a reader never blocks the
writer and a kill -9 never leaves a broken file. A file that fails to open as a database
or fails its quick check is moved aside (never deleted: it may still hold data worth
rescuing) with its -wal and -shm companions, and a new database is started.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

from posture_watch.errors import UserError
from posture_watch.history.schema import migrate
from posture_watch.paths import data_dir

log = logging.getLogger(__name__)

DB_NAME = "history.sqlite3"
BUSY_TIMEOUT_MS = 2000  # how long a write waits for another writer before it counts as failed
_CORRUPT_ERRORS = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})


def default_path() -> Path:
    return data_dir() / DB_NAME


class _CorruptError(sqlite3.DatabaseError):
    """The file opened but its integrity check found damage."""


def _is_corruption(exc: sqlite3.Error) -> bool:
    return isinstance(exc, _CorruptError) or \
        getattr(exc, "sqlite_errorname", "") in _CORRUPT_ERRORS


def _aside_path(path: Path, when: float) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    return aside


def _move_aside(path: Path, when: float) -> Path:
    """Rename the file (and its WAL/shared-memory companions, kept paired) out of the way."""
    aside = _aside_path(path, when)
    try:
        os.replace(path, aside)
        for suffix in ("-wal", "-shm"):
            companion = Path(f"{path}{suffix}")
            if companion.exists():
                os.replace(companion, Path(f"{aside}{suffix}"))
    except OSError as exc:
        raise UserError(f"history database {path} is corrupt and could not be moved "
                        f"aside: {exc}") from None
    return aside


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        rows = conn.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            detail = "; ".join(str(r[0]) for r in rows[:3])
            raise _CorruptError(f"integrity check failed: {detail}")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def open_database(path: Path, when: float) -> sqlite3.Connection:
    """Open (creating folder and file if need be) and migrate the history database.

    A corrupt file is moved aside, stamped with `when`, and a new one is started; any
    other SQLite failure is a one-line UserError.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the history folder {path.parent}: {exc}") from None
    try:
        return _connect(path)
    except sqlite3.DatabaseError as exc:
        if not _is_corruption(exc):
            raise UserError(f"cannot open the history database {path}: {exc}") from None
        aside = _move_aside(path, when)
        log.warning("history database %s is corrupt (%s); moved it to %s and started a new one",
                    path, exc, aside.name)
    try:
        return _connect(path)
    except sqlite3.Error as exc:
        raise UserError(f"cannot create the history database {path}: {exc}") from None
