"""Slump cues and how they are weighed (core.cues), on hand-made metric values."""

from __future__ import annotations

import pytest

from posture_watch.core import cues
from posture_watch.core.cues import (
    CUES,
    MAD_TO_SD,
    MAX_EVIDENCE,
    MIN_EVIDENCE,
    MIN_SEPARATION,
    NOISE_BANDS,
    band,
    combine,
    cues_for,
    deviations,
    evidence,
    separations,
    usable_weights,
)

BY_NAME = {c.name: c for c in CUES}

# A frontal neutral: nose-to-shoulder gap 0.4 shoulder widths, nose at 0.4 of the image
# height, the shoulder line at 0.6, shoulders 0.5 image heights wide, face 0.2 wide.
FRONT = {"slouch_ratio": 0.4, "head_height": 0.4, "shoulder_line_y": 0.6,
         "shoulder_width_h": 0.5, "face_size_h": 0.2}
# A side neutral: ear 60 deg over the shoulder, head 0.2 torsos ahead, ear at 0.3 of the
# image height, torso 0.5 image heights long, trunk upright.
SIDE = {"side_ear_shoulder_deg": 60.0, "head_forward_torso": 0.2, "head_height": 0.3,
        "torso_h": 0.5, "trunk_flexion_deg": 0.0}


def front(**changes: float) -> dict[str, float]:
    return {**FRONT, **changes}


# -- the cues -----------------------------------------------------------------------------

def test_each_view_has_its_own_cues() -> None:
    assert {c.name for c in cues_for("front")} == {
        "gap", "head_sink", "shoulder_sink", "head_growth"}
    assert {c.name for c in cues_for("side")} == {
        "ear_angle_drop", "head_ahead", "head_sink_side", "trunk_lean"}
    assert all(c.unit > 0 for c in CUES)
    assert len(set(cues.CUE_NAMES)) == len(CUES)


def test_the_neutral_deviates_by_nothing() -> None:
    assert deviations(FRONT, FRONT, "front") == {
        "gap": 0.0, "head_sink": 0.0, "shoulder_sink": 0.0, "head_growth": 0.0}
    assert deviations(SIDE, SIDE, "side") == {
        "ear_angle_drop": 0.0, "head_ahead": 0.0, "head_sink_side": 0.0, "trunk_lean": 0.0}


def test_frontal_deviations_toward_a_slump_are_positive() -> None:
    # The head drops 0.06 image heights onto still shoulders: the gap (0.2 image heights)
    # closes by 0.12 shoulder widths, 30 % of it; the head sank 0.06 / 0.5 = 0.12 widths.
    dropped = front(slouch_ratio=0.28, head_height=0.46)
    d = deviations(dropped, FRONT, "front")
    assert d["gap"] == pytest.approx(0.3)
    assert d["head_sink"] == pytest.approx(0.12)
    assert d["shoulder_sink"] == pytest.approx(0.0)
    # The face 14 % wider: it came toward the screen.
    assert deviations(front(face_size_h=0.228), FRONT, "front")["head_growth"] == \
        pytest.approx(0.14)


def test_rising_shoulders_close_the_gap_without_counting_as_a_slump() -> None:
    # The shoulder line rises 0.03 image heights (0.06 shoulder widths) toward a head that
    # stays put: the gap closes by 0.06 / 0.4 = 15 %, all of it explained by the shrug.
    shrug = front(slouch_ratio=0.34, shoulder_line_y=0.57)
    d = deviations(shrug, FRONT, "front")
    assert d["gap"] == pytest.approx(0.0, abs=1e-9)
    assert d["shoulder_sink"] == pytest.approx(-0.06)
    # Without the shoulder line's position, the whole closure counts.
    no_line = {k: v for k, v in shrug.items() if k != "shoulder_line_y"}
    assert deviations(no_line, FRONT, "front")["gap"] == pytest.approx(0.15)


def test_a_whole_trunk_sinking_holds_the_gap_but_sinks_head_and_shoulders() -> None:
    sunk = front(head_height=0.445, shoulder_line_y=0.645)
    d = deviations(sunk, FRONT, "front")
    assert d["gap"] == pytest.approx(0.0)
    assert d["head_sink"] == pytest.approx(0.09)
    assert d["shoulder_sink"] == pytest.approx(0.09)


def test_side_deviations() -> None:
    slumped = {**SIDE, "side_ear_shoulder_deg": 46.0, "head_forward_torso": 0.35,
               "head_height": 0.34, "trunk_flexion_deg": -15.0}
    d = deviations(slumped, SIDE, "side")
    assert d == pytest.approx({"ear_angle_drop": 14.0, "head_ahead": 0.15,
                               "head_sink_side": 0.08, "trunk_lean": 15.0})
    # Leaning the trunk forward counts the same as leaning back.
    forward = deviations({**SIDE, "trunk_flexion_deg": 15.0}, SIDE, "side")
    assert forward["trunk_lean"] == pytest.approx(15.0)


