"""Summaries of PostureState streams, every expected figure worked out by hand."""

from __future__ import annotations

import io
import random
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from posture_watch.analysis.analyze import Analysis
from posture_watch.analysis.output import print_human
from posture_watch.core.messages import suggestion_for_rule
from posture_watch.core.scoring import PostureScorer
from posture_watch.core.screen_distance import (
    SETUP_BRIDGE_S,
    SETUP_HOLD_S,
    TOO_CLOSE,
    TOO_FAR,
    longest_stretch,
    median_text,
    required_stretch_s,
    weighted_median,
)
from posture_watch.core.settings import Config, ThresholdsConfig
from posture_watch.core.summary import Episode, for_summary, sample_spans, summarize
from posture_watch.core.types import (
    Level,
    Person,
    PostureState,
    Reminder,
    ReminderKind,
    RuleResult,
    State,
)
from tests.conftest import FOOTAGE
from tests.synthetic import front_person, samples

G, C, P, A, U = State.GOOD, State.CAUTION, State.POOR, State.AWAY, State.UNKNOWN
LEVEL = {"c": Level.CAUTION, "p": Level.POOR, "g": Level.GOOD}


def st(t: float, state: State, *rules: str, score: int | None = None,
       distance: float | None = None) -> PostureState:
    """A state at t; rules as 'name:c' / 'name:p' / 'name:g'."""
    results = []
    for spec in rules:
        name, level = spec.split(":")
        results.append(RuleResult(name, LEVEL[level], 0.0, "deg"))
    metrics = {} if distance is None else {"distance_cm": distance}
    return PostureState(t, state, score, tuple(results), 1.0, metrics)


def timeline(*runs: tuple[int, State, tuple[str, ...]], start: float = 0.0,
             step: float = 1.0) -> list[PostureState]:
    """Consecutive runs of (count, state, rules) at one sample per `step` seconds."""
    out, t = [], start
    for count, state, rules in runs:
        for _ in range(count):
            out.append(st(t, state, *rules))
            t += step
    return out


def rep(count: int, state: State, *rules: str) -> tuple[int, State, tuple[str, ...]]:
    return count, state, rules


def with_distance(states: list[PostureState], cm: float) -> list[PostureState]:
    return [replace(s, metrics={**s.metrics, "distance_cm": cm}) for s in states]


def at_distances(distances: Iterable[float | None], start: float = 0.0, step: float = 1.0,
                 state: State = G) -> list[PostureState]:
    """Good samples every `step` s at these distances (None: the person was away)."""
    return [st(start + i * step, state if cm is not None else A, distance=cm)
            for i, cm in enumerate(distances)]


# -- sample spans -------------------------------------------------------------------------

def test_sample_spans_are_gaps_capped_at_five_seconds() -> None:
    states = [st(t, G) for t in (0.0, 1.0, 2.0, 10.0, 11.0)]
    # gaps 1, 1, 8 -> 5, 1; the last sample gets the median of those, 1.
    assert sample_spans(states) == [1.0, 1.0, 5.0, 1.0, 1.0]


def test_the_last_span_is_the_median_gap() -> None:
    states = [st(t, G) for t in (0.0, 0.5, 1.5)]
    assert sample_spans(states) == [0.5, 1.0, 0.75]


def test_sample_spans_of_one_and_no_samples() -> None:
    assert sample_spans([st(3.0, G)]) == [0.0]
    assert sample_spans([]) == []


# -- time per state -----------------------------------------------------------------------

def test_seconds_and_percent_of_measured_time() -> None:
    states = timeline(rep(60, G), rep(30, C, "head_roll:c"), rep(10, P, "head_roll:p"),
                      rep(20, A), rep(5, U))
    s = summarize(states, [])
    # 125 samples of 1 s each (the last gets the median gap, 1 s).
    assert s.duration_s == 125.0
    assert s.away_s == 20.0
    assert s.unknown_s == 5.0
    assert s.present_s == 105.0
    assert s.seconds_by_state == {"good": 60.0, "caution": 30.0, "poor": 10.0,
                                  "away": 20.0, "unknown": 5.0}
    # Measured: good + caution + poor = 100 s.
    assert s.percent_of_measured == {"good": 60.0, "caution": 30.0, "poor": 10.0}


