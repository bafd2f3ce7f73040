"""Whether the desktop's do-not-disturb is on: the user asked for quiet, so reminders on
screen wait.

Two sources, either one enough:

- The notification server's `Inhibited` property (`org.freedesktop.Notifications` at
  `/org/freedesktop/Notifications` on the session bus): KDE Plasma's extension of the
  notification spec, true while do-not-disturb is on, announced with `PropertiesChanged`.
  A listening thread asks once (`Properties.Get`), then follows the announcements, asks
  again when another server takes the name, and reconnects when the bus restarts. So
  `read()` is a look at what it last heard: no round trip on the monitor's thread, no
  timeout to sit out when the server hangs, and a change is seen when it happens rather
  than at the next poll. It also asks every `refresh_s`, for a server that sets the
  property without announcing it.
- GNOME's switch, `show-banners` of `org.gnome.desktop.notifications` (false while
  do-not-disturb is on). GNOME keeps it in dconf and announces nothing on the
  notification bus, so it is read with the `gsettings` tool (whichever settings backend
  the session uses), no more often than every `gnome_every_s`, and only where the tool
  and the schema are installed (looked up once, in `start()`).

macOS (Focus) and Windows (Focus assist) keep theirs out of reach of other apps; not
wired up.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from posture_watch.core.context import Condition, Kind
from posture_watch.sensors.session_lock import PROPERTIES

if TYPE_CHECKING:
    from jeepney import Message
    from jeepney.io.blocking import DBusConnection

log = logging.getLogger(__name__)

NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
INHIBITED = "Inhibited"
GNOME_SCHEMA = "org.gnome.desktop.notifications"
GNOME_KEY = "show-banners"
INHIBITED_DETAIL = "notifications inhibited"
GNOME_DETAIL = "GNOME banners off"
_POLL_S = 0.5  # how often the listening thread looks at its stop flag
_CALL_S = 0.5  # connecting and subscribing; a session bus answers in milliseconds
_GSETTINGS_S = 1.0  # one `gsettings get` takes a few milliseconds


def _flag(variant: Any) -> bool:
    """True only for a boolean true (a D-Bus variant arrives as (signature, value))."""
    signature, value = variant
    return signature == "b" and value is True


class _InhibitedWatch(threading.Thread):
    """Keeps the notification server's `Inhibited` flag, across server and bus restarts."""

    def __init__(self, address: str, refresh_s: float, retry_s: float) -> None:
        super().__init__(name="posture-watch do-not-disturb", daemon=True)
        self.address = address
        self.refresh_s = refresh_s
        self.retry_s = retry_s
        self.inhibited = False
        self.stop = threading.Event()
        self.ready = threading.Event()  # first answer heard (or the bus is not there)
        self._asked: int | None = None  # serial of the Get awaiting its answer
        self._ask_at = 0.0
        self._failing = False  # log a lost bus once, not at every retry
        self._conn: DBusConnection | None = None

    def run(self) -> None:
        if importlib.util.find_spec("jeepney") is None:  # Linux only: silent elsewhere
            self.ready.set()
            return
        while not self.stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # no bus, or it went away: nothing is inhibited
                if not self._failing and not self.stop.is_set():
                    log.debug("do-not-disturb: D-Bus at %s: %s", self.address, exc)
                self._failing = True
            self.inhibited = False
            self.ready.set()
            if self.stop.wait(self.retry_s):
                return

    def _listen(self) -> None:
        from jeepney import MatchRule
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection(self.address, auth_timeout=_CALL_S) as conn:
            self._conn = conn
            # The daemon checks the sender of the first rule against the name's owner at
            # each signal: another client cannot fake the server's announcement.
            changed = MatchRule(type="signal", sender=NOTIFICATIONS, path=NOTIFICATIONS_PATH,
                                interface=PROPERTIES, member="PropertiesChanged")
            changed.add_arg_condition(0, NOTIFICATIONS)
            owner = MatchRule(type="signal", sender="org.freedesktop.DBus",
                              interface="org.freedesktop.DBus", member="NameOwnerChanged")
            owner.add_arg_condition(0, NOTIFICATIONS)
            for rule in (changed, owner):
                conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=_CALL_S)
            self._failing = False
            self._ask(conn)
            while not self.stop.is_set():
                wait_s = self._ask_at - time.monotonic()
                if wait_s <= 0:
                    self._ask(conn)
                    wait_s = self.refresh_s
                try:
                    msg = conn.receive(timeout=min(wait_s, _POLL_S))
                except TimeoutError:
                    continue
                self._heard(conn, msg)

    def halt(self) -> None:
        """Stop now: the shut socket wakes a thread waiting on it."""
        self.stop.set()
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(OSError):  # closed already
                conn.sock.shutdown(socket.SHUT_RDWR)

    def _ask(self, conn: DBusConnection) -> None:
        """Send a Get; its answer arrives in the receive loop like any other message."""
        from jeepney import DBusAddress, MessageFlag, Properties

        server = DBusAddress(NOTIFICATIONS_PATH, bus_name=NOTIFICATIONS,
                             interface=NOTIFICATIONS)
        msg = Properties(server).get(INHIBITED)
        msg.header.flags |= MessageFlag.no_auto_start  # ask a running server, start none
        self._asked = next(conn.outgoing_serial)
        self._ask_at = time.monotonic() + self.refresh_s
        conn.send(msg, serial=self._asked)

    def _heard(self, conn: DBusConnection, msg: Message) -> None:
        from jeepney import HeaderFields, MessageType

        kind, fields, body = msg.header.message_type, msg.header.fields, msg.body
        if kind in (MessageType.method_return, MessageType.error):
            if fields.get(HeaderFields.reply_serial) == self._asked:
                # An error is no server, or one without the property: not inhibited.
                self.inhibited = kind is MessageType.method_return and _flag(body[0])
                self._asked = None
                self.ready.set()
            return
        if kind is not MessageType.signal or not body or body[0] != NOTIFICATIONS:
            return
        member = fields.get(HeaderFields.member)
        if member == "PropertiesChanged":
            _, changed, invalidated = body
            if INHIBITED in changed:
                self.inhibited = _flag(changed[INHIBITED])
            elif INHIBITED in invalidated:
                self._ask(conn)
        elif member == "NameOwnerChanged":
            if body[2]:
                self._ask(conn)  # a new server: ask it
            else:
                self.inhibited = False  # the server left, and its quiet with it


