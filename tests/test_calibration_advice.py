"""What a refused calibration tells the user to fix (core.calibration_advice)."""

from __future__ import annotations

from posture_watch.core.calibration_advice import what_to_fix
from posture_watch.core.settings import Config
from tests.synthetic import front_person, samples, with_visibility

CONFIG = Config()


def test_nothing_to_fix_in_a_good_capture() -> None:
    assert what_to_fix(list(samples(front_person(), seconds=5)), CONFIG) is None


def test_too_dark_comes_first_and_gives_the_light_level() -> None:
    dark = list(samples(None, seconds=5, brightness=12.0))  # dark, and no one found in it
    assert what_to_fix(dark, CONFIG) == (
        "too dark (mean brightness 12 of 255, 35 needed): turn on a light in front of "
        "you, not behind")


def test_no_one_in_view_says_how_often() -> None:
    def now_and_then(t: float):
        return front_person() if t < 3.0 else None

    found = what_to_fix(list(samples(now_and_then, seconds=5)), CONFIG)
    assert found is not None and found.startswith("no one was in view in 8 of 20 samples")
    assert what_to_fix(list(samples(None, seconds=5)), CONFIG).startswith(
        "no one was in view at all")


def test_shoulders_out_of_the_frame() -> None:
    cropped = with_visibility(front_person(), left_shoulder=0.1, right_shoulder=0.2)
    assert what_to_fix(list(samples(cropped, seconds=5)), CONFIG).startswith(
        "your shoulders are out of the frame")


def test_no_picture_at_all() -> None:
    assert "no picture came from the camera" in what_to_fix([], CONFIG)
