"""What the world around the desk says, and what the monitor does about it.

Sensors (`posture_watch.sensors`) turn outside signals into `Condition`s: another program
on the camera, the screen lock, sleep, hours outside the user's working hours, the
desktop's do-not-disturb, a full-screen window, a listed app running, and keyboard and
mouse idle time. This module decides, from the conditions active now, whether the camera
is let go and whether reminders on screen are held. Pure: the conditions are inputs, like
frames.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    ASLEEP = "asleep"
    LOCKED = "locked"
    CALL = "call"  # another program holds the camera
    OFF_HOURS = "off hours"  # outside the user's working hours
    DO_NOT_DISTURB = "do not disturb"  # the desktop's own switch
    FULLSCREEN = "fullscreen"  # a full-screen window (a presentation, a film)
    APP = "app"  # an app from the user's list (presenting, calling)
    IDLE = "idle"  # no keyboard or mouse input for a while


# Conditions that let go of the camera, strongest first: the first active one names the
# monitor's state.
CAMERA_OFF = (Kind.ASLEEP, Kind.LOCKED, Kind.CALL, Kind.OFF_HOURS)
# Conditions that hold break screens, nudges and notifications (reminders are queued).
QUIET = (Kind.CALL, Kind.DO_NOT_DISTURB, Kind.FULLSCREEN, Kind.APP)


@dataclass(frozen=True)
class Condition:
    """One outside condition that holds now. `detail` says what, for people ("zoom (pid
    4242)", "notifications paused"); `value` carries a measure where there is one (idle
    seconds)."""

    kind: Kind
    detail: str = ""
    value: float = 0.0

    def describe(self) -> str:
        texts = {
            Kind.CALL: "camera in use by {}",
            Kind.OFF_HOURS: "outside working hours, back {}",
            Kind.DO_NOT_DISTURB: "do not disturb ({})",
            Kind.FULLSCREEN: "full-screen window ({})",
            Kind.APP: "{} is running",
            Kind.IDLE: "no input for {}",
        }
        text = texts.get(self.kind)
        if text is None or not self.detail:
            return self.kind.value
        return text.format(self.detail)


@dataclass(frozen=True)
class Context:
    """Every condition active now."""

    conditions: tuple[Condition, ...] = ()

    @classmethod
    def of(cls, conditions: Iterable[Condition]) -> Context:
        return cls(tuple(conditions))

    def active(self, kind: Kind) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if c.kind is kind)

    def first_of(self, kinds: tuple[Kind, ...]) -> Condition | None:
        for kind in kinds:
            found = self.active(kind)
            if found:
                return found[0]
        return None

    def camera_off(self) -> Condition | None:
        """Why the camera is let go now, if it is (the strongest reason)."""
        return self.first_of(CAMERA_OFF)

    def quiet(self) -> Condition | None:
        """Why reminders on screen wait now, if they do."""
        return self.first_of(QUIET)

    def describe(self, kind: Kind) -> str:
        """`kind` for people, every active condition of it named ("camera in use by zoom
        (pid 7), obs (pid 9)")."""
        found = self.active(kind)
        if not found:
            return kind.value
        details = ", ".join(c.detail for c in found if c.detail)
        return Condition(kind, details, found[0].value).describe()

    def idle_s(self) -> float | None:
        """Seconds without keyboard or mouse input, when a sensor can tell."""
        found = self.active(Kind.IDLE)
        return found[0].value if found else None

    def kinds(self) -> frozenset[Kind]:
        return frozenset(c.kind for c in self.conditions)


@dataclass(frozen=True)
class Change:
    """A kind of condition began or ended; `lasted_s` is how long it held when it ends."""

    kind: Kind
    began: bool
    at_s: float
    lasted_s: float = 0.0
    detail: str = ""


def changes(before: Context, after: Context, now_s: float,
            since: dict[Kind, float]) -> list[Change]:
    """What began and ended between two contexts (idle, a measure, never 'changes').

    `since` maps each active kind to when it began; it is updated in place."""
    out: list[Change] = []
    old, new = before.kinds() - {Kind.IDLE}, after.kinds() - {Kind.IDLE}
    for kind in sorted(new - old):
        since[kind] = now_s
        found = after.active(kind)
        out.append(Change(kind, True, now_s, detail=found[0].detail if found else ""))
    for kind in sorted(old - new):
        began = since.pop(kind, now_s)
        found = before.active(kind)
        out.append(Change(kind, False, now_s, now_s - began,
                          found[0].detail if found else ""))
    return out


def unseen_presence(idle_s: float | None, idle_after_s: float) -> bool | None:
    """While the camera cannot look (a call, a privacy-mode gap), whether the user is at
    the desk by the keyboard and mouse: True when input is recent, False when idle for
    `idle_after_s`, None when no sensor can tell."""
    if idle_s is None:
        return None
    return idle_s < idle_after_s
