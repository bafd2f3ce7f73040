"""`evaluate`: run the pipeline on labelled inputs and score it against the labels, with
the peers' plain rule (core.peer_rule) scored on the same landmarks beside it.

Each input's frames go through the models once, as `analyze` takes them (on a video the
face model runs only when needed; the peer rule reads no face), and our pipeline and the
peer rule then judge the same samples. Clips run as `analyze` would run them for a user
who gave no calibration (the automatic baseline), with the clip's own `X.config.toml` when
it has one; the peer rule calibrates on the first `calibration.auto_seconds` with a person
and raises nothing before. Stills are grouped by source, room and camera view; each group
is calibrated on its first few upright stills in name (time) order, and with `two_pose`
also on its first few slumped ones, as a user would calibrate before working. Calibration
stills are never scored. Every other still is judged on the last half of its samples, once
the smoothing has settled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from posture_watch.analysis.analyze import Analysis, sampling_for
from posture_watch.config import load_config
from posture_watch.core.calibration import Baseline, Observation, add_slump, build_baseline
from posture_watch.core.evaluation import (
    BAD_STATES,
    ClipScore,
    Overall,
    combine,
    last_part,
    score_clip,
)
from posture_watch.core.peer_rule import peer_reference, peer_state
from posture_watch.core.pipeline import Recorder, observe, replay
from posture_watch.core.reminders import ReminderEngine
from posture_watch.core.scoring import PostureScorer
from posture_watch.core.settings import Config
from posture_watch.core.summary import summarize
from posture_watch.core.types import PoseSample, PostureState, State
from posture_watch.evaluation.labels import LabelledInput
from posture_watch.vision.landmarkers import ModelPaths, make_estimator
from posture_watch.vision.sources import open_source

# Each still is shown this long; at 5 Hz the smoothing settles well within the first half.
STILL_HOLD_S = 2.0
STILL_JUDGED_FRACTION = 0.5
# A still group is calibrated on this many of its upright (and slumped) stills at most,
# and never on more than half of them, so that most are left to judge.
CALIBRATION_STILLS = 5


@dataclass(frozen=True)
class Evaluated:
    labelled: LabelledInput
    set_name: str
    analysis: Analysis
    score: ClipScore
    peer: ClipScore | None = None  # the peers' plain rule on the same samples

    @property
    def name(self) -> str:
        return self.labelled.path.name


@dataclass(frozen=True)
class StillCalibration:
    """How one still group was calibrated: ours and the peer rule's, and from which stills."""

    baseline: Baseline
    peer_reference: float | None
    stills: tuple[Path, ...]


@dataclass(frozen=True)
class Estimated:
    samples: list[PoseSample]
    duration_s: float | None
    rate_hz: float | None


def set_name(labelled: LabelledInput) -> str:
    """The clip set an input belongs to, for per-set tables."""
    if labelled.group:
        return f"stills {labelled.group}"
    folder = labelled.path.parent
    return "footage videos" if (folder / "labels_videos.csv").exists() else folder.name


def _config_for(labelled: LabelledInput, override: Config | None) -> Config:
    config = override if override is not None else load_config(labelled.config)
    if labelled.group:
        config = dataclasses.replace(
            config,
            camera=dataclasses.replace(config.camera, view=labelled.view),
            sampling=dataclasses.replace(config.sampling, still_hold_s=STILL_HOLD_S))
    return config


def estimate(path: Path, config: Config, models: ModelPaths) -> Estimated:
    """Every sample the model gives for an input, at the configured rate."""
    with open_source(path, rate_hz=config.sampling.file_rate_hz,
                     still_hold_s=config.sampling.still_hold_s) as source, \
            make_estimator(models, sampling_for(source, config)) as estimator:
        samples = [estimator.estimate(frame) for frame in source]
        return Estimated(samples, source.duration_s, config.sampling.file_rate_hz)


def _settled(samples: list[PoseSample]) -> list[PoseSample]:
    """A still's samples once the model's tracking has settled: the judged last part."""
    return last_part(samples, STILL_JUDGED_FRACTION)