def test_percent_rounds_to_one_decimal() -> None:
    # 2 s good, 1 s poor: 66.7 % and 33.3 %.
    s = summarize(timeline(rep(2, G), rep(1, P, "slouch:p")), [])
    assert s.percent_of_measured == {"good": 66.7, "caution": 0.0, "poor": 33.3}


def test_nothing_measured_gives_zero_percent() -> None:
    s = summarize(timeline(rep(4, A)), [])
    assert s.percent_of_measured == {"good": 0.0, "caution": 0.0, "poor": 0.0}
    assert s.present_s == 0.0 and s.away_s == 4.0
    assert s.main_issue is None and s.mean_score is None


def test_empty_stream() -> None:
    s = summarize([], [])
    assert s.duration_s == 0.0 and s.episodes == [] and s.main_issue is None


# -- episodes -----------------------------------------------------------------------------

EPISODE_STREAM = [
    rep(10, G),                                        # t 0-9
    rep(4, C, "head_roll:c"),                          # t 10-13: a 4 s blip
    rep(10, G),                                        # t 14-23
    rep(5, P, "neck_flexion:p", "head_roll:c"),        # t 24-28
    rep(15, P, "neck_flexion:p"),                      # t 29-43: 20 s poor in all
    rep(10, G),                                        # t 44-53
    rep(5, C, "screen_too_close:c", "shoulder_tilt:c"),  # t 54-58: exactly 5 s
    rep(10, G),                                        # t 59-68
    rep(8, C, "slouch:c"),                             # t 69-76
    rep(4, P, "slouch:p"),                             # t 77-80
    rep(4, G),                                         # t 81-84
]


def test_episodes_count_length_worst_and_main_rule() -> None:
    s = summarize(timeline(*EPISODE_STREAM), [])
    assert s.episodes == [
        Episode(24.0, 44.0, "poor", "neck_flexion"),  # neck_flexion in 20 samples, roll in 5
        Episode(54.0, 59.0, "caution", "shoulder_tilt"),  # the screen rule is not posture
        Episode(69.0, 81.0, "poor", "slouch"),  # caution then poor: worst is poor
    ]
    assert len(s.episodes) == 3
    longest = max(s.episodes, key=lambda e: e.duration_s)
    assert (longest.duration_s, longest.main_rule) == (20.0, "neck_flexion")


def test_blips_shorter_than_five_seconds_are_not_episodes() -> None:
    s = summarize(timeline(rep(3, G), rep(4, P, "slouch:p"), rep(3, G),
                           rep(2, C, "head_yaw:c"), rep(3, G)), [])
    assert s.episodes == []
    # They still count as time in their state.
    assert s.seconds_by_state["poor"] == 4.0 and s.seconds_by_state["caution"] == 2.0


def test_away_and_unknown_end_an_episode() -> None:
    s = summarize(timeline(rep(6, P, "slouch:p"), rep(1, A), rep(6, P, "slouch:p"),
                           rep(1, U), rep(3, P, "slouch:p"), rep(1, G)), [])
    assert s.episodes == [Episode(0.0, 6.0, "poor", "slouch"),
                          Episode(7.0, 13.0, "poor", "slouch")]


def test_an_episode_at_the_end_uses_the_median_span() -> None:
    # Samples every 2 s; the last poor sample (t = 18) stands for 2 s: 10 .. 20.
    s = summarize(timeline(rep(5, G), rep(5, C, "head_roll:c"), step=2.0), [])
    assert s.episodes == [Episode(10.0, 20.0, "caution", "head_roll")]
    assert s.to_dict()["episodes"][0]["duration_s"] == 10.0


