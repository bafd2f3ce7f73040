"""The client side of the control channel: send one request to the running monitor.

The `status`, `pause`, `resume`, `snooze` and `stop` commands use send_command.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from posture_watch.errors import UserError
from posture_watch.monitor.control.port_file import read_port_file
from posture_watch.monitor.control.protocol import (
    MAX_REPLY_BYTES,
    PING,
    SOCKET_NAME,
    TCP_FILE_NAME,
    NotRespondingError,
    NotRunningError,
    encode,
)
from posture_watch.monitor.runtime_dir import resolve_runtime_dir


def send_command(command: str, *, args: dict[str, Any] | None = None,
                 directory: Path | None = None, timeout_s: float = 3.0) -> dict[str, Any]:
    """Send one request to the running monitor and return its reply (ok or not).

    The server advertises itself with the socket file or the port file; whichever exists
    is used. UserError("posture-watch is not running") when nothing answers.
    """
    folder = resolve_runtime_dir(directory)
    request: dict[str, Any] = {"command": command, "args": args or {}}
    sock_path = folder / SOCKET_NAME
    port_file = folder / TCP_FILE_NAME
    if hasattr(socket, "AF_UNIX") and sock_path.exists():
        try:
            return _exchange(_unix_connect(sock_path, timeout_s), request, None, timeout_s)
        except NotRunningError:
            if not port_file.exists():
                raise
    endpoint = read_port_file(port_file)
    if endpoint is None:
        raise NotRunningError
    port, token = endpoint
    return _exchange(_tcp_connect(port, timeout_s), request, token, timeout_s)


def ping_over_tcp(port: int, token: str, timeout_s: float) -> dict[str, Any]:
    """The server's own reply to PING on that port: tells a live server from a stale port file.

    NotRunningError when nothing listens there, NotRespondingError when it stays silent.
    """
    return _exchange(_tcp_connect(port, timeout_s), {"command": PING}, token, timeout_s)


def _unix_connect(path: Path, timeout_s: float) -> socket.socket:
    """Connect, retrying while the listen backlog is full (Linux says EAGAIN, not wait)."""
    deadline = time.monotonic() + timeout_s
    while True:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(timeout_s)
        try:
            conn.connect(os.fspath(path))
            return conn
        except (ConnectionRefusedError, FileNotFoundError) as exc:
            conn.close()
            raise NotRunningError from exc
        except BlockingIOError as exc:
            conn.close()
            if time.monotonic() >= deadline:
                raise NotRespondingError(f"posture-watch is not responding (busy for "
                                         f"{timeout_s:g} s)") from exc
            time.sleep(0.01)
        except OSError as exc:
            conn.close()
            raise UserError(f"cannot reach posture-watch at {path}: "
                            f"{exc.strerror or exc}") from exc


def _tcp_connect(port: int, timeout_s: float) -> socket.socket:
    try:
        return socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
    except ConnectionRefusedError as exc:
        raise NotRunningError from exc
    except OSError as exc:
        raise UserError(f"cannot reach posture-watch on port {port}: "
                        f"{exc.strerror or exc}") from exc


def _exchange(conn: socket.socket, request: dict[str, Any], token: str | None,
              timeout_s: float) -> dict[str, Any]:
    """Send one request line on a connected socket and read the one reply line."""
    message = dict(request)
    if token is not None:
        message["token"] = token
    deadline = time.monotonic() + timeout_s
    with conn:
        try:
            conn.sendall(encode(message))
            raw = _read_reply(conn, deadline)
        except TimeoutError as exc:
            raise NotRespondingError(f"posture-watch is not responding (no reply within "
                                     f"{timeout_s:g} s)") from exc
        except OSError as exc:
            raise UserError(f"posture-watch closed the connection: "
                            f"{exc.strerror or exc}") from exc
    try:
        reply = json.loads(raw)
    except ValueError as exc:
        raise UserError("posture-watch sent a reply that is not JSON") from exc
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        raise UserError("posture-watch sent a malformed reply")
    return reply


def _read_reply(conn: socket.socket, deadline: float) -> bytes:
    """The reply line, waiting no later than `deadline` (time.monotonic) for all of it."""
    buffer = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        conn.settimeout(remaining)
        chunk = conn.recv(65536)
        if not chunk:
            break
        buffer += chunk
        end = buffer.find(b"\n")
        if end >= 0:
            return bytes(buffer[:end])
        if len(buffer) > MAX_REPLY_BYTES:
            raise UserError("posture-watch sent an oversized reply")
    if not buffer:
        raise UserError("posture-watch closed the connection without replying")
    return bytes(buffer)