def calibration_count(available: int) -> int:
    return max(1, min(CALIBRATION_STILLS, available // 2)) if available else 0


def _is_upright(labelled: LabelledInput) -> bool:
    return all(s.expected == {State.GOOD.value} for s in labelled.segments)


def _is_slumped(labelled: LabelledInput) -> bool:
    return all(s.expected and s.expected <= BAD_STATES for s in labelled.segments)


def calibrate_group(stills: list[LabelledInput], config: Config,
                    samples_of: Callable[[LabelledInput], list[PoseSample]],
                    two_pose: bool) -> StillCalibration | None:
    """Calibrate a still group on its first upright stills (and first slumped ones)."""
    ordered = sorted(stills, key=lambda s: s.path.name)
    upright = [s for s in ordered if _is_upright(s)]
    chosen = upright[:calibration_count(len(upright))]
    if not chosen:
        return None
    group = chosen[0].group
    settled = [sample for still in chosen for sample in _settled(samples_of(still))]
    baseline = build_baseline(
        _observations(settled, config), min_samples=config.calibration.min_samples,
        source=f"{group}: {', '.join(s.path.name for s in chosen)}")
    used = list(chosen)
    if two_pose:
        slumped = [s for s in ordered if _is_slumped(s)]
        bad = slumped[:calibration_count(len(slumped))]
        bad_samples = [sample for still in bad for sample in _settled(samples_of(still))]
        baseline = add_slump(baseline, _observations(bad_samples, config),
                             min_samples=config.calibration.min_samples)
        baseline = dataclasses.replace(
            baseline, source=f"{baseline.source}; slumped: "
                             f"{', '.join(s.path.name for s in bad)}")
        used += bad
    return StillCalibration(baseline, peer_reference(settled), tuple(s.path for s in used))


def _observations(samples: list[PoseSample], config: Config) -> list[Observation]:
    """The user's calibration observations in a still's samples (the largest person)."""
    return [obs for obs in (observe(sample, config, None) for sample in samples)
            if obs is not None]


def judge(samples: list[PoseSample], config: Config,
          baseline: Baseline | None) -> tuple[Recorder, Baseline | None]:
    """Our pipeline's states and reminders on estimated samples."""
    scorer = PostureScorer(config, baseline)
    recorder = Recorder()
    replay(samples, scorer, ReminderEngine(config.reminders), [recorder])
    return recorder, scorer.baseline


def peer_states(samples: list[PoseSample], reference: float | None,
                calibrate_s: float | None) -> list[PostureState]:
    """The peer rule's state per sample. With `calibrate_s` (clips), the reference is the
    median over the first `calibrate_s` seconds with a person, and nothing is raised before."""
    if calibrate_s is None:
        return [PostureState(s.t_s, peer_state(s, reference), None) for s in samples]
    states, window = [], []
    start = None
    for sample in samples:
        if reference is None and sample.people:
            start = sample.t_s if start is None else start
            window.append(sample)
            if sample.t_s - start >= calibrate_s:
                reference = peer_reference(window)
        states.append(PostureState(sample.t_s, peer_state(sample, reference), None))
    return states


def evaluate(inputs: list[LabelledInput], models: ModelPaths, *,
             override: Config | None = None, margin_s: float = 2.0, two_pose: bool = False,
             on_done: Callable[[Evaluated], None] | None = None,
             cache: dict[Path, Estimated] | None = None) -> list[Evaluated]:
    """Evaluate every input; `cache` keeps the model's samples per input for another
    evaluation of the same inputs (the model runs once per input and config)."""
    cache = {} if cache is None else cache

    def estimated(labelled: LabelledInput) -> Estimated:
        if labelled.path not in cache:
            cache[labelled.path] = estimate(labelled.path, _config_for(labelled, override),
                                            models)
        return cache[labelled.path]

    calibrations: dict[str, StillCalibration] = {}
    for group in sorted({i.group for i in inputs if i.group}):
        stills = [i for i in inputs if i.group == group]
        found = calibrate_group(stills, _config_for(stills[0], override),
                                lambda s: estimated(s).samples, two_pose)
        if found is not None:
            calibrations[group] = found
    used = {path for c in calibrations.values() for path in c.stills}
    results = []
    for labelled in inputs:
        if labelled.path in used:
            continue
        config = _config_for(labelled, override)
        got = estimated(labelled)
        calibration = calibrations.get(labelled.group)
        baseline = calibration.baseline if calibration else None
        recorder, final = judge(got.samples, config, baseline)
        if not recorder.states:
            continue
        analysis = Analysis(labelled.path, got.duration_s, got.rate_hz,
                            f"profile {baseline.source!r}" if baseline else "automatic",
                            final, recorder.states, recorder.reminders,
                            summarize(recorder.states, recorder.reminders))
        peer = peer_states(got.samples, calibration.peer_reference if calibration else None,
                           None if labelled.group else config.calibration.auto_seconds)
        result = score_analysis(labelled, analysis, margin_s=margin_s, peer=peer)
        results.append(result)
        if on_done is not None:
            on_done(result)
    return results


def score_analysis(labelled: LabelledInput, analysis: Analysis, *, margin_s: float = 2.0,
                   peer: list[PostureState] | None = None) -> Evaluated:
    """Score one input's analysis (and the peer rule's states) against its labels: a still
    is judged on the last part of its samples, a clip away from its labels' edges."""
    still = bool(labelled.group)
    margin = 0.0 if still else margin_s
    fraction = STILL_JUDGED_FRACTION if still else None
    score = score_clip(labelled.path.name, analysis.states, labelled.segments,
                       analysis.reminders, labelled.reminders, margin_s=margin,
                       judge_last_fraction=fraction)
    peer_score = None if peer is None else score_clip(
        labelled.path.name, peer, labelled.segments, [], None, margin_s=margin,
        judge_last_fraction=fraction)
    return Evaluated(labelled, set_name(labelled), analysis, score, peer_score)


def by_set(results: list[Evaluated]) -> dict[str, Overall]:
    names = list(dict.fromkeys(r.set_name for r in results))
    return {name: combine([r.score for r in results if r.set_name == name]) for name in names}


def peer_by_set(results: list[Evaluated]) -> dict[str, Overall]:
    names = list(dict.fromkeys(r.set_name for r in results))
    return {name: combine([r.peer for r in results if r.set_name == name and r.peer])
            for name in names}
