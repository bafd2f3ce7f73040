"""The calibrated neutral: robust medians, profile round trip, the automatic baseline."""

from __future__ import annotations

import json
from typing import Any

import pytest

from posture_watch.core.calibration import (
    AutoCalibrator,
    Baseline,
    CalibrationError,
    Observation,
    add_slump,
    build_baseline,
    looks_upright,
)
from posture_watch.core.cues import MAD_TO_SD, MAX_WEIGHT, MIN_SEPARATION
from posture_watch.core.metrics import RawMetrics, measure
from posture_watch.core.rules import RuleBook
from posture_watch.core.scoring import PostureScorer
from posture_watch.core.settings import Config
from posture_watch.core.types import Level, Person, State
from posture_watch.errors import UserError
from tests.synthetic import front_person, samples, side_person


def obs(position: tuple[float, float] = (0.5, 0.4), **values: Any) -> Observation:
    return Observation(RawMetrics(**values), position)


def test_baseline_is_the_median_of_each_metric() -> None:
    slouch = [0.50, 0.52, 0.48, 0.51, 0.49]
    pitch = [2.0, 4.0, 3.0, 1.0, 5.0]
    xs = [0.40, 0.50, 0.45, 0.55, 0.60]
    observations = [obs((x, 0.3), slouch_ratio=s, head_pitch_deg=p)
                    for s, p, x in zip(slouch, pitch, xs, strict=True)]
    b = build_baseline(observations, min_samples=5, source="test")
    assert b.metrics["slouch_ratio"] == pytest.approx(0.50)
    assert b.metrics["head_pitch_deg"] == 3.0
    # Spread: median absolute deviation. Pitch deviations 1,1,0,2,2 -> 1.
    assert b.spread["head_pitch_deg"] == 1.0
    assert b.spread["slouch_ratio"] == pytest.approx(0.01)
    assert b.position == (0.50, 0.3)
    assert b.samples == 5
    assert b.source == "test"
    assert b.side_view is False
    assert b.get("shrug_ratio") is None


def test_outliers_are_rejected_before_the_median() -> None:
    # All seven: sorted .48 .49 .50 .51 .52 3.0 3.1 -> median .51, deviations
    # .03 .02 .01 0 .01 2.49 2.59 -> MAD .02, keep within 3 * .02 = .06 of .51:
    # .48 .. .52 stay, 3.0 and 3.1 go -> median .50 (a plain median would say .51).
    values = [0.50, 0.52, 3.0, 0.48, 0.51, 3.1, 0.49]
    b = build_baseline([obs(slouch_ratio=v) for v in values], min_samples=5, source="t")
    assert b.metrics["slouch_ratio"] == pytest.approx(0.50)
    assert b.spread["slouch_ratio"] == pytest.approx(0.01)


def test_wild_head_angles_do_not_move_the_pitch_baseline() -> None:
    # Nine samples near 4 deg and two glances down at 40 and 45 deg.
    pitch = [4.0, 3.0, 5.0, 4.0, 40.0, 4.0, 3.0, 5.0, 45.0, 4.0, 4.0]
    b = build_baseline([obs(head_pitch_deg=p) for p in pitch], min_samples=5, source="t")
    assert b.metrics["head_pitch_deg"] == 4.0
    assert b.spread["head_pitch_deg"] == 0.0


def test_too_few_samples_is_a_calibration_error_with_the_counts() -> None:
    with pytest.raises(CalibrationError) as info:
        build_baseline([obs(slouch_ratio=0.5)] * 3, min_samples=5, source="clip.mp4")
    message = str(info.value)
    assert "only 3 samples" in message
    assert "at least 5" in message
    assert "clip.mp4" in message
    assert isinstance(info.value, UserError)


def test_a_metric_seen_in_too_few_samples_is_left_out() -> None:
    # min_samples 6: a metric needs at least 3 of the samples. Distance in 2: left out.
    observations = [obs(slouch_ratio=0.5, distance_cm=60.0)] * 2 + [obs(slouch_ratio=0.5)] * 4
    b = build_baseline(observations, min_samples=6, source="t")
    assert set(b.metrics) == {"slouch_ratio"}
    observations.append(obs(slouch_ratio=0.5, distance_cm=62.0))
    b = build_baseline(observations, min_samples=6, source="t")
    assert b.metrics["distance_cm"] == 60.0


