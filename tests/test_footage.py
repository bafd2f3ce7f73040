"""Accuracy on the real labelled footage in ../shared/footage (read in place).

These run wherever the shared footage is beside the checkout (CI has it). The videos are
evaluated twice: once with the shipped config, judged per sample against a stated minimum
per clip, and once (the upright clips and v07) with the posture reminder holds scaled down
to fit a clip of a few seconds, so that a wrong posture reminder could actually fire. The
stills are evaluated on their own for the s03/s04 tests below.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

import pytest

from posture_watch.config import load_config
from posture_watch.core.settings import Config
from posture_watch.core.types import Reminder, ReminderKind, State
from posture_watch.evaluation import evaluate
from posture_watch.evaluation.labels import LabelledInput, read_footage
from posture_watch.vision.landmarkers import ModelPaths
from tests.conftest import FOOTAGE

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(not (FOOTAGE / "labels_videos.csv").exists(),
                       reason=f"shared footage not found at {FOOTAGE}"),
]

STILL_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
UPRIGHT_CLIPS = ("v01", "v02", "v03", "v05", "v06", "v09")
# The footage clip with real bad posture: both people roll their heads 0.3-4.5 s.
TILTED_CLIP = "v07"

# Least share of judged samples (scored against labels_videos.csv, edges trimmed) whose
# state the label allows. Measured on 2026-11-29 with the shipped config and rounded down:
# a few points for long clips, enough for one sample to flip on the short ones (MediaPipe
# on another CPU may differ by a sample).
MIN_AGREEMENT: dict[str, float] = {
    "v01": 0.95,  # measured 1.000 (33 of 33 judged samples)
    "v02": 0.95,  # measured 1.000 (37 of 37)
    "v03": 0.95,  # measured 1.000 (36 of 36)
    "v05": 0.90,  # measured 1.000 (13 of 13)
    # Measured 0.400 (2 of 5; 0.600 with the smoothing being changed in the working tree):
    # her slight head roll is judged caution; the minimum lets one sample flip. Raise when
    # issue 9's judgment lands.
    "v06": 0.20,
    "v07": 0.90,  # measured 1.000 (11 of 11)
    "v08": 0.97,  # measured 0.994 (499 of 502)
    "v09": 0.90,  # measured 1.000 (18 of 18)
}

# Least share of all samples of an upright clip (edges and the automatic calibration
# included) judged GOOD: caution, unknown or away do not count. Measured on 2026-11-29 with
# the shipped config and rounded down a few points.
MIN_GOOD_SHARE: dict[str, float] = {
    "v01": 0.95,  # measured 1.000 (53 of 53 samples)
    "v02": 0.95,  # measured 1.000 (77 of 77)
    "v03": 0.95,  # measured 1.000 (76 of 76)
    "v05": 0.95,  # measured 1.000 (26 of 26)
    # Measured 0.400 (4 of 10; 0.500 with the smoothing being changed), the rest caution;
    # the minimum lets one sample flip. Raise when issue 9's judgment lands.
    "v06": 0.30,
    "v09": 0.95,  # measured 1.000 (39 of 39)
}

# Posture reminder timing scaled to clips of 2-15 s (shipped: poor 60 s, caution 300 s,
# glance 5 s, clear after 10 s of good, cooldown 600 s, at least 60 s between reminders).
SCALED_HOLD_S = 1.0
SCALED_GLANCE_S = 0.5

# Most posture reminders the scaled config may raise on an upright clip; the others must
# raise none. v06 (1.8 s) was judged caution for 1.2 s and reminded once at 1.0 s (measured
# 2026-11-29; none with the smoothing being changed in the working tree). One is all that
# fits in 1.8 s, so this entry checks nothing: remove it when issue 9's judgment lands.
ALLOWED_FALSE_POSTURE_REMINDERS: dict[str, int] = {"v06": 1}


def clip_id(path: Path) -> str:
    """The footage id a file name starts with: "v01" for v01_proctoring_center_focus.mp4."""
    return path.name.split("_", 1)[0]


def footage_videos() -> list[LabelledInput]:
    """The labelled footage videos (mp4 and gif), without the stills."""
    return [i for i in read_footage(FOOTAGE) if i.path.suffix.lower() not in STILL_SUFFIXES]


def scaled_config() -> Config:
    """The shipped config with posture reminder holds short enough to fire in a clip."""
    config = load_config(None)
    posture = dataclasses.replace(
        config.reminders.posture, poor_hold_s=SCALED_HOLD_S, caution_hold_s=SCALED_HOLD_S,
        glance_s=SCALED_GLANCE_S, clear_after_good_s=1.0, cooldown_s=1.0)
    reminders = dataclasses.replace(config.reminders, posture=posture, min_gap_s=1.0)
    return dataclasses.replace(config, reminders=reminders)


def by_id(done: Iterable[evaluate.Evaluated]) -> dict[str, evaluate.Evaluated]:
    """Evaluated videos keyed by their footage id."""
    return {clip_id(r.labelled.path): r for r in done}


def posture_reminders(result: evaluate.Evaluated) -> list[Reminder]:
    """The posture reminders a run raised."""
    return [r for r in result.analysis.reminders if r.kind is ReminderKind.POSTURE]


@pytest.fixture(scope="module")
def videos(model_paths: ModelPaths) -> dict[str, evaluate.Evaluated]:
    """Every footage video, run once with the shipped config."""
    return by_id(evaluate.evaluate(footage_videos(), model_paths))


@pytest.fixture(scope="module")
def scaled(model_paths: ModelPaths) -> dict[str, evaluate.Evaluated]:
    """The upright clips and v07, run a second time with the scaled reminder holds."""
    wanted = {*UPRIGHT_CLIPS, TILTED_CLIP}
    inputs = [i for i in footage_videos() if clip_id(i.path) in wanted]
    return by_id(evaluate.evaluate(inputs, model_paths, override=scaled_config()))


def share(states: Iterable[State], allowed: set[State]) -> float:
    states = list(states)
    return sum(s in allowed for s in states) / len(states)


def test_every_footage_video_has_a_minimum() -> None:
    """A new or renamed clip in labels_videos.csv needs its measured minimum here."""
    assert {clip_id(i.path) for i in footage_videos()} == MIN_AGREEMENT.keys()
    assert set(UPRIGHT_CLIPS) == MIN_GOOD_SHARE.keys()


@pytest.mark.parametrize("clip", sorted(MIN_AGREEMENT))
def test_footage_video_agrees_with_its_labels(videos, clip: str) -> None:
    score = videos[clip].score
    assert score.agreement is not None and score.agreement >= MIN_AGREEMENT[clip], (
        score.agreement, [(s.label, s.states) for s in score.segments])


@pytest.mark.parametrize("clip", UPRIGHT_CLIPS)
def test_upright_footage_is_judged_good(videos, clip: str) -> None:
    states = [s.state for s in videos[clip].analysis.states]
    assert share(states, {State.GOOD}) >= MIN_GOOD_SHARE[clip], states


@pytest.mark.parametrize("clip", UPRIGHT_CLIPS)
def test_upright_footage_raises_no_posture_reminder_even_with_short_holds(
        scaled, clip: str) -> None:
    result = scaled[clip]
    # The clip outlasts a glance and a hold, so a wrong reminder had time to fire.
    assert result.analysis.states[-1].t_s >= SCALED_GLANCE_S + SCALED_HOLD_S
    reminders = posture_reminders(result)
    assert len(reminders) <= ALLOWED_FALSE_POSTURE_REMINDERS.get(clip, 0), reminders
    assert result.score.false_posture_reminders == len(reminders)


def test_short_holds_do_remind_of_the_head_roll_in_v07(videos, scaled) -> None:
    """The scaled check can fail: on real bad posture the same config raises a reminder."""
    reminders = posture_reminders(scaled[TILTED_CLIP])
    assert reminders, [s.state for s in scaled[TILTED_CLIP].analysis.states]
    assert all(0.3 <= r.t_s <= 4.5 and "head_roll" in r.reason for r in reminders), reminders
    # With the shipped 60 s holds the same clip raises none: that is why they are scaled.
    assert posture_reminders(videos[TILTED_CLIP]) == []


@pytest.mark.parametrize("clip", ("v02", "v03", "v09"))
def test_moving_eyes_and_a_hand_before_the_face_never_alarm(scaled, clip: str) -> None:
    result = scaled[clip]
    assert result.analysis.reminders == []
    assert State.POOR not in {s.state for s in result.analysis.states}


def test_v07_head_roll_is_seen_and_the_second_person_ignored(videos) -> None:
    result = videos["v07"]
    [tilt] = [s for s in result.score.segments if s.label == "lateral_head_tilt"]
    assert tilt.agreement is not None and tilt.agreement >= 0.9
    judged = [s for s in result.analysis.states if 1.5 <= s.t_s <= 4.0]
    rolled = [s for s in judged if any(r.rule == "head_roll" and r.level.value != "good"
                                       for r in s.rules)]
    assert len(rolled) >= 0.9 * len(judged)
    # One person is followed throughout: the tracked head never jumps to the other one.
    xs = [s.metrics["head_x"] for s in result.analysis.states if "head_x" in s.metrics]
    assert max(xs) - min(xs) < 0.15, xs


def test_v08_empty_room_is_away_despite_the_phantom(videos) -> None:
    result = videos["v08"]
    assert result.score.away.recall is not None and result.score.away.recall >= 0.95
    assert result.score.away.precision == 1.0
    assert result.score.away_latencies_s and max(result.score.away_latencies_s) <= 3.0


def test_v08_a_person_seen_from_behind_is_present_not_judged(videos) -> None:
    result = videos["v08"]
    present = [seg for seg in result.score.segments if seg.label == "person_standing"]
    states = {k: sum(seg.states[k] for seg in present) for k in present[0].states}
    judged = sum(states.values())
    assert states["away"] == 0
    assert states["poor"] <= 0.05 * judged
    assert states["unknown"] >= 0.9 * judged
    notes = {s.note for s in result.analysis.states if s.state is State.UNKNOWN}
    assert "seen from behind" in notes
