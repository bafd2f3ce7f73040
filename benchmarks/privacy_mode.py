"""Privacy mode ("camera light off between checks"): CPU and detection delay against
continuous sampling.

Drives what `run` drives, in one process: a file played as the camera (`CameraSource`),
the real pose and face estimator, the core scorer and the reminder engine. Cases: continuous
sampling at 2 Hz, and one check every 10, 30 and 60 s.

- CPU: each case runs on the real clock for the same span (`--seconds`), with a fresh
  estimator loaded (and run once) before the span; `time.process_time()` over the span
  counts every thread of the process. Printed as % of one core and as a ratio to
  continuous.
- Detection delay: a video upright, then slouched (cut from recordings/upright_hopper.mp4
  and slouch_hopper.mp4), judged against a calibration taken from the upright clip (as
  `run --profile` would). Delay = media time from the slouch start to the first sample
  whose state is caution or poor, over `--phases` offsets of the slouch start against the
  check grid. These runs use the camera's VirtualClock (waits take no time; frames,
  estimates and scores are real), so minutes of checks take seconds. The first posture
  reminder is timed too, with the default `[reminders] max_sample_gap_s` (each sample
  counts for at most 5 s of posture hold) and with it raised above the check interval.

    python benchmarks/privacy_mode.py [--seconds 60] [--phases 4]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from posture_watch.core.calibration import Baseline
from posture_watch.core.pipeline import calibrate_from_frames, frames_between
from posture_watch.core.reminders import ReminderEngine
from posture_watch.core.scoring import PostureScorer
from posture_watch.core.settings import Config
from posture_watch.core.types import Frame, ReminderKind, State
from posture_watch.vision.camera import CameraSource, Pacing, VirtualClock
from posture_watch.vision.landmarkers import ModelPaths, make_estimator, resolve_models
from posture_watch.vision.sources import open_source

if TYPE_CHECKING:
    from posture_watch.vision.estimator import PoseEstimator

REPO = Path(__file__).resolve().parents[1]
UPRIGHT = REPO / "recordings" / "upright_hopper.mp4"
SLOUCH = REPO / "recordings" / "slouch_hopper.mp4"
SLOUCH_HELD_S = (9.5, 19.5)  # slouch_hopper's labelled slouch
CASES = (("continuous 2 Hz", 0.0), ("check every 10 s", 10.0), ("check every 30 s", 30.0),
         ("check every 60 s", 60.0))
RATE_HZ = 2.0
NOT_GOOD = (State.CAUTION, State.POOR)


# -- videos ---------------------------------------------------------------------------------

def clip_frames(path: Path, start_s: float = 0.0, end_s: float = float("inf")) -> list:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames, index = [], 0
    while (got := cap.read())[0]:
        if start_s <= index / fps < end_s:
            frames.append(got[1])
        index += 1
    cap.release()
    return frames


def ping_pong(pool: list) -> Iterator[np.ndarray]:
    """The pool forward, then backward, forever: a held pose with no jump at the seams."""
    cycle = pool + pool[-2:0:-1]
    while True:
        yield from cycle


def write_video(path: Path, fps: float, upright_s: float, slouched_s: float,
                pools: tuple[list, list]) -> Path:
    """Upright for `upright_s`, then slouched for `slouched_s` (a cut: the slouch starts at
    exactly `upright_s` in media time)."""
    height, width = pools[0][0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for pool, seconds in zip(pools, (upright_s, slouched_s), strict=True):
        frames = ping_pong(pool)
        for _ in range(round(seconds * fps)):
            writer.write(next(frames))
    writer.release()
    return path


# -- one case -------------------------------------------------------------------------------

@dataclasses.dataclass
class Pipeline:
    """The scorer and two reminder engines on its states (the default, and one with the
    sample gap cap raised above the interval); beside them, a scorer with no smoothing
    (each sample decides alone), fed the same estimates."""

    scorer: PostureScorer
    engines: tuple[ReminderEngine, ReminderEngine]
    unsmoothed: PostureScorer

    @classmethod
    def make(cls, config: Config, baseline: Baseline | None, interval_s: float) -> Pipeline:
        raised = dataclasses.replace(config.reminders, max_sample_gap_s=max(
            config.reminders.max_sample_gap_s, interval_s + 1.0))
        alone = dataclasses.replace(config, smoothing=dataclasses.replace(
            config.smoothing, window_samples=1, enter_samples=1, leave_samples=1))
        return cls(PostureScorer(config, baseline),
                   (ReminderEngine(config.reminders), ReminderEngine(raised)),
                   PostureScorer(alone, baseline))


def warmed_estimator(models: ModelPaths, image: np.ndarray) -> PoseEstimator:
    """A fresh estimator, run once (its first inference sets up buffers)."""
    estimator = make_estimator(models)
    estimator.estimate(Frame(image, 0.0))
    return estimator


def cpu_case(video: Path, seconds: float, interval_s: float, models: ModelPaths,
             config: Config, image: np.ndarray) -> tuple[float, int]:
    """CPU % of one core over `seconds` of real time, and the samples taken."""
    with warmed_estimator(models, image) as estimator:
        camera = CameraSource(str(video), RATE_HZ, check_every_s=interval_s)
        pipe = Pipeline.make(config, None, interval_s)
        stop = threading.Event()

        def end() -> None:
            stop.set()
            camera.wake.set()

        # Stop just short of the span's end, so a check due at exactly `seconds` (the next
        # span's first) is not counted in this one.
        timer = threading.Timer(seconds - 0.05, end)
        samples = 0
        cpu0, wall0 = time.process_time(), time.monotonic()
        timer.start()
        for frame in camera.frames(stop):
            state = pipe.scorer.update(estimator.estimate(frame))
            for engine in pipe.engines:
                engine.update(state)
            samples += 1
        cpu1, wall1 = time.process_time(), time.monotonic()
        timer.cancel()
        camera.release()
    return 100.0 * (cpu1 - cpu0) / (wall1 - wall0), samples


@dataclasses.dataclass
class Delays:
    """Media seconds from the slouch start to the first not-good sample (smoothed as
    configured, and unsmoothed), and to the first posture reminder of each engine (None:
    not within the video)."""

    detected: float | None = None
    detected_alone: float | None = None
    reminded: list[float | None] = dataclasses.field(default_factory=lambda: [None, None])

    def done(self) -> bool:
        return self.detected_alone is not None and all(r is not None for r in self.reminded)


def delay_case(video: Path, slouch_at: float, interval_s: float, models: ModelPaths,
               config: Config, baseline: Baseline) -> Delays:
    """One run over `video` on a virtual clock, until both engines have reminded."""
    pacing: list[Pacing] = []
    clock = VirtualClock()
    camera = CameraSource(str(video), RATE_HZ, check_every_s=interval_s, clock=clock,
                          wake=clock, on_paced=pacing.append)
    pipe = Pipeline.make(config, baseline, interval_s)
    stop = threading.Event()
    out = Delays()
    with make_estimator(models) as estimator:
        for frame in camera.frames(stop):
            after = frame.t_s - slouch_at  # the file started at the clock's 0, never paused
            sample = estimator.estimate(frame)
            state, alone = pipe.scorer.update(sample), pipe.unsmoothed.update(sample)
            if out.detected is None and after >= 0 and state.state in NOT_GOOD:
                out.detected = after
            if out.detected_alone is None and after >= 0 and alone.state in NOT_GOOD:
                out.detected_alone = after
            for k, engine in enumerate(pipe.engines):
                fired = engine.update(state)
                if out.reminded[k] is None and any(r.kind is ReminderKind.POSTURE
                                                   for r in fired):
                    out.reminded[k] = after
            if out.done():
                stop.set()
    _check_media_times(pacing, video)
    return out


def _check_media_times(pacing: list[Pacing], video: Path) -> None:
    """Each sample's media position is its clock time (to the frame): the delays above are
    in media time."""
    fps = cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FPS)
    for p in pacing:
        assert p.media_s is not None and 0 <= p.read_s - p.media_s < 1.0 / fps + 1e-9, p


# -- the report -----------------------------------------------------------------------------

def calibrate(models: ModelPaths, config: Config) -> Baseline:
    """A calibration from the first 8 s of the upright clip (as `calibrate --save`)."""
    with make_estimator(models) as estimator, open_source(UPRIGHT, rate_hz=5.0) as source:
        return calibrate_from_frames(frames_between(source, 0.0, 8.0), estimator, config,
                                     "benchmark")


def phase_offsets(interval_s: float, phases: int, fps: float) -> list[float]:
    """`phases` slouch starts spread over one sampling period, on the video's frame grid."""
    period = max(interval_s, 1.0 / RATE_HZ)
    return sorted({round(k * period / phases * fps) / fps for k in range(phases)})


