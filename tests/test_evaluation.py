"""Scoring predicted states against labels, on synthetic states; figures worked out by hand."""

from __future__ import annotations

import json
import math

import pytest

from posture_watch.core.evaluation import (
    ClipScore,
    ExpectedReminder,
    PrecisionRecall,
    Segment,
    balanced_accuracy,
    class_counts,
    combine,
    match_reminders,
    score_clip,
)
from posture_watch.core.types import PostureState, Reminder, ReminderKind, State

CODES = {"g": State.GOOD, "c": State.CAUTION, "p": State.POOR, "a": State.AWAY,
         "u": State.UNKNOWN}
GOOD = frozenset({"good"})
BAD = frozenset({"caution", "poor"})
AWAY = frozenset({"away"})
PRESENT = frozenset({"good", "caution", "unknown"})


def run(codes: str, start: float = 0.0, step: float = 1.0) -> list[PostureState]:
    """One state per letter (g c p a u), `step` seconds apart; spaces are ignored."""
    letters = codes.replace(" ", "")
    return [PostureState(start + i * step, CODES[ch], None) for i, ch in enumerate(letters)]


def seg(start: float, end: float, expected: frozenset[str], label: str = "x") -> Segment:
    return Segment(start, end, label, expected)


def reminder(t_s: float, kind: ReminderKind) -> Reminder:
    return Reminder(t_s, kind, "title", "message")


def row(**counts: int) -> dict[str, int]:
    """A confusion row: every state, zero unless given."""
    return {s.value: counts.get(s.value, 0) for s in State}


def score(states: list[PostureState], segments: list[Segment], *, margin_s: float = 0.0,
          fired: list[Reminder] | None = None,
          expected: list[ExpectedReminder] | None = None,
          fraction: float | None = None) -> ClipScore:
    return score_clip("clip", states, segments, fired or [], expected, margin_s=margin_s,
                      judge_last_fraction=fraction)


# --- agreement, confusion, precision and recall ----------------------------------------


def mixed_clip() -> ClipScore:
    # upright 0-4: g g g u c (3 agree); slouched 5-9: p c p g a (3 agree)
    return score(run("gggu c pcpga"), [seg(0, 4, GOOD, "upright"), seg(5, 9, BAD, "slouched")])


def test_agreement_is_the_share_of_judged_samples_in_the_expected_set() -> None:
    result = mixed_clip()
    assert (result.samples_judged, result.samples_agreeing) == (10, 6)
    assert result.agreement == pytest.approx(0.6)
    assert [(s.label, s.samples_judged, s.samples_agreeing) for s in result.segments] == [
        ("upright", 5, 3), ("slouched", 5, 3)]
    assert result.segments[0].states == row(good=3, unknown=1, caution=1)


def test_confusion_counts_predicted_states_per_expected_category() -> None:
    assert mixed_clip().confusion == {
        "good": row(good=3, caution=1, unknown=1),
        "bad": row(good=1, caution=1, poor=2, away=1),
    }


def test_precision_and_recall_for_bad_posture_and_away() -> None:
    result = mixed_clip()
    # bad expected t5-9: p c p caught (tp 3), g a missed (fn 2); the caution at t4 is fp
    assert result.bad_posture == PrecisionRecall(3, 1, 2, 0.75, 0.6)
    # nothing labelled away; the away at t9 is a false positive
    assert result.away == PrecisionRecall(0, 1, 0, 0.0, None)


def test_a_standing_person_counts_for_away_but_not_for_bad_posture() -> None:
    # standing 0-4: c g u a p (c g u agree); absent 5-9: a a a g a (4 agree)
    result = score(run("cguap aaaga"), [seg(0, 4, PRESENT), seg(5, 9, AWAY)])
    assert (result.samples_judged, result.samples_agreeing) == (10, 7)
    assert result.confusion == {
        "away": row(away=4, good=1),
        "present": row(caution=1, good=1, unknown=1, away=1, poor=1),
    }
    assert result.bad_posture == PrecisionRecall(0, 0, 0, None, None)
    assert result.away == PrecisionRecall(4, 1, 1, 0.8, 0.8)


def test_no_states_give_no_ratios() -> None:
    result = score([], [seg(0, 10, GOOD)])
    assert result.samples_judged == 0
    assert result.agreement is None
    assert result.confusion == {}
    assert result.bad_posture == PrecisionRecall(0, 0, 0, None, None)
    assert result.upright_s == 0.0


