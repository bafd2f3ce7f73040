"""Raw measurements (core.metrics) on synthetic landmarks with hand-computed answers."""

from __future__ import annotations

import pytest

from posture_watch.core.metrics import (
    RawMetrics,
    eye_distance_cm,
    focal_length_px,
    is_side_view,
    measure,
)
from posture_watch.core.types import Body, Face, Person, Point
from tests.synthetic import front_person, side_person, with_visibility

VIS = 0.5
FOV = 60.0
IPD_MM = 63.0
# 60 deg HFOV over 640 px: f = 320 / tan(30 deg) = 320 * 1.7320508 = 554.2563 px
FOCAL_640 = 554.2563


def m(person: Person, width: int = 640, view: str = "auto") -> RawMetrics:
    return measure(person, width, 480, min_visibility=VIS, horizontal_fov_deg=FOV,
                   interpupillary_mm=IPD_MM, view=view)


# -- front view ---------------------------------------------------------------------------

def test_front_ratios_from_explicit_landmarks() -> None:
    # Shoulders (220, 300) and (420, 320): width = sqrt(200^2 + 20^2) = 200.9975,
    # midpoint y = 310, tilt = atan(20 / 200) = 5.7106 deg (image-right shoulder lower).
    # Nose y 200: slouch = (310 - 200) / 200.9975 = 0.547270.
    # Ears (260, 190) and (380, 194): mid y 192, shrug = 118 / 200.9975 = 0.587072;
    # ear distance sqrt(120^2 + 4^2) = 120.0666, / 200.9975 = 0.597354.
    # Face width 160: 160 / 200.9975 = 0.796030.
    body = Body(
        nose=Point(320, 200), left_eye=Point(350, 180), right_eye=Point(290, 180),
        left_ear=Point(380, 194), right_ear=Point(260, 190),
        left_shoulder=Point(420, 320), right_shoulder=Point(220, 300),
    )
    face = Face(0.0, 0.0, 0.0, 60.0, 160.0, Point(320, 190))
    r = m(Person(body, face))
    assert r.side_view is False
    assert r.shoulder_tilt_deg == pytest.approx(5.7106, abs=1e-4)
    assert r.slouch_ratio == pytest.approx(0.547270, abs=1e-6)
    assert r.shrug_ratio == pytest.approx(0.587072, abs=1e-6)
    assert r.ear_width_ratio == pytest.approx(0.597354, abs=1e-6)
    assert r.face_width_ratio == pytest.approx(0.796030, abs=1e-6)
    assert r.side_ear_shoulder_deg is None and r.trunk_flexion_deg is None


def test_shoulder_tilt_sign_and_left_right_order() -> None:
    # Image-left shoulder lower: (220, 320) and (420, 300): atan2(-20, 200) = -5.7106 deg,
    # whichever of the two landmarks is labelled left.
    body = Body(nose=Point(320, 200), left_ear=Point(380, 190), right_ear=Point(260, 190),
                left_shoulder=Point(420, 300), right_shoulder=Point(220, 320))
    assert m(Person(body)).shoulder_tilt_deg == pytest.approx(-5.7106, abs=1e-4)
    mirrored = Body(nose=Point(320, 200), left_ear=Point(260, 190), right_ear=Point(380, 190),
                    left_shoulder=Point(220, 320), right_shoulder=Point(420, 300))
    assert m(Person(mirrored)).shoulder_tilt_deg == pytest.approx(-5.7106, abs=1e-4)


def test_builder_defaults_give_the_documented_ratios() -> None:
    r = m(front_person())
    assert r.slouch_ratio == pytest.approx(120 / 300)
    assert r.shrug_ratio == pytest.approx(130 / 300)
    assert r.ear_width_ratio == pytest.approx(140 / 300)
    assert r.face_width_ratio == pytest.approx(0.5)
    assert r.shoulder_tilt_deg == pytest.approx(0.0, abs=1e-9)
    assert (r.head_pitch_deg, r.head_yaw_deg, r.head_roll_deg) == (0.0, 0.0, 0.0)


