"""The control channel and the instance lock, through real sockets, files and processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from posture_watch.errors import UserError
from posture_watch.monitor import runtime_dir as runtime_dir_module
from posture_watch.monitor.control import client
from posture_watch.monitor.control.client import send_command
from posture_watch.monitor.control.protocol import NotRespondingError, NotRunningError
from posture_watch.monitor.control.server import ControlServer
from posture_watch.monitor.instance_lock import InstanceLock
from posture_watch.monitor.runtime_dir import runtime_dir

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX sockets, modes and signals")

RUNNING_MESSAGE = "posture-watch is already running (pid {}); stop it with 'posture-watch stop'"

# Guards against a hang only: whatever works is done in a tiny fraction of it, even on a loaded
# machine, so no verdict depends on how fast the machine is.
HANG_GUARD_S = 60.0

T = TypeVar("T")


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh runtime dir, via the environment, as the CLI would find it."""
    path = tmp_path / "run"
    monkeypatch.setenv("POSTURE_WATCH_RUNTIME_DIR", str(path))
    return path


class Recorder:
    """A handler that remembers its requests and answers like the monitor would."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        if request["args"].get("explode"):
            raise RuntimeError("camera\nexploded")
        if request["args"].get("refuse"):
            raise UserError("cannot snooze while paused")
        return {"state": "watching", "echo": request["args"]}


@pytest.fixture
def server(run_dir: Path) -> Iterator[tuple[ControlServer, Recorder]]:
    recorder = Recorder()
    with ControlServer(recorder) as srv:
        yield srv, recorder


def raw_exchange(path: Path, payload: bytes) -> dict[str, Any]:
    """Talk to the socket without the client, to send what the client never would."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(HANG_GUARD_S)
        conn.connect(str(path))
        conn.sendall(payload)
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)


