"""Desktop notices: reminders and one-off notes shown as notifications, except in the
user's quiet hours (a wall-clock time range, read when a notice is due)."""

from __future__ import annotations

import datetime as dt

from posture_watch.core.settings import Config
from posture_watch.core.types import Reminder, ReminderKind
from posture_watch.desktop.chime import Chime
from posture_watch.desktop.notify import make_notifier

# The reminders that chime (when [desktop] sound is on): the ones that ask for a move.
CHIMING = (ReminderKind.BREAK, ReminderKind.POSTURE)


def in_quiet_hours(spec: str, now: dt.time) -> bool:
    """Whether `now` falls in 'HH:MM-HH:MM' (which may wrap past midnight)."""
    if not spec:
        return False
    start_text, end_text = spec.split("-")
    start, end = dt.time.fromisoformat(start_text), dt.time.fromisoformat(end_text)
    return start <= now < end if start <= end else now >= start or now < end


class DesktopNotices:
    """Shows reminders (and one-off notes) as notifications, except in quiet hours; with
    sound on, break and posture reminders chime too (also not in quiet hours)."""

    def __init__(self, config: Config) -> None:
        self._notifier = make_notifier(config.notifications.backend)
        self._quiet = config.notifications.quiet_hours
        desk = config.desktop
        self.chime = Chime(desk.sound_volume) if desk.sound else None

    def __call__(self, reminder: Reminder, *, shown: bool = False) -> None:
        """Notify (unless the desktop shell already `shown` it) and chime."""
        if self.quiet():
            return
        if self.chime is not None and reminder.kind in CHIMING:
            self.chime.play()
        if not shown:
            self.text(reminder.title, reminder.message,
                      urgency="low" if reminder.kind is ReminderKind.POSTURE else "normal")

    def quiet(self) -> bool:
        """Whether it is the user's quiet hours now (wall-clock time)."""
        return in_quiet_hours(self._quiet, dt.datetime.now().time())

    def close(self) -> None:
        if self.chime is not None:
            self.chime.close()

    def text(self, title: str, message: str, urgency: str = "normal") -> None:
        if not self.quiet():
            self._notifier.notify(title, message, urgency=urgency)
