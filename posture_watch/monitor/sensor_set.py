"""Which context sensors `run` listens to, from the settings and what this machine has."""

from __future__ import annotations

import os
import sys

from posture_watch.core.settings import Config
from posture_watch.core.working_hours import WorkingHours
from posture_watch.sensors.camera_users import CameraUsers
from posture_watch.sensors.sensor import Sensor
from posture_watch.sensors.working_hours import WorkingHoursSensor


def sensors_for(config: Config, camera: str) -> list[Sensor]:
    """Every sensor the settings ask for that can work here (Linux: /proc, D-Bus, X11)."""
    linux = sys.platform.startswith("linux")
    found: list[Sensor] = []
    if config.camera.yield_to_others:
        users = CameraUsers(camera)
        if users.target is not None:  # processes can be listed here
            found.append(users)
    if config.camera.pause_when_locked and linux:
        from posture_watch.sensors.session_lock import SessionLock

        found.append(SessionLock())
    if config.working_hours.enabled:
        found.append(WorkingHoursSensor(WorkingHours.parse(config.working_hours.by_day())))
    context = config.context
    if context.do_not_disturb and linux:
        from posture_watch.sensors.do_not_disturb import DoNotDisturb

        found.append(DoNotDisturb())
    if context.fullscreen and os.environ.get("DISPLAY"):
        from posture_watch.sensors.fullscreen import Fullscreen

        found.append(Fullscreen())
    if context.apps and linux:
        from posture_watch.sensors.busy_apps import BusyApps

        found.append(BusyApps(context.apps))
    if context.idle:
        from posture_watch.sensors.idle import IdleTime

        found.append(IdleTime())
    return found
