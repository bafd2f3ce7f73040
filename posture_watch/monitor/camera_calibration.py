"""Calibration from the camera (`calibrate --camera`): guide the user, capture a stretch of
upright sitting, and refuse a capture in which they were missing or moving."""

from __future__ import annotations

import itertools
import threading
import time

from posture_watch.core.calibration import Baseline, build_baseline, is_steady
from posture_watch.core.pipeline import collect_observations
from posture_watch.core.settings import Config
from posture_watch.errors import UserError
from posture_watch.vision.camera import CameraSource
from posture_watch.vision.landmarkers import ModelPaths, make_estimator

# A calibration is refused when the user was found in fewer of its samples than this.
_MIN_FOUND_SHARE = 0.8


def calibrate_from_camera(spec: str, config: Config, models: ModelPaths,
                          seconds: float, countdown_s: int) -> Baseline:
    """Guide the user, capture `seconds` of upright sitting and check it was usable."""
    camera = CameraSource(spec, 5.0)
    camera.open()
    try:
        print("Sit upright as you do when you work well: back against the chair, feet flat, "
              "shoulders relaxed, looking at the screen.")
        for n in range(countdown_s, 0, -1):
            print(f"  starting in {n}...", flush=True)
            time.sleep(1.0)
        print(f"Hold still for {seconds:g} seconds.", flush=True)
        with make_estimator(models) as estimator:
            start = camera.now()
            frames = itertools.takewhile(lambda frame: frame.t_s - start <= seconds,
                                         camera.frames(threading.Event()))
            observations, total = collect_observations(frames, estimator, config)
    finally:
        camera.release()
    if total == 0 or len(observations) < _MIN_FOUND_SHARE * total:
        raise UserError(f"calibration refused: you were found in only {len(observations)} of "
                        f"{total} samples; face the camera in good light and try again")
    if not is_steady(observations):
        raise UserError("calibration refused: you moved too much while it was capturing; "
                        "sit still in your upright posture and try again")
    return build_baseline(observations, min_samples=config.calibration.min_samples,
                          source=f"camera {spec}, {seconds:g} s")
