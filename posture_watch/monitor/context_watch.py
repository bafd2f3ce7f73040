"""The context watch: reads every sensor on its own interval, between samples, and says
what began and what ended.

It keeps the last reading of each sensor, so a slow signal (working hours, read every few
seconds) and a quick one (the camera's other users, every second) make one context. A
sensor that fails is logged once and reads as nothing until it works again: a broken
signal never stops the monitor. How long each kind held is added up for the status and
the history.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from posture_watch.core.context import Change, Condition, Context, Kind, changes
from posture_watch.sensors.sensor import Sensor

log = logging.getLogger(__name__)


@dataclass
class ContextWatch:
    sensors: Sequence[Sensor]
    context: Context = field(default_factory=Context)
    _readings: dict[int, tuple[Condition, ...]] = field(default_factory=dict, repr=False)
    _next_s: dict[int, float] = field(default_factory=dict, repr=False)
    _failing: set[int] = field(default_factory=set, repr=False)
    _since: dict[Kind, float] = field(default_factory=dict, repr=False)
    _totals: dict[Kind, float] = field(default_factory=dict, repr=False)

    def start(self) -> None:
        for sensor in self.sensors:
            try:
                sensor.start()
            except Exception as exc:  # a signal missing here: the others still count
                log.warning("context sensor %s did not start: %s", sensor.name, exc)

    def close(self) -> None:
        for sensor in self.sensors:
            try:
                sensor.close()
            except Exception as exc:
                log.debug("context sensor %s did not close cleanly: %s", sensor.name, exc)

    def check(self, now: float) -> list[Change]:
        """Read the sensors that are due; what began and ended since the last check."""
        due = False
        for index, sensor in enumerate(self.sensors):
            if now < self._next_s.get(index, 0.0):
                continue
            self._next_s[index] = now + sensor.every_s
            self._readings[index] = self._read(index, sensor)
            due = True
        if not due:
            return []
        after = Context.of(c for reading in self._readings.values() for c in reading)
        found = changes(self.context, after, now, self._since)
        for change in found:
            if not change.began:
                self._totals[change.kind] = self._totals.get(change.kind, 0.0) + change.lasted_s
        self.context = after
        return found

    def _read(self, index: int, sensor: Sensor) -> tuple[Condition, ...]:
        try:
            reading = sensor.read()
        except Exception as exc:
            if index not in self._failing:
                log.warning("context sensor %s failed: %s", sensor.name, exc)
                self._failing.add(index)
            return ()
        self._failing.discard(index)
        return reading

    def since_s(self, kind: Kind) -> float | None:
        """When the current spell of `kind` began, if it holds now."""
        return self._since.get(kind)

    def total_s(self, kind: Kind, now: float) -> float:
        """All the time `kind` held, the current spell included."""
        began = self._since.get(kind)
        return self._totals.get(kind, 0.0) + (now - began if began is not None else 0.0)

    def open_spells(self, now: float) -> list[Change]:
        """The spells still going, ended at `now` (for the history when `run` stops)."""
        return [Change(kind, False, now, now - began,
                       next((c.detail for c in self.context.active(kind)), ""))
                for kind, began in self._since.items()]