def run_python(code: str, run_dir: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POSTURE_WATCH_RUNTIME_DIR": str(run_dir)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, timeout=HANG_GUARD_S, check=False, **kwargs)


def without_hanging(call: Callable[[], T]) -> T:
    """call() on a worker thread, returning or raising as it does; fails the test if it hangs."""
    outcome: list[tuple[T | None, BaseException | None]] = []

    def work() -> None:
        try:
            outcome.append((call(), None))
        except BaseException as exc:  # handed to the test's thread below
            outcome.append((None, exc))

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(HANG_GUARD_S)
    if not outcome:
        pytest.fail(f"still waiting after {HANG_GUARD_S:g} s: it hangs")
    result, error = outcome[0]
    if error is not None:
        raise error
    return result  # type: ignore[return-value]


class RecordingSocket(socket.socket):
    """A real socket that remembers every timeout it is armed with."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.timeouts: list[float | None] = []
        super().__init__(*args, **kwargs)

    def settimeout(self, value: float | None) -> None:
        self.timeouts.append(value)
        super().settimeout(value)


@dataclass
class ClientConnections:
    unix: list[RecordingSocket] = field(default_factory=list)
    tcp: list[tuple[str, int]] = field(default_factory=list)


@pytest.fixture
def client_connections(monkeypatch: pytest.MonkeyPatch) -> ClientConnections:
    """Every connection the client module opens (its own `socket` name only is swapped)."""
    seen = ClientConnections()

    def unix_socket(*args: Any, **kwargs: Any) -> RecordingSocket:
        conn = RecordingSocket(*args, **kwargs)
        seen.unix.append(conn)
        return conn

    def tcp_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        seen.tcp.append(address)
        return socket.create_connection(address, *args, **kwargs)

    spy = types.SimpleNamespace(**vars(socket))
    spy.socket = unix_socket
    spy.create_connection = tcp_connection
    monkeypatch.setattr(client, "socket", spy)
    return seen


TRY_LOCK = """
    from posture_watch.monitor.instance_lock import InstanceLock
    from posture_watch.errors import UserError
    try:
        InstanceLock().acquire()
    except UserError as exc:
        print(exc)
        raise SystemExit(2)
    print("acquired")
"""


# ---------------------------------------------------------------- round trips


def test_status_round_trip(server: tuple[ControlServer, Recorder]) -> None:
    reply = send_command("status")
    assert reply == {"ok": True, "state": "watching", "echo": {}}
    assert server[1].requests == [{"command": "status", "args": {}}]


def test_every_command_reaches_the_handler_with_its_args(
        server: tuple[ControlServer, Recorder]) -> None:
    sent = {"status": {}, "pause": {"duration_s": 1800}, "resume": {},
            "snooze": {"duration_s": 900.5, "reason": "meeting"}, "stop": {"now": True}}
    for command, args in sent.items():
        assert send_command(command, args=args)["ok"] is True
    assert server[1].requests == [{"command": c, "args": a} for c, a in sent.items()]


def test_handler_exception_is_an_error_reply_and_the_server_lives_on(
        server: tuple[ControlServer, Recorder]) -> None:
    reply = send_command("pause", args={"explode": True})
    assert reply == {"ok": False, "error": "RuntimeError: camera exploded"}
    refused = send_command("snooze", args={"refuse": True})
    assert refused == {"ok": False, "error": "cannot snooze while paused"}
    assert send_command("status")["ok"] is True


def test_bad_requests_get_error_replies(server: tuple[ControlServer, Recorder],
                                        run_dir: Path) -> None:
    sock = run_dir / "control.sock"
    assert raw_exchange(sock, b"{not json\n") == {"ok": False, "error": "invalid JSON request"}
    assert raw_exchange(sock, b"[1, 2]\n")["error"] == "a request must be a JSON object"
    assert "unknown command 'reboot'" in raw_exchange(sock, b'{"command": "reboot"}\n')["error"]
    assert raw_exchange(sock, b'{"command": "pause", "args": 5}\n')["ok"] is False
    assert raw_exchange(sock, b"\xff\xfe\n")["error"] == "invalid JSON request"
    assert server[1].requests == []
    assert send_command("status")["ok"] is True


def test_oversized_request_gets_an_error_reply(server: tuple[ControlServer, Recorder],
                                               run_dir: Path) -> None:
    reply = send_command("pause", args={"note": "x" * (70 * 1024)})
    assert reply["ok"] is False and "too large" in reply["error"]
    no_newline = raw_exchange(run_dir / "control.sock", b"{" * (200 * 1024))
    assert no_newline["ok"] is False and "too large" in no_newline["error"]
    assert server[1].requests == []
    assert send_command("status")["ok"] is True


def test_unserialisable_handler_result_is_an_error_reply(run_dir: Path) -> None:
    with ControlServer(lambda request: {"when": object()}):
        reply = send_command("status")
    assert reply["ok"] is False and reply["error"].startswith("internal error")


# ---------------------------------------------------------------- files and permissions


def test_socket_is_owner_only_and_removed_on_close(run_dir: Path) -> None:
    srv = ControlServer(Recorder())
    srv.start()
    sock = run_dir / "control.sock"
    try:
        assert stat.S_ISSOCK(os.lstat(sock).st_mode)
        assert stat.S_IMODE(os.lstat(sock).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(run_dir).st_mode) == 0o700
    finally:
        srv.close()
    assert not sock.exists()
    srv.close()  # twice is fine


def test_runtime_dir_is_created_private_even_with_a_loose_umask(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a" / "b"
    monkeypatch.setenv("POSTURE_WATCH_RUNTIME_DIR", str(target))
    old = os.umask(0o000)
    try:
        assert runtime_dir() == target
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(target.parent).st_mode) == 0o700


def test_a_shared_override_directory_is_refused_not_chmodded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("POSTURE_WATCH_RUNTIME_DIR", str(shared))
    with pytest.raises(UserError, match="accessible by other users"):
        runtime_dir()
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o777


def test_the_default_directory_is_tightened(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    default = tmp_path / "xdg-run" / "posture-watch"
    default.mkdir(parents=True)
    default.chmod(0o755)
    monkeypatch.delenv("POSTURE_WATCH_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(runtime_dir_module.platformdirs, "user_runtime_dir",
                        lambda name: str(default))
    assert runtime_dir() == default
    assert stat.S_IMODE(os.stat(default).st_mode) == 0o700


# ---------------------------------------------------------------- nothing running


def test_send_command_with_nothing_running_fails_fast(
        run_dir: Path, client_connections: ClientConnections) -> None:
    # Fast because it waits for nothing: with an hour to wait, any wait would hang here.
    with pytest.raises(UserError, match=r"^posture-watch is not running$"):
        without_hanging(lambda: send_command("status", timeout_s=3600))
    assert client_connections == ClientConnections()  # not even a connection attempt


def test_send_command_to_a_dead_socket_says_not_running(run_dir: Path) -> None:
    run_dir.mkdir(mode=0o700)
    leftover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    leftover.bind(str(run_dir / "control.sock"))  # bound, never listening: refuses
    leftover.close()
    with pytest.raises(NotRunningError):
        send_command("stop", timeout_s=1.0)


def test_a_silent_server_times_out_with_one_line(
        run_dir: Path, client_connections: ClientConnections) -> None:
    run_dir.mkdir(mode=0o700)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as mute:
        mute.bind(str(run_dir / "control.sock"))
        mute.listen(1)  # accepts at the kernel level, never answers
        with pytest.raises(NotRespondingError) as caught:
            without_hanging(lambda: send_command("status", timeout_s=0.3))
    assert str(caught.value) == "posture-watch is not responding (no reply within 0.3 s)"
    # It gave up on the given timeout: one connection, and every wait on it was armed from
    # one deadline 0.3 s out (never longer, never unbounded, shrinking as time passes).
    [conn] = client_connections.unix
    assert conn.timeouts and all(t is not None and 0 < t <= 0.3 for t in conn.timeouts)
    assert conn.timeouts == sorted(conn.timeouts, reverse=True)
    assert client_connections.tcp == []


# ---------------------------------------------------------------- stale and live leftovers


def test_stale_socket_is_cleared_at_server_start(run_dir: Path) -> None:
    run_dir.mkdir(mode=0o700)
    sock = run_dir / "control.sock"
    leftover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    leftover.bind(str(sock))
    leftover.close()
    assert sock.exists()
    with ControlServer(Recorder()):
        assert send_command("status")["ok"] is True
        assert stat.S_IMODE(os.lstat(sock).st_mode) == 0o600


def test_a_second_server_while_one_is_live_is_refused(
        server: tuple[ControlServer, Recorder], run_dir: Path) -> None:
    # the lock lets the message name the live pid
    with InstanceLock(), pytest.raises(UserError) as caught:
        ControlServer(Recorder()).start()
    assert str(caught.value) == RUNNING_MESSAGE.format(os.getpid())
    assert send_command("status")["ok"] is True  # the live one keeps its socket


def test_a_regular_file_in_place_of_the_socket_is_left_alone(run_dir: Path) -> None:
    run_dir.mkdir(mode=0o700)
    (run_dir / "control.sock").write_text("mine")
    with pytest.raises(UserError, match="is not a socket"):
        ControlServer(Recorder()).start()
    assert (run_dir / "control.sock").read_text() == "mine"


# ---------------------------------------------------------------- instance lock


def test_a_second_instance_in_another_process_is_refused_until_release(run_dir: Path) -> None:
    lock = InstanceLock()
    lock.acquire()
    try:
        refused = run_python(TRY_LOCK, run_dir)
        assert refused.returncode == 2, refused.stderr
        assert refused.stdout.splitlines() == [RUNNING_MESSAGE.format(os.getpid())]
    finally:
        lock.release()
    allowed = run_python(TRY_LOCK, run_dir)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "acquired"


def test_lock_file_holds_the_pid_and_is_emptied_on_release(run_dir: Path) -> None:
    with InstanceLock() as lock:
        assert lock.path == run_dir / "posture-watch.lock"
        assert lock.path.read_text().strip() == str(os.getpid())
        assert stat.S_IMODE(os.stat(lock.path).st_mode) == 0o600
        with pytest.raises(UserError, match=r"already running \(pid \d+\)"):
            InstanceLock().acquire()  # a second open file in the same process is refused too
    assert (run_dir / "posture-watch.lock").read_text() == ""
    again = InstanceLock()
    again.acquire()
    assert again.stale_pid is None  # a clean release is not a crash
    again.release()


def test_stale_lock_of_a_killed_process_is_taken_over(run_dir: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys
            from posture_watch.monitor.instance_lock import InstanceLock
            InstanceLock().acquire()
            print("locked", flush=True)
            sys.stdin.read()  # holds the lock until killed, however long the test takes
        """)],
        env={**os.environ, "POSTURE_WATCH_RUNTIME_DIR": str(run_dir)},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(UserError, match=rf"\(pid {holder.pid}\)"):
            InstanceLock().acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=HANG_GUARD_S)
        for pipe in (holder.stdin, holder.stdout):
            if pipe is not None:
                pipe.close()
    lock_file = run_dir / "posture-watch.lock"
    assert lock_file.read_text().strip() == str(holder.pid)  # the crash left its pid behind
    lock = InstanceLock()
    lock.acquire()
    try:
        assert lock.stale_pid == holder.pid
        assert lock_file.read_text().strip() == str(os.getpid())
    finally:
        lock.release()


