"""`run --preview`: an OpenCV window showing the landmarks, the state and the score."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from posture_watch.core.types import Frame, PoseSample, PostureState

_COLOURS = {"good": (80, 200, 80), "caution": (0, 190, 255), "poor": (60, 60, 230),
            "away": (160, 160, 160), "unknown": (160, 160, 160)}
_BONES = (("left_ear", "left_shoulder"), ("right_ear", "right_shoulder"),
          ("left_shoulder", "right_shoulder"), ("left_shoulder", "left_hip"),
          ("right_shoulder", "right_hip"))
WINDOW = "posture-watch"


def annotate(image: np.ndarray, sample: PoseSample, state: PostureState | None,
             caption: str | None = None) -> np.ndarray:
    """A copy of the frame with every person's landmarks and the user's verdict (or the
    `caption` given) drawn on."""
    out = image.copy()
    colour = _COLOURS[state.state.value] if state else (200, 200, 200)
    for person in sample.people:
        body = person.body
        if body is not None:
            points = {name: getattr(body, name) for name in body.__slots__}
            for a, b in _BONES:
                pa, pb = points.get(a), points.get(b)
                if pa and pb and min(pa.visibility, pb.visibility) >= 0.5:
                    cv2.line(out, (round(pa.x), round(pa.y)), (round(pb.x), round(pb.y)),
                             colour, 2)
            for p in points.values():
                if p is not None and p.visibility >= 0.5:
                    cv2.circle(out, (round(p.x), round(p.y)), 4, colour, -1)
        if person.face is not None:
            c = person.face.center
            cv2.circle(out, (round(c.x), round(c.y)), round(person.face.width_px / 2), colour, 1)
    label = caption or ("starting" if state is None else state.state.value)
    if state is not None and state.score is not None:
        label += f"  {state.score}"
    if state is not None and state.note:
        label += f"  ({state.note})"
    cv2.rectangle(out, (0, 0), (out.shape[1], 34), (30, 30, 30), -1)
    cv2.putText(out, label, (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, colour, 2, cv2.LINE_AA)
    return out


def _show_with_opencv(image: np.ndarray) -> None:
    cv2.imshow(WINDOW, image)
    cv2.waitKey(1)


class PreviewEstimator:
    """Wraps the estimator: shows each frame, annotated, in a window (needs a display).

    The window is the desktop shell's when it runs (`show` given: Qt owns the display, and
    OpenCV's own window toolkit must not run beside it), else OpenCV's."""

    def __init__(self, estimator: Any, show: Callable[[np.ndarray], None] | None = None) -> None:
        self._estimator = estimator
        self._show = show or _show_with_opencv
        self.monitor: Any = None  # set by run: supplies the last verdict

    def estimate(self, frame: Frame) -> PoseSample:
        sample = self._estimator.estimate(frame)
        last = getattr(self.monitor, "_last", None)
        self._show(annotate(np.asarray(frame.image), sample, last))
        return sample