class _GnomeBanners:
    """GNOME's switch through `gsettings`, looked at no more often than `every_s`."""

    def __init__(self, every_s: float, clock: Callable[[], float]) -> None:
        self.every_s = every_s
        self.clock = clock
        self.tool: str | None = None  # set by `find` where the tool and schema are
        self._off = False
        self._read_at: float | None = None

    def _gsettings(self, *args: str) -> subprocess.CompletedProcess[str] | None:
        """Runs with this process's environment as it is now (the settings backend and
        config directory come from it)."""
        assert self.tool is not None
        try:
            return subprocess.run([self.tool, *args], stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=_GSETTINGS_S,
                                  check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            log.debug("gsettings %s: %s", " ".join(args), exc)
            return None

    def find(self) -> None:
        desktop = os.environ.get("XDG_CURRENT_DESKTOP", "")
        if desktop and "gnome" not in desktop.lower():
            return  # another desktop: a switch left from GNOME days must not hold reminders
        self.tool = shutil.which("gsettings")
        if self.tool is None:
            return
        keys = self._gsettings("list-keys", GNOME_SCHEMA)
        if keys is None or keys.returncode != 0 or GNOME_KEY not in keys.stdout.split():
            self.tool = None  # no GNOME schema here: nothing to ask

    def off(self) -> bool:
        if self.tool is None:
            return False
        now = self.clock()
        if self._read_at is not None and now - self._read_at < self.every_s:
            return self._off
        self._read_at = now
        got = self._gsettings("get", GNOME_SCHEMA, GNOME_KEY)
        self._off = got is not None and got.returncode == 0 and got.stdout.strip() == "false"
        return self._off


class DoNotDisturb:
    """The desktop's do-not-disturb, from the notification server and from GNOME."""

    name = "do not disturb"
    every_s = 1.0  # a look at the listener's flag; gsettings runs at most every 5 s

    def __init__(self, session_address: str | None = None, *, gnome_every_s: float = 5.0,
                 refresh_s: float = 30.0, retry_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`session_address` None: DBUS_SESSION_BUS_ADDRESS; empty: no bus. `refresh_s`:
        how often to ask a server that may not announce; `retry_s`: reconnect interval."""
        if session_address is None:
            session_address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
        self._watch = (_InhibitedWatch(session_address, refresh_s, retry_s)
                       if session_address else None)
        self._gnome = _GnomeBanners(gnome_every_s, clock)

    def start(self, wait_s: float = 2.0) -> None:
        """Returns once the server has answered (or after `wait_s` on a slow bus)."""
        if self._watch is not None:
            self._watch.start()
        self._gnome.find()
        if self._watch is not None:
            self._watch.ready.wait(wait_s)

    def close(self) -> None:
        if self._watch is not None and self._watch.is_alive():
            self._watch.halt()
            self._watch.join(timeout=2 * _POLL_S)

    def read(self) -> tuple[Condition, ...]:
        found = []
        if self._watch is not None and self._watch.inhibited:
            found.append(Condition(Kind.DO_NOT_DISTURB, INHIBITED_DETAIL))
        if self._gnome.off():
            found.append(Condition(Kind.DO_NOT_DISTURB, GNOME_DETAIL))
        return tuple(found)