def test_an_episode_is_never_longer_than_its_measured_time() -> None:
    # Poor at t 0..9, a 91 s stall, poor at t 100..109. Poor time: nine 1 s gaps + the gap
    # capped at 5 s + nine 1 s gaps + the last sample's 1 s = 24 s.
    states = [st(float(t), P, "slouch:p") for t in [*range(10), *range(100, 110)]]
    s = summarize(states, [])
    assert s.seconds_by_state["poor"] == 24.0
    assert sum(e.duration_s for e in s.episodes) == pytest.approx(24.0)


# -- main issue, set-up issue -------------------------------------------------------------

def test_main_issue_weighs_poor_time_double() -> None:
    s = summarize(timeline(*EPISODE_STREAM), [])
    # head_roll 4 + 5 = 9; neck_flexion 2 x 20 = 40; screen 5; shoulder_tilt 5;
    # slouch 8 + 2 x 4 = 16.
    assert s.rule_seconds == {"neck_flexion": 40.0, "slouch": 16.0, "head_roll": 9.0,
                              "screen_too_close": 5.0, "shoulder_tilt": 5.0}
    assert s.main_issue == "neck_flexion"
    assert s.suggestion == suggestion_for_rule("neck_flexion")
    # Set-up issue needs half the measured time: 5 s of 85 s is not.
    assert s.setup_issue is None and s.setup_suggestion is None


@pytest.mark.parametrize(("poor_s", "main"), [(20, "head_roll"), (14, "head_yaw")])
def test_poor_seconds_against_caution_seconds(poor_s: int, main: str) -> None:
    # 30 s of yaw caution against roll poor: 2 x 20 = 40 > 30, but 2 x 14 = 28 < 30.
    s = summarize(timeline(rep(30, C, "head_yaw:c"), rep(poor_s, P, "head_roll:p")), [])
    assert s.main_issue == main


def test_main_issue_comes_from_posture_rules_only() -> None:
    # Too close to the screen all along (100 s at 40 cm), neck flexion caution for 10 s.
    states = with_distance(timeline(rep(90, G, "screen_too_close:c"),
                                    rep(10, C, "screen_too_close:c", "neck_flexion:c")), 40.0)
    s = summarize(states, [])
    assert s.rule_seconds["screen_too_close"] == 100.0
    assert s.main_issue == "neck_flexion"
    assert s.suggestion == suggestion_for_rule("neck_flexion")
    assert s.setup_issue == "screen_too_close"
    assert s.setup_suggestion == suggestion_for_rule("screen_too_close")
    assert s.setup_suggestion != s.suggestion


@pytest.mark.parametrize(("close_s", "setup"), [(51, "screen_too_close"), (50, None)])
def test_setup_issue_needs_more_than_half_the_measured_time(close_s: int,
                                                            setup: str | None) -> None:
    # 100 s with a distance (the away time has none): 40 cm, then 60 cm. At 50 s each the
    # median is (40 + 60) / 2 = 50 cm, inside the band.
    states = [*at_distances([40.0] * close_s), *at_distances([60.0] * (100 - close_s),
                                                             start=close_s)]
    states += [st(100.0 + i, A) for i in range(30)]
    s = summarize(states, [])
    assert s.setup_issue == setup
    assert s.distance is not None and s.distance.measured_s == 100.0
    assert (s.distance.median_cm < 50.0) == (setup is not None)


def test_only_set_up_findings_leave_no_main_issue() -> None:
    s = summarize(at_distances([120.0] * 10), [])
    assert s.main_issue is None and s.suggestion is None
    assert s.setup_issue == "screen_too_far"


def test_mean_distance_and_score_and_reminders_by_kind() -> None:
    states = [st(0.0, G, score=100, distance=50.0), st(1.0, C, score=80, distance=60.0),
              st(2.0, G, score=90, distance=71.0), st(3.0, A)]
    reminders = [Reminder(0.0, ReminderKind.POSTURE, "t", "m"),
                 Reminder(1.0, ReminderKind.BREAK, "t", "m"),
                 Reminder(2.0, ReminderKind.POSTURE, "t", "m"),
                 Reminder(3.0, ReminderKind.EYES, "t", "m")]
    s = summarize(states, reminders)
    assert s.mean_distance_cm == 60.3  # (50 + 60 + 71) / 3 = 60.33
    assert s.mean_score == 90.0  # the away sample has no score
    assert s.reminders_by_kind == {"posture": 2, "break": 1, "eyes": 1}
    assert summarize(states, []).reminders_by_kind == {}


