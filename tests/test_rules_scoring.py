"""The rule book (levels, hysteresis, set-up findings) and the PostureScorer on streams."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest

from posture_watch.core.calibration import Baseline, Observation, build_baseline
from posture_watch.core.cues import CUES, combine
from posture_watch.core.metrics import is_back_view
from posture_watch.core.rules import (
    NO_BASELINE_PITCH_SLACK_DEG,
    POSTURE_RULES,
    RULE_NAMES,
    RuleBook,
    penalty,
    worst_level,
)
from posture_watch.core.scoring import (
    PostureScorer,
    is_person,
    measure_with_config,
    select_person,
)
from posture_watch.core.settings import Config, SmoothingConfig, ThresholdsConfig
from posture_watch.core.types import (
    Face,
    Level,
    Person,
    Point,
    PoseSample,
    PostureState,
    RuleResult,
    State,
)
from tests.synthetic import front_person, one_sample, samples, side_person

G, C, P = Level.GOOD, Level.CAUTION, Level.POOR
T = ThresholdsConfig()
GAP = next(c.unit for c in CUES if c.name == "gap")  # the frontal gap closure's band


def book(**smoothing: Any) -> RuleBook:
    return RuleBook(T, SmoothingConfig(**smoothing))


def base(**metrics: float) -> Baseline:
    return Baseline(metrics=metrics, position=(0.5, 0.4), samples=10)


def result(results: list[RuleResult], rule: str) -> RuleResult:
    found = [r for r in results if r.rule == rule]
    assert len(found) == 1, f"{rule} not in {[r.rule for r in results]}"
    return found[0]


# -- each rule on either side of its thresholds -------------------------------------------

# (rule, measured key, value, baseline metrics or None, expected level, compared value)
LEVEL_CASES = [
    # neck flexion: pitch relative to a neutral of 5 deg; caution > 10, poor > 20
    ("neck_flexion", "head_pitch_deg", 14.5, {"head_pitch_deg": 5.0}, G, 9.5),
    ("neck_flexion", "head_pitch_deg", 15.0, {"head_pitch_deg": 5.0}, G, 10.0),  # not past it
    ("neck_flexion", "head_pitch_deg", 15.5, {"head_pitch_deg": 5.0}, C, 10.5),
    ("neck_flexion", "head_pitch_deg", 24.5, {"head_pitch_deg": 5.0}, C, 19.5),
    ("neck_flexion", "head_pitch_deg", 25.5, {"head_pitch_deg": 5.0}, P, 20.5),
    # neck extension: looking up; caution > 5, poor > 12
    ("neck_extension", "head_pitch_deg", -4.5, {"head_pitch_deg": 0.0}, G, 4.5),
    ("neck_extension", "head_pitch_deg", -5.5, {"head_pitch_deg": 0.0}, C, 5.5),
    ("neck_extension", "head_pitch_deg", -11.5, {"head_pitch_deg": 0.0}, C, 11.5),
    ("neck_extension", "head_pitch_deg", -12.5, {"head_pitch_deg": 0.0}, P, 12.5),
    # head roll, either side; caution > 10, poor > 20; relative to a neutral of 4
    ("head_roll", "head_roll_deg", 13.5, {"head_roll_deg": 4.0}, G, 9.5),
    ("head_roll", "head_roll_deg", -7.0, {"head_roll_deg": 4.0}, C, 11.0),
    ("head_roll", "head_roll_deg", 23.5, {"head_roll_deg": 4.0}, C, 19.5),
    ("head_roll", "head_roll_deg", -17.0, {"head_roll_deg": 4.0}, P, 21.0),
    # head yaw; caution > 15, poor > 30; no neutral: absolute
    ("head_yaw", "head_yaw_deg", 14.5, None, G, 14.5),
    ("head_yaw", "head_yaw_deg", -15.5, None, C, 15.5),
    ("head_yaw", "head_yaw_deg", 29.5, None, C, 29.5),
    ("head_yaw", "head_yaw_deg", -30.5, None, P, 30.5),
    # shoulder tilt; caution > 5, poor > 10
    ("shoulder_tilt", "shoulder_tilt_deg", -4.5, None, G, 4.5),
    ("shoulder_tilt", "shoulder_tilt_deg", 5.5, None, C, 5.5),
    ("shoulder_tilt", "shoulder_tilt_deg", 9.5, None, C, 9.5),
    ("shoulder_tilt", "shoulder_tilt_deg", -10.5, None, P, 10.5),
    # shrug: ear-to-shoulder height as % of the neutral 0.5; caution < 90, poor < 80
    ("shrug", "shrug_ratio", 0.46, {"shrug_ratio": 0.5}, G, 92.0),
    ("shrug", "shrug_ratio", 0.44, {"shrug_ratio": 0.5}, C, 88.0),
    ("shrug", "shrug_ratio", 0.41, {"shrug_ratio": 0.5}, C, 82.0),
    ("shrug", "shrug_ratio", 0.39, {"shrug_ratio": 0.5}, P, 78.0),
    # slouch with the gap its only measured cue: the closure in bands of the gap's unit
    # (the combined slump judgment is tested on its own below); caution > 1, poor > 2
    ("slouch", "slouch_ratio", 0.4 * (1 - 0.9 * GAP), {"slouch_ratio": 0.4}, G, 0.9),
    ("slouch", "slouch_ratio", 0.4 * (1 - 1.1 * GAP), {"slouch_ratio": 0.4}, C, 1.1),
    ("slouch", "slouch_ratio", 0.4 * (1 - 1.9 * GAP), {"slouch_ratio": 0.4}, C, 1.9),
    ("slouch", "slouch_ratio", 0.4 * (1 - 2.1 * GAP), {"slouch_ratio": 0.4}, P, 2.1),
    # forward head: face width as % of the neutral 0.5; caution > 105, poor > 115
    ("forward_head", "face_width_ratio", 0.52, {"face_width_ratio": 0.5}, G, 104.0),
    ("forward_head", "face_width_ratio", 0.54, {"face_width_ratio": 0.5}, C, 108.0),
    ("forward_head", "face_width_ratio", 0.57, {"face_width_ratio": 0.5}, C, 114.0),
    ("forward_head", "face_width_ratio", 0.58, {"face_width_ratio": 0.5}, P, 116.0),
    # forward head from the ear span when the face width is not known: 0.47 / 0.4
    ("forward_head", "ear_width_ratio", 0.47, {"ear_width_ratio": 0.4}, P, 117.5),
    # side view ear-over-shoulder angle (absolute); caution < 50, poor < 45
    ("side_ear_shoulder", "side_ear_shoulder_deg", 50.5, None, G, 50.5),
    ("side_ear_shoulder", "side_ear_shoulder_deg", 49.5, None, C, 49.5),
    ("side_ear_shoulder", "side_ear_shoulder_deg", 45.5, None, C, 45.5),
    ("side_ear_shoulder", "side_ear_shoulder_deg", 44.5, None, P, 44.5),
    # trunk flexion, forward or reclined; caution > 20, poor > 60
    ("trunk_flexion", "trunk_flexion_deg", 19.5, None, G, 19.5),
    ("trunk_flexion", "trunk_flexion_deg", 20.5, None, C, 20.5),
    ("trunk_flexion", "trunk_flexion_deg", -59.5, None, C, 59.5),
    ("trunk_flexion", "trunk_flexion_deg", -60.5, None, P, 60.5),
    # screen distance: caution nearer than 50 or farther than 100 cm, never poor
    ("screen_too_close", "distance_cm", 51.0, None, G, 51.0),
    ("screen_too_close", "distance_cm", 49.0, None, C, 49.0),
    ("screen_too_close", "distance_cm", 20.0, None, C, 20.0),
    ("screen_too_far", "distance_cm", 99.0, None, G, 99.0),
    ("screen_too_far", "distance_cm", 101.0, None, C, 101.0),
    ("screen_too_far", "distance_cm", 400.0, None, C, 400.0),
]


@pytest.mark.parametrize(("rule", "key", "value", "neutral", "level", "compared"), LEVEL_CASES)
def test_rule_level_either_side_of_its_thresholds(
    rule: str, key: str, value: float, neutral: dict[str, float] | None,
    level: Level, compared: float,
) -> None:
    baseline = base(**neutral) if neutral is not None else None
    r = result(book().evaluate({key: value}, baseline), rule)
    assert r.level is level
    assert r.value == pytest.approx(compared)


def test_rule_units() -> None:
    values = {"head_pitch_deg": 0.0, "slouch_ratio": 0.4, "distance_cm": 60.0,
              "shrug_ratio": 0.4}
    results = book().evaluate(values, base(slouch_ratio=0.4, shrug_ratio=0.4))
    assert result(results, "neck_flexion").unit == "deg"
    assert result(results, "slouch").unit == "bands"
    assert result(results, "shrug").unit == "%"
    assert result(results, "screen_too_close").unit == "cm"
    side = book().evaluate({"side_ear_shoulder_deg": 60.0},
                           side_base(side_ear_shoulder_deg=60.0))
    assert result(side, "side_slouch").unit == "bands"


def test_side_head_forward_is_gone() -> None:
    assert "side_head_forward" not in RULE_NAMES
    assert {"slouch", "side_slouch"} <= POSTURE_RULES


# -- the combined slump judgment (core.cues) ----------------------------------------------

# Each cue's unit: its band without calibration noise. The cases below are written in
# bands, so they hold whatever the units are tuned to.
U = {c.name: c.unit for c in CUES}

# A frontal neutral: nose-to-shoulder gap 0.4 shoulder widths, nose at 0.4 of the image
# height, shoulder line at 0.7, shoulders 0.6 image heights wide, face 0.3 wide.
FRONT = {"slouch_ratio": 0.4, "head_height": 0.4, "shoulder_line_y": 0.7,
         "shoulder_width_h": 0.6, "face_size_h": 0.3}


def front_slump(gap: float = 0.0, sink: float = 0.0, growth: float = 0.0,
                shoulders: float = 0.0) -> dict[str, float]:
    """Frontal values that many bands past FRONT on each cue: the gap closed, the head
    sank (in shoulder widths), the face grew, the shoulder line sank."""
    return {"slouch_ratio": 0.4 * (1 - gap * U["gap"]),
            "head_height": 0.4 + 0.6 * sink * U["head_sink"],
            "shoulder_line_y": 0.7 + 0.6 * shoulders * U["shoulder_sink"],
            "shoulder_width_h": 0.6, "face_size_h": 0.3 * (1 + growth * U["head_growth"])}


@pytest.mark.parametrize(("values", "level", "bands"), [
    (front_slump(), G, 0.0),
    # The gap closed and the head sank 1.5 bands each: two cues agree, mean 1.5: caution.
    (front_slump(1.5, 1.5), C, 1.5),
    # Both at 2.5 bands: poor.
    (front_slump(2.5, 2.5), P, 2.5),
    # Three cues: the two strongest count (2.5 and 2.0 -> 2.25), the weakest does not.
    (front_slump(2.5, 0.5, 2.0), P, 2.25),
    # The whole trunk sinks: head and shoulders 2.5 bands down, the gap holds: poor.
    (front_slump(sink=2.5, shoulders=2.5), P, 2.5),
    # One cue alone at 1.5 bands, the others measured and still: max(0.75, 0.5): good.
    (front_slump(1.5), G, 0.75),
    (front_slump(sink=1.5), G, 0.75),
    (front_slump(growth=1.5), G, 0.75),
    # One cue alone at 2.5 bands: max(1.25, 1.5) = 1.5: caution.
    (front_slump(2.5), C, 1.5),
    (front_slump(growth=2.5), C, 1.5),
    # One cue alone is clipped at 3 bands: never past 2, so caution at most.
    (front_slump(6.0), C, 1.5),
    # A head that rose and a gap that opened (sitting taller) is evidence the other way,
    # each clipped at -1 band; the still face and shoulders hold the judgment at 0.
    (front_slump(-2.0, -2.0), G, 0.0),
    (front_slump(-2.0, -2.0, -2.0, -2.0), G, -1.0),
])
def test_the_combined_frontal_slump(values: dict[str, float], level: Level,
                                    bands: float) -> None:
    r = result(book().evaluate(values, base(**FRONT)), "slouch")
    assert (r.level, r.unit) == (level, "bands")
    assert r.value == pytest.approx(bands, abs=0.005)  # the result is rounded to 0.01


def test_a_shrug_closes_the_gap_but_is_not_a_slump() -> None:
    # The shoulder line rises 0.12 shoulder widths toward a head that stays put: the gap
    # closes by 0.12 / 0.4 = 30 % of it, all explained by the rising shoulders.
    shrug = {**FRONT, "slouch_ratio": 0.28, "shoulder_line_y": 0.7 - 0.6 * 0.12}
    r = result(book().evaluate(shrug, base(**FRONT)), "slouch")
    assert r.level is G and r.value <= 0.0
    # The same closure with the head dropping instead is a slump.
    dropped = {**FRONT, "slouch_ratio": 0.28, "head_height": 0.4 + 0.6 * 0.12}
    assert result(book().evaluate(dropped, base(**FRONT)), "slouch").level is not G


def test_calibration_noise_widens_the_slump_bands() -> None:
    # Gap and head sink at 1.5 bands each with no noise: caution. With the gap jittering
    # 1.5 units (a band of 4.5 units: 1/3 band) and the head still: (1.5 + 1/3) / 2, good.
    values = front_slump(1.5, 1.5)
    quiet = result(book().evaluate(values, base(**FRONT)), "slouch")
    noisy = result(book().evaluate(values, replace(base(**FRONT), cue_noise={
        "gap": 1.5 * U["gap"], "head_sink": 0.0, "head_growth": 0.0})), "slouch")
    assert (quiet.level, quiet.value) == (C, pytest.approx(1.5))
    assert noisy.level is G and noisy.value == pytest.approx((1.5 + 1 / 3) / 2, abs=0.01)


def test_the_front_slump_needs_a_front_baseline_and_the_side_one_a_side_baseline() -> None:
    values = {**front_slump(3.0, 3.0), "side_ear_shoulder_deg": 40.0}
    assert "slouch" not in {r.rule for r in book().evaluate(values, None)}
    on_side = {r.rule for r in book().evaluate(values, side_base(
        side_ear_shoulder_deg=60.0, **FRONT))}
    assert "slouch" not in on_side and "side_slouch" in on_side
    on_front = {r.rule for r in book().evaluate(values, base(
        side_ear_shoulder_deg=60.0, **FRONT))}
    assert "slouch" in on_front and "side_slouch" not in on_front


# A side neutral: ear 60 deg above the shoulder, head 0.2 torsos ahead of it, ear at 0.4 of
# the image height, a torso of 0.5 image heights, trunk 5 deg forward.
SIDE = {"side_ear_shoulder_deg": 60.0, "head_forward_torso": 0.2, "head_height": 0.4,
        "torso_h": 0.5, "trunk_flexion_deg": 5.0}


def side_base(**metrics: float) -> Baseline:
    return replace(base(**metrics), side_view=True)


def side_slump(ear: float = 0.0, ahead: float = 0.0, sink: float = 0.0,
               lean: float = 0.0) -> dict[str, float]:
    """Side values that many bands past SIDE: the ear angle dropped, the head came ahead,
    the head sank (in torsos), the trunk leaned (negative: back)."""
    return {"side_ear_shoulder_deg": 60.0 - ear * U["ear_angle_drop"],
            "head_forward_torso": 0.2 + ahead * U["head_ahead"],
            "head_height": 0.4 + 0.5 * sink * U["head_sink_side"], "torso_h": 0.5,
            "trunk_flexion_deg": 5.0 + lean * U["trunk_lean"]}


@pytest.mark.parametrize(("values", "level", "bands"), [
    (side_slump(), G, 0.0),
    # The ear angle dropped and the head came ahead 1.5 bands each: caution.
    (side_slump(1.5, 1.5), C, 1.5),
    # 3 and 2 bands, the head a little lower: poor.
    (side_slump(3.0, 2.0, 0.5), P, 2.5),
    # The ear angle alone at 1.5 bands: good; at 2.5 bands: caution.
    (side_slump(1.5), G, 0.75),
    (side_slump(2.5), C, 1.5),
    # Reclining 2 bands back from the calibrated trunk counts as much as leaning forward;
    # with the head sinking 2.5 bands it is poor: 2.25.
    (side_slump(sink=2.5, lean=-2.0), P, 2.25),
    (side_slump(sink=2.5, lean=2.0), P, 2.25),
    # Two cues at 2 bands each: on the poor band, which counts (bands are inclusive).
    (side_slump(ahead=2.0, lean=-2.0), P, 2.0),
])
def test_the_combined_side_slump(values: dict[str, float], level: Level,
                                 bands: float) -> None:
    r = result(book().evaluate(values, side_base(**SIDE)), "side_slouch")
    assert (r.level, r.unit) == (level, "bands")
    assert r.value == pytest.approx(bands, abs=0.005)


def test_absolute_side_rules_stand_aside_once_a_side_neutral_is_known() -> None:
    # An ear angle of 40 deg and a trunk leaning 30 deg forward: poor and caution by the
    # published bands without a neutral.
    values = {"side_ear_shoulder_deg": 40.0, "trunk_flexion_deg": 30.0}
    without = {r.rule: r.level for r in book().evaluate(values, None)}
    assert without == {"side_ear_shoulder": P, "trunk_flexion": C}
    # With a side neutral of the same values the absolute rules are gone and the combined
    # side slump finds nothing: this is the user's own upright.
    with_side = {r.rule: r.level for r in book().evaluate(values, side_base(**values))}
    assert with_side == {"side_slouch": G}


# -- hysteresis ---------------------------------------------------------------------------

def _levels(rb: RuleBook, rule: str, key: str, values: Iterable[float],
            baseline: Baseline | None) -> list[Level]:
    return [result(rb.evaluate({key: v}, baseline), rule).level for v in values]


def test_hysteresis_on_a_higher_is_worse_rule() -> None:
    # Neutral pitch 0, margin 3 deg: poor is left below 20 - 3 = 17, caution below 10 - 3 = 7.
    seq = [22.0, 19.0, 17.5, 16.9, 12.0, 8.0, 7.5, 6.9, 9.9, 10.5]
    expected = [P, P, P, C, C, C, C, G, G, C]
    got = _levels(book(), "neck_flexion", "head_pitch_deg", seq, base(head_pitch_deg=0.0))
    assert got == expected


def test_hysteresis_falls_straight_from_poor_to_good() -> None:
    got = _levels(book(), "neck_flexion", "head_pitch_deg", [22.0, 6.0],
                  base(head_pitch_deg=0.0))
    assert got == [P, G]


def test_hysteresis_on_a_lower_is_worse_rule() -> None:
    # Neutral shrug 1.0 (so the % is 100 x value); poor is left above 83, caution above 93.
    seq = [0.78, 0.82, 0.829, 0.831, 0.92, 0.929, 0.931, 0.899]
    expected = [P, P, P, C, C, C, G, C]
    got = _levels(book(), "shrug", "shrug_ratio", seq, base(shrug_ratio=1.0))
    assert got == expected


def test_hysteresis_on_the_slump_is_a_quarter_band() -> None:
    # The gap alone, neutral 1.0: bands = closure / its unit. Poor is left below
    # 2 - 0.25 = 1.75, caution below 1 - 0.25 = 0.75.
    bands = [2.2, 1.8, 1.76, 1.74, 0.8, 0.76, 0.74, 1.01]
    expected = [P, P, P, C, C, C, G, C]
    got = _levels(book(), "slouch", "slouch_ratio", [1 - b * GAP for b in bands],
                  base(slouch_ratio=1.0))
    assert got == expected


def test_degree_percent_and_band_rules_use_their_own_margins() -> None:
    neutral = base(head_pitch_deg=0.0, shrug_ratio=1.0, slouch_ratio=1.0)
    worst = {"head_pitch_deg": 22.0, "shrug_ratio": 0.78, "slouch_ratio": 1 - 2.2 * GAP}
    # 18.5 deg, 85 % and 1.7 bands.
    eased = {"head_pitch_deg": 18.5, "shrug_ratio": 0.85, "slouch_ratio": 1 - 1.7 * GAP}
    # Defaults (3 deg, 3 %): 18.5 deg stays poor, 85 % leaves poor.
    rb = book()
    rb.evaluate(worst, neutral)
    after = rb.evaluate(eased, neutral)
    assert result(after, "neck_flexion").level is P
    assert result(after, "shrug").level is C
    assert result(after, "slouch").level is C  # 1.7 < 2 - 0.25
    # 1 deg and 6 %: the other way round; the slump's quarter band does not change.
    rb = book(hysteresis_deg=1.0, hysteresis_pct=6.0)
    rb.evaluate(worst, neutral)
    after = rb.evaluate(eased, neutral)
    assert result(after, "neck_flexion").level is C
    assert result(after, "shrug").level is P
    assert result(after, "slouch").level is C


def test_screen_distance_hysteresis_uses_the_percent_margin_in_cm() -> None:
    # Too close below 50 cm; with a 3 (cm) margin it clears above 53.
    got = _levels(book(), "screen_too_close", "distance_cm", [45.0, 52.0, 53.5], None)
    assert got == [C, C, G]


def test_a_missing_value_forgets_the_rule_level() -> None:
    rb = book()
    neutral = base(head_pitch_deg=0.0)
    assert result(rb.evaluate({"head_pitch_deg": 22.0}, neutral), "neck_flexion").level is P
    assert all(r.rule != "neck_flexion" for r in rb.evaluate({}, neutral))
    # Starting afresh, 18 deg is caution (no poor level left to hold).
    assert result(rb.evaluate({"head_pitch_deg": 18.0}, neutral), "neck_flexion").level is C


def test_reset_forgets_all_levels() -> None:
    rb = book()
    neutral = base(head_pitch_deg=0.0)
    rb.evaluate({"head_pitch_deg": 22.0}, neutral)
    rb.reset()
    assert result(rb.evaluate({"head_pitch_deg": 18.0}, neutral), "neck_flexion").level is C


# -- set-up findings, baselines -----------------------------------------------------------

def test_screen_rules_are_set_up_findings_not_posture() -> None:
    assert {"screen_too_close", "screen_too_far"} & POSTURE_RULES == set()
    assert set(RULE_NAMES) - POSTURE_RULES == {"screen_too_close", "screen_too_far"}
    results = book().evaluate({"distance_cm": 30.0, "head_pitch_deg": 0.0}, None)
    close = result(results, "screen_too_close")
    assert close.level is C
    assert worst_level(results) is G
    assert penalty(close, T) == 0.0


def test_worst_level_is_the_worst_posture_rule() -> None:
    results = [RuleResult("head_roll", C, 12.0, "deg"), RuleResult("slouch", P, 2.5, "bands"),
               RuleResult("screen_too_far", C, 120.0, "cm")]
    assert worst_level(results) is P
    assert worst_level([]) is G


def test_pitch_rules_allow_slack_without_a_baseline() -> None:
    assert NO_BASELINE_PITCH_SLACK_DEG == 15.0
    # The slack pulls the pitch towards 0 from either side, so looking down reads as a
    # negative (good) extension once past the slack.
    cases = [  # (pitch, flexion level, flexion value, extension value)
        (10.0, G, 0.0, 0.0),
        (24.0, G, 9.0, -9.0),
        (26.0, C, 11.0, -11.0),
        (35.5, P, 20.5, -20.5),
    ]
    for pitch, level, flex, ext in cases:
        results = book().evaluate({"head_pitch_deg": pitch}, None)
        assert result(results, "neck_flexion").level is level, pitch
        assert result(results, "neck_flexion").value == pytest.approx(flex)
        assert result(results, "neck_extension").value == pytest.approx(ext)
        assert result(results, "neck_extension").level is G
    # Looking up: 15 deg of slack on the other side too (caution > 5, poor > 12).
    for pitch, level, value in [(-19.0, G, 4.0), (-21.0, C, 6.0), (-27.5, P, 12.5)]:
        r = result(book().evaluate({"head_pitch_deg": pitch}, None), "neck_extension")
        assert (r.level, r.value) == (level, pytest.approx(value))


def test_no_slack_once_the_pitch_neutral_is_known() -> None:
    r = result(book().evaluate({"head_pitch_deg": 16.0}, base(head_pitch_deg=0.0)),
               "neck_flexion")
    assert (r.level, r.value) == (C, 16.0)
    # A baseline without a pitch (calibrated without a face) still gets the slack.
    r = result(book().evaluate({"head_pitch_deg": 16.0}, base(slouch_ratio=0.4)),
               "neck_flexion")
    assert (r.level, r.value) == (G, 1.0)


def test_relative_rules_are_absent_without_a_baseline() -> None:
    values = {"head_pitch_deg": 0.0, "head_roll_deg": 0.0, "head_yaw_deg": 0.0,
              "shoulder_tilt_deg": 0.0, "slouch_ratio": 0.4, "shrug_ratio": 0.43,
              "face_width_ratio": 0.5, "ear_width_ratio": 0.47, "distance_cm": 60.0}
    without = {r.rule for r in book().evaluate(values, None)}
    assert without == {"neck_flexion", "neck_extension", "head_roll", "head_yaw",
                       "shoulder_tilt", "screen_too_close", "screen_too_far"}
    neutral = base(slouch_ratio=0.4, shrug_ratio=0.43, face_width_ratio=0.5)
    with_base = {r.rule for r in book().evaluate(values, neutral)}
    assert with_base == without | {"slouch", "shrug", "forward_head"}


def test_a_jittery_calibration_widens_the_caution_band_of_a_relative_rule() -> None:
    # Pitch spread (MAD) 3 deg: 3 x 1.4826 x 3 = 13.34 deg > the 10 deg caution band, so
    # caution starts at 13.34 and poor keeps its distance: 20 + 3.34 = 23.34.
    jittery = replace(base(head_pitch_deg=0.0), spread={"head_pitch_deg": 3.0})
    levels = [result(book().evaluate({"head_pitch_deg": v}, jittery), "neck_flexion").level
              for v in (12.0, 13.5, 23.0, 23.5)]
    assert levels == [G, C, C, P]
    # A still calibration (spread 1: 4.45 deg) keeps the published bands.
    still = replace(base(head_pitch_deg=0.0), spread={"head_pitch_deg": 1.0})
    levels = [result(book().evaluate({"head_pitch_deg": v}, still), "neck_flexion").level
              for v in (10.5, 20.5)]
    assert levels == [C, P]
    # A rule without a noise key (shrug) ignores the spread of its metric.
    shaky = replace(base(shrug_ratio=1.0), spread={"shrug_ratio": 0.2})
    assert result(book().evaluate({"shrug_ratio": 0.88}, shaky), "shrug").level is C


# -- penalties ----------------------------------------------------------------------------

@pytest.mark.parametrize(("r", "points"), [
    (RuleResult("neck_flexion", G, 9.0, "deg"), 0.0),
    (RuleResult("neck_flexion", C, 14.0, "deg"), 16.0),  # 10 + 15 x (14-10)/10
    (RuleResult("neck_flexion", C, 8.0, "deg"), 10.0),  # held by hysteresis: the floor
    (RuleResult("neck_flexion", P, 25.0, "deg"), 35.0),  # 30 + 10 x (1.5 - 1)
    (RuleResult("neck_flexion", P, 50.0, "deg"), 50.0),  # capped at 30 + 10 x 2
    (RuleResult("slouch", C, 1.5, "bands"), 17.5),  # 10 + 15 x (1.5-1)/(2-1)
    (RuleResult("slouch", P, 2.5, "bands"), 35.0),  # 30 + 10 x (1.5 - 1)
    (RuleResult("side_slouch", P, 3.0, "bands"), 40.0),  # 30 + 10 x (2 - 1)
    (RuleResult("side_slouch", G, 0.9, "bands"), 0.0),
    (RuleResult("shrug", C, 85.0, "%"), 17.5),  # 10 + 15 x (90-85)/(90-80)
    (RuleResult("side_ear_shoulder", P, 40.0, "deg"), 40.0),  # 30 + 10 x ((50-40)/5 - 1)
    (RuleResult("screen_too_close", C, 30.0, "cm"), 0.0),
])
def test_penalty_grows_past_the_thresholds(r: RuleResult, points: float) -> None:
    assert penalty(r, T) == pytest.approx(points)


# -- the scorer on streams ----------------------------------------------------------------

CFG = Config()
UPRIGHT = front_person()
# The head drops 36 px towards shoulders that stay put: the gap closes 30 % and the head
# sinks 36 / 300 = 0.12 shoulder widths. Poor: with the units of the issue (gap 10 %, head
# 0.06-0.1 widths) that is 3 bands and 1.2-2, so (3 + 1.2-2) / 2 = 2.1-2.5.
SLOUCHED = front_person(head=(320.0, 236.0), neck_length=84)
SLOUCHED_BANDS = combine([min(3.0, 0.3 / GAP),
                          min(3.0, 0.12 / next(c.unit for c in CUES if c.name == "head_sink")),
                          0.0, 0.0])


def calibrated(person: Person = UPRIGHT, config: Config = CFG) -> Baseline:
    raw = measure_with_config(person, 640, 480, config)
    face = person.face
    assert face is not None
    position = (face.center.x / 640, face.center.y / 480)
    return build_baseline([Observation(raw, position)] * 5, min_samples=5, source="test")


def run(scorer: PostureScorer, stream: Iterable[PoseSample]) -> list[PostureState]:
    return [scorer.update(s) for s in stream]


def first_index(states: list[PostureState], state: State) -> int:
    return next(i for i, s in enumerate(states) if s.state is state)


def test_upright_slouched_upright_with_the_debounce_delays() -> None:
    scorer = PostureScorer(CFG, calibrated())
    before = run(scorer, samples(UPRIGHT, seconds=5))
    assert {s.state for s in before} == {State.GOOD}
    slouch = run(scorer, samples(SLOUCHED, seconds=5, start=5))
    # The 3-sample median flips on the 2nd slouched sample; 2 samples in a row enter poor.
    assert (CFG.smoothing.window_samples, CFG.smoothing.enter_samples) == (3, 2)
    assert first_index(slouch, State.POOR) == 2
    assert [s.state for s in slouch[:2]] == [State.GOOD] * 2
    assert {s.state for s in slouch[2:]} == {State.POOR}
    assert SLOUCHED_BANDS is not None and SLOUCHED_BANDS > 2.0
    assert result(list(slouch[-1].rules), "slouch").value == pytest.approx(SLOUCHED_BANDS,
                                                                          abs=0.005)
    assert result(list(slouch[-1].rules), "slouch").unit == "bands"
    after = run(scorer, samples(UPRIGHT, seconds=5, start=10))
    # The median flips back on the 2nd upright sample; 2 in a row leave poor.
    assert first_index(after, State.GOOD) == 2
    assert {s.state for s in after[:2]} == {State.POOR}
    assert {s.state for s in after[2:]} == {State.GOOD}


def test_debounce_counts_come_from_the_smoothing_config() -> None:
    cfg = replace(CFG, smoothing=SmoothingConfig(window_samples=1, enter_samples=4,
                                                 leave_samples=1))
    scorer = PostureScorer(cfg, calibrated(config=cfg))
    run(scorer, samples(UPRIGHT, seconds=2))
    slouch = run(scorer, samples(SLOUCHED, seconds=3, start=2))
    assert first_index(slouch, State.POOR) == 3  # the 4th sample
    after = run(scorer, samples(UPRIGHT, seconds=2, start=5))
    assert first_index(after, State.GOOD) == 0  # at once


def test_single_sample_glitches_do_not_flip_the_state() -> None:
    def person_at(t: float) -> Person:
        return SLOUCHED if round(t * 4) % 7 == 3 else UPRIGHT  # one bad sample in seven

    stream = list(samples(person_at, seconds=30))
    assert sum(1 for s in stream if s.people[0] is SLOUCHED) == 17
    scorer = PostureScorer(CFG, calibrated())
    states = run(scorer, stream)
    assert {s.state for s in states} == {State.GOOD}
    assert {s.score for s in states} == {100}  # the median hides them from the score too


def test_without_a_median_the_debounce_alone_absorbs_short_glitches() -> None:
    cfg = replace(CFG, smoothing=SmoothingConfig(window_samples=1))  # enter 2, leave 2
    pattern = "UUUU" "S" "UUUU" "S" "UUUU" "SUSUSUSU" "SS"
    people = {"U": UPRIGHT, "S": SLOUCHED}
    scorer = PostureScorer(cfg, calibrated(config=cfg))
    states = [scorer.update(one_sample(people[c], t=i / 4)) for i, c in enumerate(pattern)]
    assert [s.state for s in states[:-1]] == [State.GOOD] * (len(pattern) - 1)
    assert states[-1].state is State.POOR
    # The score is not debounced: each glitch costs points at once.
    assert states[4].score < 100


def test_a_person_leaving_becomes_away_after_a_moment_unjudged() -> None:
    def person_at(t: float) -> Person | None:
        return None if 10.0 <= t < 15.0 else UPRIGHT

    scorer = PostureScorer(CFG, calibrated())
    states = run(scorer, samples(person_at, seconds=20))
    by_t = {s.t_s: s for s in states}
    # Last seen at 9.75; away_after_s = 1: unjudged until 10.5, away from 10.75.
    assert CFG.detection.away_after_s == 1.0
    for t in (10.0, 10.25, 10.5):
        assert by_t[t].state is State.UNKNOWN and by_t[t].score is None
        assert by_t[t].note == "not seen for a moment"
    assert by_t[10.75].state is State.AWAY and by_t[10.75].score is None
    assert {by_t[t / 4].state for t in range(47, 60)} == {State.AWAY}
    # Back: judged at once (no debounce coming back from away).
    assert by_t[15.0].state is State.GOOD and by_t[15.0].score == 100


def test_a_short_loss_is_unjudged_and_keeps_the_poor_state_for_afterwards() -> None:
    def person_at(t: float) -> Person | None:
        return None if 6.0 <= t < 6.75 else SLOUCHED

    scorer = PostureScorer(CFG, calibrated())
    states = run(scorer, samples(person_at, seconds=10))
    # Slouched from the first sample: judged poor at once; the 0.75 s loss (under
    # away_after_s) is unjudged, nothing guessed, and poor resumes at once afterwards.
    lost = [s for s in states if 6.0 <= s.t_s < 6.75]
    assert len(lost) == 3 and {s.state for s in lost} == {State.UNKNOWN}
    assert {s.state for s in states if not 6.0 <= s.t_s < 6.75} == {State.POOR}


def test_nobody_from_the_start_is_unknown_then_away() -> None:
    states = run(PostureScorer(CFG), samples(None, seconds=3))
    # 4 Hz; away_after_s = 1 s counted from the first sample: away from t = 1.0.
    assert [s.state for s in states] == [State.UNKNOWN] * 4 + [State.AWAY] * 8


def test_away_after_s_comes_from_the_config() -> None:
    cfg = replace(CFG, detection=replace(CFG.detection, away_after_s=5.0))

    def person_at(t: float) -> Person | None:
        return UPRIGHT if t < 2.0 else None

    states = run(PostureScorer(cfg, calibrated()), samples(person_at, seconds=10))
    # Last seen at 1.75: away from 6.75.
    assert states[first_index(states, State.AWAY)].t_s == 6.75


def test_the_person_nearest_the_calibrated_position_is_followed() -> None:
    # A bigger (nearer) person off to the side, slouched, head down: not the user.
    other = front_person(head=(90.0, 170.0), head_scale=1.5, neck_length=60.0, pitch=35.0)
    scorer = PostureScorer(CFG, calibrated())
    states = run(scorer, samples([other, UPRIGHT], seconds=5))
    assert {s.state for s in states} == {State.GOOD}
    assert {s.metrics["face_width_ratio"] for s in states} == {0.5}
    assert {s.metrics["head_pitch_deg"] for s in states} == {0.0}


def test_without_a_baseline_the_largest_is_chosen_then_tracked() -> None:
    a = front_person(head=(200.0, 200.0), head_scale=1.2, roll=2.0)  # face 180 px
    b_small = front_person(head=(460.0, 200.0), roll=25.0)  # face 150 px
    b_large = front_person(head=(460.0, 200.0), head_scale=1.6, roll=25.0)  # face 240 px

    def people_at(t: float) -> list[Person]:
        return [b_small, a] if t == 0.0 else [b_large, a]

    scorer = PostureScorer(CFG)
    states = run(scorer, samples(people_at, seconds=8))
    assert {s.metrics["head_roll_deg"] for s in states} == {2.0}
    assert {s.state for s in states} == {State.GOOD}
    # The automatic baseline is learned on the tracked person, at her position.
    assert scorer.baseline is not None
    assert scorer.baseline.position == pytest.approx((200 / 640, (200 - 12) / 480))


@pytest.mark.parametrize(("brightness", "contrast", "quality"), [
    (10.0, 50.0, 0.286),  # 10 / 35
    (128.0, 5.0, 0.417),  # 5 / 12
])
def test_low_light_is_unknown(brightness: float, contrast: float, quality: float) -> None:
    scorer = PostureScorer(CFG, calibrated())
    states = run(scorer, samples(UPRIGHT, seconds=5, brightness=brightness, contrast=contrast))
    assert {s.state for s in states} == {State.UNKNOWN}  # and never away: someone is there
    assert {s.score for s in states} == {None}
    assert {s.quality for s in states} == {quality}
    assert quality < CFG.detection.min_quality
    assert all(s.rules == () for s in states)


def test_dim_but_usable_light_is_scored() -> None:
    states = run(PostureScorer(CFG, calibrated()), samples(UPRIGHT, seconds=1, brightness=20))
    assert {s.state for s in states} == {State.GOOD}
    assert {s.quality for s in states} == {0.571}  # 20 / 35


def test_body_only_quality_is_the_mean_landmark_visibility() -> None:
    person = front_person(face=False, hidden=["left_ear", "right_ear"])
    state = PostureScorer(CFG, calibrated()).update(one_sample(person))
    # (1 + 1 + 1 + 0.05 + 0.05) / 5 = 0.62
    assert state.quality == 0.62
    assert state.state is State.GOOD


@pytest.mark.parametrize(("person", "score"), [
    (UPRIGHT, 100),
    (front_person(pitch=14.0), 84),  # neck flexion caution: 10 + 15 x 0.4 = 16
    (front_person(pitch=14.0, shoulder_tilt=7.0), 68),  # two x 16
    (front_person(pitch=25.0, roll=24.0), 31),  # poor 35 + poor 34 (30 + 10 x 0.4)
    (front_person(pitch=60.0, roll=60.0, yaw=80.0), 0),  # far past every band: floored
    (front_person(ipd_px=120.0), 100),  # 29 cm from the screen: a set-up finding only
])
def test_score_is_100_when_all_good_and_lower_when_rules_fire(person: Person,
                                                              score: int) -> None:
    states = run(PostureScorer(CFG, calibrated()), samples(person, seconds=2))
    assert {s.score for s in states} == {score}


def test_screen_too_close_is_reported_but_leaves_the_state_alone() -> None:
    # 554.2563 x 63 / 120 / 10 = 29.1 cm
    states = run(PostureScorer(CFG, calibrated()), samples(front_person(ipd_px=120.0),
                                                           seconds=5))
    last = states[-1]
    assert last.state is State.GOOD
    close = result(list(last.rules), "screen_too_close")
    assert close.level is C and close.value == pytest.approx(29.1, abs=0.01)


def test_caution_state_from_a_caution_rule() -> None:
    states = run(PostureScorer(CFG, calibrated()), samples(front_person(pitch=14.0), seconds=2))
    # Coming from unknown the first verdict is taken at once.
    assert {s.state for s in states} == {State.CAUTION}


def test_automatic_baseline_forms_after_auto_seconds_of_upright_samples() -> None:
    scorer = PostureScorer(CFG)
    states = run(scorer, samples(UPRIGHT, seconds=8))
    # 4 Hz from t = 0, auto_seconds = 5: learned on the sample at t = 5.0 (the 21st).
    assert {s.state for s in states} == {State.GOOD}
    names = [{r.rule for r in s.rules} for s in states]
    assert all("slouch" not in n for n in names[:20])
    assert all({"slouch", "shrug", "forward_head"} <= n for n in names[20:])
    assert scorer.baseline is not None
    assert scorer.baseline.samples == 21
    assert scorer.baseline.metrics["slouch_ratio"] == pytest.approx(0.4)
    # Afterwards a slouch is judged against it.
    slouch = run(scorer, samples(SLOUCHED, seconds=3, start=8))
    assert slouch[-1].state is State.POOR
    assert result(list(slouch[-1].rules), "slouch").level is P


def test_automatic_baseline_waits_for_upright_samples() -> None:
    def person_at(t: float) -> Person:
        return front_person(pitch=30.0) if t < 3.0 else UPRIGHT

    scorer = PostureScorer(CFG)
    states = run(scorer, samples(person_at, seconds=10))
    names = [{r.rule for r in s.rules} for s in states]
    # Upright from t = 3.0, so learned at t = 8.0 (sample 32) from upright samples only.
    assert all("slouch" not in n for n in names[:32])
    assert "slouch" in names[32]
    assert scorer.baseline is not None
    assert scorer.baseline.metrics["head_pitch_deg"] == 0.0
    assert scorer.baseline.samples == 21


def test_a_caution_good_flicker_still_leaves_poor() -> None:
    """Samples that are all better than poor, though not alike, end the poor state."""
    cfg = replace(CFG, smoothing=SmoothingConfig(window_samples=1, enter_samples=3,
                                                 leave_samples=2))
    scorer = PostureScorer(cfg, calibrated(config=cfg))
    run(scorer, samples(UPRIGHT, seconds=2))
    assert run(scorer, samples(SLOUCHED, seconds=2, start=2))[-1].state is State.POOR
    # The head dropped 18 px: the gap closed 15 % (1.5 bands), the head sank 0.06 shoulder
    # widths (0.6 bands): 1.05 bands, caution.
    leaning = front_person(head=(320.0, 218.0), neck_length=102)

    def flicker(t: float) -> Person:
        return leaning if round(t * 4) % 2 else UPRIGHT

    after = run(scorer, samples(flicker, seconds=2, start=4))
    assert after[1].state is State.CAUTION  # the worst of the two better samples
    assert State.POOR not in {s.state for s in after[1:]}


def test_a_bystander_far_from_the_neutral_is_not_the_user() -> None:
    """The user leaves; someone at the far side of the picture is not scored in their place."""
    scorer = PostureScorer(CFG, calibrated())
    run(scorer, samples(UPRIGHT, seconds=3))
    passer_by = front_person(head=(600.0, 200.0), pitch=35.0)  # 0.44 of the width away
    states = run(scorer, samples(passer_by, seconds=4, start=3))
    assert states[-1].state is State.AWAY
    assert all(s.state in (State.GOOD, State.UNKNOWN, State.AWAY) for s in states)
    # Near the neutral position, the same person is the user again.
    back = run(scorer, samples(front_person(head=(340.0, 205.0)), seconds=1, start=7))
    assert back[-1].state is State.GOOD


def _mirrored(person: Person) -> Person:
    """The same body with its shoulders (and ears) swapped: seen from behind, no face."""
    body = person.body
    assert body is not None
    turned = replace(body, left_shoulder=body.right_shoulder, right_shoulder=body.left_shoulder,
                     left_ear=body.right_ear, right_ear=body.left_ear)
    return replace(person, body=turned, face=None)


def test_a_tiny_faceless_body_is_a_phantom_not_a_person() -> None:
    """Footage v08: the pose model finds a few-pixel body in the empty room."""
    speck = front_person(head=(400.0, 330.0), shoulder_width=8.0, neck_length=6.0,
                         ear_span=4.0, face=False)
    assert not is_person(speck, 640, 480, 0.5, CFG.detection.min_body_extent)
    real_but_far = front_person(head=(400.0, 200.0), shoulder_width=70.0, neck_length=30.0,
                                ear_span=25.0, face=False)
    assert is_person(real_but_far, 640, 480, 0.5, CFG.detection.min_body_extent)
    states = run(PostureScorer(CFG), samples(speck, seconds=4))
    assert states[-1].state is State.AWAY


def test_a_person_seen_from_behind_is_present_but_not_judged() -> None:
    behind = _mirrored(front_person())
    assert is_back_view(behind.body, 0.5, 640)
    assert not is_back_view(front_person().body, 0.5, 640)
    states = run(PostureScorer(CFG, calibrated()), samples(behind, seconds=5))
    assert {s.state for s in states} == {State.UNKNOWN}
    assert {s.note for s in states} == {"seen from behind"}
    assert all(s.score is None for s in states)


@pytest.mark.parametrize(("brightness", "contrast", "note"), [
    (10.0, 40.0, "too dark"),
    (120.0, 3.0, "low contrast"),
])
def test_poor_light_is_reported_instead_of_guessed(brightness: float, contrast: float,
                                                   note: str) -> None:
    stream = samples(SLOUCHED, seconds=3, brightness=brightness, contrast=contrast)
    states = run(PostureScorer(CFG, calibrated()), stream)
    assert {s.state for s in states} == {State.UNKNOWN}
    assert {s.note for s in states} == {note}
    assert all(s.quality < CFG.detection.min_quality for s in states)
    assert states[0].quality_detail["light"] < 0.5


def test_a_head_turn_counts_only_once_held() -> None:
    """A 5 s glance to the side never changes the state; a turn held 12 s does (hold 10 s)."""
    turned = front_person(yaw=40.0)
    scorer = PostureScorer(CFG, calibrated())
    run(scorer, samples(UPRIGHT, seconds=2))
    glance = run(scorer, samples(turned, seconds=5, start=2))
    assert {s.state for s in glance} == {State.GOOD}
    assert {result(list(s.rules), "head_yaw").level for s in glance} == {G}
    run(scorer, samples(UPRIGHT, seconds=2, start=7))
    held = run(scorer, samples(turned, seconds=12, start=9))
    poor_from = min(s.t_s for s in held if s.state is State.POOR)
    # The median sees the turn from t = 9.5; held 10 s -> 19.5; 3 samples to enter poor.
    assert 19.5 <= poor_from <= 20.25
    assert result(list(held[-1].rules), "head_yaw").level is P


# -- the calibrated view, stray faces, nothing to judge ------------------------------------

def side_calibrated() -> Baseline:
    raw = measure_with_config(side_person(), 640, 480, CFG)
    assert raw.side_view
    return build_baseline([Observation(raw, (0.55, 0.4))] * 5, min_samples=5, source="test")


def test_a_side_calibration_measures_the_side_view_even_when_a_sample_looks_frontal() -> None:
    baseline = side_calibrated()
    assert baseline.side_view and baseline.view == "side"
    # Head rolled 25 deg and shoulders tilted 8 deg: poor and caution from the front.
    frontal = front_person(head=(352.0, 200.0), roll=25.0, shoulder_tilt=8.0)
    raw = measure_with_config(frontal, 640, 480, CFG, baseline)
    assert raw.side_view is True
    assert raw.side_ear_shoulder_deg is not None
    assert raw.head_roll_deg is None and raw.shoulder_tilt_deg is None
    assert raw.slouch_ratio is None
    # Without the baseline the same sample is measured from the front.
    assert measure_with_config(frontal, 640, 480, CFG).head_roll_deg == 25.0
    states = run(PostureScorer(CFG, baseline), samples(frontal, seconds=2))
    names = {r.rule for s in states for r in s.rules}
    assert not names & {"head_roll", "shoulder_tilt", "slouch", "forward_head", "shrug",
                        "neck_flexion", "neck_extension", "head_yaw"}
    assert "side_slouch" in names
    assert "side_ear_shoulder" not in names and "trunk_flexion" not in names


def test_the_configured_view_still_wins_over_the_calibrated_one() -> None:
    cfg = replace(CFG, camera=replace(CFG.camera, view="front"))
    raw = measure_with_config(front_person(roll=25.0), 640, 480, cfg, side_calibrated())
    assert raw.side_view is False and raw.head_roll_deg == 25.0


def test_a_side_calibration_judges_a_side_slump() -> None:
    scorer = PostureScorer(CFG, side_calibrated())
    upright = run(scorer, samples(side_person(), seconds=2))
    assert {s.state for s in upright} == {State.GOOD}
    # The ear drops from 60 to 35 deg over the shoulder (3 bands of 7 deg) and comes
    # 0.2 torsos ahead (2 bands of 0.1): poor.
    slumped = run(scorer, samples(side_person(ear_angle=35.0), seconds=2, start=2))
    assert slumped[-1].state is State.POOR
    assert result(list(slumped[-1].rules), "side_slouch").level is P


def test_a_face_on_a_bodys_head_is_the_same_person_not_a_second_one() -> None:
    # In profile the face landmarker's face comes back unpaired, its centre 40 px off the
    # pose model's nose; it is larger than the body's apparent size, so it would win.
    body_only = side_person()
    assert body_only.body is not None and body_only.body.nose is not None
    nose = body_only.body.nose
    stray = Person(face=Face(0.0, 70.0, 0.0, 20.0, 160.0, Point(nose.x - 40, nose.y)))
    assert select_person((stray, body_only), 640, 480, None) is body_only
    assert select_person((body_only, stray), 640, 480, (0.9, 0.9)) is body_only
    # A face far from any body's head is someone else, and the larger one is chosen.
    elsewhere = Person(face=Face(0.0, 0.0, 0.0, 60.0, 160.0, Point(40.0, 60.0)))
    assert select_person((elsewhere, body_only), 640, 480, None) is elsewhere
    # Through the scorer: the side metrics of the body are measured, not the face.
    states = run(PostureScorer(CFG, side_calibrated()), samples([stray, body_only], seconds=2))
    assert {s.state for s in states} == {State.GOOD}
    assert all("side_ear_shoulder_deg" in s.metrics for s in states)


def test_a_person_with_no_posture_rule_measurable_is_unknown() -> None:
    # Side calibration; a face with no body: the face angles are not read from a side
    # view, and there is no ear or shoulder to measure.
    face_only = front_person(head=(352.0, 200.0))
    face_only = Person(face=face_only.face)
    scorer = PostureScorer(CFG, side_calibrated())
    states = run(scorer, samples(face_only, seconds=2))
    assert {s.state for s in states} == {State.UNKNOWN}
    assert {s.note for s in states} == {"posture not measurable"}
    assert {s.score for s in states} == {None}
    # A body whose ears are hidden gives the side view nothing to measure either; it is
    # still present (not away).
    earless = front_person(head=(352.0, 200.0), face=False, hidden=["left_ear", "right_ear"])
    states = run(PostureScorer(CFG, side_calibrated()), samples(earless, seconds=2))
    assert {s.state for s in states} == {State.UNKNOWN}
    assert {s.note for s in states} == {"posture not measurable"}
    # The same body measured from the front, calibrated from the front, is judged.
    states = run(PostureScorer(CFG, calibrated()), samples(front_person(hidden=[
        "left_ear", "right_ear"]), seconds=2))
    assert {s.state for s in states} == {State.GOOD}


def test_a_new_calibration_takes_over_from_the_next_sample() -> None:
    """`run`'s "profile" command (a profile saved from the tray while it ran): the
    slouched pose calibrated as the neutral is judged good at once, with no automatic
    calibration in between."""
    scorer = PostureScorer(CFG)  # automatic calibration, on the upright pose
    run(scorer, samples(UPRIGHT, seconds=8))
    assert {s.state for s in run(scorer, samples(SLOUCHED, seconds=3, start=8))[2:]} == {
        State.POOR}
    scorer.use_baseline(calibrated(SLOUCHED))
    assert scorer.baseline is not None and scorer.baseline.source == "test"
    after = run(scorer, samples(SLOUCHED, seconds=3, start=11))
    assert {s.state for s in after[2:]} == {State.GOOD}
