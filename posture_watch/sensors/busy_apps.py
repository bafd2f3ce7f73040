"""Whether an app from the user's list is running: a video call or a slide show, which the
camera alone does not always tell (a call with the camera off, a presentation needs none).

Linux: each of the user's own processes under /proc, by two names. `comm` is the kernel's
(the executable's base name, cut to 15 characters, or what the program set); the base
name of argv[0] catches what `comm` hides (a long name, a launcher script's interpreter
running it). Names match whole and case-insensitively: "zoom" is not "zoomer". Other
platforms report nothing for now.
"""

from __future__ import annotations

import os
import sys

from posture_watch.core.context import Condition, Kind
from posture_watch.sensors.sensor import PolledSensor

PROC = "/proc"
COMM_LEN = 15  # the kernel keeps this many characters of a process's name


def _read(path: str, size: int) -> bytes:
    """The first `size` bytes; plain os calls, half the cost of a buffered file here."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # gone meanwhile, or not ours to read
        return b""
    try:
        return os.read(fd, size)
    except OSError:
        return b""
    finally:
        os.close(fd)


class BusyApps(PolledSensor):
    """Reads, on request, which listed apps the user is running (the first pid of each)."""

    name = "busy apps"
    # One read with 300 processes, all the user's, costs about 5 ms (median of 50; a 2-core
    # VM, Python 3.11): a scan of /proc, then a stat and two small reads per process.
    # Every 2 s that is a quarter of a percent of one core, and an app starting or ending
    # is seen within 2 s.
    every_s = 2.0

    def __init__(self, apps: tuple[str, ...], own_pids: tuple[int, ...] | None = None) -> None:
        self.apps = tuple(app.strip().lower() for app in apps if app.strip())
        self._names = set(self.apps)
        self._comms = {app[:COMM_LEN] for app in self.apps}
        self._own = {str(p) for p in (own_pids or (os.getpid(),))}
        self._uid = os.getuid() if hasattr(os, "getuid") else -1
        self._linux = sys.platform.startswith("linux")

    def read(self) -> tuple[Condition, ...]:
        found: dict[str, tuple[int, str]] = {}  # listed name: (lowest pid, name seen)
        for pid, app, seen in self._matches():
            if app not in found or pid < found[app][0]:
                found[app] = (pid, seen)
        return tuple(Condition(Kind.APP, f"{found[app][1]} (pid {found[app][0]})")
                     for app in self.apps if app in found)

    def _matches(self) -> list[tuple[int, str, str]]:
        if not self._names or not self._linux:
            return []
        try:
            entries = list(os.scandir(PROC))
        except OSError:
            return []
        matches = []
        for entry in entries:
            pid = entry.name
            if not pid.isdigit() or pid in self._own:
                continue
            try:
                if entry.stat().st_uid != self._uid:
                    continue  # another user's (or the kernel's)
            except OSError:
                continue  # gone
            found = self._match(pid)
            if found is not None:
                matches.append((int(pid), *found))
        return matches

    def _match(self, pid: str) -> tuple[str, str] | None:
        """(listed name, name seen) when the process is one of the listed apps."""
        comm = _read(f"{PROC}/{pid}/comm", 64).decode("utf-8", "replace").strip()
        if comm.lower() in self._comms:
            for app in self.apps:
                if app[:COMM_LEN] == comm.lower():
                    return app, comm
        argv0 = _read(f"{PROC}/{pid}/cmdline", 4096).split(b"\0", 1)[0]
        name = os.path.basename(argv0.decode("utf-8", "replace"))
        if name.lower() in self._names:
            return name.lower(), name
        return None