# --- which samples are judged ----------------------------------------------------------


def test_margins_trim_segment_edges_and_unlabelled_samples_are_not_judged() -> None:
    # every 0.5 s from 0 to 12; wrong states only where nothing is judged
    states = run("gggc ggggggggg cgg ppp gg aaa g", step=0.5)
    assert len(states) == 25 and states[-1].t_s == 12.0
    result = score(states, [seg(0, 8, GOOD), seg(10, 12, AWAY)], margin_s=2.0)
    # upright window [2, 6]: 9 samples; away 10-12 is short, margin 0.5: [10.5, 11.5]
    assert [s.samples_judged for s in result.segments] == [9, 3]
    assert result.agreement == 1.0
    assert score(states, [seg(0, 8, GOOD), seg(10, 12, AWAY)]).agreement < 1.0


def test_a_sample_on_touching_segments_is_judged_once() -> None:
    result = score(run("ggggg g ccccc"), [seg(0, 5, GOOD), seg(5, 10, BAD)])
    assert result.samples_judged == 11
    assert [s.samples_judged for s in result.segments] == [6, 5]


def test_an_endless_segment_covers_the_rest_of_the_input() -> None:
    result = score(run("uuuuu ggggg"), [seg(0, math.inf, GOOD)], margin_s=1.0)
    assert result.samples_judged == 9  # t 1..9
    assert result.agreement == pytest.approx(5 / 9)


def test_judge_last_fraction_judges_only_the_settled_end_of_a_still() -> None:
    still = [seg(0, math.inf, GOOD)]
    assert score(run("uuuuu ggggg"), still).agreement == 0.5
    settled = score(run("uuuuu ggggg"), still, fraction=0.5)
    assert (settled.samples_judged, settled.agreement) == (5, 1.0)
    odd = score(run("uuugg"), still, fraction=0.5)  # 2.5 rounds up to 3: u g g
    assert (odd.samples_judged, odd.samples_agreeing) == (3, 2)
    # 25 * 0.28 is 7.000000000000001 in floats: still seven samples, not eight
    assert score(run("g" * 18 + "u" * 7), still, fraction=0.28).samples_judged == 7


def test_judge_last_fraction_applies_to_each_segment() -> None:
    result = score(run("cccgg gggpp"), [seg(0, 4, GOOD), seg(5, 9, BAD)], fraction=0.4)
    assert [s.samples_judged for s in result.segments] == [2, 2]
    assert result.agreement == 1.0


def test_bad_judging_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        score(run("g"), [seg(0, 1, GOOD)], fraction=0.0)
    with pytest.raises(ValueError):
        score(run("g"), [seg(0, 1, GOOD)], margin_s=-1.0)


# --- reminders -------------------------------------------------------------------------


EXPECTED = [ExpectedReminder(13.5, "posture", 1.5), ExpectedReminder(16.0, "stretch", 1.0),
            ExpectedReminder(25.0, "break", 1.0)]


def test_reminders_match_one_to_one_by_kind_closest_first() -> None:
    fired = [reminder(14.2, ReminderKind.POSTURE), reminder(13.0, ReminderKind.POSTURE),
             reminder(17.5, ReminderKind.STRETCH), reminder(25.4, ReminderKind.BREAK),
             reminder(25.0, ReminderKind.EYES)]
    check = match_reminders(fired, EXPECTED)
    assert (check.expected, check.fired, check.matched) == (3, 5, 2)
    # 13.0 is closer to 13.5 than 14.2 is, although 14.2 fired first
    assert check.timing_errors_s == pytest.approx([-0.5, 0.4])
    assert check.missing == [EXPECTED[1]]  # the stretch came 1.5 s late, beyond 1.0
    assert check.unexpected == [(14.2, "posture"), (17.5, "stretch"), (25.0, "eyes")]
    assert check.max_abs_timing_error_s == pytest.approx(0.5)


def test_a_reminder_exactly_at_the_tolerance_matches() -> None:
    expected = [ExpectedReminder(15.1, "posture", 1.0)]
    assert match_reminders([reminder(16.1, ReminderKind.POSTURE)], expected).matched == 1
    assert match_reminders([reminder(16.2, ReminderKind.POSTURE)], expected).matched == 0