def video_plan(interval_s: float) -> tuple[float, float, float]:
    """(fps, upright seconds before the offset, slouched seconds) for a delay video: at
    least three samples upright first, and slouched long enough for the default engine's
    reminder (each sample adds at most 5 s to the 60 s hold)."""
    period = max(interval_s, 1.0 / RATE_HZ)
    fps = 10.0 if period < 5.0 else 2.0  # frames finer than the phase offsets
    return fps, max(3 * period, 10.0), 3 * period + 14 * max(period, 5.0) + 30.0


def spread(values: list[float | None]) -> str:
    """mean (min-max) over the phase offsets; '-' for a run that never got there."""
    got = [v for v in values if v is not None]
    missed = len(values) - len(got)
    if not got:
        return "never"
    text = f"{statistics.fmean(got):.1f} ({min(got):.1f}-{max(got):.1f})"
    return text + (f" {missed} missed" if missed else "")


def report_cpu(folder: Path, seconds: float, models: ModelPaths, config: Config,
               pools: tuple[list, list]) -> None:
    video = write_video(folder / "desk.mp4", 10.0, seconds / 2, seconds / 2 + 10.0, pools)
    print(f"CPU over {seconds:.0f} s of real time per case (file camera, pose + face "
          f"estimator, scorer, reminders; one process, all threads)")
    print(f"  {'case':<20} {'samples':>7} {'CPU % of one core':>18} {'vs continuous':>14}")
    reference = None
    for label, interval_s in CASES:
        cpu, samples = cpu_case(video, seconds, interval_s, models, config, pools[0][0])
        reference = reference or cpu
        print(f"  {label:<20} {samples:>7} {cpu:>16.2f} % {cpu / reference:>13.3f}")


