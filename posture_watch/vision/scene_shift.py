"""Noticing that the camera moved during a run, from the background of the picture.

The head's height and size in the frame are slump cues, judged against the calibrated
neutral on the assumption that the camera stays where it was (a laptop lid tilted, a
webcam knocked). Landmarks alone cannot tell a moved camera from a sinking trunk, but the
background can: this watch keeps a small grey thumbnail of the first frame it sees, with
everyone's landmark box blanked out, and measures how far later backgrounds are shifted
against it by phase correlation (`cv2.phaseCorrelate`). The thumbnail lives in memory
only; nothing of the picture is ever stored.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from posture_watch.core.types import Frame, Person, Point, PoseSample

THUMB_WIDTH = 160
# A shift of this much of the frame, measured with at least this phase-correlation
# response (below it the background does not match well enough to say), in this many
# samples in a row, is a moved camera: a head sinking in the frame by 3 % already moves a
# slump cue by about half a band at a laptop.
MIN_SHIFT = 0.03
MIN_RESPONSE = 0.2
SAMPLES_IN_A_ROW = 5
# Margin around each person's landmarks that is blanked, as a fraction of the width.
PERSON_MARGIN = 0.15


class SceneShiftWatch:
    """Feed it every sampled frame with its landmarks; it says once that the camera moved."""

    def __init__(self) -> None:
        self._reference: np.ndarray | None = None
        self._window: np.ndarray | None = None
        self._run = 0
        self._said = False
        self.last_shift: tuple[float, float] | None = None  # (dx, dy), fractions of the frame

    def update(self, frame: Frame, sample: PoseSample) -> str | None:
        if self._said:
            return None
        thumb = background_thumbnail(frame.image, sample)
        if thumb is None:
            return None
        if self._reference is None or self._reference.shape != thumb.shape:
            self._reference = thumb
            self._window = cv2.createHanningWindow((thumb.shape[1], thumb.shape[0]),
                                                   cv2.CV_32F)
            return None
        (dx, dy), response = cv2.phaseCorrelate(self._reference, thumb, self._window)
        shift = (dx / thumb.shape[1], dy / thumb.shape[0])
        self.last_shift = shift
        moved = response >= MIN_RESPONSE and math.hypot(*shift) >= MIN_SHIFT
        self._run = self._run + 1 if moved else 0
        if self._run < SAMPLES_IN_A_ROW:
            return None
        self._said = True
        return (f"The camera seems to have moved (the background shifted by about "
                f"{100 * math.hypot(*shift):.0f} % of the picture since this run started). "
                "Head height in the picture is one of the posture cues: put the camera back, "
                "or calibrate again ('posture-watch calibrate --save NAME').")


def background_thumbnail(image: object, sample: PoseSample) -> np.ndarray | None:
    """A small grey float32 copy of the frame with every person's landmark box blanked."""
    if not isinstance(image, np.ndarray) or image.size == 0:
        return None
    height, width = image.shape[:2]
    thumb_height = max(8, round(THUMB_WIDTH * height / width))
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    thumb = cv2.resize(grey, (THUMB_WIDTH, thumb_height),
                       interpolation=cv2.INTER_AREA).astype(np.float32)
    fill = float(thumb.mean())
    scale_x, scale_y = THUMB_WIDTH / width, thumb_height / height
    margin = PERSON_MARGIN * THUMB_WIDTH
    for person in sample.people:
        points = _points(person)
        if not points:
            continue
        xs = [p.x * scale_x for p in points]
        ys = [p.y * scale_y for p in points]
        x0, x1 = int(max(0, min(xs) - margin)), int(min(THUMB_WIDTH, max(xs) + margin))
        y0 = int(max(0, min(ys) - margin))
        thumb[y0:, x0:x1] = fill  # the body continues below its lowest landmark
    return thumb


def _points(person: Person) -> list[Point]:
    body, face = person.body, person.face
    points: list[Point] = []
    if body is not None:
        points += [p for p in (body.nose, body.left_ear, body.right_ear, body.left_shoulder,
                               body.right_shoulder, body.left_hip, body.right_hip)
                   if p is not None]
    if face is not None:
        points.append(face.center)
    return points
