"""Doing less work per sample (issue 12): the face model only when a head moved, and a real
camera asked for a small mode. The face model's savings and what they cost in head angles
are measured on real footage with the real models."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from posture_watch.analysis.analyze import sampling_for
from posture_watch.core.settings import Config
from posture_watch.core.types import PoseSample
from posture_watch.vision.camera import CaptureMode, ask_for_mode
from posture_watch.vision.estimator import FacePolicy, PoseEstimator
from posture_watch.vision.landmarkers import ModelPaths
from posture_watch.vision.sources import open_source
from tests.conftest import FOOTAGE

# Real footage with heads turning and leaning: people at a screen who move a little, and a
# man turning his head through its whole range.
MOVING_HEADS = ("v01_proctoring_center_focus.mp4", "v02_proctoring_center_left_center.mp4",
                "v03_proctoring_center_right_center.mp4", "v05_intel_headpose_male.gif")


def _picture(level: int) -> np.ndarray:
    return np.full((360, 640, 3), level, np.uint8)


def _angles(sample: PoseSample) -> tuple[float, float, float] | None:
    faces = [p.face for p in sample.people if p.face is not None]
    return None if not faces else (faces[0].pitch_deg, faces[0].yaw_deg, faces[0].roll_deg)


def _both_ways(path: Path, model_paths: ModelPaths,
               policy: FacePolicy) -> tuple[list[PoseSample], list[PoseSample], int]:
    """The plain models' samples, and the saving estimator's on the same frames (with the
    number of face-model runs it made)."""
    with open_source(path, rate_hz=5.0) as source, \
            PoseEstimator(model_paths.pose, model_paths.face) as plain, \
            PoseEstimator(model_paths.pose, model_paths.face, face_policy=policy) as saving:
        pairs = [(plain.estimate(frame), saving.estimate(frame)) for frame in source]
        return [a for a, _ in pairs], [b for _, b in pairs], saving.face_runs


def _angle_errors(plain: list[PoseSample], saving: list[PoseSample]) -> list[float]:
    errors = []
    for a, b in zip(plain, saving, strict=True):
        angles_a, angles_b = _angles(a), _angles(b)
        assert (angles_a is None) == (angles_b is None), f"a face seen only once at {a.t_s}"
        if angles_a is not None and angles_b is not None:
            errors.append(max(abs(x - y) for x, y in zip(angles_a, angles_b, strict=True)))
    return sorted(errors)


def test_the_face_model_runs_only_when_a_head_moved(model_paths: ModelPaths) -> None:
    runs = samples = 0
    errors: list[float] = []
    for name in MOVING_HEADS:
        plain, saving, face_runs = _both_ways(FOOTAGE / name, model_paths,
                                              FacePolicy(1.0, 0.05))
        runs, samples = runs + face_runs, samples + len(plain)
        errors += _angle_errors(plain, saving)
    p95 = errors[int(0.95 * len(errors))]
    print(f"face model on {runs}/{samples} samples; head angles within {p95:.2f} deg "
          f"(95th percentile), {errors[-1]:.2f} deg at most")
    assert runs <= 0.35 * samples
    assert p95 <= 2.0 and errors[-1] <= 4.0


def test_a_photo_is_measured_on_every_sample(tmp_path: Path) -> None:
    photo = tmp_path / "desk.png"
    cv2.imwrite(str(photo), _picture(120))
    config = Config()
    with open_source(photo, rate_hz=5.0, still_hold_s=2.0) as source:
        assert sampling_for(source, config) is None
    with open_source(FOOTAGE / MOVING_HEADS[0], rate_hz=5.0) as source:
        assert sampling_for(source, config) == config.sampling


class FakeDevice:
    """A V4L2 camera in miniature: it settles on the nearest mode it supports."""

    MODES = ((1280, 720, 30.0), (640, 480, 30.0), (640, 480, 15.0), (320, 240, 30.0))

    def __init__(self) -> None:
        self.mode = self.MODES[0]
        self.asked: dict[int, float] = {}

    def set(self, prop: int, value: float) -> bool:
        self.asked[prop] = value
        want = (self.asked.get(cv2.CAP_PROP_FRAME_WIDTH, self.mode[0]),
                self.asked.get(cv2.CAP_PROP_FRAME_HEIGHT, self.mode[1]),
                self.asked.get(cv2.CAP_PROP_FPS, self.mode[2]))
        self.mode = min(self.MODES, key=lambda m: (abs(m[0] - want[0]) + abs(m[1] - want[1]),
                                                   abs(m[2] - want[2])))
        return True

    def get(self, prop: int) -> float:
        return {cv2.CAP_PROP_FRAME_WIDTH: self.mode[0], cv2.CAP_PROP_FRAME_HEIGHT: self.mode[1],
                cv2.CAP_PROP_FPS: self.mode[2]}[prop]


def test_a_real_camera_is_asked_for_a_small_mode() -> None:
    device = FakeDevice()
    assert ask_for_mode(device, CaptureMode()) == "640x480 at 15 fps"  # type: ignore[arg-type]
    assert device.asked == {cv2.CAP_PROP_FRAME_WIDTH: 640, cv2.CAP_PROP_FRAME_HEIGHT: 480,
                            cv2.CAP_PROP_FPS: 15.0}
    untouched = FakeDevice()
    assert ask_for_mode(untouched, CaptureMode(0, 0, 0)) == "1280x720 at 30 fps"  # type: ignore[arg-type]
    assert untouched.asked == {}


def test_status_says_what_mode_the_camera_gave() -> None:
    from posture_watch.commands.live import _describe_status

    text = _describe_status({"state": "good", "camera": {
        "source": "camera 0", "opened": True, "rate_hz": 2.0, "mode": "640x480 at 15 fps"}})
    assert "camera: camera 0 (open, 2 samples/s, gives 640x480 at 15 fps)" in text
    text = _describe_status({"state": "good", "camera": {
        "source": "long_session.mp4", "opened": True, "rate_hz": 2.0, "mode": ""}})
    assert "camera: long_session.mp4 (open, 2 samples/s)" in text


def test_run_keeps_frame_sized_memory_out_of_the_heap() -> None:
    """glibc accepts the fixed thresholds (this machine's libc; a fresh interpreter, as
    `run` sets them at its start)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "from posture_watch.monitor.frame_memory import "
         "keep_frames_out_of_the_heap as k; print(k())"],
        capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "True"