def report_delays(folder: Path, phases: int, models: ModelPaths, config: Config,
                  pools: tuple[list, list]) -> None:
    baseline = calibrate(models, config)
    print(f"\nDetection delay, media s from the slouch start (mean (min-max) over {phases} "
          f"phase offsets; virtual clock, real frames and models)")
    print(f"  {'case':<18} {'to caution/poor':>22} {'(unsmoothed)':>22} "
          f"{'posture reminder':>22} {'(gap cap raised)':>22}")
    for label, interval_s in CASES:
        fps, upright_s, slouched_s = video_plan(interval_s)
        runs = []
        for k, offset in enumerate(phase_offsets(interval_s, phases, fps)):
            video = write_video(folder / f"slouch_{interval_s:g}_{k}.mp4", fps,
                                upright_s + offset, slouched_s, pools)
            runs.append(delay_case(video, upright_s + offset, interval_s, models, config,
                                   baseline))
        columns = ([r.detected for r in runs], [r.detected_alone for r in runs],
                   [r.reminded[0] for r in runs], [r.reminded[1] for r in runs])
        print(f"  {label:<18}" + "".join(f" {spread(c):>22}" for c in columns))
    print("  unsmoothed: the same estimates scored with [smoothing] window_samples, "
          "enter_samples and\n  leave_samples at 1; posture reminder: the default "
          "[reminders] (poor_hold_s 60, glance_s 5,\n  max_sample_gap_s 5); gap cap "
          "raised: max_sample_gap_s = interval + 1 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="real-time span of each CPU case (default 60)")
    parser.add_argument("--phases", type=int, default=4,
                        help="slouch-start offsets per delay case (default 4)")
    args = parser.parse_args()
    if args.seconds < 1.0 or args.phases < 1:
        parser.error("--seconds must be at least 1 and --phases at least 1")
    config = Config()
    models = resolve_models(config)
    pools = (clip_frames(UPRIGHT), clip_frames(SLOUCH, *SLOUCH_HELD_S))
    with tempfile.TemporaryDirectory() as tmp:
        report_cpu(Path(tmp), args.seconds, models, config, pools)
        report_delays(Path(tmp), args.phases, models, config, pools)
    return 0


if __name__ == "__main__":
    sys.exit(main())
