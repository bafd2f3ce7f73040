"""When the posture nudge (a faint glow or tint on the screens) should be on (pure).

On once poor posture has been held for the posture reminder's hold time (`poor_hold_s`),
off as soon as the user sits well, leaves or is on a break. Its own hold, not the reminder
engine's: the engine clears its hold when the reminder fires, while the nudge stays until
the posture is fixed. Caution keeps a started hold going (a slump half-corrected is not
fixed) but never starts one; an unjudged sample changes nothing.
"""

from __future__ import annotations

from posture_watch.core.types import State


class NudgeWatch:
    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self._poor_since: float | None = None
        self.on = False

    def update(self, t: float, state: State, *, on_break: bool = False) -> bool:
        """Whether the nudge should show after this sample (its state at `t`)."""
        if state in (State.GOOD, State.AWAY) or on_break:
            self._poor_since = None
        elif state is State.POOR and self._poor_since is None:
            self._poor_since = t
        self.on = self._poor_since is not None and t - self._poor_since >= self.hold_s
        return self.on