def test_reminder_check_only_when_expectations_are_given() -> None:
    fired = [reminder(3.0, ReminderKind.BREAK)]
    assert score(run("ggggg"), [seg(0, 4, GOOD)], fired=fired).reminders is None
    check = score(run("ggggg"), [seg(0, 4, GOOD)], fired=fired, expected=[]).reminders
    assert check is not None
    assert (check.expected, check.fired, check.matched) == (0, 1, 0)
    assert check.unexpected == [(3.0, "break")]
    assert check.max_abs_timing_error_s is None


def test_false_posture_reminders_inside_upright_windows_and_upright_time() -> None:
    segments = [seg(0, 10, GOOD), seg(12, 20, BAD), seg(22, 40, GOOD)]
    fired = [reminder(5.0, ReminderKind.POSTURE),  # upright: false
             reminder(15.0, ReminderKind.POSTURE),  # slouched: right
             reminder(22.5, ReminderKind.POSTURE),  # within the margin after the slouch
             reminder(30.0, ReminderKind.BREAK),  # not a posture reminder
             reminder(30.0, ReminderKind.POSTURE)]  # upright: false
    result = score(run("g" * 41), segments, margin_s=1.0, fired=fired)
    assert result.false_posture_reminders == 2
    assert result.upright_s == pytest.approx(8.0 + 16.0)  # windows [1, 9] and [23, 39]
    shorter = score(run("g" * 31), segments, margin_s=1.0)  # states end at 30 s
    assert shorter.upright_s == pytest.approx(8.0 + 7.0)


def test_away_latency_per_away_segment_and_never_detected_is_infinite() -> None:
    # away 10-20 seen from 12 (an away at 9 is before the segment); away 30-35 never seen;
    # away 50-55 has no samples at all (the states end at 40) and is left out
    codes = ["g"] * 41
    codes[9] = "a"
    for t in range(12, 21):
        codes[t] = "a"
    segments = [seg(0, 8, GOOD), seg(10, 20, AWAY), seg(30, 35, AWAY), seg(50, 55, AWAY)]
    result = score(run("".join(codes)), segments)
    assert result.away_latencies_s == [2.0, math.inf]
    data = result.to_dict()
    assert data["away_latencies_s"] == [2.0, None]
    json.dumps(data, allow_nan=False)


# --- totals ----------------------------------------------------------------------------


def reminder_clip() -> ClipScore:
    # upright 0-14: good but t7 poor (14/15); away 15-20: g g a a a a (4/6), seen at 17
    states = run("ggggggg p ggggggg gg aaaa")
    return score_clip(
        "b", states, [seg(0, 14, GOOD), seg(15, 20, AWAY)],
        [reminder(7.5, ReminderKind.POSTURE), reminder(16.0, ReminderKind.BREAK)],
        [ExpectedReminder(16.5, "break", 1.0)], margin_s=0.0)


def never_away_clip() -> ClipScore:
    return score_clip("c", run("ggggg"), [seg(0, 4, AWAY)], [], None, margin_s=0.0)


def test_the_reminder_clip_on_its_own() -> None:
    b = reminder_clip()
    assert (b.samples_judged, b.samples_agreeing) == (21, 18)
    assert b.false_posture_reminders == 1
    assert b.upright_s == 14.0
    assert b.away_latencies_s == [2.0]
    assert b.reminders is not None and b.reminders.timing_errors_s == [-0.5]


def test_combine_pools_samples_and_sums_counts() -> None:
    total = combine([mixed_clip(), reminder_clip(), never_away_clip()])
    assert (total.clips, total.samples_judged, total.samples_agreeing) == (3, 36, 24)
    assert total.agreement == pytest.approx(24 / 36)  # pooled, not the mean of 0.6, 6/7, 0
    assert total.confusion == {
        "good": row(good=17, caution=1, poor=1, unknown=1),
        "bad": row(good=1, caution=1, poor=2, away=1),
        "away": row(good=7, away=4),
    }
    assert total.bad_posture == PrecisionRecall(3, 2, 2, 0.6, 0.6)
    assert total.away == PrecisionRecall(4, 1, 7, 0.8, pytest.approx(4 / 11))
    assert total.reminders is not None
    assert (total.reminders.expected, total.reminders.fired, total.reminders.matched) == (
        1, 2, 1)
    assert total.reminders.unexpected == [(7.5, "posture")]
    assert total.false_posture_reminders == 1
    assert total.upright_s == 18.0  # 4 + 14 + 0
    assert total.false_posture_reminders_per_hour == pytest.approx(200.0)
    assert (total.away_segments, total.away_missed) == (2, 1)
    assert total.away_latency_mean_s == 2.0
    assert total.away_latency_max_s == math.inf


