"""The running monitor's local control channel, and the one-instance-per-user lock.

`posture-watch run` holds an InstanceLock and serves a ControlServer; the `status`, `pause`,
`resume`, `snooze` and `stop` commands talk to it with send_command.

Protocol: one JSON object per line, one request per connection.
  request   {"command": "status"|"pause"|"resume"|"snooze"|"stop", "args": {...}}
  response  {"ok": true, ...}  or  {"ok": false, "error": "one line"}

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
import stat
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import platformdirs

from posture_watch.errors import UserError

log = logging.getLogger(__name__)

APP_NAME = "posture-watch"
COMMANDS = ("status", "pause", "resume", "snooze", "stop")
PING = "ping"  # answered by the server itself: tells a live server from a stale TCP port file
MAX_REQUEST_BYTES = 64 * 1024
MAX_REPLY_BYTES = 1024 * 1024
SOCKET_NAME = "control.sock"
TCP_FILE_NAME = "control.tcp"
LOCK_NAME = "posture-watch.lock"
NOT_RUNNING = "posture-watch is not running"
_WINDOWS = sys.platform == "win32"
_WIN_LOCK_OFFSET = 1 << 30  # Windows locks are mandatory: lock a byte far from the pid text
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

Transport = Literal["auto", "unix", "tcp"]
Handler = Callable[[dict[str, Any]], dict[str, Any]]


class NotRunningError(UserError):
    """Nothing listens on the control channel (so the monitor is not running)."""

    def __init__(self) -> None:
        super().__init__(NOT_RUNNING)


class NotRespondingError(UserError):
    """Something accepted the connection but sent no reply in time."""


# ---------------------------------------------------------------- runtime directory


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


def _resolve_dir(directory: Path | None) -> Path:
    if directory is None:
        return runtime_dir()
    return ensure_private_dir(directory, may_tighten=False)


def _running_message(pid: int | None) -> str:
    where = f" (pid {pid})" if pid is not None else ""
    return f"posture-watch is already running{where}; stop it with 'posture-watch stop'"


# ---------------------------------------------------------------- instance lock


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
        path = _resolve_dir(self._directory) / LOCK_NAME
        fd = _open_lock_file(path)
        try:
            if not _try_lock(fd):
                raise UserError(_running_message(_read_pid(fd)))
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


def read_lock_pid(directory: Path | None = None) -> int | None:
    """The pid in the lock file (live or stale), without taking the lock."""
    path = _resolve_dir(directory) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except OSError:
        return None
    try:
        return _read_pid(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- server


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
        directory = _resolve_dir(self._directory)
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
        _clear_stale_socket(path)
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
        _clear_stale_port_file(port_file)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: nobody may bind over our port
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(socket.SOMAXCONN)
        port = listener.getsockname()[1]
        self._token = secrets.token_urlsafe(32)
        record = {"port": port, "token": self._token, "pid": os.getpid()}
        try:
            _write_private_file(port_file, json.dumps(record) + "\n")
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
            line = _read_line(conn, MAX_REQUEST_BYTES)
        except _TooLarge:
            reply: dict[str, Any] = _error(f"request too large (over {MAX_REQUEST_BYTES} bytes)")
            _send_and_drain(conn, reply)
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
            return _error("invalid JSON request")
        if not isinstance(request, dict):
            return _error("a request must be a JSON object")
        if self._token is not None and not _token_matches(request.get("token"), self._token):
            return _error("invalid or missing token")
        command = request.get("command")
        if command == PING:
            return {"ok": True, "pid": os.getpid()}
        if command not in COMMANDS:
            return _error(f"unknown command {command!r}; expected one of {', '.join(COMMANDS)}")
        args = request.get("args")
        if args is None:
            args = {}
        if not isinstance(args, dict):
            return _error("'args' must be a JSON object")
        return self._call_handler({"command": command, "args": args})

    def _call_handler(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            result = self._handler(request)
        except Exception as exc:
            if not isinstance(exc, UserError):
                log.exception("control handler failed on %r", request.get("command"))
            return _error(_one_line(exc))
        if not isinstance(result, dict):
            return _error(f"internal error: the handler returned {type(result).__name__}")
        reply = {"ok": True, **result}
        try:
            json.dumps(reply, allow_nan=False)
        except (TypeError, ValueError) as exc:
            return _error(f"internal error: the reply is not JSON ({exc})")
        return reply


def _default_transport() -> Literal["unix", "tcp"]:
    return "tcp" if _WINDOWS or not hasattr(socket, "AF_UNIX") else "unix"


def _clear_stale_socket(path: Path) -> None:
    """Remove a socket file nobody listens on; refuse if a live server answers on it."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise UserError(f"{path} exists and is not a socket; remove it and try again")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(os.fspath(path))
    except (ConnectionRefusedError, FileNotFoundError):
        log.info("removing the stale control socket %s", path)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    except OSError:
        pass  # e.g. a timeout: something is there and busy; treat it as alive
    finally:
        probe.close()
    raise UserError(_running_message(read_lock_pid(path.parent)))


