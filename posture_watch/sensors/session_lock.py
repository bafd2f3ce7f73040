"""Whether the screen is locked or the machine is about to sleep, from D-Bus signals.

- The screen saver's `ActiveChanged(b)` on the session bus, under both names desktops use:
  `org.freedesktop.ScreenSaver` (KDE, Xfce, and GNOME's compatibility name) and
  `org.gnome.ScreenSaver`.
- logind's `PrepareForSleep(b)` on the system bus (`org.freedesktop.login1.Manager`):
  true just before suspend, false on resume.
- logind's `LockedHint` on this process's session (`org.freedesktop.login1.Session`), read
  once at start and followed through `PropertiesChanged`. Lockers that tell logind about
  the lock set it (GNOME Shell's and KDE's do), whichever screen saver interface the
  desktop offers.

A thread per bus listens (jeepney, pure Python) and keeps the latest value; `read()` gives
it to the monitor between samples. A bus that cannot be reached leaves its value False:
the monitor then simply never hears of a lock. macOS (`com.apple.screenIsLocked`
distributed notifications, `NSWorkspaceWillSleepNotification`) and Windows
(`WTS_SESSION_LOCK` from `WTSRegisterSessionNotification`, `PBT_APMSUSPEND`) have their
own signals, not wired up yet.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from posture_watch.core.context import Condition, Kind

if TYPE_CHECKING:
    from jeepney import Message
    from jeepney.io.blocking import DBusConnection

log = logging.getLogger(__name__)

SCREEN_SAVERS = ("org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver")
LOGIND = "org.freedesktop.login1"
LOGIND_PATH = "/org/freedesktop/login1"
LOGIND_MANAGER = "org.freedesktop.login1.Manager"
LOGIND_SESSION = "org.freedesktop.login1.Session"
PROPERTIES = "org.freedesktop.DBus.Properties"
SYSTEM_BUS_DEFAULT = "unix:path=/var/run/dbus/system_bus_socket"
_POLL_S = 0.5  # how often a listening thread looks at its stop flag
_CALL_S = 5.0  # a call made while subscribing, on the listening thread


def logind_session(conn: DBusConnection, timeout_s: float) -> str | None:
    """The object path of this process's logind session, or None outside one (a
    container, a service started outside any login).

    `XDG_SESSION_ID` names the session the user logged in to, even for a process started
    from elsewhere; without it, logind knows the session from the process itself."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.wrappers import unwrap_msg

    manager = DBusAddress(LOGIND_PATH, bus_name=LOGIND, interface=LOGIND_MANAGER)
    lookups: list[tuple[str, str, str | int]] = [("GetSessionByPID", "u", os.getpid())]
    session_id = os.environ.get("XDG_SESSION_ID")
    if session_id:
        lookups.insert(0, ("GetSession", "s", session_id))
    for member, signature, arg in lookups:
        call = new_method_call(manager, member, signature, (arg,))
        try:
            (path,) = unwrap_msg(conn.send_and_get_reply(call, timeout=timeout_s))
        except Exception as exc:  # no logind, or not in a session: try the next way
            log.debug("logind %s(%s): %s", member, arg, exc)
            continue
        return path
    return None


@dataclass(frozen=True)
class LockReading:
    locked: bool = False
    asleep: bool = False

    @property
    def away(self) -> bool:
        return self.locked or self.asleep


class _Listener(threading.Thread):
    """One bus: subscribe to the signals, keep the last boolean each carried."""

    def __init__(self, address: str, rules: list[tuple[str, str]], on_value) -> None:
        super().__init__(name=f"posture-watch {rules[0][1]}", daemon=True)
        self.address = address
        self.rules = rules  # (interface, member)
        self.on_value = on_value
        self.stop = threading.Event()
        self.ready = threading.Event()  # subscribed (or given up)
        self.connected = False

    def subscribe(self, conn: DBusConnection) -> None:
        """Ask the bus for the signals; raises when it will not have us."""
        from jeepney import MatchRule
        from jeepney.bus_messages import message_bus

        for interface, member in self.rules:
            rule = MatchRule(type="signal", interface=interface, member=member)
            conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=_CALL_S)

    def handle(self, msg: Message) -> None:
        """One signal that arrived: keep the boolean it carries."""
        from jeepney import HeaderFields

        fields = msg.header.fields
        key = (fields.get(HeaderFields.interface), fields.get(HeaderFields.member))
        if key in self.rules and msg.body and isinstance(msg.body[0], bool):
            self.on_value(key, msg.body[0])

    def run(self) -> None:
        from jeepney import MessageType
        from jeepney.io.blocking import open_dbus_connection

        try:
            conn = open_dbus_connection(self.address)
        except Exception as exc:  # no such bus here: this signal stays silent
            log.debug("no D-Bus at %s: %s", self.address, exc)
            self.ready.set()
            return
        with conn:
            try:
                self.subscribe(conn)
            except Exception as exc:
                log.debug("cannot subscribe on %s: %s", self.address, exc)
                self.ready.set()
                return
            self.connected = True
            self.ready.set()
            while not self.stop.is_set():
                try:
                    msg = conn.receive(timeout=_POLL_S)
                except TimeoutError:
                    continue
                except Exception as exc:  # the bus went away
                    log.debug("D-Bus at %s closed: %s", self.address, exc)
                    return
                if msg.header.message_type == MessageType.signal:
                    self.handle(msg)


