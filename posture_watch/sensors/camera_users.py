"""Which other processes have the camera open (Linux: their open file descriptors).

Video-call apps open the camera device itself, so a process holding a descriptor on
`/dev/videoN` (or on the file a test plays as the camera) is a process that wants it.
The check reads `/proc/PID/fd/*` links, so it sees only processes this user may inspect:
the user's own, which is where a video call runs. On macOS and Windows there is no such
listing without privileges; there the camera failing to open, or stopping, is the signal
(the camera source's retry with back-off), and this sensor reports nobody.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from posture_watch.core.context import Condition, Kind
from posture_watch.sensors.sensor import PolledSensor

PROC = Path("/proc")


@dataclass(frozen=True)
class CameraUser:
    pid: int
    name: str

    def __str__(self) -> str:
        return f"{self.name} (pid {self.pid})"


def camera_path(spec: str) -> Path | None:
    """The file that stands for the camera: /dev/videoN for an index, else the path given
    (links resolved); None where processes cannot be listed."""
    if not sys.platform.startswith("linux"):
        return None
    path = Path(f"/dev/video{spec}") if spec.isdigit() else Path(spec)
    try:
        return path.resolve(strict=True)
    except OSError:
        return None


def _name(pid: str) -> str:
    try:
        return (PROC / pid / "comm").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "another program"


class CameraUsers(PolledSensor):
    """Reads, on request, the other processes that hold the camera open: a call."""

    name = "camera users"
    every_s = 1.0  # one look costs about 2 ms here

    def __init__(self, spec: str, own_pids: tuple[int, ...] | None = None) -> None:
        self.target = camera_path(spec)
        self._target = str(self.target) if self.target else None
        self._own = {str(p) for p in (own_pids or (os.getpid(),))}

    def read(self) -> tuple[Condition, ...]:
        return tuple(Condition(Kind.CALL, str(user)) for user in self.users())

    def users(self) -> tuple[CameraUser, ...]:
        if self._target is None:
            return ()
        users = []
        try:
            processes = list(os.scandir(PROC))
        except OSError:
            return ()
        for entry in processes:
            pid = entry.name
            if not pid.isdigit() or pid in self._own:
                continue
            try:
                fds = os.scandir(f"/proc/{pid}/fd")
            except OSError:
                continue  # gone, or not ours to look at
            with fds:
                for fd in fds:
                    try:
                        if os.readlink(fd.path) == self._target:
                            users.append(CameraUser(int(pid), _name(pid)))
                            break
                    except OSError:
                        continue
        return tuple(users)
