"""The control channel's wire format, which the server and the client share.

One JSON object per line, one request per connection:
  request   {"command": "status"|"pause"|"resume"|"snooze"|"stop"|"break"|"postpone"
                         |"skip"|"break_done"|"profile", "args": {...}}
  response  {"ok": true, ...}  or  {"ok": false, "error": "one line"}
Over TCP every request also carries the token from the port file ("token": "...").
"""

from __future__ import annotations

import json
import socket
from typing import Any

from posture_watch.errors import UserError

COMMANDS = ("status", "pause", "resume", "snooze", "stop", "break", "postpone", "skip",
            "break_done", "profile")
PING = "ping"  # answered by the server itself: tells a live server from a stale TCP port file
MAX_REQUEST_BYTES = 64 * 1024
MAX_REPLY_BYTES = 1024 * 1024
SOCKET_NAME = "control.sock"  # in the runtime directory: the Unix transport's address
TCP_FILE_NAME = "control.tcp"  # in the runtime directory: the TCP transport's port and token
NOT_RUNNING = "posture-watch is not running"


class NotRunningError(UserError):
    """Nothing listens on the control channel (so the monitor is not running)."""

    def __init__(self) -> None:
        super().__init__(NOT_RUNNING)


class NotRespondingError(UserError):
    """Something accepted the connection but sent no reply in time."""


class RequestTooLargeError(Exception):
    """A request line longer than the limit given to read_line."""


def encode(message: dict[str, Any]) -> bytes:
    """One message as one line."""
    return (json.dumps(message, allow_nan=False) + "\n").encode("utf-8")


def read_line(conn: socket.socket, limit: int) -> bytes | None:
    """One line (without its newline); the data before EOF counts as a line too.

    None when the peer closed without sending anything but whitespace.
    """
    buffer = bytearray()
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        buffer += chunk
        end = buffer.find(b"\n")
        if end >= 0:
            if end > limit:
                raise RequestTooLargeError
            return bytes(buffer[:end])
        if len(buffer) > limit:
            raise RequestTooLargeError
    if not buffer.strip():
        return None
    return bytes(buffer)


def error_reply(message: str) -> dict[str, Any]:
    return {"ok": False, "error": message}
