"""The one-monitor-per-user lock that `posture-watch run` holds for its whole session.

It is not part of the control channel: it also guards a monitor whose channel is not up yet.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from types import TracebackType

from posture_watch.errors import UserError
from posture_watch.monitor.runtime_dir import resolve_runtime_dir

log = logging.getLogger(__name__)

LOCK_NAME = "posture-watch.lock"
_WINDOWS = sys.platform == "win32"
_WIN_LOCK_OFFSET = 1 << 30  # Windows locks are mandatory: lock a byte far from the pid text
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def already_running_message(pid: int | None) -> str:
    """What the user is told when a live monitor (with that pid, if known) is in the way."""
    where = f" (pid {pid})" if pid is not None else ""
    return f"posture-watch is already running{where}; stop it with 'posture-watch stop'"


class InstanceLock:
    """One monitor per user: an advisory lock on `posture-watch.lock`, which holds the pid.

    The kernel drops the lock when its process dies, so a crashed monitor leaves a file that
    is simply unlocked: the next acquire takes it over and records the dead pid in
    `stale_pid`. A clean release empties the file, so a pid in an unlocked file means a crash.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory
        self._fd: int | None = None
        self.path: Path | None = None
        self.stale_pid: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, or raise UserError naming the pid of the live holder."""
        if self._fd is not None:
            raise RuntimeError("this InstanceLock is already held")
        path = resolve_runtime_dir(self._directory) / LOCK_NAME
        fd = _open_lock_file(path)
        try:
            if not _try_lock(fd):
                raise UserError(already_running_message(_read_pid(fd)))
            previous = _read_pid(fd)
            if previous is not None and previous != os.getpid():
                self.stale_pid = previous
                log.info("taking over the lock of pid %d, which did not exit cleanly", previous)
            _write_pid(fd, os.getpid())
        except BaseException:
            os.close(fd)
            raise
        self._fd, self.path = fd, path

    def release(self) -> None:
        """Empty the pid file and unlock; safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            _unlock(fd)
        except OSError as exc:
            log.warning("could not release the instance lock cleanly: %s", exc)
        finally:
            os.close(fd)  # closing drops the lock in any case

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def read_lock_pid(directory: Path | None = None) -> int | None:
    """The pid in the lock file (live or stale), without taking the lock."""
    path = resolve_runtime_dir(directory) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except OSError:
        return None
    try:
        return _read_pid(fd)
    finally:
        os.close(fd)


def _open_lock_file(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600)
    except OSError as exc:
        raise UserError(f"cannot open the lock file {path}: {exc.strerror or exc}") from exc


def _try_lock(fd: int) -> bool:
    """Non-blocking exclusive lock; False when another open file holds it."""
    if _WINDOWS:
        import msvcrt

        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if _WINDOWS:
        import msvcrt

        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 64).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _write_pid(fd: int, pid: int) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    os.write(fd, f"{pid}\n".encode("ascii"))
