"""A real D-Bus session bus for tests: a private dbus-daemon, and a notification server on it
that records what arrives (a thread in the test process).

Waits here end on events (a line from the daemon, a message on the bus); their time limits
only guard against a hang and are far beyond what any machine needs.
"""

from __future__ import annotations

import selectors
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from jeepney import HeaderFields, MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import Proxy, open_dbus_connection

DBUS_DAEMON = shutil.which("dbus-daemon")
NOTIFICATIONS = "org.freedesktop.Notifications"
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


class NotificationServer:
    """Owns org.freedesktop.Notifications and records each Notify call's arguments.

    `before_reply(member)` runs on the server thread when a call has arrived and before it
    is answered: whatever it does happens before the caller can see the answer.
    """

    def __init__(self, address: str, capabilities: tuple[str, ...] = ("body",),
                 answer_notify: bool = True,
                 before_reply: Callable[[str], None] | None = None) -> None:
        self.capabilities = list(capabilities)
        self.answer_notify = answer_notify
        self.before_reply = before_reply
        self.notifications: list[dict[str, Any]] = []
        self.calls: list[str] = []
        self._arrived = threading.Condition()
        self.conn = open_dbus_connection(address, auth_timeout=HANG_GUARD_S)
        # 4 = DO_NOT_QUEUE: fail now rather than wait behind another owner
        (result,) = Proxy(message_bus, self.conn,
                          timeout=HANG_GUARD_S).RequestName(NOTIFICATIONS, 4)
        assert result == 1, f"could not own {NOTIFICATIONS}: {result}"
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
                    continue
                reply = new_method_return(msg, "u", (len(self.notifications),))
            elif member == "GetCapabilities":
                reply = new_method_return(msg, "as", (self.capabilities,))
            elif member == "GetServerInformation":
                reply = new_method_return(msg, "ssss", ("test", "posture-watch", "1", "1.2"))
            else:
                reply = new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s",
                                  (f"no method {member}",))
            self.conn.send(reply)

    def wait_for_notifications(self, count: int) -> list[dict[str, Any]]:
        """The notifications once `count` have arrived (for calls nobody answers, whose
        arrival the caller cannot see); fails the test after the hang guard."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.notifications) >= count,
                                          timeout=HANG_GUARD_S):
                pytest.fail(f"{count} notification(s) expected, {len(self.notifications)} "
                            f"arrived within {HANG_GUARD_S:.0f} s")
            return list(self.notifications)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=HANG_GUARD_S)
        self.conn.close()


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
