"""Accuracy on the real still photos in ../shared/footage, beside the peers' plain rule.

Each room (s05 A and C), the chair set (s06) and the older sets (s03, s04) are calibrated on
their first upright photos in time order (one pose), or also on their first slumped ones
(two pose), and judged on the rest: calibration photos are never scored. The minimums are
the figures measured on 2026-11-29 rounded down; see the README's accuracy section.
"""

from __future__ import annotations

import pytest

from posture_watch.core.evaluation import combine
from posture_watch.core.rules import POSTURE_RULES
from posture_watch.evaluation import evaluate
from posture_watch.evaluation.labels import read_footage
from posture_watch.vision.landmarkers import ModelPaths
from tests.conftest import FOOTAGE

pytestmark = [pytest.mark.model]

FRONT_ONLY_RULES = {"neck_flexion", "neck_extension", "head_roll", "head_yaw",
                    "shoulder_tilt", "shrug", "slouch", "forward_head"}
SIDE_ONLY_RULES = {"side_ear_shoulder", "side_slouch", "trunk_flexion"}


@pytest.fixture(scope="module")
def estimates() -> dict:
    return {}


@pytest.fixture(scope="module")
def stills(estimates: dict, model_paths: ModelPaths) -> list:
    inputs = [i for i in read_footage(FOOTAGE) if i.group]
    return evaluate.evaluate(inputs, model_paths, cache=estimates)


@pytest.fixture(scope="module")
def two_pose(stills: list, estimates: dict, model_paths: ModelPaths) -> list:
    inputs = [i for i in read_footage(FOOTAGE) if i.group]
    return evaluate.evaluate(inputs, model_paths, cache=estimates, two_pose=True)


def group(results: list, name: str) -> tuple:
    picked = [r for r in results if r.labelled.group == name]
    assert picked, name
    return combine([r.score for r in picked]), combine([r.peer for r in picked]), picked


def test_every_side_photo_group_is_calibrated_as_a_side_view(stills: list) -> None:
    for r in stills:
        assert r.analysis.baseline is not None
        assert r.analysis.baseline.side_view is (r.labelled.view == "side"), r.name


def test_frontal_rules_are_never_judged_on_a_side_view_nor_side_rules_on_a_front(
        stills: list) -> None:
    for r in stills:
        judged = {rule.rule for s in r.analysis.states for rule in s.rules}
        wrong = FRONT_ONLY_RULES if r.labelled.view == "side" else SIDE_ONLY_RULES
        assert not judged & wrong, (r.name, judged & wrong)
        assert judged & POSTURE_RULES, r.name


def test_calibration_photos_are_never_scored(stills: list) -> None:
    scored = {r.labelled.path.name for r in stills}
    for r in stills:
        source = r.analysis.baseline.source
        used = source.split(": ", 1)[1].split("; ")[0].split(", ")
        assert not set(used) & scored, (r.labelled.group, used)


# (group, agreement, balanced accuracy) minimums, one pose; measured 2026-11-29:
# s05-C 96 % / 96 %, s05-A 73 % / 76 % (peer 50/51 and 69/67), s06 71 / 79.
ONE_POSE = [("s05-C-side", 0.94, 0.94), ("s05-A-side", 0.70, 0.73), ("s06-side", 0.68, 0.75)]


@pytest.mark.parametrize(("name", "agreement", "balanced"), ONE_POSE)
def test_one_pose_figures_per_room_and_above_the_peer_rule(
        stills: list, name: str, agreement: float, balanced: float) -> None:
    ours, peer, _ = group(stills, name)
    assert ours.agreement >= agreement, ours.agreement
    assert ours.balanced_accuracy >= balanced, ours.balanced_accuracy
    assert ours.balanced_accuracy >= peer.balanced_accuracy + 0.05, (ours, peer)


def test_side_desk_rooms_together_beat_the_peer_rule_by_five_points(stills: list) -> None:
    picked = [r for r in stills if r.labelled.group.startswith("s05")]
    ours = combine([r.score for r in picked])
    peer = combine([r.peer for r in picked])
    assert ours.agreement >= peer.agreement + 0.05
    assert ours.balanced_accuracy >= peer.balanced_accuracy + 0.05


def test_two_pose_calibration_is_learned_per_room_and_never_scores_its_photos(
        two_pose: list) -> None:
    rooms = {r.labelled.group for r in two_pose if r.labelled.group.startswith("s05")}
    assert rooms == {"s05-A-side", "s05-C-side"}
    for r in two_pose:
        if r.labelled.group.startswith("s05"):
            assert r.analysis.baseline.two_pose
            assert "slumped:" in r.analysis.baseline.source
    ours, _, _ = group(two_pose, "s05-C-side")
    assert ours.balanced_accuracy >= 0.85, ours.balanced_accuracy


@pytest.mark.parametrize("name", ["s03-front", "s03-side"])
def test_s03_bad_photo_is_told_from_the_good_one_it_was_calibrated_on(
        stills: list, name: str) -> None:
    ours, _, picked = group(stills, name)
    assert [r.name for r in picked] == [f"s03_donmaen_{name[4:]}_bad.png"]
    assert ours.agreement == 1.0


def test_s04_side_view_separates_straight_from_hunched_and_reclined(stills: list) -> None:
    # measured 2026-11-29: 90 % agreement, 75 % balanced (5 of 10 upright samples good;
    # straight_hf_flip reads as hunched against the straight_flip it was calibrated on)
    ours, _, _ = group(stills, "s04-side")
    assert ours.agreement >= 0.85 and ours.balanced_accuracy >= 0.70
