"""Throughput, per-sample latency and peak memory of `analyze` on recorded video, and
`analyze` against a plain MediaPipe loop on the same inputs.

Prints, for each input:
- throughput in multiples of real time (media seconds per wall second) at the default
  sampling rate and at every frame, with pose plus face, the whole loop included
  (decoding, estimation, scoring, reminders);
- per-sample estimation latency p50 / p95, pose alone and pose plus face;
and then the process's peak RSS.

Then, for each comparison input (default: footage v08 and `desk_10min.mp4`, a 10-minute
desk recording built by `scripts/build_bench_clips.py` into ~/.cache/posture-watch/bench),
`analyze` (`analyze_path`, automatic calibration) against the plain loop: cv2 opens the
video, grab() skips the frames between 5 Hz samples, each sample is retrieved, converted
BGR->RGB and given to a PoseLandmarker and then a FaceLandmarker (VIDEO mode, the
project's model files, default options), nothing else. The two alternate order round by
round; each run is timed with its start-up (model load) included and excluded, and the
machine's CPU use during it is shown (the machine is shared).

Targets on the 2-core reference machine: >= 10x real time at 5 Hz with pose plus face,
p95 <= 40 ms per sample, peak RSS <= 600 MB; `analyze` >= 2.0x the plain loop's
throughput on v08 and desk_10min, start-up included and excluded.

    python benchmarks/analyze.py [PATH ...] [--compare PATH ...] [--rounds 2]
                                 [--no-existing] [--no-compare]
    (PATH default: recordings/long_session.mp4 and, where it exists, ../shared/footage/v08)
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))
# Quiet MediaPipe's C++ logging before it is imported, as the estimator does.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import build_bench_clips  # noqa: E402
import mediapipe as mp  # noqa: E402
from mediapipe.tasks.python import BaseOptions, vision  # noqa: E402

from posture_watch.analysis import analyze as analysis  # noqa: E402
from posture_watch.config import load_config  # noqa: E402
from posture_watch.core.pipeline import Estimator, Recorder, run_loop  # noqa: E402
from posture_watch.core.reminders import ReminderEngine  # noqa: E402
from posture_watch.core.scoring import PostureScorer  # noqa: E402
from posture_watch.core.settings import Config, SamplingConfig  # noqa: E402
from posture_watch.vision.estimator import PoseEstimator  # noqa: E402
from posture_watch.vision.landmarkers import ModelPaths, resolve_models  # noqa: E402
from posture_watch.vision.sources import open_source  # noqa: E402

FOOTAGE = REPO.parent / "shared" / "footage"
V08 = FOOTAGE / "v08_intel_one_by_one_person_absent.mp4"
DEFAULT_INPUTS = (REPO / "recordings" / "long_session.mp4", V08)
WARM_UP_INPUT = REPO / "recordings" / "upright_hopper.mp4"
TARGET_RATIO = 2.0


def throughput(path: Path, rate_hz: float | None, models: ModelPaths,
               config: Config) -> tuple[float, int]:
    """Media seconds per wall second for the full loop, and the number of samples."""
    recorder = Recorder()
    with open_source(path, rate_hz=rate_hz) as source, \
            PoseEstimator(models.pose, models.face) as estimator:
        start = time.perf_counter()
        run_loop(source, estimator, PostureScorer(config), ReminderEngine(config.reminders),
                 [recorder])
        wall = time.perf_counter() - start
        duration = source.duration_s or recorder.states[-1].t_s
    return duration / wall, len(recorder.states)


def latencies_ms(path: Path, rate_hz: float, pose: Path, face: Path | None) -> list[float]:
    out = []
    with open_source(path, rate_hz=rate_hz) as source, PoseEstimator(pose, face) as estimator:
        for frame in source:
            start = time.perf_counter()
            estimator.estimate(frame)
            out.append((time.perf_counter() - start) * 1000.0)
    return out[1:]  # the first call includes one-off graph set-up


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def existing_figures(inputs: list[Path], models: ModelPaths, config: Config) -> None:
    """Throughput at the sampling rate and every frame, latencies; then peak RSS."""
    rate = config.sampling.file_rate_hz
    for path in inputs:
        print(f"{path.name}")
        for label, hz in ((f"{rate:g} Hz", rate), ("every frame", None)):
            speed, samples = throughput(path, hz, models, config)
            print(f"  throughput at {label:<11}: {speed:6.1f}x real time ({samples} samples)")
        for label, face in (("pose alone", None), ("pose + face", models.face)):
            ms = latencies_ms(path, rate, models.pose, face)
            print(f"  latency {label:<11}: p50 {percentile(ms, 50):5.1f} ms, "
                  f"p95 {percentile(ms, 95):5.1f} ms ({len(ms)} samples)")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


# -- analyze against the plain loop ------------------------------------------------------
def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine, all cores (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass
class Timing:
    """One timed run: wall seconds with and without start-up, CPU, machine load."""

    total_s: float
    work_s: float | None  # after the models were loaded; None when that was not seen
    cpu_s: float
    machine_pct: float  # the machine's CPU use over the run, % of one core (all cores)
    samples: int


class Meter:
    """Wall, process CPU and machine CPU from construction to stop()."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        self.jiffies = machine_jiffies()

    def stop(self, ready: float | None, samples: int) -> Timing:
        end, cpu = time.perf_counter(), time.process_time()
        busy, total = machine_jiffies()
        share = (busy - self.jiffies[0]) / max(1, total - self.jiffies[1])
        return Timing(end - self.wall, None if ready is None else end - ready,
                      cpu - self.cpu, 100.0 * share * (os.cpu_count() or 1), samples)