def test_a_cue_without_its_measurement_is_left_out() -> None:
    d = deviations({"slouch_ratio": 0.3}, FRONT, "front")
    assert set(d) == {"gap"}
    assert deviations({}, FRONT, "front") == {}
    # A neutral without the measurement (or a zero neutral gap) gives nothing either.
    assert deviations(front(), {"slouch_ratio": 0.0}, "front") == {}


# -- bands and evidence -------------------------------------------------------------------

@pytest.mark.parametrize("cue", CUES, ids=lambda c: c.name)
def test_a_band_is_never_below_the_unit(cue: cues.Cue) -> None:
    assert band(cue, {}) == cue.unit
    assert band(cue, {cue.name: 0.0}) == cue.unit
    # Jitter under a third of the unit leaves the unit.
    assert band(cue, {cue.name: cue.unit / NOISE_BANDS * 0.99}) == cue.unit
    # Another cue's noise does not widen this one.
    others = {c.name: 100.0 for c in CUES if c.name != cue.name}
    assert band(cue, others) == cue.unit


@pytest.mark.parametrize("cue", CUES, ids=lambda c: c.name)
def test_a_band_widens_with_calibration_noise(cue: cues.Cue) -> None:
    assert NOISE_BANDS == 3.0
    # Jitter of half a unit: a band of 1.5 units; of two units: six.
    assert band(cue, {cue.name: cue.unit / 2}) == pytest.approx(1.5 * cue.unit)
    assert band(cue, {cue.name: 2 * cue.unit}) == pytest.approx(6 * cue.unit)


GAP_UNIT, SINK_UNIT = BY_NAME["gap"].unit, BY_NAME["head_sink"].unit


def gap_and_sink(gap_bands: float, sink_bands: float) -> dict[str, float]:
    """Frontal values with the gap closed and the head sunk by so many units each."""
    return front(slouch_ratio=0.4 * (1 - gap_bands * GAP_UNIT),
                 head_height=0.4 + 0.5 * sink_bands * SINK_UNIT)


def test_evidence_is_the_deviation_in_bands() -> None:
    values = gap_and_sink(1.5, 1.2)
    quiet = evidence(values, FRONT, {}, "front")
    assert quiet["gap"] == pytest.approx(1.5)
    assert quiet["head_sink"] == pytest.approx(1.2)
    assert quiet["head_growth"] == pytest.approx(0.0)
    assert quiet["shoulder_sink"] == pytest.approx(0.0)
    # The same sample against a jittery calibration: the gap's band is 3 x its jitter,
    # here 3 units, so the same closure is a third as much evidence.
    noisy = evidence(values, FRONT, {"gap": GAP_UNIT}, "front")
    assert noisy["gap"] == pytest.approx(0.5)
    assert noisy["head_sink"] == pytest.approx(1.2)


def test_evidence_is_clipped() -> None:
    assert (MIN_EVIDENCE, MAX_EVIDENCE) == (-1.0, 3.0)
    e = evidence(gap_and_sink(8.0, -5.0), FRONT, {}, "front")
    assert e["gap"] == MAX_EVIDENCE
    assert e["head_sink"] == MIN_EVIDENCE
    # Just inside the clip, unchanged.
    e = evidence(gap_and_sink(2.7, -0.5), FRONT, {}, "front")
    assert e["gap"] == pytest.approx(2.7)
    assert e["head_sink"] == pytest.approx(-0.5)


# -- combining ----------------------------------------------------------------------------

@pytest.mark.parametrize(("pieces", "combined"), [
    ([], None),
    ([1.7], 1.7),  # one cue measured: that cue
    ([-0.4], -0.4),
    ([1.5, 1.5], 1.5),  # two agreeing: their mean
    ([1.5, 0.0], 0.75),  # one alone at 1.5 bands: good
    ([2.5, 0.0, 0.0], 1.5),  # one alone at 2.5: the strongest less one band, caution
    ([2.0, 0.0], 1.0),  # alone at 2: exactly the caution threshold
    ([3.0, -1.0], 1.5),  # alone at the clip: caution at most, never poor
    ([3.0, 1.0], 2.0),  # mean and strongest - 1 agree
    ([2.5, 2.5, 0.1], 2.5),  # the weakest does not drag the two strongest down
    ([0.5, 2.5, 2.0, -1.0], 2.25),  # order does not matter: the two strongest
    ([-1.0, -1.0], -1.0),
])
def test_combine(pieces: list[float], combined: float | None) -> None:
    result = combine(pieces)
    if combined is None:
        assert result is None
    else:
        assert result == pytest.approx(combined)


