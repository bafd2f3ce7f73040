"""How often the live monitor samples: faster while posture is poor (a reminder is
confirmed sooner), slower while nobody is there, and slower again once posture has been
good for a while (nothing to catch but its end, which the next samples see)."""

from __future__ import annotations

from dataclasses import dataclass

from posture_watch.core.rules import worst_level
from posture_watch.core.settings import LiveConfig
from posture_watch.core.types import Level, PostureState, State


@dataclass
class AdaptiveRate:
    config: LiveConfig
    good_since_s: float | None = None

    def rate_for(self, state: PostureState) -> float:
        """Samples per second after this sample."""
        live = self.config
        # The rules' level on the smoothed measures leads the debounced state by a sample
        # or two: a slouch brings the usual rate back as soon as it shows there.
        if state.state is not State.GOOD or worst_level(list(state.rules)) is not Level.GOOD:
            self.good_since_s = None
        elif self.good_since_s is None:
            self.good_since_s = state.t_s
        if state.state is State.POOR:
            return live.poor_rate_hz
        if state.state is State.AWAY:
            return live.away_rate_hz
        if (self.good_since_s is not None
                and state.t_s - self.good_since_s >= live.stable_after_s):
            return live.stable_rate_hz
        return live.rate_hz