def test_combine_to_dict_is_plain_json() -> None:
    data = combine([mixed_clip(), reminder_clip(), never_away_clip()]).to_dict()
    text = json.dumps(data, allow_nan=False)
    back = json.loads(text)
    assert back["away_latency_max_s"] is None
    assert back["reminders"]["unexpected"] == [{"t_s": 7.5, "kind": "posture"}]
    assert back["bad_posture"] == {"tp": 3, "fp": 2, "fn": 2, "precision": 0.6, "recall": 0.6}
    clip = json.loads(json.dumps(reminder_clip().to_dict(), allow_nan=False))
    assert clip["reminders"]["missing"] == []
    assert clip["segments"][1]["label"] == "x"


def test_combine_of_nothing_or_without_upright_time() -> None:
    empty = combine([])
    assert (empty.clips, empty.agreement, empty.reminders) == (0, None, None)
    assert empty.false_posture_reminders_per_hour is None
    assert (empty.away_latency_mean_s, empty.away_latency_max_s) == (None, None)
    only_away = combine([never_away_clip()])
    assert only_away.upright_s == 0.0
    assert only_away.false_posture_reminders_per_hour is None
    assert only_away.away_latency_mean_s is None
    assert only_away.away_latency_max_s == math.inf


# --- balanced accuracy -------------------------------------------------------------------


def test_class_counts_are_right_and_judged_per_category_present() -> None:
    confusion = {
        "good": row(good=3, caution=1, unknown=1),
        "bad": row(good=1, caution=1, poor=2, away=1),
        "away": row(away=4, good=1),
        "present": row(caution=5, away=2),  # standing: neither upright nor slouched
    }
    # Caution and poor are both right for bad; unknown counts as judged and wrong.
    assert class_counts(confusion) == {"good": (3, 5), "bad": (3, 5), "away": (4, 5)}
    assert class_counts({"good": row(), "bad": row(poor=2)}) == {"bad": (2, 2)}
    assert class_counts({}) == {}


def test_balanced_accuracy_is_the_mean_of_the_category_recalls() -> None:
    confusion = {"good": row(good=3, caution=1, unknown=1),
                 "bad": row(good=1, caution=1, poor=2, away=1),
                 "away": row(away=4, good=1),
                 "present": row(good=9)}  # not averaged over
    assert balanced_accuracy(confusion) == pytest.approx((3 / 5 + 3 / 5 + 4 / 5) / 3)
    # Only the categories present count: no away row, no away recall.
    assert balanced_accuracy({"good": row(good=1, poor=3), "bad": row(poor=4)}) == \
        pytest.approx((1 / 4 + 1) / 2)


def test_calling_everything_bad_scores_only_half() -> None:
    # Three slouched samples to one upright, everything called poor: plain agreement 75 %.
    confusion = {"good": row(poor=10), "bad": row(poor=30)}
    assert balanced_accuracy(confusion) == pytest.approx(0.5)
    result = score(run("pppp"), [seg(0, 0, GOOD), seg(1, 3, BAD)])
    assert result.agreement == pytest.approx(0.75)
    assert result.balanced_accuracy == pytest.approx(0.5)


def test_balanced_accuracy_is_none_without_a_scored_category() -> None:
    assert balanced_accuracy({}) is None
    assert balanced_accuracy({"good": row(), "bad": row()}) is None
    assert balanced_accuracy({"present": row(good=3)}) is None
    assert score([], [seg(0, 10, GOOD)]).balanced_accuracy is None
    assert combine([]).balanced_accuracy is None


def test_clip_and_overall_balanced_accuracy_in_their_json() -> None:
    clip = mixed_clip()  # good 3 of 5, bad 3 of 5
    assert clip.balanced_accuracy == pytest.approx(0.6)
    assert json.loads(json.dumps(clip.to_dict()))["balanced_accuracy"] == pytest.approx(0.6)
    total = combine([mixed_clip(), reminder_clip(), never_away_clip()])
    # Pooled: good 17 of 20, bad 3 of 5, away 4 of 11 (not the mean of the clips' figures).
    expected = (17 / 20 + 3 / 5 + 4 / 11) / 3
    assert total.balanced_accuracy == pytest.approx(expected)
    data = json.loads(json.dumps(total.to_dict(), allow_nan=False))
    assert data["balanced_accuracy"] == pytest.approx(expected)
