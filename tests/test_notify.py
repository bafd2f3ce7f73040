"""Notification backends. The D-Bus ones talk to a real private dbus-daemon with a
notification server (a thread in this process) that records what arrives.

The timeout tests never measure how long a call took: the client reads its deadline on a
ManualClock, the test moves that clock to just before the deadline once the peer has gone
quiet, and the client must then give up with "timed out". A client whose waits did not
follow its deadline would sit out its timeout (an hour) and fail the hang guard instead.
"""

from __future__ import annotations

import base64
import functools
import io
import logging
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from posture_watch.desktop import notify
from posture_watch.desktop.notify import (
    DBusNotifier,
    MacNotifier,
    Notifier,
    TerminalNotifier,
    WindowsNotifier,
    applescript_string,
    make_notifier,
)
from tests.support.dbus import HANG_GUARD_S, BusDaemon, NotificationServer, private_bus

# Quotes, backslashes, line breaks, unicode and shell syntax: any shell or string
# interpolation on the way would change or act on these.
TRICKY_TITLE = 'Sit up "straight" \\ it\'s $(rm -rf ~) `id`; echo pwned | cat & ~ *'
TRICKY_BODY = ("Line one; echo hacked > /tmp/x\nline two\t«ünïcödé» 🧘 — 背筋\r\n"
               "$HOME ${IFS} 'single' \"double\" \\\" end\\")

DEFAULT_TIMEOUT_S = 2.0  # DBusNotifier's, and so make_notifier("dbus")'s
HOUR_S = 3600.0  # a client timeout no test run could sit out
LAST_WAIT_S = 0.5  # what is left of a client's timeout once a test moves its clock


class ManualClock:
    """A clock for DBusNotifier that moves only when the test moves it (from any thread).

    It starts at 0, so a client's deadline is its timeout. `set_after_next_reading` moves it
    right after the client's next reading: the one that sets the deadline of a `notify`.
    """

    def __init__(self) -> None:
        self._now = 0.0
        self._after_next_reading: float | None = None
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            reading = self._now
            if self._after_next_reading is not None:
                self._now, self._after_next_reading = self._after_next_reading, None
            return reading

    def set(self, now: float) -> None:
        with self._lock:
            self._now = now

    def set_after_next_reading(self, now: float) -> None:
        with self._lock:
            self._after_next_reading = now


@pytest.fixture
def bus() -> Iterator[BusDaemon]:
    with private_bus() as daemon:
        yield daemon


