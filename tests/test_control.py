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
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from posture_watch.errors import UserError
from posture_watch.monitor import control
from posture_watch.monitor.control import (
    ControlServer,
    InstanceLock,
    NotRunningError,
    runtime_dir,
    send_command,
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX sockets, modes and signals")

RUNNING_MESSAGE = "posture-watch is already running (pid {}); stop it with 'posture-watch stop'"


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
        conn.settimeout(5)
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
                          text=True, env=env, timeout=20, check=False, **kwargs)


TRY_LOCK = """
    from posture_watch.monitor.control import InstanceLock
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
    monkeypatch.setattr(control.platformdirs, "user_runtime_dir", lambda name: str(default))
    assert runtime_dir() == default
    assert stat.S_IMODE(os.stat(default).st_mode) == 0o700


# ---------------------------------------------------------------- nothing running


def test_send_command_with_nothing_running_fails_fast(run_dir: Path) -> None:
    started = time.monotonic()
    with pytest.raises(UserError, match=r"^posture-watch is not running$"):
        send_command("status")
    assert time.monotonic() - started < 1.0


def test_send_command_to_a_dead_socket_says_not_running(run_dir: Path) -> None:
    run_dir.mkdir(mode=0o700)
    leftover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    leftover.bind(str(run_dir / "control.sock"))  # bound, never listening: refuses
    leftover.close()
    with pytest.raises(NotRunningError):
        send_command("stop", timeout_s=1.0)


def test_a_silent_server_times_out_with_one_line(run_dir: Path) -> None:
    run_dir.mkdir(mode=0o700)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as mute:
        mute.bind(str(run_dir / "control.sock"))
        mute.listen(1)  # accepts at the kernel level, never answers
        started = time.monotonic()
        with pytest.raises(UserError, match=r"^posture-watch is not responding \(no reply"):
            send_command("status", timeout_s=0.3)
        assert time.monotonic() - started < 2.0


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
            import time
            from posture_watch.monitor.control import InstanceLock
            InstanceLock().acquire()
            print("locked", flush=True)
            time.sleep(60)
        """)],
        env={**os.environ, "POSTURE_WATCH_RUNTIME_DIR": str(run_dir)},
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(UserError, match=rf"\(pid {holder.pid}\)"):
            InstanceLock().acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
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

        with socket.create_connection(("127.0.0.1", record["port"]), timeout=5) as conn:
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
    # a port file left by a crash, pointing at a port where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    (run_dir / "control.tcp").write_text(json.dumps({"port": dead_port, "token": "t"}))
    with pytest.raises(NotRunningError):
        send_command("status")
    with ControlServer(Recorder(), transport="tcp"):
        assert send_command("status")["ok"] is True
