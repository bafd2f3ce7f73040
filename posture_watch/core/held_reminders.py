"""Reminders that came due while the desktop asked for quiet (a call, a presentation,
do-not-disturb), kept until it ends.

A due movement break is never dropped: it waits and shows when the quiet ends. A posture
reminder is not kept: by then it describes a posture long gone, and the next one comes
from a fresh hold. When several wait, one break stands for the stretch and eye breaks
too (it asks for more than either); hydration waits on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import replace as copy_with

from posture_watch.core.types import Reminder, ReminderKind

_ORDER = (ReminderKind.BREAK, ReminderKind.STRETCH, ReminderKind.EYES, ReminderKind.HYDRATION)
_COVERED_BY_BREAK = (ReminderKind.STRETCH, ReminderKind.EYES)


@dataclass
class HeldReminders:
    waiting: dict[ReminderKind, Reminder] = field(default_factory=dict)
    posture_dropped: int = 0

    def hold(self, reminder: Reminder) -> None:
        if reminder.kind is ReminderKind.POSTURE:
            self.posture_dropped += 1
            return
        self.waiting.setdefault(reminder.kind, reminder)  # the first one due, kept

    def __len__(self) -> int:
        return len(self.waiting)

    def release(self, now_s: float, why: str) -> list[Reminder]:
        """What to show now the quiet has ended, most important first, stamped `now_s`."""
        kinds = [k for k in _ORDER if k in self.waiting]
        if ReminderKind.BREAK in kinds:
            kinds = [k for k in kinds if k not in _COVERED_BY_BREAK]
        out = [copy_with(self.waiting[k], t_s=now_s,
                         reason=f"{self.waiting[k].reason}; held during {why}".lstrip("; "))
               for k in kinds]
        self.waiting.clear()
        return out
