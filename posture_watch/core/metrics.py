"""Raw posture measurements from one person's landmarks (pure).

Every measurement is optional: what the camera cannot see (shoulders out of a close
laptop frame, a face turned away) is None, never guessed. Relative comparison with the
user's calibrated neutral happens in the scorer, not here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from posture_watch.core.types import Body, Person, Point
from posture_watch.core.view import is_side_view

__all__ = ["RawMetrics", "is_back_view", "is_side_view", "measure", "visible"]


@dataclass(frozen=True, slots=True)
class RawMetrics:
    """Absolute measurements for one sample; ratios are unitless, angles in degrees."""

    head_pitch_deg: float | None = None  # from the face pose; down is positive
    head_yaw_deg: float | None = None
    head_roll_deg: float | None = None
    shoulder_tilt_deg: float | None = None  # shoulder line from horizontal, signed
    slouch_ratio: float | None = None  # (shoulder-line y - nose y) / shoulder width
    shrug_ratio: float | None = None  # (shoulder-line y - ear-line y) / shoulder width
    face_width_ratio: float | None = None  # face-mesh width / shoulder width
    ear_width_ratio: float | None = None  # ear-to-ear distance / shoulder width
    distance_cm: float | None = None  # eye-to-camera distance estimate
    side_ear_shoulder_deg: float | None = None  # side view: ear above shoulder angle
    trunk_flexion_deg: float | None = None  # side view: shoulder-hip line from vertical
    # Where the shoulder line sits in the image and how wide it is, both as fractions of the
    # image height: against the neutral they tell rising shoulders from a dropping head.
    shoulder_line_y: float | None = None
    shoulder_width_h: float | None = None
    # The head's height and size in the frame (fractions of the image height): with the
    # camera fixed, a head that sinks or grows against the neutral is a slump or a lean in,
    # even when the shoulders sink with it and the head-to-shoulder ratios hold.
    head_height: float | None = None  # front: the nose; side: the ear
    face_size_h: float | None = None  # front: face-mesh width
    # Side view: the shoulder-to-hip length (image heights) and how far the ear sits ahead
    # of the shoulder, in those lengths.
    torso_h: float | None = None
    head_forward_torso: float | None = None
    side_view: bool = False

    def as_dict(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if v is not None and k != "side_view"}


def visible(point: Point | None, min_visibility: float) -> Point | None:
    if point is None or point.visibility < min_visibility:
        return None
    return point


def _mid(a: Point, b: Point) -> Point:
    return Point((a.x + b.x) / 2, (a.y + b.y) / 2, min(a.visibility, b.visibility))


def _dist(a: Point, b: Point) -> float:
    return math.hypot(a.x - b.x, a.y - b.y)


def focal_length_px(image_width: int, horizontal_fov_deg: float) -> float:
    """Pinhole focal length in pixels from the image width and the camera's field of view."""
    return (image_width / 2.0) / math.tan(math.radians(horizontal_fov_deg) / 2.0)


def eye_distance_cm(
    interpupillary_px: float, yaw_deg: float, image_width: int,
    horizontal_fov_deg: float, interpupillary_mm: float,
) -> float | None:
    """Distance from the camera by similar triangles on the interpupillary distance.

    Assumes an average adult IPD (63 mm by default) and the configured horizontal field
    of view; a turned head shortens the projected IPD by cos(yaw), which is undone here.
    """
    projected = interpupillary_px / math.cos(math.radians(min(abs(yaw_deg), 60.0)))
    if projected <= 1.0:
        return None
    focal = focal_length_px(image_width, horizontal_fov_deg)
    return focal * interpupillary_mm / projected / 10.0


def is_back_view(body: Body | None, min_visibility: float, image_width: int) -> bool:
    """True when the shoulders are swapped, as when the person turns their back.

    Seen from the front, a person's left shoulder is on the image's right; from behind it
    is on the left. (A side view, with overlapping shoulders, is not a back view.)
    """
    if body is None or is_side_view(body, min_visibility):
        return False
    ls = visible(body.left_shoulder, min_visibility)
    rs = visible(body.right_shoulder, min_visibility)
    if ls is None or rs is None:
        return False
    return ls.x - rs.x < -0.01 * image_width


