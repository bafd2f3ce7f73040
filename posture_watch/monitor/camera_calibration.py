"""Calibration from the camera (`calibrate --camera`): guide the user, capture a stretch of
upright sitting and then (two-pose, the default) a stretch of their usual slump, and refuse
a capture in which they were missing or moving, or a slump that looks like sitting upright."""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time

from posture_watch.core.calibration import (
    Baseline,
    Observation,
    add_slump,
    build_baseline,
    is_steady,
)
from posture_watch.core.pipeline import Estimator, collect_observations
from posture_watch.core.settings import Config
from posture_watch.errors import UserError
from posture_watch.vision.camera import CameraSource
from posture_watch.vision.landmarkers import ModelPaths, make_estimator

# A calibration is refused when the user was found in fewer of its samples than this.
_MIN_FOUND_SHARE = 0.8


def calibrate_from_camera(spec: str, config: Config, models: ModelPaths,
                          seconds: float, countdown_s: int, *,
                          two_pose: bool = False) -> Baseline:
    """Guide the user, capture `seconds` of upright sitting and check it was usable; with
    `two_pose`, then `seconds` of their usual slump, learning their own boundary."""
    camera = CameraSource(spec, 5.0)
    camera.open()
    try:
        with make_estimator(models) as estimator:
            print("Sit upright as you do when you work well: back against the chair, feet "
                  "flat, shoulders relaxed, looking at the screen.")
            upright = _capture(camera, estimator, config, seconds, countdown_s)
            _check(upright, "sit still in your upright posture")
            baseline = build_baseline(upright[0], min_samples=config.calibration.min_samples,
                                      source=f"camera {spec}, {seconds:g} s")
            if not two_pose:
                return baseline
            print("Now slump the way you do when you are tired at the end of a long day: let "
                  "your back round and your head sink, and keep looking at the screen.")
            slumped = _capture(camera, estimator, config, seconds, countdown_s)
            _check(slumped, "hold your slumped posture")
    finally:
        camera.release()
    learned = add_slump(baseline, slumped[0], min_samples=config.calibration.min_samples)
    return dataclasses.replace(learned, source=f"{learned.source}, then {seconds:g} s slumped")


def _capture(camera: CameraSource, estimator: Estimator, config: Config, seconds: float,
             countdown_s: int) -> tuple[list[Observation], int]:
    for n in range(countdown_s, 0, -1):
        print(f"  starting in {n}...", flush=True)
        time.sleep(1.0)
    print(f"Hold it for {seconds:g} seconds.", flush=True)
    start = camera.now()
    frames = itertools.takewhile(lambda frame: frame.t_s - start <= seconds,
                                 camera.frames(threading.Event()))
    return collect_observations(frames, estimator, config)


def _check(captured: tuple[list[Observation], int], what: str) -> None:
    """Refuse a capture in which the user was mostly missing or moving."""
    observations, total = captured
    if total == 0 or len(observations) < _MIN_FOUND_SHARE * total:
        raise UserError(f"calibration refused: you were found in only {len(observations)} of "
                        f"{total} samples; face the camera in good light and try again")
    if not is_steady(observations):
        raise UserError(f"calibration refused: you moved too much while it was capturing; "
                        f"{what} and try again")