def _clear_stale_port_file(path: Path) -> None:
    """Remove a port file whose server is gone; refuse if a live server answers on it."""
    endpoint = _read_port_file(path)
    if endpoint is None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    try:
        reply = _exchange(_tcp_connect(endpoint[0], 1.0), {"command": PING}, endpoint[1], 1.0)
    except NotRespondingError as exc:  # ours but busy: alive
        raise UserError(_running_message(read_lock_pid(path.parent))) from exc
    except UserError:
        reply = None  # nothing listens, or something that is not us: stale
    if reply is not None and reply.get("ok") is True:
        pid = reply.get("pid")
        raise UserError(_running_message(pid if isinstance(pid, int) else None))
    log.info("removing the stale control port file %s", path)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


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


def _read_port_file(path: Path) -> tuple[int, str] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        port, token = record["port"], record["token"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(port, int) or not isinstance(token, str) or not 0 < port < 65536:
        return None
    return port, token


def _token_matches(given: object, expected: str) -> bool:
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class _TooLarge(Exception):
    pass


def _read_line(conn: socket.socket, limit: int) -> bytes | None:
    """One line (without its newline); the data before EOF counts as a line too."""
    buffer = bytearray()
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        buffer += chunk
        end = buffer.find(b"\n")
        if end >= 0:
            if end > limit:
                raise _TooLarge
            return bytes(buffer[:end])
        if len(buffer) > limit:
            raise _TooLarge
    if not buffer.strip():
        return None
    return bytes(buffer)


def _encode(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, allow_nan=False) + "\n").encode("utf-8")


def _send(conn: socket.socket, reply: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(_encode(reply))


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


def _error(message: str) -> dict[str, Any]:
    return {"ok": False, "error": message}


def _one_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text or type(exc).__name__


# ---------------------------------------------------------------- client


def send_command(command: str, *, args: dict[str, Any] | None = None,
                 directory: Path | None = None, timeout_s: float = 3.0) -> dict[str, Any]:
    """Send one request to the running monitor and return its reply (ok or not).

    The server advertises itself with the socket file or the port file; whichever exists
    is used. UserError("posture-watch is not running") when nothing answers.
    """
    folder = _resolve_dir(directory)
    request: dict[str, Any] = {"command": command, "args": args or {}}
    sock_path = folder / SOCKET_NAME
    port_file = folder / TCP_FILE_NAME
    if hasattr(socket, "AF_UNIX") and sock_path.exists():
        try:
            return _exchange(_unix_connect(sock_path, timeout_s), request, None, timeout_s)
        except NotRunningError:
            if not port_file.exists():
                raise
    endpoint = _read_port_file(port_file)
    if endpoint is None:
        raise NotRunningError
    port, token = endpoint
    return _exchange(_tcp_connect(port, timeout_s), request, token, timeout_s)


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
            conn.sendall(_encode(message))
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
