"""Which way the camera sees the user: from the front or from the side (pure).

Two cues from the pose landmarks alone, so a profile is found whether or not the face
model sees the face:

- the face in profile: the nose lies outside the span of the two ears. Seen from the
  front the nose sits between them; it leaves that span once the head is turned more than
  about 40 degrees (the nose stands out from the face about as far as the ears sit back).
  The pose model places the hidden ear too, so the cue works with one ear out of sight.
- narrow shoulders: seen from the side the shoulders overlap, so the shoulder line is
  short next to the neck (the height from the ear line down to the shoulder line). From the
  front it is about one and a half to two neck heights wide, a slumped neck only widening it.

Measured on the shared footage (2026-11-29): every frontal clip sample has the nose inside
the ear span by at least a quarter of the far ear's distance and shoulders wider than 1.39
neck heights; the real side-view desk photos (s05) have the nose outside the span by 0.54
or more, and s04/s06 chair photos by 0.3 or more with narrow shoulders. A turned head alone
(a glance at a colleague) keeps the shoulders wide, so it needs a strong profile to count.
"""

from __future__ import annotations

import math

from posture_watch.core.types import Body, Point

# How far outside the ear span the nose must be, as a fraction of its distance to the far ear.
PROFILE_WITH_NARROW_SHOULDERS = 0.25
PROFILE_ALONE = 0.6
# Shoulders narrower than this many neck heights overlap, as seen from the side.
NARROW_SHOULDERS_IN_NECKS = 1.25


def profile_score(body: Body) -> float | None:
    """How far the nose lies outside the ears' span (positive) or inside it (negative).

    1 means the nose is as far outside the span from the near ear as from the far one would
    allow (a perfect profile); -1 means it is centred between the ears.
    """
    nose, left, right = body.nose, body.left_ear, body.right_ear
    if nose is None or left is None or right is None:
        return None
    to_left, to_right = nose.x - left.x, nose.x - right.x
    far = max(abs(to_left), abs(to_right))
    if far < 1e-6:
        return None
    near = min(abs(to_left), abs(to_right))
    return near / far if to_left * to_right > 0 else -near / far


def shoulder_width_in_necks(body: Body) -> float | None:
    """Shoulder width over the height from the ear line down to the shoulder line."""
    ls, rs, le, re = body.left_shoulder, body.right_shoulder, body.left_ear, body.right_ear
    if ls is None or rs is None or le is None or re is None:
        return None
    neck = (ls.y + rs.y) / 2 - (le.y + re.y) / 2
    if neck <= 1e-6:
        return None  # ears at or below the shoulders: not a sitting person's head
    return math.dist((ls.x, ls.y), (rs.x, rs.y)) / neck


def is_side_view(body: Body | None, min_visibility: float) -> bool:
    """True when the landmarks show a profile: the face turned sideways with overlapping
    shoulders, or a face so clearly in profile that the shoulders need not be checked."""
    if body is None or not _seen(body.nose, min_visibility) \
            or not (_seen(body.left_ear, min_visibility) or _seen(body.right_ear, min_visibility)):
        return False
    profile = profile_score(body)
    if profile is None:
        return False
    if profile > PROFILE_ALONE:
        return True
    narrow = shoulder_width_in_necks(body)
    return profile > PROFILE_WITH_NARROW_SHOULDERS and narrow is not None \
        and narrow < NARROW_SHOULDERS_IN_NECKS


def _seen(point: Point | None, min_visibility: float) -> bool:
    return point is not None and point.visibility >= min_visibility