def test_slouch_shrug_forward_head_and_tilt_from_builder_parameters() -> None:
    # Slouch: nose 84 px above the shoulder line instead of 120 -> 84 / 300 = 0.28; the
    # ears come down with the head: (84 + 10) / 300.
    slouched = m(front_person(neck_length=84))
    assert slouched.slouch_ratio == pytest.approx(0.28)
    assert slouched.shrug_ratio == pytest.approx(94 / 300)
    # Shrug: shoulders 30 px higher -> ear-to-shoulder (130 - 30) / 300 = 1/3, nose 90/300.
    shrugged = m(front_person(shoulder_raise=30))
    assert shrugged.shrug_ratio == pytest.approx(100 / 300)
    assert shrugged.slouch_ratio == pytest.approx(0.3)
    # Forward head: head 1.2x larger -> face 180 / 300 = 0.6, ears 168 / 300 = 0.56.
    forward = m(front_person(head_scale=1.2))
    assert forward.face_width_ratio == pytest.approx(0.6)
    assert forward.ear_width_ratio == pytest.approx(0.56)
    assert forward.shrug_ratio == pytest.approx(132 / 300)  # ear line 12 px above the nose
    # Tilt passes straight through, and keeps the width (so the ratios stay put).
    tilted = m(front_person(shoulder_tilt=8.0))
    assert tilted.shoulder_tilt_deg == pytest.approx(8.0)
    assert tilted.slouch_ratio == pytest.approx(0.4)


def test_head_roll_keeps_the_ear_line_height() -> None:
    r = m(front_person(roll=15.0))
    assert r.head_roll_deg == 15.0
    assert r.shrug_ratio == pytest.approx(130 / 300)
    assert r.ear_width_ratio == pytest.approx(140 / 300)


# -- visibility and framing ---------------------------------------------------------------

def test_invisible_nose_drops_only_the_slouch_ratio() -> None:
    r = m(front_person(hidden=["nose"]))
    assert r.slouch_ratio is None
    assert r.shrug_ratio == pytest.approx(130 / 300)
    assert r.shoulder_tilt_deg == pytest.approx(0.0, abs=1e-9)


def test_one_invisible_ear_drops_shrug_and_ear_width() -> None:
    r = m(front_person(hidden=["left_ear"]))
    assert r.shrug_ratio is None
    assert r.ear_width_ratio is None
    assert r.slouch_ratio == pytest.approx(0.4)


def test_visibility_threshold_is_inclusive_at_min_visibility() -> None:
    just_seen = with_visibility(front_person(), nose=VIS)
    just_hidden = with_visibility(front_person(), nose=VIS - 0.01)
    assert m(just_seen).slouch_ratio == pytest.approx(0.4)
    assert m(just_hidden).slouch_ratio is None


def test_invisible_shoulder_gives_no_shoulder_metrics_but_keeps_the_head() -> None:
    r = m(front_person(pitch=12.0, hidden=["left_shoulder"]))
    assert r.shoulder_tilt_deg is None
    assert r.slouch_ratio is None
    assert r.shrug_ratio is None
    assert r.face_width_ratio is None
    assert r.ear_width_ratio is None
    assert r.head_pitch_deg == 12.0
    assert r.distance_cm is not None


def test_close_framing_without_shoulders_gives_head_angles_and_distance() -> None:
    person = front_person(shoulders=False, pitch=18.0, yaw=-7.0, roll=4.0)
    r = m(person)
    assert r.side_view is False
    assert (r.head_pitch_deg, r.head_yaw_deg, r.head_roll_deg) == (18.0, -7.0, 4.0)
    # The builder shortens the IPD by cos(yaw) and the metric undoes it:
    # 554.2563 * 63 / 64 / 10 = 54.5596 cm.
    assert r.distance_cm == pytest.approx(54.5596, abs=1e-3)
    assert r.as_dict().keys() == {"head_pitch_deg", "head_yaw_deg", "head_roll_deg",
                                  "distance_cm"}