# -- from the scorer, over hours of simulated time ----------------------------------------

def _run(people: Iterable[tuple[float, float, Person | None]]) -> list[PostureState]:
    scorer = PostureScorer(Config())
    out = []
    for start, end, person in people:
        out += [scorer.update(s) for s in samples(person, seconds=end - start, start=start,
                                                  rate_hz=0.25)]
    return out


def test_two_and_a_half_hours_with_lunch_and_a_phone_stretch() -> None:
    upright, phone = front_person(), front_person(pitch=25.0)
    # One sample every 4 s: upright, 10 min looking down at 25 deg, upright, 30 min away,
    # an hour upright.
    states = _run([(0, 1800, upright), (1800, 2400, phone), (2400, 3600, upright),
                   (3600, 5400, None), (5400, 9000, upright)])
    assert len(states) == 2250
    s = summarize(states, [])
    # Poor from the 3rd phone sample (the 3-sample median flips on the 2nd, then 2 to
    # enter), t 1808, to the 2nd upright one (the median flips back there, 2 to leave), t 2404
    # inclusive: 150 samples x 4 s = 600 s.
    # Away from the first empty sample (4 s since last seen >= 2 s): 450 x 4 s = 1800 s.
    assert s.seconds_by_state == {"good": 6600.0, "poor": 600.0, "away": 1800.0}
    assert s.duration_s == 9000.0 and s.present_s == 7200.0
    assert s.percent_of_measured == {"good": 91.7, "caution": 0.0, "poor": 8.3}
    assert s.episodes == [Episode(1808.0, 2408.0, "poor", "neck_flexion")]
    assert s.main_issue == "neck_flexion"
    assert s.setup_issue is None
    assert s.mean_distance_cm == 54.6  # 554.2563 x 63 / 64 / 10 = 54.56 cm


def test_a_slouch_is_summarized_as_a_slouch() -> None:
    """The head drops 36 px towards shoulders that stay put: a slouch, not a shrug."""
    slouched = front_person(head=(320.0, 236.0), neck_length=84)
    states = _run([(0, 60, front_person()), (60, 660, slouched)])
    s = summarize(states, [])
    assert s.main_issue == "slouch"
    assert "shrug" not in s.rule_seconds
    assert [e.main_rule for e in s.episodes] == ["slouch"]


def test_raised_shoulders_are_summarized_as_a_shrug() -> None:
    """The shoulders rise 36 px towards a head that stays put: a shrug, not a slouch."""
    states = _run([(0, 60, front_person()), (60, 660, front_person(shoulder_raise=36))])
    s = summarize(states, [])
    assert s.main_issue == "shrug"
    assert "slouch" not in s.rule_seconds
    assert [e.main_rule for e in s.episodes] == ["shrug"]


def test_unjudged_time_is_broken_down_by_reason_and_quality_is_averaged() -> None:
    def state(t: float, kind: State, note: str = "", quality: float = 0.0) -> PostureState:
        detail = {"light": 1.0, "landmarks": quality, "face": 1.0} if quality else {}
        return PostureState(t, kind, 100 if kind is State.GOOD else None, (), quality, {},
                            detail, note)

    states = [state(0, State.GOOD, quality=0.9), state(1, State.GOOD, quality=0.7),
              state(2, State.UNKNOWN, "too dark", 0.2), state(3, State.UNKNOWN, "too dark", 0.2),
              state(4, State.UNKNOWN, "seen from behind", 0.9), state(5, State.AWAY),
              state(6, State.UNKNOWN, "not seen for a moment")]
    s = summarize(states, [])
    # One second per sample; the last one gets the median gap (1 s).
    assert s.unknown_by_reason == {"too dark": 2.0, "seen from behind": 1.0,
                                   "not seen for a moment": 1.0}
    assert s.unknown_s == 4.0
    # Quality averages the samples with a person in view: (0.9 + 0.7 + 0.2 + 0.2 + 0.9) / 5.
    assert s.mean_quality == pytest.approx(0.58)


