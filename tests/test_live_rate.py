"""The live sampling rate: faster while poor, slower while away or long good (pure)."""

from __future__ import annotations

from posture_watch.core.live_rate import AdaptiveRate
from posture_watch.core.settings import LiveConfig
from posture_watch.core.types import Level, PostureState, RuleResult, State


def test_the_live_rate_slows_once_posture_has_been_good_for_a_while() -> None:
    rate = AdaptiveRate(LiveConfig(rate_hz=2.0, poor_rate_hz=5.0, away_rate_hz=0.5,
                                   stable_rate_hz=1.0, stable_after_s=30.0))

    def at(t: float, state: State) -> float:
        return rate.rate_for(PostureState(t, state, 90))

    assert at(0.0, State.GOOD) == 2.0
    assert at(29.5, State.GOOD) == 2.0
    assert at(30.0, State.GOOD) == 1.0  # good for 30 s: half the samples
    assert at(31.0, State.CAUTION) == 2.0  # any change: back to the usual rate
    assert at(32.0, State.GOOD) == 2.0  # and the good spell starts again
    assert at(62.0, State.GOOD) == 1.0
    assert at(63.0, State.POOR) == 5.0
    assert at(64.0, State.AWAY) == 0.5
    assert at(65.0, State.GOOD) == 2.0


def test_a_slouch_the_debounce_has_not_confirmed_yet_ends_the_slow_rate() -> None:
    """The state stays good for the debounce's samples; the rules already say poor."""
    rate = AdaptiveRate(LiveConfig(rate_hz=2.0, stable_rate_hz=0.5, stable_after_s=30.0))
    slouch = (RuleResult("slouch", Level.POOR, 2.4, "bands"),)
    screen = (RuleResult("screen_too_close", Level.CAUTION, 45.0, "cm"),)
    assert rate.rate_for(PostureState(0.0, State.GOOD, 100)) == 2.0
    assert rate.rate_for(PostureState(30.0, State.GOOD, 100, screen)) == 0.5  # advice only
    assert rate.rate_for(PostureState(32.0, State.GOOD, 70, slouch)) == 2.0
    assert rate.rate_for(PostureState(32.5, State.GOOD, 100)) == 2.0  # a new good spell
