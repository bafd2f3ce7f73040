"""The moved-camera watch on real picture content: a photo's background shifted by hand."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from posture_watch.core.types import Body, Frame, Person, Point, PoseSample
from posture_watch.vision.scene_shift import SAMPLES_IN_A_ROW, SceneShiftWatch

SIZE = (480, 640)  # rows, columns


@pytest.fixture(scope="module")
def room() -> np.ndarray:
    """A textured scene bigger than the frame, so the frame can be moved over it."""
    scene = np.asarray(data.astronaut()[:, :, ::-1])  # BGR, 512 x 512
    return np.tile(scene, (2, 2, 1))


def frame_at(room: np.ndarray, t: float, dx: int = 0, dy: int = 0) -> Frame:
    top, left = 100 + dy, 100 + dx
    return Frame(np.ascontiguousarray(room[top:top + SIZE[0], left:left + SIZE[1]]), t)


def person_at(x: float, y: float) -> PoseSample:
    """A person whose head is at (x, y) px; the watch blanks the box around them."""
    body = Body(nose=Point(x, y), left_ear=Point(x + 30, y - 5), right_ear=Point(x - 30, y - 5),
                left_shoulder=Point(x + 100, y + 120), right_shoulder=Point(x - 100, y + 120))
    return PoseSample(0.0, SIZE[1], SIZE[0], (Person(body=body),))


def test_a_still_camera_is_never_called_moved_even_when_the_person_moves(room) -> None:
    watch = SceneShiftWatch()
    for i in range(40):
        # The person sways and sinks by 60 px; the camera stays put.
        said = watch.update(frame_at(room, i * 0.5), person_at(320 + (i % 5) * 10, 200 + i))
        assert said is None
    assert watch.last_shift is not None and max(map(abs, watch.last_shift)) < 0.01


def test_a_camera_moved_by_five_percent_is_noticed_once_after_a_few_samples(room) -> None:
    watch = SceneShiftWatch()
    person = person_at(320, 200)
    for i in range(10):
        assert watch.update(frame_at(room, i * 0.5), person) is None
    said = [watch.update(frame_at(room, 5 + i * 0.5, dy=24), person) for i in range(20)]
    notices = [i for i, text in enumerate(said) if text]
    assert notices == [SAMPLES_IN_A_ROW - 1], said
    assert "camera seems to have moved" in said[notices[0]]
    assert "5 %" in said[notices[0]]
    dx, dy = watch.last_shift
    assert abs(dy) == pytest.approx(24 / SIZE[0], abs=0.005) and abs(dx) < 0.005


def test_a_brief_bump_is_not_a_move(room) -> None:
    watch = SceneShiftWatch()
    person = person_at(320, 200)
    for i in range(30):
        bumped = 10 <= i < 10 + SAMPLES_IN_A_ROW - 1  # shifted, then back
        assert watch.update(frame_at(room, i * 0.5, dx=30 if bumped else 0), person) is None
