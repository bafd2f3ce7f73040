"""Which way the camera sees the user (core.view), on hand-built landmarks.

The scores are worked out by hand: the profile score is how far the nose lies outside the
ears' span over its distance to the far ear (negative inside it), and the shoulder width is
counted in neck heights (ear line down to the shoulder line).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from posture_watch.core.types import Body, Point
from posture_watch.core.view import (
    NARROW_SHOULDERS_IN_NECKS,
    PROFILE_ALONE,
    PROFILE_WITH_NARROW_SHOULDERS,
    is_side_view,
    profile_score,
    shoulder_width_in_necks,
)
from tests.synthetic import front_person, side_person

VIS = 0.5
EAR_Y, SHOULDER_Y = 190.0, 320.0  # a neck of 130 px


def body(nose_x: float, ears: tuple[float, float], shoulders: tuple[float, float], *,
         nose_vis: float = 1.0, ear_vis: tuple[float, float] = (1.0, 1.0)) -> Body:
    """Ears at EAR_Y, shoulders at SHOULDER_Y, the nose 10 px below the ear line."""
    return Body(nose=Point(nose_x, EAR_Y + 10, nose_vis),
                left_ear=Point(ears[0], EAR_Y, ear_vis[0]),
                right_ear=Point(ears[1], EAR_Y, ear_vis[1]),
                left_shoulder=Point(shoulders[0], SHOULDER_Y),
                right_shoulder=Point(shoulders[1], SHOULDER_Y))


# Shoulders 300 px apart (2.31 necks) and 100 px apart (0.77 necks).
WIDE = (470.0, 170.0)
NARROW = (370.0, 270.0)


def test_the_thresholds_are_ordered() -> None:
    assert 0 < PROFILE_WITH_NARROW_SHOULDERS < PROFILE_ALONE < 1
    assert NARROW_SHOULDERS_IN_NECKS == 1.25


def test_a_frontal_body_is_not_a_side_view() -> None:
    # Nose centred between ears at 390 and 250: -70 / 70 = -1.
    frontal = body(320, (390, 250), WIDE)
    assert profile_score(frontal) == pytest.approx(-1.0)
    assert shoulder_width_in_necks(frontal) == pytest.approx(300 / 130)
    assert is_side_view(frontal, VIS) is False
    # The synthetic front builder agrees.
    assert is_side_view(front_person().body, VIS) is False


def test_narrow_shoulders_alone_do_not_make_a_side_view() -> None:
    # A frontal face over shoulders that overlap (a narrow person, or one turned away from a
    # camera that still sees the face straight on): the nose is inside the span.
    assert is_side_view(body(320, (390, 250), NARROW), VIS) is False
    # Even a nose only just inside the span (-10 / 130).
    assert profile_score(body(380, (390, 250), NARROW)) == pytest.approx(-10 / 130)
    assert is_side_view(body(380, (390, 250), NARROW), VIS) is False


@pytest.mark.parametrize("facing", [1, -1])
def test_a_profile_with_overlapping_shoulders_is_a_side_view(facing: int) -> None:
    # Facing right: ears at 340 and 334 (the far one just behind), nose at 380:
    # 40 / 46 = 0.87 outside. Facing left: the mirror image about x = 320.
    def x(v: float) -> float:
        return v if facing > 0 else 640 - v

    profile = body(x(380), (x(340), x(334)), (x(330), x(322)), ear_vis=(1.0, 0.1))
    assert profile_score(profile) == pytest.approx(40 / 46)
    assert shoulder_width_in_necks(profile) == pytest.approx(8 / 130)
    assert is_side_view(profile, VIS) is True
    # The synthetic side builder, both ways.
    assert is_side_view(side_person(facing=facing).body, VIS) is True


@pytest.mark.parametrize("facing", [1, -1])
def test_a_moderate_profile_needs_overlapping_shoulders(facing: int) -> None:
    # Ears at 340 and 300, nose 20 px outside the span: 20 / 60 = 0.33 (past 0.25, under 0.6).
    def x(v: float) -> float:
        return v if facing > 0 else 640 - v

    ears = (x(340), x(300))
    narrow = body(x(360), ears, (x(370), x(270)))
    wide = body(x(360), ears, (x(470), x(170)))
    assert profile_score(narrow) == pytest.approx(1 / 3)
    assert is_side_view(narrow, VIS) is True
    assert is_side_view(wide, VIS) is False
    # Shoulders just under and just over 1.25 necks (162.5 px).
    assert is_side_view(body(x(360), ears, (x(401), x(239))), VIS) is True  # 162 px
    assert is_side_view(body(x(360), ears, (x(402), x(239))), VIS) is False  # 163 px
    # A nose only 10 px outside (10 / 50 = 0.2) is too little even over narrow shoulders.
    assert is_side_view(body(x(350), ears, (x(370), x(270))), VIS) is False


@pytest.mark.parametrize(("nose_x", "score", "side"), [
    # A head turned about 45 degrees over square shoulders (a glance at a colleague):
    # ears at 340 and 300, the nose just outside the span.
    (360.0, 20 / 60, False),
    (389.0, 49 / 89, False),  # 0.55
    (420.0, 80 / 120, True),  # 0.67 > 0.6: a profile whatever the shoulders say
    (480.0, 140 / 180, True),
])
def test_a_turned_head_over_wide_shoulders_counts_only_past_the_strong_profile(
    nose_x: float, score: float, side: bool
) -> None:
    turned = body(nose_x, (340, 300), WIDE)
    assert profile_score(turned) == pytest.approx(score)
    assert (profile_score(turned) > PROFILE_ALONE) is side
    assert is_side_view(turned, VIS) is side


def test_the_hidden_ear_still_places_the_span() -> None:
    # The pose model places the far ear even when it cannot see it: one ear seen is enough.
    profile = body(380, (340, 334), NARROW, ear_vis=(1.0, 0.05))
    assert is_side_view(profile, VIS) is True
    profile = body(380, (340, 334), NARROW, ear_vis=(0.05, 1.0))
    assert is_side_view(profile, VIS) is True


@pytest.mark.parametrize("make", [
    # No nose, or a nose the model barely sees.
    lambda: Body(left_ear=Point(340, EAR_Y), right_ear=Point(334, EAR_Y),
                 left_shoulder=Point(330, SHOULDER_Y), right_shoulder=Point(322, SHOULDER_Y)),
    lambda: body(380, (340, 334), NARROW, nose_vis=0.2),
    # Neither ear seen well enough.
    lambda: body(380, (340, 334), NARROW, ear_vis=(0.2, 0.1)),
    # An ear missing altogether: no span to place the nose against.
    lambda: Body(nose=Point(380, 200), left_ear=Point(340, EAR_Y),
                 left_shoulder=Point(330, SHOULDER_Y), right_shoulder=Point(322, SHOULDER_Y)),
])
def test_without_a_nose_or_ears_to_see_it_is_not_a_side_view(make: Callable[[], Body]) -> None:
    assert is_side_view(make(), VIS) is False


def test_no_body_is_not_a_side_view() -> None:
    assert is_side_view(None, VIS) is False


def test_degenerate_geometry_gives_no_scores() -> None:
    # The nose on both ears (all three at one x): no span to measure.
    assert profile_score(body(340, (340, 340), NARROW)) is None
    # Ears at or below the shoulder line: not a sitting person's neck.
    low = Body(nose=Point(320, 330), left_ear=Point(390, 330), right_ear=Point(250, 330),
               left_shoulder=Point(470, 320), right_shoulder=Point(170, 320))
    assert shoulder_width_in_necks(low) is None
    # No shoulders: no width (and a moderate profile then never counts).
    headless = Body(nose=Point(360, 200), left_ear=Point(340, EAR_Y),
                    right_ear=Point(300, EAR_Y))
    assert shoulder_width_in_necks(headless) is None
    assert is_side_view(headless, VIS) is False
    # A strong profile needs no shoulders.
    strong = Body(nose=Point(420, 200), left_ear=Point(340, EAR_Y),
                  right_ear=Point(300, EAR_Y))
    assert is_side_view(strong, VIS) is True
