"""Whether the window the user is in is full-screen: a presentation, a film, a game.

X11 window managers say so by EWMH: the root window's `_NET_ACTIVE_WINDOW` names the
active window, and its `_NET_WM_STATE` lists `_NET_WM_STATE_FULLSCREEN` while it covers
its screen. A read is four small property requests on a kept-open connection
(python-xlib: pure Python, no Qt on the monitor's thread). Our own windows
(`_NET_WM_PID`) do not count: the break screen is full-screen by design.

With no DISPLAY (a console, or Wayland without XWayland) nothing is reported; under
XWayland only X clients' windows are seen, since Wayland lets no program look at
another's windows. macOS and Windows are not wired up.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from posture_watch.core.context import Condition, Kind

if TYPE_CHECKING:
    from Xlib.display import Display

log = logging.getLogger(__name__)

ATOMS = ("_NET_ACTIVE_WINDOW", "_NET_WM_STATE", "_NET_WM_STATE_FULLSCREEN", "_NET_WM_PID",
         "_NET_WM_NAME")


class Fullscreen:
    """Reads, on request, whether the active X window is full-screen, and whose it is."""

    name = "fullscreen"
    every_s = 1.0  # four property requests: 0.2 ms on a local Xvfb (median of 200)

    def __init__(self, display: str | None = None, own_pids: tuple[int, ...] | None = None,
                 retry_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        """`display` None: DISPLAY; empty: none. `retry_s`: how long to leave a server
        that refused or dropped us before connecting again."""
        self.display_name = os.environ.get("DISPLAY", "") if display is None else display
        self._own = set(own_pids or (os.getpid(),))
        self.retry_s = retry_s
        self.clock = clock
        self._display: Display | None = None
        self._atoms: dict[str, int] = {}
        self._retry_at: float | None = None

    def start(self) -> None:
        self._connect()

    def close(self) -> None:
        self._drop()

    def read(self) -> tuple[Condition, ...]:
        if self._display is None and not self._connect():
            return ()
        from Xlib.error import XError

        try:
            label = self._fullscreen_label()
        except XError as exc:  # the window closed between two requests (BadWindow)
            log.debug("fullscreen: %s", exc)
            return ()
        except Exception as exc:  # the connection broke: the server went away
            log.debug("fullscreen: lost %s: %s", self.display_name, exc)
            self._drop()
            self._retry_at = self.clock() + self.retry_s
            return ()
        return () if label is None else (Condition(Kind.FULLSCREEN, label),)

    def _connect(self) -> bool:
        if not self.display_name:
            return False
        if self._retry_at is not None and self.clock() < self._retry_at:
            return False
        try:
            from Xlib.display import Display

            display = Display(self.display_name)
            self._atoms = {name: display.intern_atom(name) for name in ATOMS}
        except Exception as exc:  # no server there, no access, or no python-xlib
            log.debug("fullscreen: cannot open display %r: %s", self.display_name, exc)
            self._retry_at = self.clock() + self.retry_s
            return False
        self._display, self._retry_at = display, None
        return True

    def _drop(self) -> None:
        display, self._display = self._display, None
        if display is not None:
            try:
                display.close()
            except Exception as exc:  # already gone
                log.debug("fullscreen: closing the display: %s", exc)

    def _fullscreen_label(self) -> str | None:
        """The active window's title (or class) if it is full-screen and not ours."""
        from Xlib import X, Xatom

        assert self._display is not None
        atoms = self._atoms
        root = self._display.screen().root
        active = root.get_full_property(atoms["_NET_ACTIVE_WINDOW"], Xatom.WINDOW)
        if active is None or not active.value or not active.value[0]:
            return None
        window = self._display.create_resource_object("window", int(active.value[0]))
        state = window.get_full_property(atoms["_NET_WM_STATE"], Xatom.ATOM)
        if state is None or atoms["_NET_WM_STATE_FULLSCREEN"] not in state.value:
            return None
        pid = window.get_full_property(atoms["_NET_WM_PID"], Xatom.CARDINAL)
        if pid is not None and len(pid.value) and int(pid.value[0]) in self._own:
            return None
        title = window.get_full_property(atoms["_NET_WM_NAME"], X.AnyPropertyType)
        return _text(title.value if title else None) or _text(window.get_wm_name()) or (
            _window_class(window) or "a full-screen window")


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return value.strip() if isinstance(value, str) else ""


def _window_class(window: Any) -> str:
    names = window.get_wm_class()  # (instance, class)
    return names[1] if names else ""
