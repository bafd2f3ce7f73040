"""`evaluate`: run the pipeline on labelled inputs and score it against the labels.

Clips run as `analyze` would run them for a user who gave no calibration (the automatic
baseline), with the clip's own `X.config.toml` when it has one. Stills are grouped by
source and camera view; each group is calibrated on its upright stills (a profile, as a
user would make one) with the group's view, and every still of the group is then judged
on the last half of its samples, once the smoothing has settled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from posture_watch.analysis.analyze import Analysis, CalibrationChoice, analyze_path
from posture_watch.config import load_config
from posture_watch.core.calibration import Baseline, Observation, build_baseline
from posture_watch.core.evaluation import ClipScore, Overall, combine, score_clip
from posture_watch.core.pipeline import collect_observations
from posture_watch.core.settings import Config
from posture_watch.core.types import State
from posture_watch.evaluation.labels import LabelledInput
from posture_watch.vision.landmarkers import ModelPaths, make_estimator
from posture_watch.vision.sources import open_source

# Each still is shown this long: enough samples at 5 Hz for the smoothing to settle.
STILL_HOLD_S = 4.0
STILL_JUDGED_FRACTION = 0.5


@dataclass(frozen=True)
class Evaluated:
    labelled: LabelledInput
    set_name: str
    analysis: Analysis
    score: ClipScore

    @property
    def name(self) -> str:
        return self.labelled.path.name


def set_name(labelled: LabelledInput) -> str:
    """The clip set an input belongs to, for per-set tables."""
    if labelled.group:
        return "footage stills"
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


def _observations(path: Path, config: Config, models: ModelPaths) -> list[Observation]:
    with open_source(path, rate_hz=config.sampling.file_rate_hz,
                     still_hold_s=config.sampling.still_hold_s) as source, \
            make_estimator(models) as estimator:
        return collect_observations(source, estimator, config)[0]


def group_baselines(inputs: list[LabelledInput], override: Config | None,
                    models: ModelPaths) -> dict[str, Baseline]:
    """A side- or front-view profile per still group, from its upright stills."""
    baselines: dict[str, Baseline] = {}
    for group in sorted({i.group for i in inputs if i.group}):
        upright = [i for i in inputs
                   if i.group == group and all(s.expected == {State.GOOD.value}
                                               for s in i.segments)]
        if not upright:
            continue
        config = _config_for(upright[0], override)
        observations = [o for i in upright for o in _observations(i.path, config, models)]
        baselines[group] = build_baseline(
            observations, min_samples=config.calibration.min_samples,
            source=f"{group}: {', '.join(i.path.name for i in upright)}")
    return baselines


def evaluate(inputs: list[LabelledInput], models: ModelPaths, *,
             override: Config | None = None, margin_s: float = 2.0,
             on_done: Callable[[Evaluated], None] | None = None) -> list[Evaluated]:
    baselines = group_baselines(inputs, override, models)
    results = []
    for labelled in inputs:
        config = _config_for(labelled, override)
        analysis = analyze_path(labelled.path, config, CalibrationChoice(), models,
                                progress=False, baseline=baselines.get(labelled.group))
        result = score_analysis(labelled, analysis, margin_s=margin_s)
        results.append(result)
        if on_done is not None:
            on_done(result)
    return results


def score_analysis(labelled: LabelledInput, analysis: Analysis, *,
                   margin_s: float = 2.0) -> Evaluated:
    """Score one input's analysis against its labels: a still is judged on the last part of
    its samples (once the smoothing has settled), a clip away from its labels' edges."""
    still = bool(labelled.group)
    score = score_clip(labelled.path.name, analysis.states, labelled.segments,
                       analysis.reminders, labelled.reminders,
                       margin_s=0.0 if still else margin_s,
                       judge_last_fraction=STILL_JUDGED_FRACTION if still else None)
    return Evaluated(labelled, set_name(labelled), analysis, score)


def by_set(results: list[Evaluated]) -> dict[str, Overall]:
    names = list(dict.fromkeys(r.set_name for r in results))
    return {name: combine([r.score for r in results if r.set_name == name]) for name in names}
