"""The one loop that wires a frame source, the estimator, the core and the sinks.

`analyze` (recorded files) and `run` (the camera) both go through `run_loop`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from posture_watch.core.calibration import Baseline, Observation, build_baseline
from posture_watch.core.reminders import ReminderEngine
from posture_watch.core.scoring import (
    PostureScorer,
    head_position,
    measure_with_config,
    select_person,
)
from posture_watch.core.settings import Config
from posture_watch.core.types import Frame, PoseSample, PostureState, Reminder


class Estimator(Protocol):
    def estimate(self, frame: Frame) -> PoseSample: ...


class Sink(Protocol):
    """Receives every scored sample and the reminders it raised."""

    def on_sample(self, state: PostureState, reminders: list[Reminder]) -> None: ...


@dataclass
class Recorder:
    """A sink that keeps everything in memory (for analyze and tests)."""

    states: list[PostureState] = field(default_factory=list)
    reminders: list[Reminder] = field(default_factory=list)

    def on_sample(self, state: PostureState, reminders: list[Reminder]) -> None:
        self.states.append(state)
        self.reminders.extend(reminders)


def run_loop(
    frames: Iterable[Frame],
    estimator: Estimator,
    scorer: PostureScorer,
    engine: ReminderEngine,
    sinks: list[Sink],
    on_frame: Callable[[Frame], None] | None = None,
) -> None:
    """Estimate, score and remind for every frame, handing the results to the sinks."""
    for frame in frames:
        sample = estimator.estimate(frame)
        state = scorer.update(sample)
        reminders = engine.update(state)
        for sink in sinks:
            sink.on_sample(state, reminders)
        if on_frame is not None:
            on_frame(frame)


def replay(samples: Iterable[PoseSample], scorer: PostureScorer, engine: ReminderEngine,
           sinks: list[Sink]) -> None:
    """Score and remind for samples estimated before (evaluation judges the same landmarks
    in several ways without running the model again)."""
    for sample in samples:
        state = scorer.update(sample)
        reminders = engine.update(state)
        for sink in sinks:
            sink.on_sample(state, reminders)


def frames_between(frames: Iterable[Frame], start_s: float, end_s: float) -> Iterator[Frame]:
    """The frames whose time lies in [start_s, end_s]; stops reading after end_s."""
    for frame in frames:
        if frame.t_s > end_s:
            return
        if frame.t_s >= start_s:
            yield frame


def observe(sample: PoseSample, config: Config,
            anchor: tuple[float, float] | None) -> Observation | None:
    """The calibration observation of the user in one sample, if the user is there."""
    person = select_person(sample.people, sample.width, sample.height, anchor)
    if person is None:
        return None
    position = head_position(person, sample.width, sample.height)
    if position is None:
        return None
    return Observation(measure_with_config(person, sample.width, sample.height, config), position)


def collect_observations(frames: Iterable[Frame], estimator: Estimator,
                         config: Config) -> tuple[list[Observation], int]:
    """The user's observations in the frames (following them from frame to frame), and
    how many frames there were."""
    observations: list[Observation] = []
    anchor = None
    total = 0
    for frame in frames:
        total += 1
        obs = observe(estimator.estimate(frame), config, anchor)
        if obs is not None:
            observations.append(obs)
            anchor = obs.position
    return observations, total


def calibrate_from_frames(
    frames: Iterable[Frame], estimator: Estimator, config: Config, source: str
) -> Baseline:
    """A baseline from frames of the user sitting upright."""
    observations, _ = collect_observations(frames, estimator, config)
    return build_baseline(observations, min_samples=config.calibration.min_samples,
                          source=source)
