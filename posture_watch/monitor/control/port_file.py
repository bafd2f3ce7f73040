"""The TCP transport's port file: where the server listens, and the token requests must carry.

Any local user can connect to a TCP port, so the port alone proves nothing; the token does,
because the file lives in the private runtime directory and is itself owner-only (0600).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def write_port_file(path: Path, port: int, token: str) -> None:
    """Record where this process listens and the token it expects, owner-only."""
    record = {"port": port, "token": token, "pid": os.getpid()}
    _write_private_file(path, json.dumps(record) + "\n")


def read_port_file(path: Path) -> tuple[int, str] | None:
    """The (port, token) in the file, or None when it is missing or not a valid record."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        port, token = record["port"], record["token"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(port, int) or not isinstance(token, str) or not 0 < port < 65536:
        return None
    return port, token


def _write_private_file(path: Path, text: str) -> None:
    """Write owner-only, then rename into place, so a reader never sees half a token."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, path)
