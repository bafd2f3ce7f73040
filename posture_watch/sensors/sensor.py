"""The one interface every context sensor has.

A sensor turns one outside signal into the conditions that hold now
(`posture_watch.core.context.Condition`). The monitor's context watch calls `read()` no
more often than `every_s`, on its own thread, between samples: a read must be quick (a
file under /proc, a D-Bus call with a short timeout, an X11 property) or hand back what a
listening thread last heard. A signal that cannot be reached here reads as no condition,
never as an error: the monitor then simply never hears of it.

A new signal (a calendar, a Wayland portal) is one module with one class like this.
"""

from __future__ import annotations

from typing import Protocol

from posture_watch.core.context import Condition


class Sensor(Protocol):
    name: str  # for logs and `status`
    every_s: float  # how often a read is worth its cost

    def start(self) -> None:
        """Connect, subscribe or start listening; returns once ready (or given up)."""

    def read(self) -> tuple[Condition, ...]:
        """The conditions that hold now (empty: none)."""

    def close(self) -> None:
        """Let go of connections and threads."""


class PolledSensor:
    """A sensor that needs no set-up: `read()` looks each time."""

    name = "sensor"
    every_s = 1.0

    def start(self) -> None:
        return None

    def read(self) -> tuple[Condition, ...]:
        raise NotImplementedError

    def close(self) -> None:
        return None
