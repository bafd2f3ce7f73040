"""The desktop shell: the Qt application on the main thread, beside the monitor's thread.

It observes the monitor (each sample, the break reminders, the status reply once a second)
and acts through the monitor's control handler, with the same commands as the CLI. Work
from the monitor's thread crosses over by queued Qt signals; nothing here touches the
camera or the core's state directly.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from posture_watch.core.break_flow import BreakFlow, Outcome, Step
from posture_watch.core.nudge import NudgeWatch
from posture_watch.core.settings import Config
from posture_watch.core.types import PostureState, Reminder, ReminderKind, State
from posture_watch.desktop.shell.break_screen import BreakScreens
from posture_watch.desktop.shell.nudge_overlay import Nudge
from posture_watch.desktop.shell.preview_window import PreviewWindow
from posture_watch.desktop.shell.summary_window import SummaryWindow
from posture_watch.desktop.shell.tray import Tray

log = logging.getLogger(__name__)

_STATUS_MS = 1000
_COUNTDOWN_MS = 250
_SIGNALS_MS = 200  # lets Python run its SIGINT/SIGTERM handlers while Qt waits


class ShellUnavailable(Exception):
    """No usable display for Qt (its platform plugin fell back to offscreen)."""


@dataclass
class ShellHooks:
    """What the shell may do, wired by the monitor: the control handler and the menu's
    extras. An extra left None is not in the menu."""

    control: Callable[[dict[str, Any]], dict[str, Any]]
    summary_text: Callable[[], str] | None = None
    write_report: Callable[[], Path] | None = None
    config_file: Callable[[], Path] | None = None
    calibrate: Callable[[], None] | None = None
    earlier_today_s: float = 0.0
    clock: Callable[[], float] = field(default=time.monotonic)


class _Bridge(QObject):
    sample = Signal(object)
    reminder = Signal(object)
    preview = Signal(object, int, int)
    ended = Signal()


def make_application() -> QApplication:
    """The QApplication, or ShellUnavailable when Qt cannot reach the display."""
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb;wayland;offscreen"
                          if os.environ.get("DISPLAY") else "wayland;xcb;offscreen")
    app = QApplication.instance() or QApplication(["posture-watch"])
    if app.platformName() in ("offscreen", "minimal"):
        raise ShellUnavailable("Qt found no display it can use (for X11, Debian's "
                               "libxcb-cursor0 and its siblings must be installed)")
    app.setApplicationName("posture-watch")
    app.setQuitOnLastWindowClosed(False)
    return app  # type: ignore[return-value]


class DesktopShell:
    def __init__(self, config: Config, hooks: ShellHooks) -> None:
        self.app = make_application()
        self.config = config
        self.hooks = hooks
        desk = config.desktop
        self.flow = BreakFlow(config.reminders.breaks.natural_break_s, desk.postpone_s,
                              desk.postpone_max, desk.strict)
        self.breaks = BreakScreens(self.flow, desk.break_screen == "fullscreen", hooks.clock,
                                   self._postpone, self._skip)
        self.nudge = Nudge(desk.nudge_style, desk.nudge_strength) if desk.nudge else None
        self.nudge_watch = NudgeWatch(config.reminders.posture.poor_hold_s)
        self.present: bool | None = None
        self.quiet = False  # the desktop asks for quiet (do-not-disturb, a presentation)
        self._summary: SummaryWindow | None = None
        self.tray: Tray | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = Tray(self.send, self._menu_extras(), hooks.earlier_today_s)
            self.tray.show()
        else:
            log.warning("no system tray on this desktop: running without the icon "
                        "(break screens and the nudge still work)")
        self._bridge = _Bridge()
        self._bridge.sample.connect(self._on_sample)
        self._bridge.reminder.connect(self._on_reminder)
        self._bridge.ended.connect(self.app.quit)
        self._preview: PreviewWindow | None = None
        self._bridge.preview.connect(self._show_preview)
        self._timers = [self._every(_STATUS_MS, self._poll_status),
                        self._every(_COUNTDOWN_MS, self._tick),
                        self._every(_SIGNALS_MS, lambda: None)]

    @staticmethod
    def _every(ms: int, do: Callable[[], None]) -> QTimer:
        timer = QTimer()
        timer.timeout.connect(do)
        timer.start(ms)
        return timer

    # -- called from the monitor's thread -------------------------------------------------
    def on_sample(self, state: PostureState, reminders: list[Reminder]) -> None:
        self._bridge.sample.emit(state)

    def take_reminder(self, reminder: Reminder) -> bool:
        """True when the shell shows this reminder itself (a break, as a break screen)."""
        if reminder.kind is not ReminderKind.BREAK or (
                self.config.desktop.break_screen == "notification"):
            return False
        self._bridge.reminder.emit(reminder)
        return True

    def show_preview(self, image: Any) -> None:
        """`run --preview`: an annotated frame (BGR, numpy) for the preview window."""
        rgb = image[:, :, ::-1].copy()
        height, width = rgb.shape[:2]
        self._bridge.preview.emit(rgb.tobytes(), width, height)

    def monitor_ended(self) -> None:
        self._bridge.ended.emit()

    def exec(self) -> None:
        self.app.exec()
        self.breaks.close()

    # -- on the Qt thread -----------------------------------------------------------------
    def send(self, command: str, **args: str) -> dict[str, Any]:
        reply = self.hooks.control({"command": command, "args": args})
        if not reply.get("ok", False):
            log.warning("%s: %s", command, reply.get("error", "refused"))
        else:
            self._poll_status(reply)
        return reply

    def _menu_extras(self) -> dict[str, Callable[[], None]]:
        hooks, extras = self.hooks, {}
        if hooks.calibrate is not None:
            extras["calibrate"] = hooks.calibrate
        if hooks.summary_text is not None:
            extras["summary"] = self._show_summary
        if hooks.write_report is not None:
            write = hooks.write_report
            extras["report"] = lambda: self._open(write())
        if hooks.config_file is not None:
            config_file = hooks.config_file
            extras["config"] = lambda: self._open(config_file())
        return extras

    def _open(self, path: Path) -> None:
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            log.warning("no program to open %s", path)

    def _show_summary(self) -> None:
        assert self.hooks.summary_text is not None
        self._summary = SummaryWindow(self.hooks.summary_text())
        self._summary.show()

    def _show_preview(self, rgb: object, width: int, height: int) -> None:
        if self._preview is None:
            self._preview = PreviewWindow()
            self._preview.show()
        self._preview.set_frame(rgb, width, height)

    def _poll_status(self, status: dict[str, Any] | None = None) -> None:
        if status is None:
            status = self.hooks.control({"command": "status"})
        self.quiet = bool((status.get("context") or {}).get("quiet"))
        if self.nudge is not None and (self.quiet or status.get("state") in (
                "paused", "camera in use", "locked", "asleep", "off hours")):
            # No samples come meanwhile, or the desktop asks for quiet (a presentation).
            self.nudge.set_on(False)
        if self.tray is not None:
            self.tray.update(status)

    def _on_sample(self, state: PostureState) -> None:
        present = state.state is not State.AWAY
        now = self.hooks.clock()
        if present != self.present:
            self.present = present
            self._follow(self.flow.presence(now, present))
        if self.nudge is not None:
            on = self.nudge_watch.update(state.t_s, state.state, on_break=self.breaks.open)
            self.nudge.set_on(on and not self.quiet)

    def _on_reminder(self, reminder: Reminder) -> None:
        step = self.flow.due(self.hooks.clock(), self.present is not False)
        if step is not None and self.nudge is not None:
            self.nudge.set_on(False)
        self._follow(step)

    def _tick(self) -> None:
        if self.breaks.open:
            self._follow(self.flow.tick(self.hooks.clock()))
            self.breaks.refresh()

    def _postpone(self) -> None:
        self._follow(self.flow.postpone(self.hooks.clock()))

    def _skip(self) -> None:
        self._follow(self.flow.skip(self.hooks.clock()))

    def _follow(self, step: Step | None) -> None:
        if step is None:
            return
        if step.command is not None:
            self.send(step.command, **dict(step.args))
        if step.outcome is Outcome.SHOW:
            self.breaks.show(step.note)
        elif step.outcome is Outcome.WELCOME:
            self.breaks.welcome(step.note)
        else:
            self.breaks.close()