# ---------------------------------------------------------------- tcp transport


def test_tcp_transport_with_token(run_dir: Path) -> None:
    recorder = Recorder()
    with ControlServer(recorder, transport="tcp") as srv:
        assert not (run_dir / "control.sock").exists()
        port_file = run_dir / "control.tcp"
        assert stat.S_IMODE(os.stat(port_file).st_mode) == 0o600
        record = json.loads(port_file.read_text())
        assert srv.address == ("127.0.0.1", record["port"])
        assert len(record["token"]) >= 32

        assert send_command("snooze", args={"duration_s": 60}) == {
            "ok": True, "state": "watching", "echo": {"duration_s": 60}}

        with socket.create_connection(("127.0.0.1", record["port"]),
                                      timeout=HANG_GUARD_S) as conn:
            conn.sendall(b'{"command": "stop", "args": {}}\n')
            assert json.loads(conn.makefile().readline()) == {
                "ok": False, "error": "invalid or missing token"}

        port_file.write_text(json.dumps({**record, "token": "guessed"}))
        wrong = send_command("stop")
        assert wrong == {"ok": False, "error": "invalid or missing token"}
        port_file.write_text(json.dumps(record))
        assert send_command("status")["ok"] is True
    assert recorder.requests == [{"command": "snooze", "args": {"duration_s": 60}},
                                 {"command": "status", "args": {}}]
    assert not port_file.exists()


def test_tcp_second_server_refused_and_stale_port_file_cleared(run_dir: Path) -> None:
    with ControlServer(Recorder(), transport="tcp"), pytest.raises(UserError,
                                                                   match="already running"):
        ControlServer(Recorder(), transport="tcp").start()
    # a port file left by a crash, pointing at a port where nothing listens: the port stays
    # bound (never listening) by this test, so no other program can take it meanwhile
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
        (run_dir / "control.tcp").write_text(json.dumps({"port": dead_port, "token": "t"}))
        with pytest.raises(NotRunningError):
            send_command("status")
        with ControlServer(Recorder(), transport="tcp"):
            assert send_command("status")["ok"] is True