def test_combine_accepts_any_iterable() -> None:
    assert combine(iter([2.5, 0.0])) == pytest.approx(1.5)
    assert combine({"gap": 1.0, "head_sink": 3.0}.values()) == pytest.approx(2.0)


# -- calibration statistics -----------------------------------------------------------------

def test_spread_is_the_mad_as_a_standard_deviation() -> None:
    # The gap jitters 0.39 0.40 0.41 0.40 0.42: closures -0.025 0 +0.025 0 -0.05; median
    # 0; absolute deviations 0.025 0 0.025 0 0.05: MAD 0.025.
    samples = [front(slouch_ratio=v) for v in (0.39, 0.40, 0.41, 0.40, 0.42)]
    s = cues.spread(samples, FRONT, "front")
    assert s["gap"] == pytest.approx(MAD_TO_SD * 0.025)
    assert s["head_sink"] == 0.0 and s["head_growth"] == 0.0
    m = cues.medians(samples, FRONT, "front")
    assert m["gap"] == pytest.approx(0.0)


def test_separations_are_in_pooled_spreads_with_a_floor() -> None:
    sep = separations({}, {"gap": 0.3, "head_sink": 0.1, "bogus": 5.0},
                      {"gap": 0.03}, {"gap": 0.04})
    # Pooled gap spread sqrt((0.03^2 + 0.04^2) / 2) = 0.035355: 0.3 / 0.035355 = 8.485.
    assert sep["gap"] == pytest.approx(0.3 / (0.00125 ** 0.5))
    # No spread at all: the floor is a tenth of the unit.
    assert sep["head_sink"] == pytest.approx(0.1 / (0.1 * SINK_UNIT))
    assert "bogus" not in sep  # not a cue
    # Measured against an upright pose that was not at zero.
    assert separations({"gap": 0.1}, {"gap": 0.3}, {}, {})["gap"] == \
        pytest.approx(0.2 / (0.1 * GAP_UNIT))


def test_usable_weights_drop_cues_under_the_minimum_separation() -> None:
    assert MIN_SEPARATION == 1.5
    weights = usable_weights({"gap": 1.49, "head_sink": 1.5, "head_growth": 3.0,
                              "shoulder_sink": 12.0, "ear_angle_drop": -6.0})
    # Under 1.5 or the wrong way: out; the rest weighted by separation, capped at 4.
    assert weights == {"head_sink": 1.5, "head_growth": 3.0, "shoulder_sink": cues.MAX_WEIGHT}
    assert cues.MAX_WEIGHT == 4.0
    assert usable_weights({}) == {}
    assert usable_weights({"gap": 0.2}) == {}


# -- two-pose bands -----------------------------------------------------------------------

# The user's own slump: the gap closed 30 %, the head sank 0.12 shoulder widths.
SLUMP = {"gap": 0.3, "head_sink": 0.12}


def part_way(f: float) -> dict[str, float]:
    """A sample `f` of the way from the upright pose to the slump, on both cues."""
    return front(slouch_ratio=0.4 * (1 - 0.3 * f), head_height=0.4 + 0.5 * 0.12 * f)


@pytest.mark.parametrize(("f", "bands"), [
    (0.0, 0.0),  # upright
    (0.25, 0.5),
    (0.5, 1.0),  # the midpoint: one band, the caution threshold
    (1.0, 2.0),  # the user's slump: two bands, the poor threshold
    (3.0, MAX_EVIDENCE),  # far past the slump: clipped
])
def test_two_pose_bands_put_the_midpoint_at_one_band_and_the_slump_at_two(
        f: float, bands: float) -> None:
    got = evidence(part_way(f), FRONT, {}, "front", SLUMP)
    assert got["gap"] == pytest.approx(bands)
    assert got["head_sink"] == pytest.approx(bands)


def test_two_pose_bands_stay_outside_the_jitter_and_unlearned_cues_keep_their_unit() -> None:
    by_name = {c.name: c for c in CUES}
    # Half the slump would be 0.15, inside 3 spreads of 0.1: the jitter wins.
    assert band(by_name["gap"], {"gap": 0.1}, SLUMP) == pytest.approx(0.3)
    assert band(by_name["gap"], {}, SLUMP) == pytest.approx(0.15)
    # A cue the two poses did not separate keeps its one-pose unit.
    assert band(by_name["head_growth"], {}, SLUMP) == pytest.approx(by_name["head_growth"].unit)
