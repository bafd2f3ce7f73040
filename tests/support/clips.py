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
