"""The real models on every labelled clip in recordings/: states per label and reminders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from posture_watch.analysis.analyze import Analysis
from posture_watch.core.types import ReminderKind
from posture_watch.evaluation import report
from posture_watch.evaluation.evaluate import score_analysis
from posture_watch.evaluation.labels import ExpectedReminder, Segment, read_clip_labels
from tests.conftest import RECORDINGS

# Samples this close to a label's edges are not judged: smoothing, the state debounce and
# the away delay (detection.away_after_s) all take a moment to follow a change.
BOUNDARY_MARGIN_S = 2.0
MIN_AGREEMENT = 0.90

# Every posture the design asks the clips to show (design.md, "Labels for recorded clips").
DESIGN_LABELS = {"upright", "away", "slouched", "forward_head", "head_tilt", "shoulder_tilt",
                 "shrug", "looking_down"}


def read_labels(clip: Path) -> tuple[Segment, ...]:
    return read_clip_labels(clip).segments


def read_expected_reminders(clip: Path) -> tuple[ExpectedReminder, ...]:
    """The clip's expected reminders; none when it has no .reminders.csv."""
    return read_clip_labels(clip).reminders or ()


CLIPS = sorted(p for p in RECORDINGS.glob("*.mp4")
               if p.with_name(p.stem + ".labels.csv").exists())


def test_there_are_enough_small_clips() -> None:
    assert len(CLIPS) >= 9
    labels = {label.label for clip in CLIPS for label in read_labels(clip)}
    assert labels >= DESIGN_LABELS
    for clip in CLIPS:
        assert clip.stat().st_size <= 1_000_000, clip.name
    assert any(read_expected_reminders(clip) for clip in CLIPS)


def test_labels_use_the_known_vocabulary() -> None:
    for clip in CLIPS:
        for label in read_labels(clip):
            assert label.label in DESIGN_LABELS, (clip.name, label)
            assert label.end_s > label.start_s


@pytest.mark.model
@pytest.mark.parametrize("clip", CLIPS, ids=[c.stem for c in CLIPS])
def test_states_agree_with_labels(clip: Path,
                                  analyze_clip: Callable[[Path], Analysis]) -> None:
    analysis = analyze_clip(clip)
    assert analysis.duration_s is not None and analysis.duration_s <= 40.5
    for label in read_labels(clip):
        margin = min(BOUNDARY_MARGIN_S, (label.end_s - label.start_s) / 4)
        judged = [s for s in analysis.states
                  if label.start_s + margin <= s.t_s <= label.end_s - margin]
        assert judged, f"{clip.name}: no samples inside {label}"
        wanted = label.expected
        agree = sum(s.state.value in wanted for s in judged)
        seen = sorted({s.state.value for s in judged})
        assert agree / len(judged) >= MIN_AGREEMENT, (
            f"{clip.name} {label.label} {label.start_s}-{label.end_s}: "
            f"{agree}/{len(judged)} samples in {sorted(wanted)}, saw {seen}")


@pytest.mark.model
@pytest.mark.parametrize("clip", CLIPS, ids=[c.stem for c in CLIPS])
def test_reminders_are_exactly_the_expected_ones(
        clip: Path, analyze_clip: Callable[[Path], Analysis]) -> None:
    expected = read_expected_reminders(clip)
    fired = [(round(r.t_s, 1), r.kind.value) for r in analyze_clip(clip).reminders]
    assert len(fired) == len(expected), f"{clip.name}: fired {fired}, expected {expected}"
    unmatched = list(expected)
    for t_s, kind in fired:
        match = next((e for e in unmatched
                      if e.kind == kind and abs(e.t_s - t_s) <= e.tolerance_s), None)
        assert match is not None, f"{clip.name}: unexpected {kind} reminder at {t_s} s; " \
                                  f"expected {expected}"
        unmatched.remove(match)


def test_expected_reminder_kinds_are_known() -> None:
    kinds = {k.value for k in ReminderKind}
    for clip in CLIPS:
        for reminder in read_expected_reminders(clip):
            assert reminder.kind in kinds


@pytest.mark.model
def test_the_posture_reminder_names_what_was_wrong(
        analyze_clip: Callable[[Path], Analysis]) -> None:
    """The long session slouches: its posture reminder and main issue say so."""
    analysis = analyze_clip(RECORDINGS / "long_session.mp4")
    posture = [r for r in analysis.reminders if r.kind is ReminderKind.POSTURE]
    assert posture, analysis.reminders
    assert any(rule in posture[0].reason for rule in ("slouch", "forward_head"))
    assert analysis.summary.main_issue in ("slouch", "forward_head")
    assert analysis.summary.away_s >= 4.0


@pytest.mark.model
def test_evaluation_over_every_clip(analyze_clip: Callable[[Path], Analysis]) -> None:
    """What `evaluate recordings/` reports, scored on the analyses made above (each clip is
    analysed once per test session)."""
    results = [score_analysis(read_clip_labels(clip), analyze_clip(clip)) for clip in CLIPS]
    doc = report.to_dict(results)
    assert {"inputs", "sets", "overall"} <= set(doc)
    overall = doc["overall"]
    assert overall["clips"] == len(list(RECORDINGS.glob("*.labels.csv")))
    assert overall["agreement"] >= 0.9
    assert overall["reminders"]["matched"] == overall["reminders"]["expected"] == 3
    assert overall["false_posture_reminders"] == 0
    assert overall["away"]["recall"] >= 0.95
    assert {"good", "bad", "away"} <= set(overall["confusion"])
    assert "| long_session |" in report.markdown(results)
