"""How long the keyboard and mouse have been idle, from the first source here that can tell.

1. GNOME Mutter's `org.gnome.Mutter.IdleMonitor.GetIdletime` on the session bus: the
   compositor sees every input, on Wayland as on X11, where nothing else can tell.
2. The X11 MIT-SCREEN-SAVER extension (python-xlib), when there is an X display and the
   session is not Wayland: under XWayland it only sees input to X11 windows, and would
   call a user typing in a Wayland window idle.
3. logind's `IdleHint` and `IdleSinceHintMonotonic` on this process's session, on the
   system bus: coarse, 0 until the desktop (or, on a text console, the terminal) declares
   the session idle, and counted from then on; better than nothing on other desktops.

The source is picked at `start()` and kept while it answers; when it fails (the compositor
restarted, the display closed) the others are tried again, at once, then every `retry_s`.
Each read is one round trip with a short timeout (0.5 s); no source reads as no condition.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Protocol

from posture_watch.core.context import Condition, Kind
from posture_watch.sensors.session_lock import (
    LOGIND,
    LOGIND_SESSION,
    SYSTEM_BUS_DEFAULT,
    logind_session,
)

log = logging.getLogger(__name__)

MUTTER_IDLE = "org.gnome.Mutter.IdleMonitor"
MUTTER_IDLE_PATH = "/org/gnome/Mutter/IdleMonitor/Core"
CALL_S = 0.5  # the longest a read waits for an answer


class _Source(Protocol):
    name: str

    def idle_s(self) -> float:
        """Seconds without input now; raises when the source cannot tell any more."""

    def close(self) -> None: ...


class _Mutter:
    name = "GNOME Mutter"

    def __init__(self, address: str) -> None:
        from jeepney import DBusAddress
        from jeepney.io.blocking import open_dbus_connection

        self._conn = open_dbus_connection(address, auth_timeout=CALL_S)
        self._monitor = DBusAddress(MUTTER_IDLE_PATH, bus_name=MUTTER_IDLE,
                                    interface=MUTTER_IDLE)

    def idle_s(self) -> float:
        from jeepney import new_method_call
        from jeepney.wrappers import unwrap_msg

        call = new_method_call(self._monitor, "GetIdletime")
        (idle_ms,) = unwrap_msg(self._conn.send_and_get_reply(call, timeout=CALL_S))
        return idle_ms / 1000

    def close(self) -> None:
        self._conn.close()


class _X11:
    name = "X11 screen saver extension"

    def __init__(self, display: str) -> None:
        from Xlib.display import Display

        self._display = Display(display)
        if not self._display.has_extension("MIT-SCREEN-SAVER"):
            self._display.close()
            raise LookupError(f"no MIT-SCREEN-SAVER extension on {display}")
        self._root = self._display.screen().root

    def idle_s(self) -> float:
        return self._root.screensaver_query_info().idle / 1000

    def close(self) -> None:
        self._display.close()


class _Logind:
    name = "logind"

    def __init__(self, address: str) -> None:
        from jeepney import DBusAddress
        from jeepney.io.blocking import open_dbus_connection

        self._conn = open_dbus_connection(address, auth_timeout=CALL_S)
        path = logind_session(self._conn, CALL_S)
        if path is None:
            self._conn.close()
            raise LookupError("not in a logind session")
        self._session = DBusAddress(path, bus_name=LOGIND, interface=LOGIND_SESSION)

    def idle_s(self) -> float:
        from jeepney import Properties
        from jeepney.wrappers import unwrap_msg

        reply = self._conn.send_and_get_reply(Properties(self._session).get_all(),
                                              timeout=CALL_S)
        (props,) = unwrap_msg(reply)
        if not props["IdleHint"][1]:
            return 0.0
        since_us = props["IdleSinceHintMonotonic"][1]
        now_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return max(0.0, (now_us - since_us) / 1e6)

    def close(self) -> None:
        self._conn.close()


def _desktop_display() -> str:
    """$DISPLAY, unless the session is Wayland (where it is XWayland's, blind to input to
    Wayland windows)."""
    if os.environ.get("WAYLAND_DISPLAY") or os.environ.get("XDG_SESSION_TYPE") == "wayland":
        return ""
    return os.environ.get("DISPLAY", "")


class IdleTime:
    """Keyboard and mouse idle time: `Condition(Kind.IDLE, "<n> s", seconds)` on every
    read (0 while the user types), or none when no source can tell.

    An address or display of None is taken from the environment; "" leaves that source
    out."""

    name = "idle"
    every_s = 1.0

    def __init__(self, session_address: str | None = None, system_address: str | None = None,
                 display: str | None = None, retry_s: float = 10.0) -> None:
        session = (os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
                   if session_address is None else session_address)
        system = (os.environ.get("DBUS_SYSTEM_BUS_ADDRESS", SYSTEM_BUS_DEFAULT)
                  if system_address is None else system_address)
        display = _desktop_display() if display is None else display
        # In order of trust: the compositor sees all input, logind only a coarse hint.
        self._openers: list[Callable[[], _Source]] = []
        if session:
            self._openers.append(lambda: _Mutter(session))
        if display:
            self._openers.append(lambda: _X11(display))
        if system:
            self._openers.append(lambda: _Logind(system))
        self.retry_s = retry_s
        self._source: _Source | None = None
        self._next_try = 0.0
        self._lock = threading.Lock()  # start, read and close may come from other threads

    @property
    def source(self) -> str | None:
        """The name of the source in use, for logs and `status`."""
        source = self._source
        return source.name if source is not None else None

    def start(self) -> None:
        with self._lock:
            self._drop()
            self._pick()

    def read(self) -> tuple[Condition, ...]:
        with self._lock:
            idle = None
            if self._source is not None:
                idle = self._ask(self._source, logging.INFO)
                if idle is None:  # it stopped answering: look for another now
                    self._drop()
                    self._next_try = 0.0
            if idle is None and time.monotonic() >= self._next_try:
                idle = self._pick()
        if idle is None:
            return ()
        return (Condition(Kind.IDLE, f"{int(idle)} s", idle),)

    def close(self) -> None:
        with self._lock:
            self._drop()
            self._next_try = float("inf")  # closed: no source comes back

    def _pick(self) -> float | None:
        """Open the sources in order and keep the first that answers, with its answer."""
        for opener in self._openers:
            try:
                source = opener()
            except Exception as exc:  # not on this desktop
                log.debug("no idle time here: %s", exc)
                continue
            idle = self._ask(source, logging.DEBUG)
            if idle is not None:
                log.info("idle time from %s", source.name)
                self._source = source
                return idle
            _close(source)
        self._next_try = time.monotonic() + self.retry_s
        return None

    @staticmethod
    def _ask(source: _Source, level: int) -> float | None:
        """The source's answer, or None when it has none."""
        try:
            return source.idle_s()
        except Exception as exc:
            log.log(level, "no idle time from %s: %s", source.name, exc)
            return None

    def _drop(self) -> None:
        if self._source is not None:
            _close(self._source)
            self._source = None


def _close(source: _Source) -> None:
    try:
        source.close()
    except Exception as exc:  # already gone with its display or bus
        log.debug("closing %s: %s", source.name, exc)
