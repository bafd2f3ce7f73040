"""Throughput of `evaluate` on the shared footage set, in multiples of real time.

Runs the whole evaluation (calibrating the still groups, analysing every input, scoring)
once and divides the media time covered by the wall time.

    python benchmarks/evaluate.py [FOOTAGE_DIR]     (default: ../shared/footage)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from posture_watch.core.settings import Config  # noqa: E402
from posture_watch.evaluation import evaluate  # noqa: E402
from posture_watch.evaluation.labels import read_footage  # noqa: E402
from posture_watch.vision.landmarkers import resolve_models  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("footage", nargs="?", type=Path,
                        default=REPO.parent / "shared" / "footage")
    args = parser.parse_args()
    inputs = read_footage(args.footage)
    models = resolve_models(Config())
    start = time.perf_counter()
    results = evaluate.evaluate(inputs, models)
    wall = time.perf_counter() - start
    media = sum(r.analysis.duration_s or r.analysis.states[-1].t_s for r in results)
    samples = sum(len(r.analysis.states) for r in results)
    print(f"evaluate on {args.footage}: {len(results)} inputs, {media:.0f} s of media, "
          f"{samples} samples")
    print(f"  wall time {wall:.1f} s: {media / wall:.1f}x real time, "
          f"{1000 * wall / samples:.1f} ms per sample (calibration passes included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
