"""Noticing a calibration that no longer fits (pure).

If, over a long stretch, the relative measures sat far from the calibrated neutral and
barely moved, a moved camera, a new chair or a different desk is far likelier than an
hour of unchanging bad posture. The watch says so once, instead of nagging about posture.
"""

from __future__ import annotations

import statistics
from collections import deque

from posture_watch.core.types import PostureState

# Relative rules and how far (in their own units) the median must sit from the neutral,
# with how little it may spread (interquartile range), to call the neutral stale.
_OFFSETS = {
    "neck_flexion": (15.0, 6.0),  # degrees past neutral
    "neck_extension": (12.0, 6.0),
    "shoulder_tilt": (8.0, 4.0),
    "slouch": (2.5, 1.0),  # slump cue bands past neutral (core.cues)
    "side_slouch": (2.5, 1.0),
    "shrug": (25.0, 8.0),  # percentage points from 100 % of neutral
    "forward_head": (25.0, 8.0),
}
_PERCENT_RULES = {"shrug", "forward_head"}


def _offset(rule: str, value: float) -> float:
    return abs(value - 100.0) if rule in _PERCENT_RULES else abs(value)


class StaleCalibrationWatch:
    """Feed it every sample; it returns a message once when the neutral looks stale."""

    def __init__(self, window_s: float = 1800.0, min_share: float = 0.6) -> None:
        self._window_s = window_s
        self._min_share = min_share  # of the window that must have been judged
        self._values: deque[tuple[float, dict[str, float]]] = deque()
        self._said = False

    def update(self, state: PostureState) -> str | None:
        if self._said or not state.measured:
            return None
        self._values.append((state.t_s, {r.rule: r.value for r in state.rules
                                         if r.rule in _OFFSETS}))
        while self._values and state.t_s - self._values[0][0] > self._window_s:
            self._values.popleft()
        span = state.t_s - self._values[0][0]
        if span < self._window_s * 0.98:
            return None
        # Samples come at a steady rate while judged: enough of them means enough time.
        rate = (len(self._values) - 1) / span if span > 0 else 0.0
        if rate <= 0 or len(self._values) / rate < self._min_share * self._window_s:
            return None
        for rule, (offset, spread) in _OFFSETS.items():
            series = [_offset(rule, v[rule]) for _, v in self._values if rule in v]
            if len(series) < 0.5 * len(self._values):
                continue
            q1, median, q3 = statistics.quantiles(series, n=4)
            if median >= offset and q3 - q1 <= spread:
                self._said = True
                minutes = round(self._window_s / 60)
                return (f"For {minutes} minutes your {rule.replace('_', ' ')} reading has "
                        "stayed far from your calibrated neutral without moving. If the "
                        "camera, chair or desk changed, calibrate again "
                        "('posture-watch calibrate --save NAME').")
        return None