# -- advice only for what held; the distance printed agrees with it -----------------------

def render(analysis: Analysis) -> str:
    out = io.StringIO()
    print_human(analysis, Console(file=out, width=400, color_system=None))
    return out.getvalue()


def printed(states: list[PostureState]) -> str:
    """What `analyze` prints for these states."""
    summary = summarize(states, [])
    return render(Analysis(Path("clip.mp4"), None, None, "automatic", None, states, [],
                           summary))


def typical_cm(text: str) -> float:
    found = re.search(r"typically ([\d.]+) cm", text)
    assert found, text
    return float(found.group(1))


# The smoothed distances of v09_mediapipe_gesture_test_video.mp4 at 5 Hz: about 52 cm, two
# samples under 50 cm, after which the rule's hysteresis keeps it at caution up to 53 cm.
V09_CM = [51.6, 51.9, 51.7, 51.9, 51.8, 51.9, 51.8, 51.9, 51.9, 52.5, 52.5, 52.5, 52.5, 52.3,
          49.2, 49.2, 51.0, 51.0, 51.0, 51.1, 52.3, 52.3, 52.3, 52.3, 52.3, 52.5, 52.5, 52.5,
          52.5, 52.3, 52.1, 51.0, 50.8, 50.8, 51.0, 51.4, 51.4, 51.6, 51.7]


def v09_like() -> list[PostureState]:
    return [PostureState(round(0.2 * i, 1), G, 100,
                         (RuleResult("screen_too_close", Level.CAUTION if i >= 14 else Level.GOOD,
                                     cm, "cm"),),
                         1.0, {"distance_cm": cm})
            for i, cm in enumerate(V09_CM)]


def test_two_samples_under_the_band_give_no_set_up_advice() -> None:
    states = v09_like()
    s = summarize(states, [])
    assert s.rule_seconds["screen_too_close"] == 5.0  # the rule's level did say caution
    assert s.setup is None and s.setup_issue is None and s.setup_suggestion is None
    assert s.distance is not None
    assert (s.distance.median_cm, s.distance.too_close_s) == (51.9, 0.4)
    text = printed(states)
    assert "Set-up" not in text
    assert typical_cm(text) == 52
    assert "closer than 50 cm for less than a second" in text


@pytest.mark.parametrize("distances", [
    # A 10 s clip at 5 Hz, three samples at 45 cm.
    [55.0] * 20 + [45.0] * 3 + [55.0] * 27,
    # 20 minutes at 1 Hz with a one-second lean-in every minute.
    ([62.0] * 59 + [44.0]) * 20,
    # 20 minutes, mostly (54 %) under the band but never for long: 7 s in, 6 s out.
    ([45.0] * 7 + [55.0] * 6) * 92,
], ids=["three samples in 10 s", "a lean-in a minute", "never held"])
def test_a_few_samples_under_the_band_give_no_advice(distances: list[float]) -> None:
    step = 0.2 if len(distances) == 50 else 1.0
    states = at_distances(distances, step=step)
    s = summarize(states, [])
    assert s.setup is None and s.setup_issue is None
    text = printed(states)
    assert "Set-up" not in text


def test_a_median_under_the_band_that_never_held_says_so() -> None:
    text = printed(at_distances(([45.0] * 7 + [55.0] * 6) * 92))
    assert typical_cm(text) == 45
    assert "closer than 50 cm for 10:44, at most 0:07 at a stretch: too briefly" in text


def test_a_held_stretch_gives_advice_naming_its_duration() -> None:
    # 40 minutes at one sample per 2 s: 25 minutes at 42 cm, then 15 at 62 cm.
    states = at_distances([42.0] * 750 + [62.0] * 450, step=2.0)
    s = summarize(states, [])
    assert s.setup is not None and s.setup_issue == TOO_CLOSE
    assert (s.setup.held_s, s.setup.of_s, s.setup.longest_s) == (1500.0, 2400.0, 1500.0)
    assert s.setup_suggestion == suggestion_for_rule(TOO_CLOSE)
    text = printed(states)
    assert "Set-up: too close to the screen, closer than 50 cm for 25:00 of 40:00, " \
           "25:00 at a stretch." in text
    assert typical_cm(text) == 42