def test_side_view_is_a_majority_vote() -> None:
    side = Observation(RawMetrics(side_ear_shoulder_deg=55.0, side_view=True), (0.5, 0.4))
    front = Observation(RawMetrics(head_pitch_deg=1.0, side_view=False), (0.5, 0.4))
    assert build_baseline([side] * 3 + [front] * 2, min_samples=5, source="t").side_view is True
    assert build_baseline([side] * 2 + [front] * 3, min_samples=5, source="t").side_view is False


def test_baseline_from_measured_synthetic_person() -> None:
    raw = measure(front_person(pitch=6.0), 640, 480, min_visibility=0.5, horizontal_fov_deg=60.0,
                  interpupillary_mm=63.0)
    b = build_baseline([Observation(raw, (0.5, 0.4))] * 5, min_samples=5, source="t")
    assert b.metrics["slouch_ratio"] == pytest.approx(0.4)
    assert b.metrics["face_width_ratio"] == pytest.approx(0.5)
    assert b.metrics["head_pitch_deg"] == 6.0


# -- profile round trip -------------------------------------------------------------------

def _sample_baseline() -> Baseline:
    return Baseline(
        metrics={"slouch_ratio": 0.41, "head_pitch_deg": 3.5},
        spread={"slouch_ratio": 0.01, "head_pitch_deg": 0.8},
        position=(0.48, 0.37), samples=42, source="calibrate", side_view=False,
    )


def test_to_dict_from_dict_round_trip() -> None:
    b = _sample_baseline()
    data = b.to_dict()
    assert data["version"] == 1
    assert data["position"] == [0.48, 0.37]
    assert Baseline.from_dict(data) == b
    # And through JSON, as profiles are stored.
    assert Baseline.from_dict(json.loads(json.dumps(data))) == b


def test_round_trip_without_position() -> None:
    b = Baseline(metrics={"side_ear_shoulder_deg": 52.0}, side_view=True, samples=9)
    again = Baseline.from_dict(json.loads(json.dumps(b.to_dict())))
    assert again == b
    assert again.position is None and again.side_view is True


@pytest.mark.parametrize("garbage", [
    None,
    "baseline",
    [1, 2, 3],
    {},
    {"version": 2, "metrics": {"slouch_ratio": 0.4}},
    {"version": 1},
    {"version": 1, "metrics": {}},
    {"version": 1, "metrics": [0.4]},
    {"version": 1, "metrics": {"slouch_ratio": "tall"}},
    {"version": 1, "metrics": {"slouch_ratio": 0.4}, "position": [0.5]},
    {"version": 1, "metrics": {"slouch_ratio": 0.4}, "position": 7},
    {"version": 1, "metrics": {"slouch_ratio": 0.4}, "samples": "many"},
])
def test_from_dict_on_garbage_is_a_user_error(garbage: Any) -> None:
    with pytest.raises(UserError, match=r"^me\.json: not a valid calibration"):
        Baseline.from_dict(garbage, origin="me.json")


@pytest.mark.parametrize("bad", ["nan", "inf", float("nan")])
def test_from_dict_rejects_non_finite_numbers(bad: Any) -> None:
    with pytest.raises(UserError, match="not a valid calibration"):
        Baseline.from_dict({"version": 1, "metrics": {"slouch_ratio": bad}})


# -- automatic baseline -------------------------------------------------------------------

def test_looks_upright_uses_the_good_bands() -> None:
    assert looks_upright(RawMetrics(head_pitch_deg=14.9, head_roll_deg=-9.0,
                                    head_yaw_deg=15.0, shoulder_tilt_deg=5.9))
    assert not looks_upright(RawMetrics(head_pitch_deg=25.1))
    assert not looks_upright(RawMetrics(head_pitch_deg=-25.1))
    assert not looks_upright(RawMetrics(head_roll_deg=10.5))
    assert not looks_upright(RawMetrics(head_yaw_deg=-20.0))
    assert not looks_upright(RawMetrics(shoulder_tilt_deg=6.5))
    assert looks_upright(RawMetrics(slouch_ratio=0.1))  # nothing to judge: upright


