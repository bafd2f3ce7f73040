"""Giving the camera back: when another program opens the camera (a video call), the
monitor lets go of it within a check interval, waits, and takes it again once the other
program has closed it. Reopening goes through the camera source, whose failed opens are
retried with back-off, so a device still busy is never polled in a tight loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from posture_watch.sensors.camera_users import CameraUser

CHECK_EVERY_S = 1.0  # how often the other processes are looked at (about 2 ms each here)


@dataclass
class CameraYield:
    read_users: Callable[[], tuple[CameraUser, ...]]
    interval_s: float = CHECK_EVERY_S
    in_use_by: tuple[CameraUser, ...] = ()
    since_s: float | None = None  # when the camera was given up (monitor time)
    yielded_s: float = 0.0  # all the time given up so far, closed spans
    _next_s: float = field(default=0.0, repr=False)

    @property
    def active(self) -> bool:
        return bool(self.in_use_by)

    def describe(self) -> str:
        return "camera in use by " + ", ".join(str(u) for u in self.in_use_by)

    def check(self, now: float) -> str | None:
        """Look again if the interval passed; 'yield', 'resume' or None (no change)."""
        if now < self._next_s:
            return None
        self._next_s = now + self.interval_s
        users = self.read_users()
        if users and not self.in_use_by:
            self.in_use_by, self.since_s = users, now
            return "yield"
        if not users and self.in_use_by:
            self.yielded_s += now - (self.since_s or now)
            self.in_use_by, self.since_s = (), None
            return "resume"
        if users:
            self.in_use_by = users  # the same call, maybe another program joined
        return None

    def total_s(self, now: float) -> float:
        return self.yielded_s + (now - self.since_s if self.since_s is not None else 0.0)
