"""The server side of the control channel, run by `posture-watch run` on a daemon thread.

Transport: a Unix domain socket `control.sock` in the private runtime directory (0700, the
socket 0600), so only the owner can connect. Where AF_UNIX cannot be relied on (Windows) the
server listens on 127.0.0.1 with an ephemeral port and writes the port and a random token to
an owner-only file `control.tcp`; every request must carry that token, because any local user
can connect to a TCP port.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import secrets
import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from posture_watch.errors import UserError
from posture_watch.monitor.control.port_file import write_port_file
from posture_watch.monitor.control.protocol import (
    COMMANDS,
    MAX_REQUEST_BYTES,
    PING,
    SOCKET_NAME,
    TCP_FILE_NAME,
    RequestTooLargeError,
    encode,
    error_reply,
    read_line,
)
from posture_watch.monitor.control.stale_files import clear_stale_port_file, clear_stale_socket
from posture_watch.monitor.runtime_dir import resolve_runtime_dir

log = logging.getLogger(__name__)

_WINDOWS = sys.platform == "win32"

Transport = Literal["auto", "unix", "tcp"]
Handler = Callable[[dict[str, Any]], dict[str, Any]]


class ControlServer:
    """Serves JSON-line requests from a daemon thread; the handler runs on that thread.

    Requests are handled one at a time, so the handler is never called concurrently with
    itself (it still runs beside the monitor's own thread, so it should only read state or
    post requests to that thread). A client that connects and stays silent holds the line
    for at most `read_timeout_s`. A handler exception becomes an error reply; nothing a
    client sends can stop the server thread. close() waits for a reply in flight, so a
    "stop" handler can simply flag the main loop, which then calls close().
    """

    def __init__(self, handler: Handler, directory: Path | None = None, *,
                 transport: Transport = "auto", read_timeout_s: float = 2.0) -> None:
        if transport not in ("auto", "unix", "tcp"):
            raise ValueError(f"unknown transport {transport!r}")
        self._handler = handler
        self._directory = directory
        self.transport: Literal["unix", "tcp"] = (
            _default_transport() if transport == "auto" else transport)
        self._read_timeout_s = read_timeout_s
        self._listener: socket.socket | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._token: str | None = None
        self._owned_file: tuple[Path, int] | None = None  # the socket/port file and its inode
        self.directory: Path | None = None
        self.address: str | tuple[str, int] | None = None

    def start(self) -> None:
        """Bind, then serve in the background. UserError if a live server already answers."""
        if self._listener is not None:
            raise RuntimeError("the control server is already started")
        directory = resolve_runtime_dir(self._directory)
        self.directory = directory
        if self.transport == "unix":
            listener = self._bind_unix(directory / SOCKET_NAME)
        else:
            listener = self._bind_tcp(directory / TCP_FILE_NAME)
        listener.setblocking(False)  # accept after select must never block (client gone)
        self._listener = listener
        self._wake = socket.socketpair()
        self._closing.clear()
        self._thread = threading.Thread(target=self._serve, name="posture-watch-control",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving and remove the socket (or port) file; safe to call twice."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        self._closing.set()
        if self._wake is not None:
            with contextlib.suppress(OSError):
                self._wake[1].send(b"x")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self._read_timeout_s + 1.0)
        listener.close()
        if self._wake is not None:
            for end in self._wake:
                end.close()
            self._wake = None
        self._remove_owned_file()

    def __enter__(self) -> ControlServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- binding

    def _bind_unix(self, path: Path) -> socket.socket:
        clear_stale_socket(path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o077)  # no window in which the socket exists with looser modes
        try:
            listener.bind(os.fspath(path))
        except OSError as exc:
            listener.close()
            raise UserError(f"cannot create the control socket {path}: "
                            f"{exc.strerror or exc}") from exc
        finally:
            os.umask(old_umask)
        os.chmod(path, 0o600)
        listener.listen(socket.SOMAXCONN)
        self._owned_file = (path, os.stat(path).st_ino)
        self.address = os.fspath(path)
        return listener

    def _bind_tcp(self, port_file: Path) -> socket.socket:
        clear_stale_port_file(port_file)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: nobody may bind over our port
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(socket.SOMAXCONN)
        port = listener.getsockname()[1]
        self._token = secrets.token_urlsafe(32)
        try:
            write_port_file(port_file, port, self._token)
        except OSError:
            listener.close()
            raise
        self._owned_file = (port_file, os.stat(port_file).st_ino)
        self.address = ("127.0.0.1", port)
        return listener

    def _remove_owned_file(self) -> None:
        owned, self._owned_file = self._owned_file, None
        if owned is None:
            return
        path, inode = owned
        with contextlib.suppress(OSError):
            if os.stat(path).st_ino == inode:  # never delete a successor's file
                path.unlink()

    # -- serving

    def _serve(self) -> None:
        listener, wake = self._listener, self._wake
        assert listener is not None and wake is not None
        while not self._closing.is_set():
            try:
                ready, _, _ = select.select([listener, wake[0]], [], [])
            except (OSError, ValueError):
                return  # closed underneath us
            if wake[0] in ready or self._closing.is_set():
                return
            try:
                conn, _ = listener.accept()
            except OSError:
                continue  # client gave up between select and accept
            conn.setblocking(True)
            with conn:
                try:
                    self._serve_connection(conn)
                except Exception:  # the server thread must outlive any one client
                    log.exception("control connection failed")

    def _serve_connection(self, conn: socket.socket) -> None:
        conn.settimeout(self._read_timeout_s)
        try:
            line = read_line(conn, MAX_REQUEST_BYTES)
        except RequestTooLargeError:
            too_large = f"request too large (over {MAX_REQUEST_BYTES} bytes)"
            _send_and_drain(conn, error_reply(too_large))
            return
        except OSError:
            return  # timed out or vanished before sending a full request
        if line is None:
            return  # connected and closed without a request (a liveness probe)
        _send(conn, self.reply_to(line))

    def reply_to(self, line: bytes) -> dict[str, Any]:
        """The reply to one request line (exposed for tests of the protocol rules)."""
        try:
            request = json.loads(line)
        except ValueError:  # includes JSONDecodeError and UnicodeDecodeError
            return error_reply("invalid JSON request")
        if not isinstance(request, dict):
            return error_reply("a request must be a JSON object")
        if self._token is not None and not _token_matches(request.get("token"), self._token):
            return error_reply("invalid or missing token")
        command = request.get("command")
        if command == PING:
            return {"ok": True, "pid": os.getpid()}
        if command not in COMMANDS:
            expected = ", ".join(COMMANDS)
            return error_reply(f"unknown command {command!r}; expected one of {expected}")
        args = request.get("args")
        if args is None:
            args = {}
        if not isinstance(args, dict):
            return error_reply("'args' must be a JSON object")
        return self._call_handler({"command": command, "args": args})

    def _call_handler(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            result = self._handler(request)
        except Exception as exc:
            if not isinstance(exc, UserError):
                log.exception("control handler failed on %r", request.get("command"))
            return error_reply(_one_line(exc))
        if not isinstance(result, dict):
            return error_reply(f"internal error: the handler returned {type(result).__name__}")
        reply = {"ok": True, **result}
        try:
            json.dumps(reply, allow_nan=False)
        except (TypeError, ValueError) as exc:
            return error_reply(f"internal error: the reply is not JSON ({exc})")
        return reply


def _default_transport() -> Literal["unix", "tcp"]:
    return "tcp" if _WINDOWS or not hasattr(socket, "AF_UNIX") else "unix"


def _token_matches(given: object, expected: str) -> bool:
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _send(conn: socket.socket, reply: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(encode(reply))


def _send_and_drain(conn: socket.socket, reply: dict[str, Any]) -> None:
    """Reply, then read off what the client is still sending.

    Closing with unread data makes the kernel reset the connection, and the client could
    lose the reply; draining (bounded in time and size) lets it arrive.
    """
    _send(conn, reply)
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
    deadline = time.monotonic() + 1.0
    drained = 0
    with contextlib.suppress(OSError):
        while drained < 16 * MAX_REQUEST_BYTES and time.monotonic() < deadline:
            conn.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = conn.recv(65536)
            if not chunk:
                break
            drained += len(chunk)


def _one_line(exc: BaseException) -> str:
    """An exception as the one-line "error" of a reply (UserError text as it is)."""
    text = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text or type(exc).__name__

