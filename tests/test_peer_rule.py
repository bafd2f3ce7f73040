"""The peers' plain rule (core.peer_rule): one ratio against its calibrated median."""

from __future__ import annotations

import pytest

from posture_watch.core.peer_rule import PEER_FRACTION, peer_ratio, peer_reference, peer_state
from posture_watch.core.types import Body, Face, Person, Point, State
from tests.synthetic import front_person, one_sample, samples

# The synthetic defaults: the nose 120 px above the shoulder line, shoulders 300 px apart.
REFERENCE = 120 / 300


def at_percent(percent: float) -> Person:
    """A person whose ratio is `percent` of the reference: the neck shortened to match."""
    return front_person(neck_length=120 * percent / 100)


def test_the_ratio_is_the_nose_height_over_the_shoulder_width() -> None:
    assert peer_ratio(one_sample(front_person())) == pytest.approx(REFERENCE)
    # Explicit: shoulders (220, 300) and (420, 320), line at 310, nose at 200:
    # 110 / 200.9975.
    body = Body(nose=Point(320, 200), left_shoulder=Point(420, 320),
                right_shoulder=Point(220, 300))
    assert peer_ratio(one_sample(Person(body))) == pytest.approx(110 / 200.9975, abs=1e-6)


def test_away_with_nobody_or_no_body() -> None:
    assert peer_state(one_sample(None), REFERENCE) is State.AWAY
    # A face the pose model found no body for: the peers see nobody.
    face_only = Person(face=Face(0.0, 0.0, 0.0, 64.0, 150.0, Point(320, 190)))
    assert peer_state(one_sample(face_only), REFERENCE) is State.AWAY
    assert peer_state(one_sample(face_only), None) is State.AWAY


@pytest.mark.parametrize("body", [
    Body(left_shoulder=Point(470, 320), right_shoulder=Point(170, 320)),  # no nose
    Body(nose=Point(320, 200)),  # no shoulders
    Body(nose=Point(320, 200), left_shoulder=Point(470, 320)),  # one shoulder
    # Shoulders on top of each other: no width to divide by.
    Body(nose=Point(320, 200), left_shoulder=Point(320.5, 320),
         right_shoulder=Point(320, 320)),
])
def test_unknown_with_nothing_to_measure(body: Body) -> None:
    sample = one_sample(Person(body))
    assert peer_ratio(sample) is None
    assert peer_state(sample, REFERENCE) is State.UNKNOWN
    assert peer_state(sample, None) is State.UNKNOWN


def test_good_before_calibration_whatever_the_posture() -> None:
    assert peer_state(one_sample(at_percent(50)), None) is State.GOOD
    assert peer_state(one_sample(front_person()), None) is State.GOOD


@pytest.mark.parametrize(("percent", "state"), [
    (100.0, State.GOOD),
    (110.0, State.GOOD),  # sitting taller is never a slouch
    (91.0, State.GOOD),
    (89.0, State.POOR),
    (60.0, State.POOR),
])
def test_poor_below_ninety_percent_of_the_reference(percent: float, state: State) -> None:
    assert PEER_FRACTION == 0.9
    assert peer_state(one_sample(at_percent(percent)), REFERENCE) is state


def test_never_caution_and_no_smoothing() -> None:
    # One slumped sample between upright ones is judged poor on its own.
    people = [front_person(), at_percent(80), front_person()]
    got = [peer_state(one_sample(p, t=float(i)), REFERENCE) for i, p in enumerate(people)]
    assert got == [State.GOOD, State.POOR, State.GOOD]


def test_the_reference_is_the_median_over_the_calibration_samples() -> None:
    percents = iter([102, 104, 96, 250, 98])  # the median, 102: a wild sample does not count

    def person_at(t: float) -> Person:
        return at_percent(next(percents))

    reference = peer_reference(samples(person_at, seconds=5, rate_hz=1))
    assert reference == pytest.approx(REFERENCE * 1.02)
    # Samples with nothing to measure are skipped; none at all gives no reference.
    assert peer_reference([one_sample(None), one_sample(front_person())]) == \
        pytest.approx(REFERENCE)
    assert peer_reference([one_sample(None)]) is None
    assert peer_reference([]) is None


def test_the_largest_body_is_judged_and_visibility_is_ignored() -> None:
    # A bystander far off (narrow shoulders) slumped; the user near and upright.
    bystander = front_person(head=(80.0, 200.0), shoulder_width=100.0, neck_length=10.0)
    assert peer_state(one_sample([bystander, front_person()]), REFERENCE) is State.GOOD
    assert peer_state(one_sample([front_person(), bystander]), REFERENCE) is State.GOOD
    # Barely visible landmarks are taken as the model gives them.
    faint = front_person(visibility=0.05, neck_length=80.0)
    assert peer_ratio(one_sample(faint)) == pytest.approx(80 / 300)
    assert peer_state(one_sample(faint), REFERENCE) is State.POOR