def test_body_without_face_has_no_head_angles_or_distance() -> None:
    person = front_person(face=False)
    r = m(person)
    assert r.head_pitch_deg is None and r.distance_cm is None and r.face_width_ratio is None
    assert r.slouch_ratio == pytest.approx(0.4)


# -- distance -----------------------------------------------------------------------------

def test_focal_length_for_60_degrees_over_640_px() -> None:
    assert focal_length_px(640, 60.0) == pytest.approx(FOCAL_640, abs=1e-3)


def test_eye_distance_by_similar_triangles() -> None:
    # 554.2563 px * 63 mm / 70 px = 498.831 mm = 49.883 cm
    assert eye_distance_cm(70.0, 0.0, 640, 60.0, 63.0) == pytest.approx(49.883, abs=1e-3)
    # Twice the pixels: half as far.
    assert eye_distance_cm(140.0, 0.0, 640, 60.0, 63.0) == pytest.approx(24.942, abs=1e-3)
    # A wider IPD (70 mm) at 70 px: 554.2563 * 70 / 70 / 10 = 55.426 cm
    assert eye_distance_cm(70.0, 0.0, 640, 60.0, 70.0) == pytest.approx(55.426, abs=1e-3)


@pytest.mark.parametrize(("ipd_px", "yaw"), [
    (60.6218, 30.0),   # 70 * cos 30 deg = 60.6218
    (60.6218, -30.0),  # the sign of the turn does not matter
    (35.0, 60.0),      # 70 * cos 60 deg = 35
    (35.0, 80.0),      # beyond 60 deg the correction is capped at 1 / cos 60 deg = 2
])
def test_eye_distance_undoes_the_yaw_foreshortening(ipd_px: float, yaw: float) -> None:
    assert eye_distance_cm(ipd_px, yaw, 640, 60.0, 63.0) == pytest.approx(49.883, abs=1e-3)


def test_eye_distance_of_a_degenerate_ipd_is_none() -> None:
    assert eye_distance_cm(0.5, 0.0, 640, 60.0, 63.0) is None
    assert eye_distance_cm(0.0, 0.0, 640, 60.0, 63.0) is None


def test_measure_uses_the_image_width_for_the_focal_length() -> None:
    # 1280 px wide: f = 640 / tan 30 deg = 1108.5125; * 63 / 64 / 10 = 109.119 cm
    assert m(front_person(), width=1280).distance_cm == pytest.approx(109.119, abs=1e-3)


# -- side view ----------------------------------------------------------------------------

def test_front_view_is_not_a_side_view() -> None:
    assert is_side_view(front_person().body, VIS) is False
    assert is_side_view(None, VIS) is False


@pytest.mark.parametrize("facing", [1, -1])
def test_profile_is_detected_as_side_view(facing: int) -> None:
    person = side_person(facing=facing)
    assert is_side_view(person.body, VIS) is True
    assert m(person).side_view is True


def test_a_turned_face_over_overlapping_shoulders_is_a_side_view() -> None:
    # Ears (340, 190) and (300, 190), nose (360, 200): the nose is 20 px outside the span,
    # 60 px from the far ear: profile 20 / 60 = 0.33, past 0.25 but not past 0.6 alone.
    # Shoulders 100 px apart at y 320, neck 320 - 190 = 130 px: 0.77 necks < 1.25, overlapping.
    body = Body(nose=Point(360, 200), left_ear=Point(340, 190), right_ear=Point(300, 190),
                left_shoulder=Point(370, 320), right_shoulder=Point(270, 320))
    assert is_side_view(body, VIS) is True
    assert m(Person(body)).side_view is True
    # The same head over shoulders 200 px apart (1.54 necks): a glance sideways, not a profile.
    wide = Body(nose=Point(360, 200), left_ear=Point(340, 190), right_ear=Point(300, 190),
                left_shoulder=Point(420, 320), right_shoulder=Point(220, 320))
    assert is_side_view(wide, VIS) is False
    assert m(Person(wide)).side_view is False


