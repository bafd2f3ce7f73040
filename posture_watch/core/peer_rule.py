"""The peer monitors' plain rule, scored beside ours as a yardstick (pure).

Dorso, postured and most webcam posture monitors judge one ratio: how far the nose sits
above the shoulder line, over the shoulder width, against its median at calibration. Below
PEER_FRACTION of that median means slouched; nobody in the frame means away. No smoothing,
no hold, no second cue, and the landmarks are taken as the model gives them (no visibility
cut). It is judged on the same landmarks as our pipeline, in the same run.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable

from posture_watch.core.types import Person, PoseSample, State

PEER_FRACTION = 0.9


def _shoulder_width(person: Person) -> float:
    body = person.body
    if body is None or body.left_shoulder is None or body.right_shoulder is None:
        return 0.0
    return math.dist((body.left_shoulder.x, body.left_shoulder.y),
                     (body.right_shoulder.x, body.right_shoulder.y))


def peer_ratio(sample: PoseSample) -> float | None:
    """The ratio for the largest person in the frame; None if nobody or nothing to measure."""
    people = [p for p in sample.people if p.body is not None]
    if not people:
        return None
    person = max(people, key=_shoulder_width)
    body = person.body
    assert body is not None
    width = _shoulder_width(person)
    if body.nose is None or width < 1.0:
        return None
    assert body.left_shoulder is not None and body.right_shoulder is not None
    shoulder_y = (body.left_shoulder.y + body.right_shoulder.y) / 2
    return (shoulder_y - body.nose.y) / width


def peer_reference(samples: Iterable[PoseSample]) -> float | None:
    """The calibrated median of the ratio over samples of the user sitting upright."""
    ratios = [r for r in map(peer_ratio, samples) if r is not None]
    return statistics.median(ratios) if ratios else None


def peer_state(sample: PoseSample, reference: float | None) -> State:
    """Away with nobody there, unknown with nothing to measure, good until calibrated."""
    if not any(p.body is not None for p in sample.people):
        return State.AWAY
    ratio = peer_ratio(sample)
    if ratio is None:
        return State.UNKNOWN
    if reference is None:
        return State.GOOD
    return State.POOR if ratio < PEER_FRACTION * reference else State.GOOD