class _LogindListener(_Listener):
    """The system bus: logind's PrepareForSleep, and this session's LockedHint."""

    def __init__(self, address: str, on_sleep, on_locked_hint) -> None:
        super().__init__(address, [(LOGIND_MANAGER, "PrepareForSleep")], on_sleep)
        self.on_locked_hint = on_locked_hint
        self.session: str | None = None

    def subscribe(self, conn: DBusConnection) -> None:
        super().subscribe(conn)
        try:
            self._follow_locked_hint(conn)
        except Exception as exc:  # an old logind, or no session: sleep is still heard
            log.debug("no LockedHint from logind: %s", exc)
            self.session = None

    def _follow_locked_hint(self, conn: DBusConnection) -> None:
        """Subscribe to the session's property changes, then read the hint once: a change
        after the read arrives as a signal, one before it is in the value read."""
        from jeepney import DBusAddress, MatchRule, Properties
        from jeepney.bus_messages import message_bus
        from jeepney.wrappers import unwrap_msg

        self.session = logind_session(conn, _CALL_S)
        if self.session is None:
            return
        rule = MatchRule(type="signal", sender=LOGIND, interface=PROPERTIES,
                         member="PropertiesChanged", path=self.session)
        rule.add_arg_condition(0, LOGIND_SESSION)
        conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=_CALL_S)
        session = DBusAddress(self.session, bus_name=LOGIND, interface=LOGIND_SESSION)
        reply = conn.send_and_get_reply(Properties(session).get("LockedHint"),
                                        timeout=_CALL_S)
        ((_signature, locked),) = unwrap_msg(reply)
        self.on_locked_hint(bool(locked))

    def handle(self, msg: Message) -> None:
        from jeepney import HeaderFields

        fields = msg.header.fields
        if (fields.get(HeaderFields.member) != "PropertiesChanged"
                or fields.get(HeaderFields.path) != self.session
                or fields.get(HeaderFields.signature) != "sa{sv}as"):
            super().handle(msg)
            return
        interface, changed, _invalidated = msg.body
        if interface == LOGIND_SESSION and "LockedHint" in changed:
            self.on_locked_hint(bool(changed["LockedHint"][1]))


class SessionLock:
    """Listens on the session and system buses; `read()` is the latest lock/sleep state."""

    name = "screen lock"
    every_s = 0.5  # reads what the listening threads last heard

    def __init__(self, session_address: str | None = None,
                 system_address: str | None = None) -> None:
        self._lock = threading.Lock()
        self._savers: dict[str, bool] = {}
        self._locked_hint = False
        self._asleep = False
        session = session_address or os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
        system = system_address or os.environ.get("DBUS_SYSTEM_BUS_ADDRESS",
                                                  SYSTEM_BUS_DEFAULT)
        self._listeners: list[_Listener] = []
        if session:
            self._listeners.append(_Listener(
                session, [(name, "ActiveChanged") for name in SCREEN_SAVERS], self._saver))
        if system:
            self._listeners.append(_LogindListener(system, self._sleep, self._hint))

    def start(self, wait_s: float = 5.0) -> None:
        """Start listening; returns once subscribed (or after `wait_s` on a slow bus)."""
        for listener in self._listeners:
            listener.start()
        for listener in self._listeners:
            listener.ready.wait(wait_s)

    def close(self) -> None:
        for listener in self._listeners:
            listener.stop.set()

    def _saver(self, key: tuple[str, str], value: bool) -> None:
        with self._lock:
            self._savers[key[0]] = value

    def _sleep(self, key: tuple[str, str], value: bool) -> None:
        with self._lock:
            self._asleep = value

    def _hint(self, value: bool) -> None:
        with self._lock:
            self._locked_hint = value

    def reading(self) -> LockReading:
        with self._lock:
            locked = self._locked_hint or any(self._savers.values())
            return LockReading(locked, self._asleep)

    def read(self) -> tuple[Condition, ...]:
        reading = self.reading()
        found = []
        if reading.asleep:
            found.append(Condition(Kind.ASLEEP))
        if reading.locked:
            found.append(Condition(Kind.LOCKED))
        return tuple(found)
