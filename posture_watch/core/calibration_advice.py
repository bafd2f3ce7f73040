"""What to fix when a calibration capture is refused, from what the camera saw (pure).

A refusal names the first problem found, in the order a person would fix them: light,
then being in view, then the shoulders in the frame.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from posture_watch.core.settings import Config
from posture_watch.core.types import PoseSample

# Shares of the capture's samples past which a problem is the likely cause.
_DARK_SHARE = 0.5
_MISSING_SHARE = 0.2
_NO_SHOULDERS_SHARE = 0.5


def _shoulders_seen(sample: PoseSample, min_visibility: float) -> bool:
    for person in sample.people:
        body = person.body
        if body is None:
            continue
        if all(p is not None and p.visibility >= min_visibility
               for p in (body.left_shoulder, body.right_shoulder)):
            return True
    return False


def what_to_fix(samples: Sequence[PoseSample], config: Config) -> str | None:
    """One sentence on what to change, or None when nothing in the picture explains it."""
    if not samples:
        return "no picture came from the camera; check that it is connected and not in use"
    det = config.detection
    dark = sum(s.brightness < det.min_brightness or s.contrast < det.min_contrast
               for s in samples)
    if dark > _DARK_SHARE * len(samples):
        level = statistics.median(s.brightness for s in samples)
        return (f"too dark (mean brightness {level:.0f} of 255, {det.min_brightness:g} "
                "needed): turn on a light in front of you, not behind")
    missing = sum(not s.people for s in samples)
    if missing > _MISSING_SHARE * len(samples):
        when = "at all" if missing == len(samples) else f"in {missing} of {len(samples)} samples"
        return (f"no one was in view {when}: sit in front of the camera, face it, and keep "
                "your head and shoulders in the picture")
    without = sum(not _shoulders_seen(s, det.min_visibility) for s in samples)
    if without > _NO_SHOULDERS_SHARE * len(samples):
        return ("your shoulders are out of the frame: sit a little further back or tilt "
                "the camera down until both shoulders show")
    return None