def test_auto_calibrator_waits_for_auto_seconds_of_upright_samples() -> None:
    auto = AutoCalibrator(seconds=5.0, min_samples=5)
    # 1 Hz: ten seconds of a head pitched 30 deg down are ignored.
    for t in range(10):
        assert auto.offer(float(t), obs(head_pitch_deg=30.0, slouch_ratio=0.2)) is None
    # Upright from t = 10: nothing until 5 s later, at t = 15 (six samples).
    for t in range(10, 15):
        assert auto.offer(float(t), obs(head_pitch_deg=2.0, slouch_ratio=0.4)) is None
    b = auto.offer(15.0, obs(head_pitch_deg=2.0, slouch_ratio=0.4))
    assert b is not None
    assert b.samples == 6
    assert b.metrics["head_pitch_deg"] == 2.0
    assert b.metrics["slouch_ratio"] == pytest.approx(0.4)
    assert "automatic" in b.source


def test_auto_calibrator_restarts_the_stretch_after_a_non_upright_sample() -> None:
    auto = AutoCalibrator(seconds=4.0, min_samples=3)
    assert auto.offer(0.0, obs(head_pitch_deg=1.0, slouch_ratio=0.40)) is None
    assert auto.offer(1.0, obs(head_pitch_deg=1.0, slouch_ratio=0.40)) is None
    assert auto.offer(2.0, obs(head_roll_deg=25.0, slouch_ratio=0.10)) is None
    # The stretch starts again at t = 3, so t = 4 (4 s after t = 0) is not enough.
    for t in (3.0, 4.0, 5.0, 6.0):
        assert auto.offer(t, obs(head_pitch_deg=1.0, slouch_ratio=0.42)) is None
    b = auto.offer(7.0, obs(head_pitch_deg=1.0, slouch_ratio=0.44))
    assert b is not None
    assert b.samples == 5
    assert b.metrics["slouch_ratio"] == pytest.approx(0.42)


def test_auto_calibrator_waits_for_a_steady_stretch() -> None:
    """A posture still changing (the user settling in) is not learned as the neutral."""
    auto = AutoCalibrator(seconds=4.0, min_samples=3)
    # The slouch ratio sinks 0.56 -> 0.40 over t = 0..4: more than 10 % of its median.
    for t, ratio in zip(range(5), (0.56, 0.52, 0.48, 0.44, 0.40), strict=True):
        assert auto.offer(float(t), obs(head_pitch_deg=1.0, slouch_ratio=ratio)) is None
    # Then it holds at 0.38. At t = 7 the window is 0.44 0.40 | 0.38 0.38 0.38: its halves'
    # medians differ by 0.04, over 5 % of 0.38. At t = 8 it is 0.40 0.38 | 0.38 0.38 0.38:
    # 0.01 apart, steady, learned.
    learned = None
    for t in range(5, 12):
        learned = auto.offer(float(t), obs(head_pitch_deg=1.0, slouch_ratio=0.38))
        if learned:
            break
    assert learned is not None and t == 8
    assert learned.metrics["slouch_ratio"] == pytest.approx(0.38)


def test_auto_calibrator_also_needs_min_samples() -> None:
    # One sample every 2 s: 5 s pass at t = 6 (4 samples), min_samples 5 is reached at t = 8.
    auto = AutoCalibrator(seconds=5.0, min_samples=5)
    for t in (0.0, 2.0, 4.0, 6.0):
        assert auto.offer(t, obs(head_pitch_deg=0.0)) is None
    b = auto.offer(8.0, obs(head_pitch_deg=0.0))
    assert b is not None and b.samples == 5


# -- the slump cues' noise and the two-pose calibration -------------------------------------

def _measured(person: Person) -> Observation:
    raw = measure(person, 640, 480, min_visibility=0.5, horizontal_fov_deg=60.0,
                  interpupillary_mm=63.0)
    return Observation(raw, (0.5, 0.4))


# Landmark jitter of a pixel or two on the head, the shoulders still.
JITTER = [0.0, 1.0, -1.0, 0.0, 2.0, -1.0, 1.0, 0.0, -2.0, 1.0]


def _head_down(f: float, jitter: float = 0.0) -> Person:
    """`f` of the way from upright (0) to the slump (1): the head drops 36 px onto shoulders
    that stay put, so the nose-to-shoulder gap closes 30 % and the head sinks 0.12 widths."""
    drop = 36.0 * f + jitter
    return front_person(head=(320.0, 200.0 + drop), neck_length=120.0 - drop)


