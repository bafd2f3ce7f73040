"""A real D-Bus session bus for tests: a private dbus-daemon, and a notification server on it
that records what arrives (a thread in the test process).

Waits here end on events (a line from the daemon, a message on the bus); their time limits
only guard against a hang and are far beyond what any machine needs.
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from jeepney import DBusAddress, HeaderFields, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import Proxy, open_dbus_connection

DBUS_DAEMON = shutil.which("dbus-daemon")
NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
PROPERTIES = "org.freedesktop.DBus.Properties"
HANG_GUARD_S = 60.0  # the longest a test waits for something that takes milliseconds

# A minimal session bus: no service directories, so no real notification daemon can be
# activated on it (the system's session.conf would start one if a desktop had it installed).
# The policy is session.conf's: without its receive rule the daemon's replies never arrive.
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class BusDaemon:
    """A private dbus-daemon on a socket in `directory`; restartable on the same path."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / "bus"
        self.config = directory / "bus.conf"
        self.config.write_text(BUS_CONFIG.format(socket=self.socket))
        self.proc: subprocess.Popen[bytes] | None = None
        self.address = ""

    def start(self) -> None:
        assert DBUS_DAEMON is not None
        errors = (self.directory / "daemon.err").open("wb")
        self.proc = subprocess.Popen(
            [DBUS_DAEMON, f"--config-file={self.config}", "--nofork", "--print-address=1",
             f"--address=unix:path={self.socket}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors)
        errors.close()
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            ready = sel.select(timeout=HANG_GUARD_S)
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("unix:"):
            self.stop()
            stderr = (self.directory / "daemon.err").read_text(errors="replace")
            pytest.fail(f"dbus-daemon did not start: {stderr.strip()}")
        self.address = line

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


NO_REPLY = object()  # what an answer gives for a call left unanswered


class BusService:
    """Owns `name` on a bus and answers its method calls on a thread: `answer(msg)` gives
    the reply, None for an UnknownMethod error, or NO_REPLY to leave the caller waiting.
    `send` goes out in order with the replies, so a value and the signal announcing it
    never cross."""

    def __init__(self, address: str, name: str, answer: Callable[[Any], Any]) -> None:
        self.name = name
        self.answer = answer
        self.lock = threading.RLock()  # one sender at a time on the socket
        self.conn = open_dbus_connection(address, auth_timeout=HANG_GUARD_S)
        # 4 = DO_NOT_QUEUE: fail now rather than wait behind another owner
        (result,) = Proxy(message_bus, self.conn, timeout=HANG_GUARD_S).RequestName(name, 4)
        assert result == 1, f"could not own {name}: {result}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self.conn.receive(timeout=0.05)
            except TimeoutError:
                continue
            except OSError:
                return
            if msg.header.message_type is not MessageType.method_call:
                continue
            with self.lock:
                reply = self.answer(msg)
                if reply is NO_REPLY:
                    continue
                if reply is None:
                    member = msg.header.fields.get(HeaderFields.member)
                    reply = new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s",
                                      (f"no method {member}",))
                try:
                    self.conn.send(reply)
                except OSError:
                    return  # the bus went away (a test restarting it)

    def send(self, msg: Any) -> None:
        with self.lock:
            self.conn.send(msg)

    def close(self) -> None:
        """Stop answering and give the name up: once this returns, a call to the name
        gets the bus's ServiceUnknown error. Safe to call twice."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=HANG_GUARD_S)
        with suppress(OSError):  # a bus gone already took the name with it
            Proxy(message_bus, self.conn, timeout=HANG_GUARD_S).ReleaseName(self.name)
        self.conn.close()


class NotificationServer(BusService):
    """Owns org.freedesktop.Notifications and records each Notify call's arguments.

    `before_reply(member)` runs on the server thread when a call has arrived and before it
    is answered: whatever it does happens before the caller can see the answer.

    `inhibited` (KDE's do-not-disturb property, `Inhibited`): None serves no such property,
    a bool serves it through org.freedesktop.DBus.Properties.Get; `set_inhibited` flips it.
    """

    def __init__(self, address: str, capabilities: tuple[str, ...] = ("body",),
                 answer_notify: bool = True,
                 before_reply: Callable[[str], None] | None = None,
                 inhibited: bool | None = None) -> None:
        self.capabilities = list(capabilities)
        self.answer_notify = answer_notify
        self.before_reply = before_reply
        self.inhibited = inhibited
        self.notifications: list[dict[str, Any]] = []
        self.calls: list[str] = []
        self._arrived = threading.Condition()
        super().__init__(address, NOTIFICATIONS, self._answer)

    def _answer(self, msg: Any) -> Any:
        member = msg.header.fields.get(HeaderFields.member)
        self.calls.append(member)
        if self.before_reply is not None:
            self.before_reply(member)
        if member == "Notify":
            app, replaces, icon, summary, body, actions, hints, expire = msg.body
            with self._arrived:
                self.notifications.append(dict(
                    app=app, replaces=replaces, icon=icon, summary=summary, body=body,
                    actions=actions, hints=hints, expire=expire,
                    sender=msg.header.fields.get(HeaderFields.sender)))
                self._arrived.notify_all()
            if not self.answer_notify:
                return NO_REPLY
            return new_method_return(msg, "u", (len(self.notifications),))
        if member == "GetCapabilities":
            return new_method_return(msg, "as", (self.capabilities,))
        if member == "GetServerInformation":
            return new_method_return(msg, "ssss", ("test", "posture-watch", "1", "1.2"))
        if member == "Get" and self._serves_inhibited(msg):
            return new_method_return(msg, "v", (("b", self.inhibited),))
        return None

    def _serves_inhibited(self, msg: Any) -> bool:
        fields = msg.header.fields
        return (self.inhibited is not None
                and fields.get(HeaderFields.interface) == PROPERTIES
                and tuple(msg.body) == (NOTIFICATIONS, "Inhibited"))

    def set_inhibited(self, value: bool, announce: bool = True) -> None:
        """Turn do-not-disturb on or off, announcing it with PropertiesChanged as KDE
        does (`announce=False`: a server that changes it silently)."""
        with self.lock:  # the value and its announcement stay in order with replies
            self.inhibited = value
            if announce:
                self.send(new_signal(
                    DBusAddress(NOTIFICATIONS_PATH, interface=PROPERTIES),
                    "PropertiesChanged", "sa{sv}as",
                    (NOTIFICATIONS, {"Inhibited": ("b", value)}, [])))

    def wait_for_notifications(self, count: int) -> list[dict[str, Any]]:
        """The notifications once `count` have arrived (for calls nobody answers, whose
        arrival the caller cannot see); fails the test after the hang guard."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.notifications) >= count,
                                          timeout=HANG_GUARD_S):
                pytest.fail(f"{count} notification(s) expected, {len(self.notifications)} "
                            f"arrived within {HANG_GUARD_S:.0f} s")
            return list(self.notifications)


@contextmanager
def private_bus() -> Iterator[BusDaemon]:
    """A started private dbus-daemon, stopped and cleaned up afterwards."""
    if DBUS_DAEMON is None:
        pytest.fail("dbus-daemon is not installed; the D-Bus tests need it "
                    "(Debian package: dbus-daemon; `apt-get install dbus-daemon`)")
    # Short path: a unix socket path must fit in 108 bytes, pytest's tmp_path may not.
    directory = Path(tempfile.mkdtemp(prefix="pw-bus-"))
    daemon = BusDaemon(directory)
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.stop()
        shutil.rmtree(directory, ignore_errors=True)


LOGIND = "org.freedesktop.login1"
LOGIND_SESSION = "org.freedesktop.login1.Session"


class LogindService(BusService):
    """A stand-in logind on a private system bus with one session, found by its id
    (GetSession) or by `pid`'s (GetSessionByPID); its properties are what the test sets,
    through Get and GetAll, and `set` announces a change with PropertiesChanged, as
    logind does. `calls` lists the methods called, in order."""

    def __init__(self, address: str, session_id: str = "c7", pid: int | None = None,
                 **properties: tuple[str, Any]) -> None:
        self.session_id = session_id
        self.pid = pid
        self.path = f"/org/freedesktop/login1/session/{session_id}"
        self.properties: dict[str, tuple[str, Any]] = {
            "Id": ("s", session_id), "LockedHint": ("b", False), "IdleHint": ("b", False),
            "IdleSinceHintMonotonic": ("t", 0), **properties}
        self.calls: list[str] = []
        super().__init__(address, LOGIND, self._answer)

    def _answer(self, msg: Any) -> Any:
        fields = msg.header.fields
        member = fields.get(HeaderFields.member)
        self.calls.append(member)
        if member in ("GetSession", "GetSessionByPID"):
            if msg.body in ((self.session_id,), (self.pid,)):
                return new_method_return(msg, "o", (self.path,))
            return new_error(msg, "org.freedesktop.login1.NoSuchSession", "s",
                             (f"no session for {msg.body[0]}",))
        if (fields.get(HeaderFields.interface) != PROPERTIES
                or fields.get(HeaderFields.path) != self.path
                or msg.body[0] != LOGIND_SESSION):
            return None
        if member == "GetAll":
            return new_method_return(msg, "a{sv}", (dict(self.properties),))
        if member == "Get" and msg.body[1] in self.properties:
            return new_method_return(msg, "v", (self.properties[msg.body[1]],))
        return None

    def set(self, **changes: tuple[str, Any]) -> None:
        """Change properties (name=(signature, value)) and announce them in one signal."""
        with self.lock:
            self.properties.update(changes)
            self.send(new_signal(DBusAddress(self.path, interface=PROPERTIES),
                                 "PropertiesChanged", "sa{sv}as",
                                 (LOGIND_SESSION, changes, [])))


def session_found_by(found_by: str, monkeypatch: pytest.MonkeyPatch) -> int | None:
    """Make logind's session be found by its id (XDG_SESSION_ID set) or, without one, by
    this process's pid: the pid a LogindService should answer for (None: by id)."""
    if found_by == "session id":
        monkeypatch.setenv("XDG_SESSION_ID", "c7")
        return None
    monkeypatch.delenv("XDG_SESSION_ID", raising=False)
    return os.getpid()