@pytest.fixture
def start_server(bus: BusDaemon) -> Iterator[Callable[..., NotificationServer]]:
    servers: list[NotificationServer] = []

    def start(**kwargs: Any) -> NotificationServer:
        servers.append(NotificationServer(bus.address, **kwargs))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def session_bus(bus: BusDaemon, monkeypatch: pytest.MonkeyPatch) -> BusDaemon:
    """The private bus as this process's session bus, on Linux."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    monkeypatch.setattr(sys, "platform", "linux")
    return bus


@pytest.fixture
def dbus_client(session_bus: BusDaemon) -> Iterator[DBusNotifier]:
    client = make_notifier("dbus")
    assert isinstance(client, DBusNotifier)
    yield client
    client.close()


def notify_without_hanging(client: Notifier) -> bool | None:
    """Runs one notify in a thread, so a client that hangs fails the test instead of
    hanging it; returns its result (None if it raised). The clients here either fail at
    once or have LAST_WAIT_S left on their clock: HANG_GUARD_S only catches a hang."""
    outcome: list[bool | None] = [None]

    def run() -> None:
        outcome[0] = client.notify("t", "m")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=HANG_GUARD_S)
    assert not thread.is_alive(), (
        f"notify still blocked after {HANG_GUARD_S:.0f} s: a wait that does not end at "
        "the client's deadline")
    return outcome[0]


def timed_out(caplog: pytest.LogCaptureFixture, timeout: float) -> bool:
    """Whether the client logged that `notify` gave up on its deadline of `timeout` s."""
    return f"D-Bus notification timed out after {timeout:.1f} s" in caplog.text


# -- D-Bus -------------------------------------------------------------------------------


def test_dbus_delivers_exact_text(start_server, dbus_client) -> None:
    server = start_server()
    assert dbus_client.notify(TRICKY_TITLE, TRICKY_BODY) is True
    assert len(server.notifications) == 1
    got = server.notifications[0]
    assert got["summary"] == TRICKY_TITLE
    assert got["body"] == TRICKY_BODY
    assert got["app"] == "posture-watch"
    assert (got["replaces"], got["icon"], got["actions"], got["expire"]) == (0, "", [], -1)
    assert got["hints"]["urgency"] == ("y", 1)
    assert got["hints"]["category"] == ("s", "x-posture-watch.reminder")


def test_dbus_urgency_maps_to_hint_byte_over_one_connection(start_server, dbus_client) -> None:
    server = start_server()
    for urgency in ("low", "normal", "critical", "bogus"):
        assert dbus_client.notify("t", urgency, urgency=urgency) is True
    assert [n["hints"]["urgency"] for n in server.notifications] == [
        ("y", 0), ("y", 1), ("y", 2), ("y", 1)]
    assert len({n["sender"] for n in server.notifications}) == 1  # connection reused
    assert server.calls.count("GetCapabilities") == 1


def test_dbus_escapes_body_only_for_servers_that_render_markup(start_server,
                                                               dbus_client) -> None:
    server = start_server(capabilities=("body", "body-markup"))
    assert dbus_client.notify("a < b & c", "<b>not bold</b> & 1 < 2") is True
    got = server.notifications[0]
    assert got["summary"] == "a < b & c"  # the summary is plain text by the spec
    assert got["body"] == "&lt;b&gt;not bold&lt;/b&gt; &amp; 1 &lt; 2"


def test_dbus_cleans_text_the_bus_cannot_carry(start_server, dbus_client) -> None:
    server = start_server()
    # A NUL would make the daemon drop the connection; a lone surrogate cannot be UTF-8.
    assert dbus_client.notify("a\x00b", "bad \udcff byte") is True
    assert (server.notifications[0]["summary"], server.notifications[0]["body"]) == (
        "ab", "bad ? byte")


def test_dbus_without_notification_server_returns_false(bus, dbus_client, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="posture_watch.desktop.notify"):
        assert dbus_client.notify("t", "m") is False
    assert "ServiceUnknown" in caplog.text


def test_dbus_reconnects_once_after_the_bus_restarts(bus, start_server, dbus_client) -> None:
    first = start_server()
    assert dbus_client.notify("one", "m") is True
    first.close()
    bus.restart()
    assert bus.address.startswith(f"unix:path={bus.socket}")
    second = start_server()
    assert dbus_client.notify("two", "m") is True
    assert [n["summary"] for n in second.notifications] == ["two"]


@pytest.mark.parametrize("kind", ["missing", "refusing"])
def test_dbus_dead_socket_returns_false_quickly(kind, tmp_path, monkeypatch) -> None:
    """Quickly: without waiting for the timeout. With an hour's timeout, a client that
    waited for it on either call would fail the hang guard."""
    directory = Path(tempfile.mkdtemp(prefix="pw-dead-"))
    path = directory / "bus"
    dead = socket.socket(socket.AF_UNIX)
    try:
        if kind == "refusing":
            dead.bind(str(path))  # bound, never listening: connect is refused
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={path}")
        client = DBusNotifier(timeout=HOUR_S)
        assert notify_without_hanging(client) is False
        assert notify_without_hanging(client) is False
    finally:
        dead.close()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def hung_bus() -> Iterator[str]:
    """The address of a bus that accepts connections but never answers authentication."""
    directory = Path(tempfile.mkdtemp(prefix="pw-hung-"))
    hung = socket.socket(socket.AF_UNIX)
    try:
        hung.bind(str(directory / "bus"))
        hung.listen(1)  # accepts into the backlog, never answers authentication
        yield f"unix:path={directory / 'bus'}"
    finally:
        hung.close()
        shutil.rmtree(directory, ignore_errors=True)


def test_dbus_hung_bus_returns_false_within_the_timeout(hung_bus, caplog) -> None:
    clock = ManualClock()
    client = DBusNotifier(address=hung_bus, timeout=HOUR_S, clock=clock)
    # Nothing comes before the silent part: right after the client has set its deadline,
    # its clock says only LAST_WAIT_S of the hour is left.
    clock.set_after_next_reading(HOUR_S - LAST_WAIT_S)
    with caplog.at_level(logging.WARNING, logger="posture_watch.desktop.notify"):
        assert notify_without_hanging(client) is False
    assert timed_out(caplog, HOUR_S), caplog.text


def test_dbus_default_client_gives_up_after_two_seconds(hung_bus, monkeypatch,
                                                        caplog) -> None:
    """make_notifier's client has a 2 s timeout: the deadline it logs when it gives up."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", hung_bus)
    clock = ManualClock()
    monkeypatch.setattr(notify, "DBusNotifier", functools.partial(DBusNotifier, clock=clock))
    client = make_notifier("dbus")
    clock.set_after_next_reading(DEFAULT_TIMEOUT_S - LAST_WAIT_S)
    with caplog.at_level(logging.WARNING, logger="posture_watch.desktop.notify"):
        assert notify_without_hanging(client) is False
    assert timed_out(caplog, DEFAULT_TIMEOUT_S), caplog.text


