"""The configured MediaPipe landmarkers: which model files to use, and a ready estimator."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from posture_watch.core.settings import Config, SamplingConfig
from posture_watch.vision import models

if TYPE_CHECKING:
    from posture_watch.vision.estimator import PoseEstimator


@dataclass(frozen=True)
class ModelPaths:
    pose: Path
    face: Path


def resolve_models(config: Config, pose: str | None = None,
                   face: str | None = None) -> ModelPaths:
    """The pose and face model files: the command line's, else the config's, else found or
    fetched (vision.models)."""
    found = models.resolve_all(
        {"pose": pose or config.models.pose or None, "face": face or config.models.face or None},
        fetch=True, progress=sys.stderr.isatty())
    return ModelPaths(found["pose"].path, found["face"].path)


def make_estimator(paths: ModelPaths, sampling: SamplingConfig | None = None) -> PoseEstimator:
    """The landmarkers. With `sampling`, the face model runs only when needed (its
    face_every_s and face_moved); without, on every sample (calibration measures all)."""
    from posture_watch.vision import estimator  # imports mediapipe: only when needed

    policy = None if sampling is None else estimator.FacePolicy(sampling.face_every_s,
                                                                 sampling.face_moved)
    return estimator.PoseEstimator(paths.pose, paths.face, face_policy=policy)
