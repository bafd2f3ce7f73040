"""Summaries of PostureState streams, every expected figure worked out by hand."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from posture_watch.core.messages import suggestion_for_rule
from posture_watch.core.scoring import PostureScorer
from posture_watch.core.settings import Config
from posture_watch.core.summary import Episode, sample_spans, summarize
from posture_watch.core.types import (
    Level,
    Person,
    PostureState,
    Reminder,
    ReminderKind,
    RuleResult,
    State,
)
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
    # Too close to the screen all along (100 s), neck flexion caution for 10 s.
    states = timeline(rep(90, G, "screen_too_close:c"),
                      rep(10, C, "screen_too_close:c", "neck_flexion:c"))
    s = summarize(states, [])
    assert s.rule_seconds["screen_too_close"] == 100.0
    assert s.main_issue == "neck_flexion"
    assert s.suggestion == suggestion_for_rule("neck_flexion")
    assert s.setup_issue == "screen_too_close"
    assert s.setup_suggestion == suggestion_for_rule("screen_too_close")
    assert s.setup_suggestion != s.suggestion


@pytest.mark.parametrize(("close_s", "setup"), [(50, "screen_too_close"), (49, None)])
def test_setup_issue_needs_half_the_measured_time(close_s: int, setup: str | None) -> None:
    # 100 s measured (the away time does not count).
    states = timeline(rep(close_s, G, "screen_too_close:c"), rep(100 - close_s, G),
                      rep(30, A))
    assert summarize(states, []).setup_issue == setup


def test_only_set_up_findings_leave_no_main_issue() -> None:
    s = summarize(timeline(rep(10, G, "screen_too_far:c")), [])
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
    # Poor from the 5th phone sample (the median flips on the 3rd, then 3 to enter), t 1816,
    # to the 3rd upright one (2 to leave), t 2408 inclusive: 149 samples x 4 s = 596 s.
    # Away from the first empty sample (4 s since last seen >= 2 s): 450 x 4 s = 1800 s.
    assert s.seconds_by_state == {"good": 6604.0, "poor": 596.0, "away": 1800.0}
    assert s.duration_s == 9000.0 and s.present_s == 7200.0
    assert s.percent_of_measured == {"good": 91.7, "caution": 0.0, "poor": 8.3}
    assert s.episodes == [Episode(1816.0, 2412.0, "poor", "neck_flexion")]
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
