"""Pausing while the screen is locked or the machine sleeps: the camera is let go (its
light goes off) and taken back on unlock. A lock that lasted a natural break's length
counts as that break, as walking away from the camera would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from posture_watch.sensors.session_lock import LockReading

CHECK_EVERY_S = 0.5


@dataclass
class SessionPause:
    read: Callable[[], LockReading]
    interval_s: float = CHECK_EVERY_S
    reading: LockReading = field(default_factory=LockReading)
    since_s: float | None = None
    _next_s: float = field(default=0.0, repr=False)

    @property
    def active(self) -> bool:
        return self.reading.away

    def describe(self) -> str:
        return "asleep" if self.reading.asleep else "locked"

    def check(self, now: float) -> tuple[str, float] | None:
        """('lock', 0) when the lock or sleep starts, ('unlock', seconds it lasted) when it
        ends, else None."""
        if now < self._next_s:
            return None
        self._next_s = now + self.interval_s
        reading = self.read()
        was = self.reading.away
        self.reading = reading
        if reading.away and not was:
            self.since_s = now
            return "lock", 0.0
        if was and not reading.away:
            lasted = now - (self.since_s if self.since_s is not None else now)
            self.since_s = None
            return "unlock", lasted
        return None