def test_narrow_shoulders_with_the_nose_between_the_ears_are_not_a_side_view() -> None:
    # Shoulders 100 px apart while the ears are 140 px apart (the old width rule's side
    # view), but the nose sits between the ears: the face is frontal.
    body = Body(nose=Point(320, 200), left_ear=Point(390, 190), right_ear=Point(250, 190),
                left_shoulder=Point(370, 320), right_shoulder=Point(270, 320))
    assert is_side_view(body, VIS) is False


def test_side_ear_shoulder_angle_on_explicit_landmarks() -> None:
    # Ear (350, 200) over shoulder (300, 280): atan2(80, 50) = 57.9946 deg.
    # Hip (270, 480): the shoulder is 30 px ahead of it over 200 px of height:
    # trunk flexion = atan(30 / 200) = 8.5308 deg, forward.
    # The pose model places the hidden far ear too, just behind the near one: the nose is
    # outside the ears' span (profile 45 / 51), so the view is found to be a side view.
    body = Body(nose=Point(395, 205), right_ear=Point(350, 200),
                left_ear=Point(344, 200, 0.1),
                right_shoulder=Point(300, 280), right_hip=Point(270, 480))
    r = m(Person(body))
    assert r.side_view is True
    assert r.side_ear_shoulder_deg == pytest.approx(57.9946, abs=1e-4)
    assert r.trunk_flexion_deg == pytest.approx(8.5308, abs=1e-4)
    assert r.slouch_ratio is None and r.shoulder_tilt_deg is None


def test_side_ear_shoulder_angle_of_a_forward_head() -> None:
    # Ear far ahead of the shoulder: (400, 260) over (300, 280): atan2(20, 100) = 11.3099 deg
    body = Body(nose=Point(440, 265), right_ear=Point(400, 260),
                left_ear=Point(394, 260, 0.1), right_shoulder=Point(300, 280))
    assert m(Person(body)).side_ear_shoulder_deg == pytest.approx(11.3099, abs=1e-4)
    assert m(Person(body)).trunk_flexion_deg is None  # no hip, no trunk angle


@pytest.mark.parametrize("facing", [1, -1])
@pytest.mark.parametrize(("flexion", "angle"), [(25.0, 48.0), (-15.0, 62.0), (0.0, 55.0)])
def test_side_builder_round_trips_angles_and_trunk_sign(
    facing: int, flexion: float, angle: float
) -> None:
    r = m(side_person(facing=facing, trunk_flexion=flexion, ear_angle=angle))
    assert r.side_ear_shoulder_deg == pytest.approx(angle)
    assert r.trunk_flexion_deg == pytest.approx(flexion, abs=1e-9)


def test_trunk_flexion_sign_facing_left() -> None:
    # Facing the image's left (ear left of the shoulder). Shoulder (300, 280), hip
    # (330, 480): the shoulder is 30 px towards the face: +8.5308 deg (forward).
    forward = Body(nose=Point(205, 205), left_ear=Point(250, 200),
                   right_ear=Point(256, 200, 0.1),
                   left_shoulder=Point(300, 280), left_hip=Point(330, 480))
    assert m(Person(forward)).trunk_flexion_deg == pytest.approx(8.5308, abs=1e-4)
    # Hip (270, 480): the shoulder is behind the hip, reclined: -8.5308 deg.
    reclined = Body(nose=Point(205, 205), left_ear=Point(250, 200),
                    right_ear=Point(256, 200, 0.1),
                    left_shoulder=Point(300, 280), left_hip=Point(270, 480))
    assert m(Person(reclined)).trunk_flexion_deg == pytest.approx(-8.5308, abs=1e-4)