def test_dbus_bus_that_authenticates_but_never_says_hello_is_bounded(caplog) -> None:
    """jeepney's blocking connection waits for the Hello reply forever; ours must not."""
    directory = Path(tempfile.mkdtemp(prefix="pw-mute-"))
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(directory / "bus"))
    listener.listen(1)
    accepted: list[socket.socket] = []
    clock = ManualClock()

    def authenticate_then_go_quiet() -> None:
        conn, _ = listener.accept()
        accepted.append(conn)
        received = b""
        while b"AUTH" not in received or not received.endswith(b"\r\n"):
            received += conn.recv(1024)
        # Before the client can go on to its Hello, its deadline is LAST_WAIT_S away.
        clock.set(HOUR_S - LAST_WAIT_S)
        conn.sendall(b"OK 0123456789abcdef0123456789abcdef\r\n")  # then never a reply

    thread = threading.Thread(target=authenticate_then_go_quiet, daemon=True)
    thread.start()
    try:
        client = DBusNotifier(address=f"unix:path={directory / 'bus'}", timeout=HOUR_S,
                              clock=clock)
        with caplog.at_level(logging.WARNING, logger="posture_watch.desktop.notify"):
            assert notify_without_hanging(client) is False
        assert timed_out(caplog, HOUR_S), caplog.text
        thread.join(timeout=HANG_GUARD_S)
        assert accepted, "the client never got past connecting"
    finally:
        for conn in accepted:
            conn.close()
        listener.close()
        shutil.rmtree(directory, ignore_errors=True)


def test_dbus_server_that_never_answers_returns_false_within_the_timeout(
        session_bus, start_server, caplog) -> None:
    clock = ManualClock()

    def near_the_deadline_once_connected(member: str) -> None:
        if member == "GetCapabilities":  # the client's last call before Notify
            clock.set(HOUR_S - LAST_WAIT_S)

    server = start_server(answer_notify=False, before_reply=near_the_deadline_once_connected)
    client = DBusNotifier(timeout=HOUR_S, clock=clock)
    with caplog.at_level(logging.WARNING, logger="posture_watch.desktop.notify"):
        assert notify_without_hanging(client) is False
    client.close()  # not if notify hung: it would wait for the lock notify holds
    assert timed_out(caplog, HOUR_S), caplog.text
    assert [n["summary"] for n in server.wait_for_notifications(1)] == ["t"]


