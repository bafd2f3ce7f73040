"""Synthetic landmarks for the pure-core tests: people built from intuitive parameters.

Everything is in image pixels (x to the right, y downwards), as the estimator hands it
to the core. The front-view builder is laid out so its measurements can be worked out by
hand from the parameters:

- the nose sits at `head`; the ear line is `EAR_RISE * head_scale` px above the nose and
  the eyes `EYE_RISE * head_scale` px above it;
- the shoulder line's midpoint is `neck_length - shoulder_raise` px below the nose, the
  shoulders are `shoulder_width` px apart and the line is turned by `shoulder_tilt` deg
  (positive: the shoulder on the image's right is lower, the sign the metric reports);
- `head_scale` > 1 is a head come forward towards the camera: face width, ear span,
  interpupillary distance and the head's vertical offsets grow with it;
- yaw shortens the horizontal spans of the head (ears, eyes, face IPD) by cos(yaw);
  roll turns the eyes and ears about the ear line's midpoint (so their mean height and
  span stay put); pitch only reaches the Face, as the face landmarker reports it.

So with the defaults: slouch ratio = 120 / 300 = 0.4, shrug ratio = (120 + 10) / 300,
ear width ratio = 140 / 300, face width ratio = 150 / 300 = 0.5.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace

from posture_watch.core.types import Body, Face, Person, Point, PoseSample

IMAGE = (640, 480)
HEAD = (320.0, 200.0)
SHOULDER_WIDTH = 300.0
NECK_LENGTH = 120.0
EAR_SPAN = 140.0
EAR_RISE = 10.0
EYE_RISE = 25.0
FACE_WIDTH = 150.0
IPD_PX = 64.0
HIP_WIDTH = 220.0
TORSO_LENGTH = 260.0

BODY_PARTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_hip", "right_hip",
)


def front_person(
    *,
    head: tuple[float, float] = HEAD,
    shoulder_width: float = SHOULDER_WIDTH,
    neck_length: float = NECK_LENGTH,
    pitch: float = 0.0,
    roll: float = 0.0,
    yaw: float = 0.0,
    shoulder_tilt: float = 0.0,
    shoulder_raise: float = 0.0,
    head_scale: float = 1.0,
    visibility: float = 1.0,
    ear_span: float = EAR_SPAN,
    face_width: float = FACE_WIDTH,
    ipd_px: float = IPD_PX,
    face: bool = True,
    hips: bool = False,
    shoulders: bool = True,
    hidden: Iterable[str] = (),
) -> Person:
    """A person facing the camera. `hidden` names body landmarks seen with visibility 0.05;
    `shoulders=False` is a close laptop framing with the shoulders out of the picture."""
    hx, hy = head
    squeeze = math.cos(math.radians(yaw))
    s = head_scale
    ear_mid = (hx, hy - EAR_RISE * s)
    rot = math.radians(roll)

    def about_ear_mid(dx: float, dy: float) -> tuple[float, float]:
        # Rotate the offset (dx, dy) from the ear midpoint by the roll angle.
        c, n = math.cos(rot), math.sin(rot)
        return ear_mid[0] + dx * c - dy * n, ear_mid[1] + dx * n + dy * c

    half_ears = ear_span * s * squeeze / 2
    half_eyes = ipd_px * s * squeeze / 2
    eye_dy = -(EYE_RISE - EAR_RISE) * s
    # The person's left is on the image's right in a front view.
    parts: dict[str, tuple[float, float] | None] = {
        "nose": (hx, hy),
        "left_eye": about_ear_mid(half_eyes, eye_dy),
        "right_eye": about_ear_mid(-half_eyes, eye_dy),
        "left_ear": about_ear_mid(half_ears, 0.0),
        "right_ear": about_ear_mid(-half_ears, 0.0),
        "left_shoulder": None,
        "right_shoulder": None,
        "left_hip": None,
        "right_hip": None,
    }
    if shoulders:
        mx, my = hx, hy + neck_length - shoulder_raise
        t = math.radians(shoulder_tilt)
        dx, dy = shoulder_width / 2 * math.cos(t), shoulder_width / 2 * math.sin(t)
        parts["left_shoulder"] = (mx + dx, my + dy)
        parts["right_shoulder"] = (mx - dx, my - dy)
        if hips:
            parts["left_hip"] = (mx + HIP_WIDTH / 2, my + TORSO_LENGTH)
            parts["right_hip"] = (mx - HIP_WIDTH / 2, my + TORSO_LENGTH)
    body = _body(parts, visibility, set(hidden))
    person_face = None
    if face:
        person_face = Face(
            pitch_deg=pitch, yaw_deg=yaw, roll_deg=roll,
            interpupillary_px=ipd_px * s * squeeze, width_px=face_width * s,
            center=Point(hx, hy - EAR_RISE * s),
        )
    return Person(body=body, face=person_face)


def side_person(
    *,
    shoulder: tuple[float, float] = (300.0, 300.0),
    facing: int = 1,
    neck_length: float = 100.0,
    ear_angle: float = 60.0,
    trunk_flexion: float = 0.0,
    torso_length: float = TORSO_LENGTH,
    visibility: float = 0.95,
    far_visibility: float = 0.1,
    hips: bool = True,
    face: Face | None = None,
) -> Person:
    """A person in profile, facing the image's right (`facing=1`) or left (-1).

    The ear is `neck_length` px from the shoulder at `ear_angle` deg above the horizontal
    (towards the face); trunk flexion tips the shoulders forward of the hips (negative:
    reclined). The far side's landmarks sit just behind the near side's, barely visible.
    """
    sx, sy = shoulder
    a = math.radians(ear_angle)
    ear = (sx + facing * neck_length * math.cos(a), sy - neck_length * math.sin(a))
    f = math.radians(trunk_flexion)
    hip = (sx - facing * torso_length * math.sin(f), sy + torso_length * math.cos(f))
    nose = (ear[0] + facing * 45.0, ear[1] + 5.0)
    eye = (ear[0] + facing * 30.0, ear[1] - 8.0)
    near, far = ("right", "left") if facing > 0 else ("left", "right")
    behind = -facing * 6.0
    parts: dict[str, tuple[float, float] | None] = {
        "nose": nose,
        f"{near}_eye": eye,
        f"{far}_eye": (eye[0] - facing * 4.0, eye[1]),
        f"{near}_ear": ear,
        f"{far}_ear": (ear[0] + behind, ear[1]),
        f"{near}_shoulder": (sx, sy),
        f"{far}_shoulder": (sx + behind, sy),
        f"{near}_hip": hip if hips else None,
        f"{far}_hip": (hip[0] + behind, hip[1]) if hips else None,
    }
    far_names = {name for name in parts if name.startswith(far)}
    points = {
        name: None if xy is None else Point(
            xy[0], xy[1], far_visibility if name in far_names else visibility)
        for name, xy in parts.items()
    }
    return Person(body=Body(**points), face=face)


def _body(parts: dict[str, tuple[float, float] | None], visibility: float,
          hidden: set[str]) -> Body:
    unknown = hidden - set(BODY_PARTS)
    if unknown:
        raise ValueError(f"unknown landmark names: {sorted(unknown)}")
    points = {
        name: None if xy is None else Point(
            xy[0], xy[1], 0.05 if name in hidden else visibility)
        for name, xy in parts.items()
    }
    return Body(**points)


def with_visibility(person: Person, **visibility: float) -> Person:
    """The same person with some body landmarks' visibility changed."""
    assert person.body is not None
    changes = {name: replace(getattr(person.body, name), visibility=v)
               for name, v in visibility.items()}
    return replace(person, body=replace(person.body, **changes))


PeopleAt = Person | Sequence[Person] | None | Callable[[float], Person | Sequence[Person] | None]


def samples(
    people: PeopleAt,
    *,
    seconds: float,
    rate_hz: float = 4.0,
    start: float = 0.0,
    image: tuple[int, int] = IMAGE,
    brightness: float = 128.0,
    contrast: float = 50.0,
) -> Iterator[PoseSample]:
    """PoseSamples at `rate_hz` over [start, start + seconds) of simulated time.

    `people` is one person, several, nobody (None) or a function of the time giving any
    of these. Times are start + i / rate_hz, exact in binary for rates of 1, 2, 4, 0.5.
    """
    count = round(seconds * rate_hz)
    for i in range(count):
        t = start + i / rate_hz
        who = people(t) if callable(people) else people
        if who is None:
            crowd: tuple[Person, ...] = ()
        elif isinstance(who, Person):
            crowd = (who,)
        else:
            crowd = tuple(who)
        yield PoseSample(t, image[0], image[1], crowd, brightness, contrast)


def one_sample(people: PeopleAt, t: float = 0.0, **kwargs: float) -> PoseSample:
    """A single PoseSample at time t."""
    return next(samples(people, seconds=1.0, rate_hz=1.0, start=t, **kwargs))
