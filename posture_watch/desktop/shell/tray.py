"""The tray icon and its menu. Every action is a control command to the monitor (the same
ones the CLI sends) or one of the shell's own windows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from posture_watch.desktop.shell.icons import state_icon
from posture_watch.desktop.shell.tray_state import icon_state, tooltip

Send = Callable[..., dict[str, Any]]


def seconds_to_tomorrow(now: dt.datetime) -> int:
    """Seconds from `now` (local) to the next local midnight, at least one minute."""
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time())
    return max(60, round((midnight - now).total_seconds()))


class Tray:
    def __init__(self, send: Send, actions: dict[str, Callable[[], None]],
                 earlier_today_s: float = 0.0) -> None:
        self._send = send
        self._earlier_today_s = earlier_today_s
        self.icon = QSystemTrayIcon(state_icon("unknown"))
        self.icon.setToolTip("posture-watch: starting")
        self.state = "unknown"
        self.menu = QMenu()
        self.menu.setObjectName("posture-watch tray menu")
        pause = self.menu.addMenu("&Pause")
        self._add(pause, "For &15 minutes", lambda: send("pause", duration="15m"))
        self._add(pause, "For 1 &hour", lambda: send("pause", duration="1h"))
        self._add(pause, "Until &tomorrow", lambda: send(
            "pause", duration=f"{seconds_to_tomorrow(dt.datetime.now())}s"))
        self.resume = self._add(self.menu, "&Resume", lambda: send("resume"))
        self._add(self.menu, "&Snooze reminders", lambda: send("snooze"))
        self._add(self.menu, "Take a &break now", lambda: send("break"))
        self.menu.addSeparator()
        for label, key in (("&Calibrate…", "calibrate"), ("Today's s&ummary", "summary"),
                           ("Open the r&eport", "report"),
                           ("Open the config &file", "config")):
            if key in actions:
                self._add(self.menu, label, actions[key])
        self.menu.addSeparator()
        self._add(self.menu, "&Quit", lambda: send("stop"))
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)

    @staticmethod
    def _add(menu: QMenu, label: str, do: Callable[[], Any]) -> QAction:
        action = menu.addAction(label)
        action.triggered.connect(lambda _checked=False: do())
        return action

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:  # a left click: the menu too
            self.menu.popup(self.icon.geometry().center())

    def show(self) -> None:
        self.icon.show()

    def update(self, status: dict[str, Any]) -> None:
        state = icon_state(status)
        if state != self.state:
            self.state = state
            self.icon.setIcon(state_icon(state))
        self.icon.setToolTip(tooltip(status, self._earlier_today_s))
        self.resume.setEnabled(state == "paused")
