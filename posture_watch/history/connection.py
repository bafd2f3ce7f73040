"""The store's one open connection, shared by its writer, its reader and itself.

Every part of the store goes through the same SharedConnection, under its one lock, so a
close is seen by all of them at once and a store is safe to use from several threads.
The lock is re-entrant: a flush runs inside other locked calls.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from posture_watch.errors import UserError

log = logging.getLogger(__name__)


class SharedConnection:
    """An open connection (None once closed), the lock that guards it, and its file."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = conn
        self.lock = threading.RLock()

    def require_open(self) -> sqlite3.Connection:
        """The connection; a ValueError (a bug in the caller) once the store is closed."""
        if self.conn is None:
            raise ValueError("the history store is closed")
        return self.conn

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock; a failed read is a one-line UserError."""
        with self.lock:
            conn = self.require_open()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise UserError(f"cannot read the history database {self.path}: {exc}") \
                    from None

    def close(self) -> None:
        with self.lock:
            if self.conn is not None:
                self.conn.close()
                self.conn = None


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back an open transaction, if any; a failure to do so is only logged."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            log.debug("history: rollback failed: %s", exc)
