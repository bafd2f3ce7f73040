"""Clips made for a test run from the bundled recordings."""

from __future__ import annotations

from pathlib import Path

import cv2


def looped_clip(source: Path, seconds: int, out: Path, fps: float = 1.0) -> Path:
    """`source`'s frames looped at `fps` for `seconds` of media time, written to `out`.

    `run` plays a file in real time and stops at its end; a test that drives a run with
    control commands plays a clip longer than any test may last (pytest-timeout), so the
    run can only end when the test says so, however slowly this machine starts it.
    """
    capture = cv2.VideoCapture(str(source))
    frames = []
    while (frame := capture.read())[0]:
        frames.append(frame[1])
    capture.release()
    assert frames, f"cannot read {source}"
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for index in range(round(seconds * fps)):
        writer.write(frames[index % len(frames)])
    writer.release()
    return out


# Where each pose is held in the bundled recordings (media seconds; see their labels).
POSES = {
    "upright": ("upright_astronaut.mp4", 2.0, 18.0),
    "slouched": ("slouch_astronaut.mp4", 11.0, 18.0),
    "away": ("away_astronaut.mp4", 11.0, 16.0),
}


def _frames_between(path: Path, start_s: float, end_s: float) -> list:
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
    frames, index = [], 0
    while (frame := capture.read())[0]:
        if start_s <= index / fps < end_s:
            frames.append(frame[1])
        index += 1
    capture.release()
    assert frames, f"no frames in {path} between {start_s} and {end_s} s"
    return frames


def desk_scenario(recordings: Path, plan: list[tuple[str, float]], out: Path,
                  fps: float = 2.0) -> Path:
    """A clip of poses held in turn, e.g. [("upright", 20), ("away", 15)]: each pose's
    frames from the bundled recordings, looped for its seconds of media time."""
    pools = {pose: _frames_between(recordings / name, a, b)
             for pose, (name, a, b) in POSES.items()}
    height, width = pools["upright"][0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for pose, seconds in plan:
        pool = pools[pose]
        for index in range(round(seconds * fps)):
            writer.write(pool[index % len(pool)])
    writer.release()
    return out