def test_twenty_minutes_at_40_cm_and_a_far_screen() -> None:
    close = summarize(at_distances([40.0] * 2400, step=0.5), [])
    assert close.setup is not None and close.setup.rule == TOO_CLOSE
    assert close.setup.held_s == 1200.0 and close.setup.longest_s == 1200.0
    far = printed(at_distances([115.0] * 300 + [90.0] * 200))
    assert "Set-up: far from the screen, farther than 100 cm for 5:00 of 8:20, 5:00 at a " \
           "stretch." in far
    assert typical_cm(far) > 100


def test_short_returns_into_the_band_do_not_end_a_stretch() -> None:
    def flags(*runs: tuple[int, bool], start: float = 0.0) -> list[tuple[float, float, bool]]:
        out, t = [], start
        for count, outside in runs:
            out += [(t + i, 1.0, outside) for i in range(count)]
            t += count
        return out

    # 4 s back inside the band: one stretch of 30 + 4 + 30 s.
    assert longest_stretch(flags((30, True), (4, False), (30, True))) == 64.0
    # SETUP_BRIDGE_S (5 s) back inside ends it.
    assert SETUP_BRIDGE_S == 5.0
    assert longest_stretch(flags((30, True), (5, False), (31, True))) == 31.0
    # A stall of more than 5 s between samples (t 29 -> 35) ends it too; 5 s does not.
    assert longest_stretch(flags((30, True)) + flags((30, True), start=35.0)) == 30.0
    assert longest_stretch(flags((30, True)) + flags((30, True), start=34.0)) == 64.0


@pytest.mark.parametrize(("measured_s", "required_s"),
                         [(3, 5), (8, 5), (30, 15), (100, 50), (120, 60), (3600, 60)])
def test_how_long_a_stretch_must_last(measured_s: float, required_s: float) -> None:
    # Half the measured time, at least a posture episode (5 s), at most SETUP_HOLD_S.
    assert SETUP_HOLD_S == 60.0
    assert required_stretch_s(measured_s) == required_s


def test_an_input_shorter_than_an_episode_gets_no_advice() -> None:
    assert summarize(at_distances([30.0] * 4), []).setup is None  # 4 s
    assert summarize(at_distances([30.0] * 5), []).setup is not None  # 5 s, all of it


def test_weighted_median_and_its_printed_form() -> None:
    assert weighted_median([(40.0, 1.0), (60.0, 1.0)]) == 50.0
    assert weighted_median([(40.0, 1.0), (60.0, 1.2)]) == 60.0
    assert weighted_median([(60.0, 0.5), (40.0, 3.0), (70.0, 0.4)]) == 40.0
    assert weighted_median([]) is None
    band = summarize(at_distances([49.6] * 10), []).distance
    assert band is not None and median_text(band) == "49.6"  # never "50" when under 50
    assert median_text(replace(band, median_cm=49.4)) == "49"
    assert median_text(replace(band, median_cm=50.4)) == "50"  # 50 is not under 50
    assert median_text(replace(band, median_cm=100.4)) == "100.4"
    assert median_text(replace(band, median_cm=99.6)) == "100"  # 100 is not over 100


def test_the_band_comes_from_the_thresholds() -> None:
    states = at_distances([55.0] * 100)
    assert summarize(states, []).setup is None
    wide = ThresholdsConfig(distance_near_caution_cm=60.0)
    s = summarize(states, [], wide)
    assert s.setup is not None and s.setup.band == "closer than 60 cm"