def measure(
    person: Person,
    image_width: int,
    image_height: int,
    *,
    min_visibility: float,
    horizontal_fov_deg: float,
    interpupillary_mm: float,
    view: str = "auto",
) -> RawMetrics:
    """All the measurements this person's landmarks allow."""
    body, face = person.body, person.face
    side = view == "side" or (view == "auto" and is_side_view(body, min_visibility))
    values: dict[str, float | None] = {}
    if face is not None and not side:  # the face model's angles are for a frontal face
        values["head_pitch_deg"] = face.pitch_deg
        values["head_yaw_deg"] = face.yaw_deg
        values["head_roll_deg"] = face.roll_deg
        values["distance_cm"] = eye_distance_cm(
            face.interpupillary_px, face.yaw_deg, image_width,
            horizontal_fov_deg, interpupillary_mm,
        )
    if body is not None:
        if side:
            values.update(_side_metrics(body, min_visibility, image_height))
        else:
            values.update(_front_metrics(body, face.width_px if face else None, min_visibility,
                                         image_height))
    return RawMetrics(**values, side_view=side)


def _front_metrics(
    body: Body, face_width_px: float | None, min_visibility: float, image_height: int
) -> dict[str, float | None]:
    ls = visible(body.left_shoulder, min_visibility)
    rs = visible(body.right_shoulder, min_visibility)
    if ls is None or rs is None:
        return {}
    width = _dist(ls, rs)
    if width < 1.0:
        return {}
    shoulders = _mid(ls, rs)
    # The person's left shoulder appears on the image's right in a front view; the
    # angle is taken with x always increasing so that it stays near 0 when level.
    a, b = (rs, ls) if rs.x <= ls.x else (ls, rs)
    out: dict[str, float | None] = {
        "shoulder_tilt_deg": math.degrees(math.atan2(b.y - a.y, b.x - a.x)),
        "shoulder_line_y": shoulders.y / max(image_height, 1),
        "shoulder_width_h": width / max(image_height, 1),
    }
    nose = visible(body.nose, min_visibility)
    if nose is not None:
        out["slouch_ratio"] = (shoulders.y - nose.y) / width
    le, re = visible(body.left_ear, min_visibility), visible(body.right_ear, min_visibility)
    if le is not None and re is not None:
        out["shrug_ratio"] = (shoulders.y - _mid(le, re).y) / width
        out["ear_width_ratio"] = _dist(le, re) / width
    if face_width_px is not None:
        out["face_width_ratio"] = face_width_px / width
        out["face_size_h"] = face_width_px / max(image_height, 1)
    if nose is not None:
        out["head_height"] = nose.y / max(image_height, 1)
    return out


def _side_metrics(body: Body, min_visibility: float,
                  image_height: int) -> dict[str, float | None]:
    """Ear-over-shoulder angle (a craniovertebral-angle proxy), trunk flexion, and where
    the head sits: its height in the frame and how far ahead of the shoulder it is."""
    pairs = []
    for ear, shoulder, hip in (
        (body.left_ear, body.left_shoulder, body.left_hip),
        (body.right_ear, body.right_shoulder, body.right_hip),
    ):
        e, s = visible(ear, min_visibility), visible(shoulder, min_visibility)
        if e is not None and s is not None:
            pairs.append((e.visibility + s.visibility, e, s, visible(hip, min_visibility)))
    if not pairs:
        return {}
    _, ear, shoulder, hip = max(pairs, key=lambda p: p[0])
    out: dict[str, float | None] = {
        "side_ear_shoulder_deg": math.degrees(
            math.atan2(shoulder.y - ear.y, abs(ear.x - shoulder.x))
        ),
        "head_height": ear.y / max(image_height, 1),
    }
    nose = visible(body.nose, min_visibility)
    if hip is not None and hip.y > shoulder.y:
        # Signed by the way the person faces (the nose points ahead of the ear):
        # leaning forward is positive, reclining negative.
        ahead = nose.x - ear.x if nose is not None else ear.x - shoulder.x
        facing = 1.0 if ahead >= 0 else -1.0
        out["trunk_flexion_deg"] = math.degrees(
            math.atan2(facing * (shoulder.x - hip.x), hip.y - shoulder.y)
        )
        torso = _dist(shoulder, hip)
        out["torso_h"] = torso / max(image_height, 1)
        out["head_forward_torso"] = facing * (ear.x - shoulder.x) / torso
    return out
