"""The private per-user runtime directory, home of the control socket (or port file) and the lock.

It is 0700 and owned by the user, so what the monitor puts there is reachable by the user only.
"""

from __future__ import annotations

import os
import stat
import sys
import warnings
from pathlib import Path

import platformdirs

from posture_watch.errors import UserError

APP_NAME = "posture-watch"
_WINDOWS = sys.platform == "win32"


def runtime_dir() -> Path:
    """The private per-user directory for the socket and lock (created 0700).

    POSTURE_WATCH_RUNTIME_DIR overrides the platform default.
    """
    override = os.environ.get("POSTURE_WATCH_RUNTIME_DIR")
    if override:
        return ensure_private_dir(Path(override), may_tighten=False)
    with warnings.catch_warnings():  # platformdirs warns when it falls back to /tmp/runtime-UID
        warnings.simplefilter("ignore")
        default = Path(platformdirs.user_runtime_dir(APP_NAME))
    return ensure_private_dir(default, may_tighten=True)


def resolve_runtime_dir(directory: Path | None) -> Path:
    """`directory`, checked to be private, or the default runtime_dir() when it is None."""
    if directory is None:
        return runtime_dir()
    return ensure_private_dir(directory, may_tighten=False)


def ensure_private_dir(path: Path, *, may_tighten: bool) -> Path:
    """Create `path` (and missing parents) 0700, or check that an existing one is private.

    An existing directory with group/other access is tightened only when it is our own
    app directory (`may_tighten`): chmod-ing a directory the user pointed us at (say /tmp)
    would break other programs, so that is refused instead.
    """
    path = path.absolute()
    created = _make_dirs(path)
    if _WINDOWS:
        return path  # per-user ACLs on %LOCALAPPDATA% protect it; no POSIX modes to check
    info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise UserError(f"runtime directory {path} is not a directory")
    if info.st_uid != os.getuid():
        raise UserError(f"runtime directory {path} belongs to another user; "
                        "set POSTURE_WATCH_RUNTIME_DIR to a private directory")
    _check_parent(path)
    if stat.S_IMODE(info.st_mode) & 0o077:
        if not (created or may_tighten):
            raise UserError(f"runtime directory {path} is accessible by other users "
                            f"(mode {stat.S_IMODE(info.st_mode):o}); use a private (0700) one")
        os.chmod(path, 0o700)
    return path


def _make_dirs(path: Path) -> bool:
    """mkdir -p with 0700 for every directory created (Path.mkdir gives parents 0777)."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            continue
        except OSError as exc:
            raise UserError(f"cannot create the runtime directory {directory}: "
                            f"{exc.strerror or exc}") from exc
        if not _WINDOWS:
            os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask; be exact
    return bool(missing)


def _check_parent(path: Path) -> None:
    """Another user who owns the parent could swap our directory for theirs."""
    info = os.stat(path.parent)
    if info.st_uid in (os.getuid(), 0):
        return
    if stat.S_IMODE(info.st_mode) & 0o022 and not info.st_mode & stat.S_ISVTX:
        raise UserError(f"runtime directory {path} sits in {path.parent}, which another user "
                        "can modify; set POSTURE_WATCH_RUNTIME_DIR to a private directory")
    raise UserError(f"runtime directory {path} sits in {path.parent}, which belongs to another "
                    "user; set POSTURE_WATCH_RUNTIME_DIR to a private directory")