def _random_stream(rng: random.Random) -> list[PostureState]:
    """A random walk of distances around a centre near one band edge, with away spells."""
    centre = rng.choice((rng.uniform(40.0, 60.0), rng.uniform(90.0, 110.0)))
    step = rng.choice((0.2, 0.5, 1.0, 2.0, 4.0))
    cm, distances = centre, []
    for _ in range(rng.randint(5, 900)):
        cm += rng.gauss(0.0, 1.5) + 0.1 * (centre - cm)
        distances.append(None if rng.random() < 0.03 else round(cm, 1))
    return at_distances(distances, step=step)


def test_the_printed_distance_always_agrees_with_the_advice() -> None:
    rng = random.Random(9)
    advised = quiet = 0
    for _ in range(300):
        states = _random_stream(rng)
        s = summarize(states, [])
        text = printed(states)
        assert ("Set-up" in text) == (s.setup is not None)
        if s.distance is None:
            continue
        shown = typical_cm(text)
        if s.setup is None:
            quiet += 1
            continue
        advised += 1
        assert s.setup.held_s <= s.setup.of_s
        assert s.setup.longest_s is not None
        assert s.setup.longest_s >= required_stretch_s(s.setup.of_s) - 1e-6
        if s.setup.rule == TOO_CLOSE:
            assert shown < 50 and s.distance.median_cm < 50
        else:
            assert s.setup.rule == TOO_FAR and shown > 100 and s.distance.median_cm > 100
    assert advised > 30 and quiet > 30  # both outcomes were exercised


# -- the main issue: only what held in a posture episode ----------------------------------

def test_a_posture_blip_is_not_the_main_issue() -> None:
    states = timeline(rep(10, G), rep(4, C, "neck_flexion:c"), rep(10, G))
    s = summarize(states, [])
    assert s.rule_seconds == {"neck_flexion": 4.0}
    assert s.episodes == [] and s.main_issue is None and s.suggestion is None
    assert "Main issue: none found." in printed(states)


def test_the_main_issue_says_how_long_it_held() -> None:
    states = timeline(*EPISODE_STREAM)
    s = summarize(states, [])
    assert (s.main_issue, s.main_issue_s, s.main_issue_episodes) == ("neck_flexion", 20.0, 1)
    assert "Main issue: head tipped down, for 0:20 in 1 posture episode." in printed(states)
    twice = timeline(rep(6, C, "slouch:c"), rep(3, G), rep(7, P, "slouch:p"), rep(2, G))
    s = summarize(twice, [])
    assert (s.main_issue, s.main_issue_s, s.main_issue_episodes) == ("slouch", 13.0, 2)
    assert "for 0:13 in 2 posture episodes." in printed(twice)


# -- the real clip -------------------------------------------------------------------------

V09 = FOOTAGE / "v09_mediapipe_gesture_test_video.mp4"


@pytest.mark.model
@pytest.mark.skipif(not V09.exists(), reason="the shared footage is not here")
def test_v09_says_no_set_up_problem_beside_a_distance_inside_the_band(analyze_clip) -> None:
    analysis = analyze_clip(V09)
    s = analysis.summary
    assert s.distance is not None and s.distance.median_cm >= 50.0  # about 52 cm
    assert s.setup is None and s.setup_issue is None
    text = render(analysis)
    assert typical_cm(text) >= 50
    assert "Set-up" not in text and "Average" not in text


@pytest.mark.parametrize("clip", ["long_session.mp4", "head_tilt_hopper.mp4"])
def test_a_state_kept_for_the_summary_gives_the_same_summary(analyze_clip, clip: str) -> None:
    """The monitor keeps a day of states for its exit summary, trimmed to what the summary
    reads; the trimmed ones must summarize exactly as the full ones."""
    analysis = analyze_clip(Path(__file__).parents[1] / "recordings" / clip)
    full = summarize(analysis.states, analysis.reminders)
    kept = [for_summary(s) for s in analysis.states]
    assert summarize(kept, analysis.reminders) == full
    assert any(s.state.value in ("caution", "poor") for s in kept)
    assert sum(len(s.rules) + len(s.metrics) for s in kept) < 0.2 * sum(
        len(s.rules) + len(s.metrics) for s in analysis.states)
