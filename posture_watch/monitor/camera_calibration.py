"""Calibration from the camera (`calibrate --camera`): guide the user, capture a stretch of
upright sitting and then (two-pose, the default) a stretch of their usual slump, and refuse
a capture in which they were missing or moving, or a slump that looks like sitting upright.

The guide is the terminal (`TextGuide`: instructions and a countdown) or the calibration
window (`calibrate --window`, the tray's "Calibrate…"), which shows the live picture with
the landmarks and waits for the user's click. Both save the same profile.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Protocol

from posture_watch.core.calibration import (
    Baseline,
    Observation,
    add_slump,
    build_baseline,
    is_steady,
)
from posture_watch.core.calibration_advice import what_to_fix
from posture_watch.core.pipeline import Estimator, collect_observations
from posture_watch.core.settings import Config
from posture_watch.core.types import Frame, PoseSample
from posture_watch.errors import UserError
from posture_watch.vision.camera import CameraSource
from posture_watch.vision.landmarkers import ModelPaths, make_estimator
from posture_watch.vision.scene_shift import SceneShiftWatch

# A calibration is refused when the user was found in fewer of its samples than this.
_MIN_FOUND_SHARE = 0.8

UPRIGHT = ("upright", "Sit upright as you do when you work well: back against the chair, "
           "feet flat, shoulders relaxed, looking at the screen.")
SLUMP = ("slump", "Now slump the way you do when you are tired at the end of a long day: let "
         "your back round and your head sink, and keep looking at the screen.")


class Guide(Protocol):
    def instruct(self, phase: str, text: str, seconds: float) -> None:
        """A new pose to take ("upright" or "slump"), to hold for `seconds`."""

    def go(self) -> bool:
        """Whether the capture may start now (called with each frame before it)."""

    def show(self, frame: Frame, sample: PoseSample, fraction: float | None) -> None:
        """A frame and what was found in it; `fraction` of the capture done, or None
        while waiting to start."""


class Cancelled(UserError):
    """The user closed the calibration before it finished."""


class TextGuide:
    """The terminal: instructions, then a countdown of `countdown_s` seconds."""

    def __init__(self, countdown_s: int) -> None:
        self._countdown_s = countdown_s
        self._seconds = 0.0

    def instruct(self, phase: str, text: str, seconds: float) -> None:
        self._seconds = seconds
        print(text, flush=True)

    def go(self) -> bool:
        for n in range(self._countdown_s, 0, -1):
            print(f"  starting in {n}...", flush=True)
            time.sleep(1.0)
        return True

    def show(self, frame: Frame, sample: PoseSample, fraction: float | None) -> None:
        if fraction == 0.0:
            print(f"Hold it for {self._seconds:g} seconds.", flush=True)


class _Capture:
    """The camera, the estimator and the moved-camera watch shared by both poses."""

    def __init__(self, camera: CameraSource, estimator: Estimator, config: Config,
                 guide: Guide, stop: threading.Event) -> None:
        self.camera, self.estimator, self.config = camera, estimator, config
        self.guide, self.stop = guide, stop
        self.scene = SceneShiftWatch()
        self.moved: str | None = None

    def _estimate(self, frame: Frame) -> PoseSample:
        sample = self.estimator.estimate(frame)
        self.moved = self.scene.update(frame, sample) or self.moved
        return sample

    def pose(self, phase: str, text: str, seconds: float) -> tuple[list[Observation], int]:
        self.guide.instruct(phase, text, seconds)
        frames = self.camera.frames(self.stop)
        for frame in frames:  # the live picture until the user (or the countdown) says go
            self.guide.show(frame, self._estimate(frame), None)
            if self.guide.go():
                break
        if self.stop.is_set():
            raise Cancelled("calibration cancelled")
        samples: list[PoseSample] = []
        captured = collect_observations(self._held(frames, seconds, samples), _Seen(samples),
                                        self.config)
        if self.stop.is_set():
            raise Cancelled("calibration cancelled")
        self._check(captured, samples, phase)
        return captured

    def _held(self, frames: Iterator[Frame], seconds: float,
              samples: list[PoseSample]) -> Iterator[Frame]:
        start = None
        for frame in frames:
            start = frame.t_s if start is None else start
            if frame.t_s - start > seconds:
                return
            sample = self._estimate(frame)
            samples.append(sample)
            self.guide.show(frame, sample, min(1.0, (frame.t_s - start) / seconds))
            yield frame

    def _check(self, captured: tuple[list[Observation], int], samples: list[PoseSample],
               phase: str) -> None:
        """Refuse a capture in which the user was mostly missing or moving, or the camera
        moved (since the first frame of the upright pose), saying what to fix."""
        observations, total = captured
        if total == 0 or len(observations) < _MIN_FOUND_SHARE * total:
            fix = what_to_fix(samples, self.config) or (
                "face the camera in good light and try again")
            raise UserError(f"calibration refused: you were found in only "
                            f"{len(observations)} of {total} samples; {fix}")
        if not is_steady(observations):
            what = "sit still in your upright posture" if phase == "upright" \
                else "hold your slumped posture"
            raise UserError(f"calibration refused: you moved too much while it was "
                            f"capturing; {what} and try again")
        if self.moved:
            raise UserError("calibration refused: the camera moved during the capture; fix "
                            "it in place and start again")


@dataclasses.dataclass(frozen=True)
class _Seen:
    """An Estimator that hands back the sample the capture already estimated for the
    frame (each frame goes through the model once)."""

    samples: list[PoseSample]

    def estimate(self, frame: Frame) -> PoseSample:
        return self.samples[-1]


def calibrate_from_camera(spec: str, config: Config, models: ModelPaths,
                          seconds: float, countdown_s: int = 3, *, two_pose: bool = False,
                          guide: Guide | None = None,
                          stop: threading.Event | None = None) -> Baseline:
    """Guide the user, capture `seconds` of upright sitting and check it was usable; with
    `two_pose`, then `seconds` of their usual slump, learning their own boundary."""
    guide = guide or TextGuide(countdown_s)
    stop = stop or threading.Event()
    camera = CameraSource(spec, 5.0)
    camera.open()
    try:
        with make_estimator(models) as estimator:
            capture = _Capture(camera, estimator, config, guide, stop)
            upright = capture.pose(*UPRIGHT, seconds)
            baseline = build_baseline(upright[0], min_samples=config.calibration.min_samples,
                                      source=f"camera {spec}, {seconds:g} s")
            if not two_pose:
                return baseline
            slumped = capture.pose(*SLUMP, seconds)
    finally:
        camera.release()
    learned = add_slump(baseline, slumped[0], min_samples=config.calibration.min_samples)
    return dataclasses.replace(learned, source=f"{learned.source}, then {seconds:g} s slumped")
