"""Analysing a recording: open it, choose the calibration, run the one pipeline loop over
it and keep every state and reminder (`analyze`, and `evaluate` underneath)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from posture_watch.core.calibration import Baseline, add_slump
from posture_watch.core.pipeline import (
    Recorder,
    calibrate_from_frames,
    collect_observations,
    frames_between,
    run_loop,
)
from posture_watch.core.reminders import ReminderEngine
from posture_watch.core.scoring import PostureScorer
from posture_watch.core.settings import Config, SamplingConfig
from posture_watch.core.summary import Summary, summarize
from posture_watch.core.types import Frame, PostureState, Reminder
from posture_watch.errors import UserError
from posture_watch.history.profiles import load_baseline_file, load_profile
from posture_watch.vision.landmarkers import ModelPaths, make_estimator
from posture_watch.vision.sources import FrameSource, StillsSource, open_source

# Inputs shorter than this get no progress bar.
_PROGRESS_MIN_S = 5.0


@dataclass(frozen=True)
class CalibrationChoice:
    """How the baseline is obtained: one of range, file, profile, or none (automatic)."""

    range_s: tuple[float, float] | None = None
    file: Path | None = None
    profile: str | None = None
    slump_range_s: tuple[float, float] | None = None  # two-pose: the stretch slumped

    def describe(self) -> str:
        if self.range_s and self.slump_range_s:
            return (f"two-pose: upright {self.range_s[0]:g}-{self.range_s[1]:g} s, slumped "
                    f"{self.slump_range_s[0]:g}-{self.slump_range_s[1]:g} s of the input")
        if self.range_s:
            return f"from {self.range_s[0]:g}-{self.range_s[1]:g} s of the input"
        if self.file:
            return f"file {self.file}"
        if self.profile:
            return f"profile {self.profile!r}"
        return "automatic"


@dataclass
class Analysis:
    path: Path
    duration_s: float | None
    rate_hz: float | None
    calibration: str
    baseline: Baseline | None
    states: list[PostureState]
    reminders: list[Reminder]
    summary: Summary


def parse_range(text: str) -> tuple[float, float]:
    """'START:END' in seconds."""
    try:
        start_text, end_text = text.split(":")
        start, end = float(start_text), float(end_text)
    except ValueError:
        raise UserError(f"time range {text!r}: expected START:END in seconds, "
                        "e.g. 0:8") from None
    if start < 0 or end <= start:
        raise UserError(f"time range {text!r}: END must be after START, both >= 0")
    return start, end


@contextmanager
def _progress(total_s: float | None, label: str, enabled: bool) -> Iterator:
    """Yields a callback that advances a rich progress bar on stderr (or does nothing)."""
    if not enabled or not total_s or total_s < _PROGRESS_MIN_S:
        yield lambda frame: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed:.0f}/{task.total:.0f} s"), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total_s)

        def advance(frame: Frame) -> None:
            bar.update(task, completed=min(frame.t_s, total_s))

        yield advance


def check_input(path: Path, config: Config) -> None:
    """Open and close a source so bad input fails before any model is loaded."""
    with open_source(path, rate_hz=config.sampling.file_rate_hz,
                     still_hold_s=config.sampling.still_hold_s):
        pass


def baseline_for(choice: CalibrationChoice, path: Path, config: Config,
                 model_paths: ModelPaths) -> Baseline | None:
    if choice.file:
        return load_baseline_file(choice.file)
    if choice.profile:
        return load_profile(choice.profile)
    if choice.range_s:
        start, end = choice.range_s
        with open_source(path, rate_hz=config.sampling.file_rate_hz,
                         still_hold_s=config.sampling.still_hold_s) as source, \
                make_estimator(model_paths) as estimator:
            baseline = calibrate_from_frames(frames_between(source, start, end), estimator,
                                             config, source=f"{path.name} {start:g}-{end:g} s")
        if choice.slump_range_s:
            baseline = _with_slump(baseline, path, config, model_paths, choice.slump_range_s)
        return baseline
    return None


def _with_slump(baseline: Baseline, path: Path, config: Config, model_paths: ModelPaths,
                range_s: tuple[float, float]) -> Baseline:
    """Two-pose calibration: learn the user's own slump from a second stretch."""
    start, end = range_s
    with open_source(path, rate_hz=config.sampling.file_rate_hz,
                     still_hold_s=config.sampling.still_hold_s) as source, \
            make_estimator(model_paths) as estimator:
        observations, _ = collect_observations(frames_between(source, start, end), estimator,
                                               config)
    learned = add_slump(baseline, observations, min_samples=config.calibration.min_samples)
    return dataclasses.replace(learned, source=f"{learned.source}; slumped {start:g}-{end:g} s")


def sampling_for(source: FrameSource, config: Config) -> SamplingConfig | None:
    """How the models may save work on a video; a photo is measured on every sample (the
    models settle on it over its repeated frames, and `evaluate` judges it so)."""
    return None if isinstance(source, StillsSource) else config.sampling


def analyze_path(path: Path, config: Config, choice: CalibrationChoice,
                 model_paths: ModelPaths, *, progress: bool = True,
                 baseline: Baseline | None = None) -> Analysis:
    """Run the pipeline over one input; `baseline`, when given, overrides `choice`."""
    if baseline is None:
        baseline = baseline_for(choice, path, config, model_paths)
    else:
        choice = CalibrationChoice(profile=baseline.source)
    scorer = PostureScorer(config, baseline)
    engine = ReminderEngine(config.reminders)
    recorder = Recorder()
    rate = config.sampling.file_rate_hz
    with open_source(path, rate_hz=rate, still_hold_s=config.sampling.still_hold_s) as source, \
            make_estimator(model_paths, sampling_for(source, config)) as estimator, \
            _progress(source.duration_s, source.name, progress) as advance:
        run_loop(source, estimator, scorer, engine, [recorder], on_frame=advance)
        duration = source.duration_s
    if not recorder.states:
        raise UserError(f"{path}: no frames could be read")
    return Analysis(path, duration, rate, choice.describe(), scorer.baseline,
                    recorder.states, recorder.reminders,
                    summarize(recorder.states, recorder.reminders, config.thresholds))
