"""Throughput, per-sample latency and peak memory of `analyze` on recorded video.

Prints, for each input:
- throughput in multiples of real time (media seconds per wall second) at the default
  sampling rate and at every frame, with pose plus face, the whole loop included
  (decoding, estimation, scoring, reminders);
- per-sample estimation latency p50 / p95, pose alone and pose plus face;
and at the end the process's peak RSS.

Targets on the 2-core reference machine: >= 10x real time at 5 Hz with pose plus face,
p95 <= 40 ms per sample, peak RSS <= 600 MB.

    python benchmarks/analyze.py [PATH ...]   (default: recordings/long_session.mp4 and,
                                               where it exists, ../shared/footage/v08)
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from posture_watch.core.pipeline import Recorder, run_loop  # noqa: E402
from posture_watch.core.reminders import ReminderEngine  # noqa: E402
from posture_watch.core.scoring import PostureScorer  # noqa: E402
from posture_watch.core.settings import Config  # noqa: E402
from posture_watch.vision.estimator import PoseEstimator  # noqa: E402
from posture_watch.vision.landmarkers import ModelPaths, resolve_models  # noqa: E402
from posture_watch.vision.sources import open_source  # noqa: E402

DEFAULT_INPUTS = (
    REPO / "recordings" / "long_session.mp4",
    REPO.parent / "shared" / "footage" / "v08_intel_one_by_one_person_absent.mp4",
)


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args()
    inputs = args.paths or [p for p in DEFAULT_INPUTS if p.exists()]
    config = Config()
    models = resolve_models(config)
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
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"peak RSS: {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