def plain_landmarkers(models: ModelPaths) -> tuple[vision.PoseLandmarker,
                                                   vision.FaceLandmarker]:
    """A PoseLandmarker and a FaceLandmarker in VIDEO mode with default options."""
    video = vision.RunningMode.VIDEO
    pose = vision.PoseLandmarker.create_from_options(vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(models.pose)), running_mode=video))
    face = vision.FaceLandmarker.create_from_options(vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(models.face)), running_mode=video))
    return pose, face


def plain_loop(path: Path, rate_hz: float, models: ModelPaths) -> Timing:
    """The reference: grab to the next sample, retrieve, BGR->RGB, pose then face."""
    meter = Meter()
    pose, face = plain_landmarkers(models)
    cap = cv2.VideoCapture(str(path))
    ready = time.perf_counter()
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    index = samples = next_tick = 0
    try:
        while cap.grab():
            t = index / fps
            index += 1
            if t + 1e-6 < next_tick / rate_hz:
                continue
            next_tick = math.floor((t + 1e-6) * rate_hz) + 1
            ok, bgr = cap.retrieve()
            if not ok:
                continue
            image = mp.Image(image_format=mp.ImageFormat.SRGB,
                             data=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            ms = round(t * 1000.0)
            pose.detect_for_video(image, ms)
            face.detect_for_video(image, ms)
            samples += 1
    finally:
        cap.release()
        pose.close()
        face.close()
    return meter.stop(ready, samples)


def analyze_run(path: Path, config: Config, models: ModelPaths) -> Timing:
    """`analyze_path` with automatic calibration, no progress bar; its models count as
    loaded when its make_estimator returns (the last call, if several)."""
    ready: list[float] = []
    real = analysis.make_estimator

    def timed(paths: ModelPaths, sampling: SamplingConfig | None = None) -> Estimator:
        estimator = real(paths, sampling)
        ready.append(time.perf_counter())
        return estimator

    meter = Meter()
    analysis.make_estimator = timed
    try:
        result = analysis.analyze_path(path, config, analysis.CalibrationChoice(), models,
                                       progress=False)
    finally:
        analysis.make_estimator = real
    return meter.stop(ready[-1] if ready else None, len(result.states))


def speeds(media_s: float, timing: Timing) -> tuple[float, float | None]:
    """Throughput (x real time) with start-up included and excluded."""
    excluded = None if timing.work_s is None else media_s / timing.work_s
    return media_s / timing.total_s, excluded


def show_run(label: str, media_s: float, timing: Timing) -> None:
    incl, excl = speeds(media_s, timing)
    excl_text = "  n/a" if excl is None else f"{excl:5.1f}x"
    ours = 100.0 * timing.cpu_s / timing.total_s
    print(f"    {label:<8} {incl:5.1f}x incl. start-up ({timing.total_s:5.1f} s), "
          f"{excl_text} excl.; CPU {ours:4.0f} % of one core, machine {timing.machine_pct:4.0f}"
          f" % (others ~{max(0.0, timing.machine_pct - ours):3.0f} %); {timing.samples} samples")


def median_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def compare(path: Path, config: Config, models: ModelPaths, rounds: int) -> None:
    """Alternate the plain loop and analyze on `path`; print each run and the ratios."""
    media_s = build_bench_clips.video_length_s(path)
    rate = config.sampling.file_rate_hz
    print(f"{path.name} ({media_s:.0f} s of video; load average "
          f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())})")
    runs: dict[str, list[Timing]] = {"plain": [], "analyze": []}
    for r in range(rounds):
        order = ("plain", "analyze") if r % 2 == 0 else ("analyze", "plain")
        print(f"  round {r + 1}")
        for name in order:
            timing = (plain_loop(path, rate, models) if name == "plain"
                      else analyze_run(path, config, models))
            runs[name].append(timing)
            show_run(name, media_s, timing)
    show_ratios(media_s, runs)


