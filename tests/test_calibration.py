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
    build_baseline,
    looks_upright,
)
from posture_watch.core.metrics import RawMetrics, measure
from posture_watch.errors import UserError
from tests.synthetic import front_person


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
