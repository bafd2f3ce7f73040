"""Working hours: per weekday, the time ranges in which the monitor may use the camera.

Each day has any number of "HH:MM-HH:MM" ranges, separated by commas. A range that ends
at or before it starts runs past midnight into the next day ("22:00-02:00"). Outside
every range `run` does not open the camera at all. Times are seconds into the local week
(Monday 00:00 is 0), which the caller works out from its clock; this module reads none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_S = 86_400
WEEK_S = 7 * DAY_S
_RANGE = re.compile(r"^\s*([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]|24):([0-5]\d)\s*$")


def parse_ranges(text: str) -> tuple[tuple[int, int], ...]:
    """'09:00-12:30, 13:30-18:00' -> ((start_s, length_s), ...) within the day; a
    ValueError names the part that is not a range."""
    ranges = []
    for part in filter(str.strip, text.split(",")):
        match = _RANGE.match(part)
        if match is None or (match[3] == "24" and match[4] != "00"):
            raise ValueError(f"{part.strip()!r} is not a range like 09:00-17:30")
        start = int(match[1]) * 3600 + int(match[2]) * 60
        end = int(match[3]) * 3600 + int(match[4]) * 60
        ranges.append((start, end - start if end > start else end + DAY_S - start))
    return tuple(ranges)


@dataclass(frozen=True)
class WorkingHours:
    """Every range of the week as (start, length), in seconds from Monday 00:00."""

    ranges: tuple[tuple[int, int], ...]

    @classmethod
    def parse(cls, by_day: dict[str, str]) -> WorkingHours:
        return cls(tuple((index * DAY_S + start, length)
                         for index, day in enumerate(DAYS)
                         for start, length in parse_ranges(by_day.get(day, ""))))

    def open_at(self, week_s: float) -> bool:
        return any((week_s - start) % WEEK_S < length for start, length in self.ranges)

    def until_open_s(self, week_s: float) -> float | None:
        """Seconds until the hours next begin (0 while open; None: they never do)."""
        if self.open_at(week_s):
            return 0.0
        waits = [(start - week_s) % WEEK_S for start, _ in self.ranges]
        return min(waits) if waits else None