def test_dbus_unset_or_unsupported_address_returns_false(monkeypatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    assert DBusNotifier().notify("t", "m") is False
    assert DBusNotifier(address="tcp:host=localhost,port=1").notify("t", "m") is False
    assert DBusNotifier(address="garbage").notify("t", "m") is False


# -- auto --------------------------------------------------------------------------------


def test_auto_picks_dbus_when_the_session_bus_is_reachable(session_bus, start_server) -> None:
    server = start_server()
    stream = io.StringIO()
    notifier = make_notifier("auto", stream=stream)
    assert notifier.name == "dbus"
    assert notifier.notify("t", "m") is True
    assert [n["summary"] for n in server.notifications] == ["t"]
    assert stream.getvalue() == ""


def test_auto_falls_back_to_terminal_when_dbus_fails_at_first_use(session_bus,
                                                                  caplog) -> None:
    stream = io.StringIO()
    notifier = make_notifier("auto", stream=stream)  # a bus, but no notification server
    assert notifier.name == "dbus"
    with caplog.at_level(logging.WARNING, logger="posture_watch.desktop.notify"):
        assert notifier.notify("Sit up", "first") is True
        assert notifier.notify("Sit up", "second") is True
    assert notifier.name == "terminal"
    assert stream.getvalue() == ("posture-watch: Sit up — first\a\n"
                                 "posture-watch: Sit up — second\a\n")
    assert caplog.text.count("using terminal notifications instead") == 1


def test_auto_picks_terminal_without_a_reachable_session_bus(monkeypatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    assert make_notifier("auto").name == "terminal"
    directory = Path(tempfile.mkdtemp(prefix="pw-none-"))
    try:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={directory / 'bus'}")
        assert make_notifier("auto").name == "terminal"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize(("platform", "name"), [("darwin", "macos"), ("win32", "windows")])
def test_auto_picks_the_platform_backend(platform, name, monkeypatch) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    assert make_notifier("auto").name == name


def test_auto_on_macos_falls_back_when_osascript_fails(monkeypatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")

    def missing(*args: Any, **kwargs: Any) -> None:
        raise FileNotFoundError("osascript")

    monkeypatch.setattr(subprocess, "run", missing)
    stream = io.StringIO()
    notifier = make_notifier("auto", stream=stream)
    assert notifier.notify("t", "m") is True
    assert notifier.name == "terminal"
    assert stream.getvalue() == "posture-watch: t — m\a\n"


# -- terminal, none, choices -------------------------------------------------------------


def test_terminal_writes_the_text_and_a_bell() -> None:
    stream = io.StringIO()
    assert make_notifier("terminal", stream=stream).notify(TRICKY_TITLE, "Take a break") is True
    assert stream.getvalue() == f"posture-watch: {TRICKY_TITLE} — Take a break\a\n"


def test_terminal_defaults_to_stderr_and_survives_a_closed_stream(capsys) -> None:
    assert TerminalNotifier().notify("t", "m") is True
    assert capsys.readouterr().err == "posture-watch: t — m\a\n"
    closed = io.StringIO()
    closed.close()
    assert TerminalNotifier(closed).notify("t", "m") is False


def test_none_does_nothing_and_reports_delivered(capsys) -> None:
    assert make_notifier("none").notify("t", "m", urgency="critical") is True
    assert capsys.readouterr() == ("", "")


def test_unknown_choice_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown notification backend 'growl'"):
        make_notifier("growl")


def test_every_choice_makes_a_notifier(monkeypatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    for choice in notify.CHOICES:
        assert isinstance(make_notifier(choice), Notifier)
    assert make_notifier(" Terminal ").name == "terminal"


# -- macOS, Windows (argv only: nothing is run) -------------------------------------------


def read_applescript_string(source: str, start: int) -> tuple[str, int]:
    """Decodes the AppleScript string literal at source[start]; returns it and its end."""
    assert source[start] == '"'
    escapes = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
    out: list[str] = []
    i = start + 1
    while source[i] != '"':
        if source[i] == "\\":
            out.append(escapes[source[i + 1]])
            i += 2
        else:
            assert source[i] not in "\r\n"
            out.append(source[i])
            i += 1
    return "".join(out), i + 1


class FakeRun:
    """Stands in for subprocess.run: records argv and env, runs nothing."""

    def __init__(self, returncode: int = 0) -> None:
        self.returncode = returncode
        self.calls: list[tuple[list[str], dict[str, Any]]] = []

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append((argv, kwargs))
        return subprocess.CompletedProcess(argv, self.returncode, "", "boom")


def test_macos_builds_a_safe_osascript_argv(monkeypatch) -> None:
    fake = FakeRun()
    monkeypatch.setattr(subprocess, "run", fake)
    assert MacNotifier().notify(TRICKY_TITLE, TRICKY_BODY, urgency="critical") is True
    ((argv, kwargs),) = fake.calls
    assert isinstance(argv, list)
    assert kwargs.get("shell", False) is False
    assert argv[:2] == ["osascript", "-e"] and len(argv) == 3
    script = argv[2]
    prefix = "display notification "
    assert script.startswith(prefix)
    body, end = read_applescript_string(script, len(prefix))
    assert body == TRICKY_BODY
    assert script[end:].startswith(" with title ")
    title, end = read_applescript_string(script, end + len(" with title "))
    assert title == TRICKY_TITLE
    assert end == len(script)


def test_applescript_string_escapes() -> None:
    assert applescript_string('say "hi" \\ bye') == '"say \\"hi\\" \\\\ bye"'
    assert applescript_string("a\nb\tc") == '"a\\nb\\tc"'
    assert applescript_string("\\\"") == '"\\\\\\""'


def test_macos_failures_return_false(monkeypatch) -> None:
    monkeypatch.setattr(subprocess, "run", FakeRun(returncode=1))
    assert MacNotifier().notify("t", "m") is False

    def too_slow(argv: list[str], **kwargs: Any) -> None:
        raise subprocess.TimeoutExpired(argv, kwargs["timeout"])

    monkeypatch.setattr(subprocess, "run", too_slow)
    assert MacNotifier().notify("t", "m") is False


def test_windows_passes_texts_only_through_the_environment(monkeypatch) -> None:
    fake = FakeRun()
    monkeypatch.setattr(subprocess, "run", fake)
    assert WindowsNotifier().notify(TRICKY_TITLE, TRICKY_BODY) is True
    ((argv, kwargs),) = fake.calls
    assert argv[:4] == ["powershell.exe", "-NoProfile", "-NonInteractive", "-EncodedCommand"]
    assert kwargs.get("shell", False) is False
    script = base64.b64decode(argv[4]).decode("utf-16-le")
    assert "$env:POSTURE_WATCH_TITLE" in script and "$env:POSTURE_WATCH_MESSAGE" in script
    for text in (TRICKY_TITLE, TRICKY_BODY, "Sit up"):
        assert all(text not in part for part in argv)
    env = kwargs["env"]
    assert env["POSTURE_WATCH_TITLE"] == TRICKY_TITLE
    assert env["POSTURE_WATCH_MESSAGE"] == TRICKY_BODY
