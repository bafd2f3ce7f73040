"""What a break screen does, from the break reminders, the camera and its buttons (pure).

The desktop layer draws the windows; this decides when they open and close, what the
countdown says and which control command each outcome sends to the monitor. Times are
seconds on one clock the caller reads (the desktop's monotonic clock), never read here.

- A due break opens the screen only while the user is at the desk: a break reminder never
  shows to someone who has already left.
- The countdown lasts the natural break (`[reminders.break] natural_break_s`). Running to
  its end with the user still in view (stretching at the desk) counts as the break.
- The user leaving closes the screen; the time away counts toward the break. Back before
  the break is over, the screen opens again for what is left; back after it, a "welcome
  back" note says the break was taken (the monitor's engine counts an absence of
  natural_break_s itself, so the flow tells it only about breaks it cannot see).
- Postpone puts the break off (`postpone_s` more presence), at most `postpone_max` times
  in a row; skip ends it uncounted, unless strict breaks are on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from posture_watch.core.messages import STRETCHES, Stretch, format_duration


class Phase(StrEnum):
    IDLE = "idle"
    SHOWING = "showing"  # the break screen is up, counting down
    AWAY = "away"  # the user left during a break; the screen is closed


class Outcome(StrEnum):
    SHOW = "show"  # open (or reopen) the screen
    CLOSE = "close"  # close it: the user left
    WELCOME = "welcome"  # back after a break: close, say welcome back
    FINISHED = "finished"  # the countdown ran out with the user in view
    POSTPONED = "postponed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Step:
    """What to do with the windows, and the control command (with its arguments) to send
    to the monitor, if any."""

    outcome: Outcome
    command: str | None = None
    args: tuple[tuple[str, str], ...] = ()
    note: str = ""


class BreakFlow:
    def __init__(self, length_s: float, postpone_s: float, postpone_max: int,
                 strict: bool) -> None:
        self.length_s = length_s
        self.postpone_s = postpone_s
        self.postpone_max = postpone_max
        self.strict = strict
        self.phase = Phase.IDLE
        self.postpones_used = 0
        self._count = 0  # breaks shown: picks the stretch
        self._ends_at = 0.0  # SHOWING: when the countdown reaches zero
        self._left_at = 0.0  # AWAY: when the user left
        self._left_with = 0.0  # AWAY: what the countdown had left then

    # -- what the screen shows ------------------------------------------------------------
    @property
    def stretch(self) -> Stretch:
        return STRETCHES[(self._count - 1) % len(STRETCHES)]

    def remaining(self, t: float) -> float:
        if self.phase is Phase.SHOWING:
            return max(0.0, self._ends_at - t)
        if self.phase is Phase.AWAY:
            return max(0.0, self._left_with - (t - self._left_at))
        return 0.0

    @property
    def can_postpone(self) -> bool:
        return self.phase is Phase.SHOWING and self.postpones_used < self.postpone_max

    @property
    def can_skip(self) -> bool:
        return self.phase is Phase.SHOWING and not self.strict

    # -- events ---------------------------------------------------------------------------
    def due(self, t: float, present: bool) -> Step | None:
        """A break reminder arrived."""
        if self.phase is not Phase.IDLE or not present:
            return None
        self._count += 1
        self.phase = Phase.SHOWING
        self._ends_at = t + self.length_s
        return Step(Outcome.SHOW)

    def presence(self, t: float, present: bool) -> Step | None:
        """The camera's verdict changed between present and away."""
        if self.phase is Phase.SHOWING and not present:
            self._left_with = self.remaining(t)
            self._left_at = t
            self.phase = Phase.AWAY
            return Step(Outcome.CLOSE)
        if self.phase is Phase.AWAY and present:
            away_s = t - self._left_at
            left = self._left_with - away_s
            if left > 0:
                self.phase = Phase.SHOWING
                self._ends_at = t + left
                return Step(Outcome.SHOW, note=f"Welcome back: {format_duration(left)} of "
                            "the break left.")
            self._reset()
            note = f"You were away {format_duration(away_s)}: break taken."
            if away_s >= self.length_s:
                return Step(Outcome.WELCOME, note=note)  # the engine saw the absence
            return Step(Outcome.WELCOME, "break_done", note=note)
        return None

    def tick(self, t: float) -> Step | None:
        """The countdown's clock moved on."""
        if self.phase is Phase.SHOWING and t >= self._ends_at:
            self._reset()
            return Step(Outcome.FINISHED, "break_done")
        return None

    def postpone(self, t: float) -> Step | None:
        if not self.can_postpone:
            return None
        self.postpones_used += 1
        self.phase = Phase.IDLE
        return Step(Outcome.POSTPONED, "postpone", (("duration", f"{self.postpone_s:g}s"),))

    def skip(self, t: float) -> Step | None:
        if not self.can_skip:
            return None
        self._reset()
        return Step(Outcome.SKIPPED, "skip")

    def _reset(self) -> None:
        self.phase = Phase.IDLE
        self.postpones_used = 0


def countdown_text(seconds: float) -> str:
    """'4:05' for a countdown (rounded up, so it reads 0:00 only at the end)."""
    whole = max(0, int(-(-seconds // 1)))
    return f"{whole // 60}:{whole % 60:02d}"
