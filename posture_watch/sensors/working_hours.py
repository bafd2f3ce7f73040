"""Working hours as a sensor: outside them, the condition 'off hours' holds.

The schedule is pure (`core.working_hours`, on seconds into the week); this module only
brings the local wall clock, which tests replace with their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from posture_watch.core.context import Condition, Kind
from posture_watch.core.working_hours import WorkingHours
from posture_watch.sensors.sensor import PolledSensor


def week_seconds(when: dt.datetime) -> float:
    """Seconds since the Monday 00:00 before `when` (local time as given)."""
    midnight = when.replace(hour=0, minute=0, second=0, microsecond=0)
    return when.weekday() * 86_400 + (when - midnight).total_seconds()


class WorkingHoursSensor(PolledSensor):
    """The condition's `value` is the seconds until the hours begin again."""

    name = "working hours"
    every_s = 5.0

    def __init__(self, hours: WorkingHours,
                 now: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.hours = hours
        self._now = now

    def read(self) -> tuple[Condition, ...]:
        when = self._now()
        wait = self.hours.until_open_s(week_seconds(when))
        if wait == 0.0:
            return ()
        if wait is None:
            return (Condition(Kind.OFF_HOURS),)
        start = when + dt.timedelta(seconds=wait)
        return (Condition(Kind.OFF_HOURS, start.strftime("%a %H:%M"), wait),)