def test_side_view_takes_the_better_seen_side() -> None:
    # Both sides visible, the right ones better: the right ear/shoulder are used.
    body = Body(
        nose=Point(395, 205),
        left_ear=Point(340, 200, 0.6), left_shoulder=Point(330, 280, 0.6),  # atan2(80,10)
        right_ear=Point(350, 200, 0.99), right_shoulder=Point(300, 280, 0.99),  # atan2(80,50)
    )
    assert m(Person(body), view="side").side_ear_shoulder_deg == pytest.approx(
        57.9946, abs=1e-4)


def test_hip_above_the_shoulder_gives_no_trunk_angle() -> None:
    body = Body(nose=Point(395, 205), right_ear=Point(350, 200),
                left_ear=Point(344, 200, 0.1),
                right_shoulder=Point(300, 280), right_hip=Point(300, 250))
    r = m(Person(body))
    assert r.side_view is True
    assert r.side_ear_shoulder_deg == pytest.approx(57.9946, abs=1e-4)
    assert r.trunk_flexion_deg is None
    assert r.torso_h is None and r.head_forward_torso is None


@pytest.mark.parametrize("facing", [1, -1])
def test_side_head_height_torso_and_head_ahead_of_the_shoulder(facing: int) -> None:
    # Shoulder (300, 300), ear 100 px away at 60 deg: 50 px ahead, at y 300 - 86.6025.
    # Upright trunk of 260 px: hip (300, 560). Head ahead = 50 / 260 torsos, either way.
    r = m(side_person(facing=facing))
    assert r.head_height == pytest.approx((300 - 86.6025) / 480, abs=1e-6)
    assert r.torso_h == pytest.approx(260 / 480)
    assert r.head_forward_torso == pytest.approx(50 / 260)
    # A head pushed ahead (ear at 30 deg: 86.6 px ahead) reads further ahead and lower.
    ahead = m(side_person(facing=facing, ear_angle=30.0))
    assert ahead.head_forward_torso == pytest.approx(86.6025 / 260, abs=1e-6)
    assert ahead.head_height == pytest.approx(250 / 480)
    # Without hips, no torso to scale by.
    no_hips = m(side_person(facing=facing, hips=False))
    assert no_hips.torso_h is None and no_hips.head_forward_torso is None
    assert no_hips.head_height == pytest.approx(r.head_height)


def test_front_head_height_and_face_size_in_image_heights() -> None:
    r = m(front_person())
    assert r.head_height == pytest.approx(200 / 480)  # the nose
    assert r.face_size_h == pytest.approx(150 / 480)
    assert r.shoulder_width_h == pytest.approx(300 / 480)
    assert r.shoulder_line_y == pytest.approx(320 / 480)
    assert m(front_person(face=False)).face_size_h is None


def test_face_angles_and_distance_only_in_the_front_view() -> None:
    face = Face(pitch_deg=20.0, yaw_deg=70.0, roll_deg=5.0, interpupillary_px=20.0,
                width_px=90.0, center=Point(380, 215))
    r = m(side_person(face=face))
    assert r.side_view is True
    assert r.head_pitch_deg is None and r.head_yaw_deg is None and r.head_roll_deg is None
    assert r.distance_cm is None
    assert r.side_ear_shoulder_deg == pytest.approx(60.0)
    forced = m(front_person(pitch=12.0), view="side")
    assert forced.head_pitch_deg is None and forced.distance_cm is None
    assert m(front_person(pitch=12.0)).head_pitch_deg == 12.0


def test_view_setting_overrides_detection() -> None:
    front = front_person()
    assert m(front, view="side").side_view is True
    assert m(front, view="side").slouch_ratio is None
    profile = side_person()
    assert m(profile, view="front").side_view is False
    assert m(profile, view="front").side_ear_shoulder_deg is None


def test_as_dict_leaves_out_missing_values_and_the_view_flag() -> None:
    r = RawMetrics(head_pitch_deg=3.0, slouch_ratio=0.4, side_view=True)
    assert r.as_dict() == {"head_pitch_deg": 3.0, "slouch_ratio": 0.4}