def show_ratios(media_s: float, runs: dict[str, list[Timing]]) -> None:
    """Median throughputs and the analyze / plain ratio, per round and overall."""
    for column, label in ((0, "start-up included"), (1, "start-up excluded")):
        plain = [speeds(media_s, t)[column] for t in runs["plain"]]
        ours = [speeds(media_s, t)[column] for t in runs["analyze"]]
        ratios = [None if a is None or p is None else a / p
                  for a, p in zip(ours, plain, strict=True)]
        p_med, a_med, r_med = (median_or_none(plain), median_or_none(ours),
                               median_or_none(ratios))
        if r_med is None or p_med is None or a_med is None:
            print(f"  {label}: n/a (analyze's model load was not seen)")
            continue
        per_round = ", ".join("n/a" if r is None else f"{r:.2f}" for r in ratios)
        verdict = "meets" if r_med >= TARGET_RATIO else "below"
        print(f"  {label}: plain {p_med:5.1f}x, analyze {a_med:5.1f}x real time -> "
              f"analyze/plain {r_med:.2f} (rounds: {per_round}); target >= "
              f"{TARGET_RATIO:g}: {verdict}")


def warm_up(config: Config, models: ModelPaths) -> None:
    """One untimed run of each on a short clip (libraries, caches, model files)."""
    plain_loop(WARM_UP_INPUT, config.sampling.file_rate_hz, models)
    analyze_run(WARM_UP_INPUT, config, models)


def comparison(paths: list[Path], config: Config, models: ModelPaths, rounds: int) -> None:
    print(f"\nanalyze vs plain loop ({config.sampling.file_rate_hz:g} Hz; {rounds} rounds, "
          f"alternating order; {os.cpu_count()} cores)")
    warm_up(config, models)
    for path in paths:
        compare(path, config, models, rounds)
    print(f"peak RSS after the comparison: {peak_rss_mb():.0f} MB")


def compare_inputs(given: list[Path], bench_dir: Path) -> list[Path]:
    """The given comparison inputs, else v08 (if present) and desk_10min (built if needed)."""
    if given:
        return given
    desk = build_bench_clips.ensure_desk(bench_dir, FOOTAGE)
    return [p for p in (V08, desk) if p.exists()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--compare", type=Path, action="append", default=[], metavar="PATH",
                        help="input for analyze vs the plain loop (repeatable; default v08 "
                             "and desk_10min)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds of analyze vs plain per input (default 2)")
    parser.add_argument("--bench-dir", type=Path, default=build_bench_clips.DEFAULT_OUT,
                        help="where the benchmark clips are built")
    parser.add_argument("--no-existing", action="store_true",
                        help="skip throughput / latency figures; only the comparison")
    parser.add_argument("--no-compare", action="store_true", help="skip the comparison")
    parser.add_argument("--config", type=Path, default=None,
                        help="TOML config for analyze (e.g. one that turns a lever off)")
    args = parser.parse_args()
    config = load_config(args.config)
    models = resolve_models(config)
    if not args.no_existing:
        existing_figures(args.paths or [p for p in DEFAULT_INPUTS if p.exists()], models,
                         config)
    if not args.no_compare:
        comparison(compare_inputs(args.compare, args.bench_dir.expanduser()), config, models,
                   max(1, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
