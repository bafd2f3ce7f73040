"""Whether the screen is locked or the machine is about to sleep, from D-Bus signals.

- The screen saver's `ActiveChanged(b)` on the session bus, under both names desktops use:
  `org.freedesktop.ScreenSaver` (KDE, Xfce, and GNOME's compatibility name) and
  `org.gnome.ScreenSaver`.
- logind's `PrepareForSleep(b)` on the system bus (`org.freedesktop.login1.Manager`):
  true just before suspend, false on resume.

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

log = logging.getLogger(__name__)

SCREEN_SAVERS = ("org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver")
LOGIND_MANAGER = "org.freedesktop.login1.Manager"
SYSTEM_BUS_DEFAULT = "unix:path=/var/run/dbus/system_bus_socket"
_POLL_S = 0.5  # how often a listening thread looks at its stop flag


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

    def run(self) -> None:
        from jeepney import HeaderFields, MatchRule, MessageType
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        try:
            conn = open_dbus_connection(self.address)
        except Exception as exc:  # no such bus here: this signal stays silent
            log.debug("no D-Bus at %s: %s", self.address, exc)
            self.ready.set()
            return
        with conn:
            try:
                for interface, member in self.rules:
                    rule = MatchRule(type="signal", interface=interface, member=member)
                    conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=5.0)
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
                header = msg.header
                if header.message_type != MessageType.signal or not msg.body:
                    continue
                fields = header.fields
                key = (fields.get(HeaderFields.interface), fields.get(HeaderFields.member))
                if key in self.rules and isinstance(msg.body[0], bool):
                    self.on_value(key, msg.body[0])


class SessionLock:
    """Listens on the session and system buses; `read()` is the latest lock/sleep state."""

    name = "screen lock"

    def __init__(self, session_address: str | None = None,
                 system_address: str | None = None) -> None:
        self._lock = threading.Lock()
        self._savers: dict[str, bool] = {}
        self._asleep = False
        session = session_address or os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
        system = system_address or os.environ.get("DBUS_SYSTEM_BUS_ADDRESS",
                                                  SYSTEM_BUS_DEFAULT)
        self._listeners = []
        if session:
            self._listeners.append(_Listener(
                session, [(name, "ActiveChanged") for name in SCREEN_SAVERS], self._saver))
        if system:
            self._listeners.append(_Listener(system, [(LOGIND_MANAGER, "PrepareForSleep")],
                                             self._sleep))

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

    def read(self) -> LockReading:
        with self._lock:
            return LockReading(any(self._savers.values()), self._asleep)