def _upright_baseline() -> Baseline:
    return build_baseline([_measured(_head_down(0.0, j)) for j in JITTER],
                          min_samples=5, source="t")


def _two_pose_baseline() -> Baseline:
    return add_slump(_upright_baseline(), [_measured(_head_down(1.0, j)) for j in JITTER],
                     min_samples=5)


def test_the_baseline_learns_each_cues_calibration_noise() -> None:
    still = build_baseline([_measured(front_person())] * 5, min_samples=5, source="t")
    assert still.cue_noise == {"gap": 0.0, "head_sink": 0.0, "shoulder_sink": 0.0,
                               "head_growth": 0.0}
    jittery = _upright_baseline()
    # The head jitters by a pixel (MAD): the gap by 1/120 of itself, the head by 1/300 of
    # the shoulder width; the shoulders and the face not at all.
    assert jittery.cue_noise["gap"] == pytest.approx(MAD_TO_SD / 120)
    assert jittery.cue_noise["head_sink"] == pytest.approx(MAD_TO_SD / 300)
    assert jittery.cue_noise["shoulder_sink"] == 0.0
    assert not jittery.two_pose and jittery.view == "front"


def test_the_side_view_baseline_learns_the_side_cues() -> None:
    side = build_baseline([_measured(side_person(ear_angle=60.0 + j)) for j in JITTER],
                          min_samples=5, source="t")
    assert side.side_view and side.view == "side"
    assert set(side.cue_noise) == {"ear_angle_drop", "head_ahead", "head_sink_side",
                                   "trunk_lean"}
    assert side.cue_noise["ear_angle_drop"] == pytest.approx(MAD_TO_SD * 1.0)


def test_add_slump_refuses_a_slump_that_looks_like_upright() -> None:
    upright = [_measured(_head_down(0.0, j)) for j in JITTER]
    with pytest.raises(CalibrationError, match="looks like the upright") as info:
        add_slump(_upright_baseline(), upright, min_samples=5)
    assert isinstance(info.value, UserError)
    # A slump within the upright's own jitter (half a pixel) is refused too.
    with pytest.raises(CalibrationError, match="looks like the upright"):
        add_slump(_upright_baseline(), [_measured(_head_down(0.5 / 36, j)) for j in JITTER],
                  min_samples=5)


def test_add_slump_refuses_too_few_samples() -> None:
    slumped = [_measured(_head_down(1.0))] * 3
    with pytest.raises(CalibrationError) as info:
        add_slump(_upright_baseline(), slumped, min_samples=5)
    assert "only 3 samples" in str(info.value) and "at least 5" in str(info.value)
    # Samples seen from the other view do not count.
    side = [_measured(side_person())] * 10
    with pytest.raises(CalibrationError, match="only 0 samples"):
        add_slump(_upright_baseline(), side, min_samples=5)


def test_add_slump_learns_the_cues_that_told_the_poses_apart() -> None:
    upright = _upright_baseline()
    b = _two_pose_baseline()
    assert b.two_pose and not upright.two_pose
    # The gap and the head height moved; the face and the shoulders did not.
    assert set(b.slump_weights) == {"gap", "head_sink"}
    assert set(b.slump) == set(b.slump_weights)
    assert b.slump["gap"] == pytest.approx(0.3)
    assert b.slump["head_sink"] == pytest.approx(0.12)
    assert all(MIN_SEPARATION <= w <= MAX_WEIGHT for w in b.slump_weights.values())
    # The neutral itself is kept.
    assert (b.metrics, b.spread, b.cue_noise) == (upright.metrics, upright.spread,
                                                  upright.cue_noise)


def _slouch_level(baseline: Baseline, person: Person) -> tuple[Level, float]:
    results = RuleBook(Config().thresholds, Config().smoothing).evaluate(
        _measured(person).metrics.as_dict(), baseline)
    (slouch,) = [r for r in results if r.rule == "slouch"]
    return slouch.level, slouch.value


