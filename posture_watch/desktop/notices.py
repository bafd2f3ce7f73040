"""Desktop notices: reminders and one-off notes shown as notifications, except in the
user's quiet hours (a wall-clock time range, read when a notice is due)."""

from __future__ import annotations

import datetime as dt

from posture_watch.core.settings import Config
from posture_watch.core.types import Reminder
from posture_watch.desktop.notify import make_notifier


def in_quiet_hours(spec: str, now: dt.time) -> bool:
    """Whether `now` falls in 'HH:MM-HH:MM' (which may wrap past midnight)."""
    if not spec:
        return False
    start_text, end_text = spec.split("-")
    start, end = dt.time.fromisoformat(start_text), dt.time.fromisoformat(end_text)
    return start <= now < end if start <= end else now >= start or now < end


class DesktopNotices:
    """Shows reminders (and one-off notes) as notifications, except in quiet hours."""

    def __init__(self, config: Config) -> None:
        self._notifier = make_notifier(config.notifications.backend)
        self._quiet = config.notifications.quiet_hours

    def __call__(self, reminder: Reminder) -> None:
        self.text(reminder.title, reminder.message,
                  urgency="low" if reminder.kind.value == "posture" else "normal")

    def text(self, title: str, message: str, urgency: str = "normal") -> None:
        if not in_quiet_hours(self._quiet, dt.datetime.now().time()):
            self._notifier.notify(title, message, urgency=urgency)
