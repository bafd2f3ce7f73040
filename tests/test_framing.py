"""Close framing and a second person, on videos derived from the bundled clips."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from posture_watch import app
from posture_watch.config import Config
from posture_watch.core.types import State
from tests.conftest import RECORDINGS

pytestmark = pytest.mark.model


def frames_of(path: Path) -> Iterator[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            yield frame
    finally:
        cap.release()


def write_video(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def derive(tmp_path: Path, name: str, clip: str,
           edit: Callable[[np.ndarray], np.ndarray]) -> Path:
    source = RECORDINGS / clip
    fps = cv2.VideoCapture(str(source)).get(cv2.CAP_PROP_FPS) or 10.0
    return write_video(tmp_path / name, [edit(f) for f in frames_of(source)], fps)


def analyze(path: Path, model_paths: app.ModelPaths) -> app.Analysis:
    return app.analyze_path(path, Config(), app.CalibrationChoice(), model_paths, progress=False)


def test_close_framing_measures_the_head_and_does_not_guess_the_shoulders(
        tmp_path: Path, model_paths: app.ModelPaths) -> None:
    """A laptop camera close up: the frame ends above the shoulders."""

    def crop(frame: np.ndarray) -> np.ndarray:
        height, width = frame.shape[:2]
        top = frame[: int(height * 0.50), int(width * 0.2): int(width * 0.8)]
        return cv2.resize(top, (top.shape[1] * 2, top.shape[0] * 2))

    video = derive(tmp_path, "close.mp4", "upright_hopper.mp4", crop)
    analysis = analyze(video, model_paths)
    present = [s for s in analysis.states if s.state is not State.AWAY]
    assert len(present) >= 0.9 * len(analysis.states)
    with_head = [s for s in present if "head_pitch_deg" in s.metrics]
    assert len(with_head) >= 0.9 * len(present)
    with_shoulders = [s for s in present if "slouch_ratio" in s.metrics]
    assert len(with_shoulders) <= 0.1 * len(present)
    assert sum(s.state is State.GOOD for s in present) >= 0.9 * len(present)


def test_a_second_person_is_ignored(tmp_path: Path, model_paths: app.ModelPaths) -> None:
    """The user sits upright in front; a smaller person beside them slouches and tilts."""
    other = list(frames_of(RECORDINGS / "head_tilt_hopper.mp4"))

    def composite(frame: np.ndarray, index: list[int] = [0]) -> np.ndarray:  # noqa: B006
        height, width = frame.shape[:2]
        guest = other[min(index[0], len(other) - 1)]
        index[0] += 1
        small = cv2.resize(guest, (width // 3, height // 3))
        canvas = np.full((height, width + width // 3, 3), 120, dtype=np.uint8)
        canvas[:, :width] = frame
        canvas[height // 6: height // 6 + small.shape[0], width:] = small
        return canvas

    video = derive(tmp_path, "two.mp4", "upright_hopper.mp4", composite)
    analysis = analyze(video, model_paths)
    judged = [s for s in analysis.states if s.t_s >= 2.0]
    good = sum(s.state is State.GOOD for s in judged)
    assert good >= 0.9 * len(judged), analysis.summary
    assert analysis.summary.percent_of_measured["poor"] <= 5.0