@pytest.mark.parametrize(("f", "level", "position"), [
    (0.0, Level.GOOD, 0.0),
    (0.4, Level.GOOD, 0.8),
    (0.6, Level.CAUTION, 1.2),  # past the midpoint to the user's slump
    (0.9, Level.CAUTION, 1.8),
    (1.1, Level.POOR, 2.2),  # past the user's slump
    (2.0, Level.POOR, 3.0),  # far past it: clipped
])
def test_after_a_two_pose_calibration_the_rules_judge_against_the_users_slump(
    f: float, level: Level, position: float,
) -> None:
    assert _slouch_level(_two_pose_baseline(), _head_down(f)) == \
        (level, pytest.approx(position))


def test_the_users_own_slump_is_judged_poor() -> None:
    """The user showed this slump at calibration: it is the poor posture to warn about."""
    level, position = _slouch_level(_two_pose_baseline(), _head_down(1.0))
    assert position == pytest.approx(2.0)
    assert level is Level.POOR


def test_a_scorer_with_a_two_pose_calibration_judges_the_lean_and_the_slump() -> None:
    scorer = PostureScorer(Config(), _two_pose_baseline())
    upright = [scorer.update(s) for s in samples(_head_down(0.0), seconds=2)]
    assert {s.state for s in upright} == {State.GOOD}
    leaning = [scorer.update(s) for s in samples(_head_down(0.6), seconds=2, start=2)]
    assert leaning[-1].state is State.CAUTION
    slumped = [scorer.update(s) for s in samples(_head_down(1.2), seconds=2, start=4)]
    assert slumped[-1].state is State.POOR
    back = [scorer.update(s) for s in samples(_head_down(0.0), seconds=2, start=6)]
    assert back[-1].state is State.GOOD


@pytest.mark.parametrize(("slump_px", "sample_px", "one_pose", "two_pose"), [
    # A user whose slump is slight (12 px): 9 px of it is three quarters of the way (1.5),
    # caution; by the cues' units alone it is well under a band (gap 9/120, head 9/300).
    (12.0, 9.0, Level.GOOD, Level.CAUTION),
    # A user who slumps deeply (60 px): 24 px is only 0.4 of the way (0.8), good; by the
    # units alone (gap 20 %, head 0.08 widths) it is past a band.
    (60.0, 24.0, Level.CAUTION, Level.GOOD),
])
def test_the_users_own_slump_sets_the_scale(slump_px: float, sample_px: float,
                                            one_pose: Level, two_pose: Level) -> None:
    upright = _upright_baseline()
    slump = add_slump(upright, [_measured(_head_down(slump_px / 36, j)) for j in JITTER],
                      min_samples=5)
    sample = _head_down(sample_px / 36)
    assert _slouch_level(upright, sample)[0] is one_pose
    assert _slouch_level(slump, sample)[0] is two_pose


def test_round_trip_keeps_the_cue_noise_and_the_slump() -> None:
    b = _two_pose_baseline()
    data = json.loads(json.dumps(b.to_dict()))
    assert set(data) >= {"cue_noise", "slump", "slump_weights"}
    again = Baseline.from_dict(data)
    assert again == b
    assert again.two_pose and dict(again.slump_weights) == dict(b.slump_weights)
    assert dict(again.cue_noise) == dict(b.cue_noise)


def test_an_old_profile_without_the_slump_fields_still_loads() -> None:
    old = {"version": 1, "metrics": {"slouch_ratio": 0.41, "head_pitch_deg": 3.5},
           "spread": {"slouch_ratio": 0.01}, "position": [0.48, 0.37], "samples": 42,
           "source": "calibrate", "side_view": False}
    b = Baseline.from_dict(old)
    assert b.metrics["slouch_ratio"] == 0.41
    assert (dict(b.cue_noise), dict(b.slump), dict(b.slump_weights)) == ({}, {}, {})
    assert not b.two_pose and b.view == "front"
    # Judged with the cues' units as bands.
    results = RuleBook(Config().thresholds, Config().smoothing).evaluate(
        {"slouch_ratio": 0.41}, b)
    assert [r.rule for r in results if r.rule == "slouch"] == ["slouch"]


@pytest.mark.parametrize("field_name", ["cue_noise", "slump", "slump_weights"])
def test_from_dict_rejects_bad_slump_fields(field_name: str) -> None:
    for bad in ({"gap": "wide"}, {"gap": float("inf")}, [0.1]):
        data = {"version": 1, "metrics": {"slouch_ratio": 0.4}, field_name: bad}
        with pytest.raises(UserError, match="not a valid calibration"):
            Baseline.from_dict(data)
