"""CPU use and memory of `posture-watch run` on a file-backed camera at real-time pacing.

Builds a video of about 150 s from the bundled recordings (a person sitting, slouching,
leaving and coming back), then for each case starts a real `run` process, lets it warm up,
and reads the process's CPU time and RSS from /proc over the measured stretch:

- the default adaptive rate (2 Hz; 5 Hz while poor; 0.5 Hz while away);
- a fixed 5 Hz;
- paused (the camera released);
- waiting while another program holds the camera (a call: this script opens the video
  file itself, and the run lets go of it and looks again every second).

With --webcam-like the camera is `webcam_720p30.mp4` instead, a file that behaves like a
webcam (built by scripts/build_bench_clips.py into ~/.cache/posture-watch/bench: 1280x720
at 30 fps, 12 minutes, a person mostly still with sensor noise, a few posture changes, one
absence), and the cases are the decode floor (a subprocess that only decodes every frame
of that file, grab(), at real-time pacing: what any run on it costs at least), `run` at
default settings, and `run` paused; the report gives run / floor. --decode-only measures
only the floor. --rss-minutes N watches a default `run` on that file for N minutes (a longer
file is built when needed) and prints its RSS growth. Each case shows the machine's CPU use
meanwhile (all cores, % of one core): the machine may be shared.

Targets on the 2-core reference machine: at most 5 % of one core at the default rate, at
most 1 % while paused or waiting for the camera, RSS growth at most 10 MB over the run.
On the webcam-like file: at most 3 % of one core at default settings (the decode floor
is about 1.8 %), at most 0.5 % paused, RSS growth under 5 MB over 30 minutes.
Linux only (/proc).

    python benchmarks/live.py [--seconds 120] [--warm-up 10]
    python benchmarks/live.py --webcam-like [--seconds 120]
    python benchmarks/live.py --decode-only
    python benchmarks/live.py --rss-minutes 30
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import build_bench_clips  # noqa: E402

CLIPS = ("upright_hopper", "long_session", "away_astronaut", "slouch_hopper",
         "upright_astronaut", "long_session")
WARM_UP_S = 10.0
RSS_EVERY_S = 10.0


def build_video(path: Path) -> float:
    """Concatenate bundled clips (all 400x400, 10 fps) into one file; its length in s."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (400, 400))
    count = 0
    for name in CLIPS:
        cap = cv2.VideoCapture(str(REPO / "recordings" / f"{name}.mp4"))
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            writer.write(frame)
            count += 1
        cap.release()
    writer.release()
    return count / 10.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine, all cores (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def machine_pct(start: tuple[int, int], end: tuple[int, int]) -> float:
    """The machine's CPU use between two readings, in % of one core (2 cores: up to 200)."""
    share = (end[0] - start[0]) / max(1, end[1] - start[1])
    return 100.0 * share * (os.cpu_count() or 1)


def load_text() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


@dataclass
class Measured:
    """CPU % of one core, RSS at the start and its growth (MB), the machine's CPU use."""

    cpu_pct: float
    rss_mb: float
    growth_mb: float
    machine_pct: float

    def line(self, label: str) -> str:
        others = max(0.0, self.machine_pct - self.cpu_pct)
        return (f"  {label:<32} CPU {self.cpu_pct:5.1f} % of one core, RSS {self.rss_mb:5.0f}"
                f" MB, growth {self.growth_mb:+5.1f} MB; machine {self.machine_pct:4.0f} %"
                f" (others ~{others:3.0f} %)")


def run_cmd(video: Path, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "posture_watch", "run", "--camera", str(video), *extra]


def decode_cmd(video: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--decode-worker", str(video)]


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `cmd` with stderr to `log` (a pipe could fill up over a long run)."""
    with log.open("wb") as err:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)


def stop(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Terminate `proc`; exit with its stderr's tail if it failed."""
    if proc.poll() is None:
        proc.terminate()
    proc.wait(timeout=30)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(proc.args[1:4])} exited with {proc.returncode}: "
                         f"{log.read_text(errors='replace')[-500:]}")


def measure(cmd: list[str], video: Path, seconds: float, wait: str | None,
            env: dict[str, str], warm_up_s: float = WARM_UP_S) -> Measured:
    """Run `cmd`; over `seconds` after warm-up, its CPU and RSS; `wait`: "pause" (the user
    paused it) or "call" (this process holds the camera)."""
    log = Path(env["POSTURE_WATCH_RUNTIME_DIR"]).parent / "stderr.log"  # in the temp dir
    proc = start(cmd, env, log)
    holder = None
    try:
        time.sleep(warm_up_s)
        if wait == "pause":
            subprocess.run([sys.executable, "-m", "posture_watch", "pause"], env=env,
                           check=True, capture_output=True)
        elif wait == "call":
            holder = video.open("rb")  # another program on the camera
        if wait is not None:
            _wait_for_state(env, ("paused",) if wait == "pause" else ("camera in use",))
        cpu0, wall0, rss0 = cpu_seconds(proc.pid), time.monotonic(), rss_mb(proc.pid)
        jiffies0 = machine_jiffies()
        time.sleep(seconds)
        cpu1, wall1, rss1 = cpu_seconds(proc.pid), time.monotonic(), rss_mb(proc.pid)
        jiffies1 = machine_jiffies()
    finally:
        if holder is not None:
            holder.close()
        stop(proc, log)
    return Measured(100.0 * (cpu1 - cpu0) / (wall1 - wall0), rss0, rss1 - rss0,
                    machine_pct(jiffies0, jiffies1))


def _wait_for_state(env: dict[str, str], states: tuple[str, ...]) -> None:
    """Until `status` says one of `states` (the run has let go of the camera)."""
    for _ in range(60):
        reply = subprocess.run([sys.executable, "-m", "posture_watch", "status", "--json"],
                               env=env, capture_output=True, text=True)
        if reply.returncode == 0 and json.loads(reply.stdout).get("state") in states:
            return
        time.sleep(0.5)
    raise SystemExit(f"the run never said {' or '.join(states)}")


def decode_worker(video: Path) -> int:
    """Decode (grab) every frame of `video` at its frame rate in real time, then exit."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    began = time.monotonic()
    index = 0
    while True:
        delay = began + index / fps - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if not cap.grab():
            return 0
        index += 1


def bench_env(tmp: Path) -> dict[str, str]:
    """The environment for each run: its own runtime and data folders, no downloads."""
    env = dict(os.environ, POSTURE_WATCH_RUNTIME_DIR=str(tmp / "run"),
               POSTURE_WATCH_DATA_DIR=str(tmp / "data"))
    env.setdefault("POSTURE_WATCH_NO_DOWNLOAD", "1")
    return env


def check_length(video: Path, needed_s: float) -> float:
    length = build_bench_clips.video_length_s(video)
    if length < needed_s:
        raise SystemExit(f"{video.name} is {length:.0f} s; need {needed_s:.0f} s")
    return length


def bundled_cases(seconds: float, warm_up_s: float) -> None:
    """The four cases on a video built from the bundled recordings."""
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "desk.mp4"
        length = build_video(video)
        if length < warm_up_s + 2.0 + seconds:
            raise SystemExit(f"video is {length:.0f} s; need {warm_up_s + 2.0 + seconds:.0f} s")
        env = bench_env(Path(tmp))
        print(f"file-backed camera: {length:.0f} s video, {seconds:.0f} s measured "
              f"after {warm_up_s:.0f} s warm-up; load average {load_text()}")
        for label, extra, wait in (("default (adaptive 2 Hz)", [], None),
                                   ("fixed 5 Hz", ["--rate", "5"], None),
                                   ("paused", [], "pause"),
                                   ("camera in use (a call)", [], "call")):
            print(measure(run_cmd(video, extra), video, seconds, wait, env, warm_up_s)
                  .line(label), flush=True)


def webcam_cases(video: Path, seconds: float, warm_up_s: float, floor_only: bool) -> None:
    """The decode floor, then (unless `floor_only`) run at default settings, run paused
    and the floor again (the machine's load may change meanwhile)."""
    length = check_length(video, warm_up_s + seconds + 5.0)
    print(f"webcam-like camera: {video.name} (1280x720, 30 fps, {length:.0f} s), "
          f"{seconds:.0f} s measured after {warm_up_s:.0f} s warm-up; load average "
          f"{load_text()}")
    with tempfile.TemporaryDirectory() as tmp:
        env = bench_env(Path(tmp))

        def case(label: str, cmd: list[str], wait: str | None = None) -> Measured:
            measured = measure(cmd, video, seconds, wait, env, warm_up_s)
            print(measured.line(label), flush=True)
            return measured

        floors = [case("decode floor (grab every frame)", decode_cmd(video))]
        if floor_only:
            return
        run = case("run, default settings", run_cmd(video, []))
        case("run, paused", run_cmd(video, []), "pause")
        floors.append(case("decode floor, again", decode_cmd(video)))
    floor = sum(f.cpu_pct for f in floors) / len(floors)
    print(f"  run / decode floor (mean of both): {run.cpu_pct / max(floor, 1e-9):.1f}x (run "
          f"{run.cpu_pct - floor:+.1f} points above it); targets: run <= 3 %, paused <= "
          f"0.5 %; load average {load_text()}")


def rss_watch(video: Path, minutes: float, warm_up_s: float) -> None:
    """RSS of a default run on `video` every RSS_EVERY_S for `minutes` after warm-up."""
    total_s = minutes * 60.0
    check_length(video, warm_up_s + total_s + 5.0)
    print(f"RSS growth: run at default settings on {video.name}, {minutes:g} min after "
          f"{warm_up_s:.0f} s warm-up; load average {load_text()}")
    with tempfile.TemporaryDirectory() as tmp:
        env = bench_env(Path(tmp))
        log = Path(tmp) / "stderr.log"
        proc = start(run_cmd(video, []), env, log)
        try:
            time.sleep(warm_up_s)
            samples = watch(proc, total_s, log)
        finally:
            stop(proc, log)
    show_rss(samples)


def watch(proc: subprocess.Popen[bytes], total_s: float,
          log: Path) -> list[tuple[float, float, float]]:
    """(seconds, RSS MB, CPU s) every RSS_EVERY_S over `total_s`; a line every minute
    (every 5 minutes past 5)."""
    every = 60.0 if total_s <= 300 else 300.0
    began = time.monotonic()
    samples = [(0.0, rss_mb(proc.pid), cpu_seconds(proc.pid))]
    while samples[-1][0] < total_s - 1e-3:
        time.sleep(min(RSS_EVERY_S, total_s - samples[-1][0]))
        if proc.poll() is not None:
            stop(proc, log)
            raise SystemExit("the run ended early")
        now = time.monotonic() - began
        samples.append((now, rss_mb(proc.pid), cpu_seconds(proc.pid)))
        if math.floor(now / every + 1e-6) > math.floor(samples[-2][0] / every + 1e-6):
            print(f"  {now / 60:5.1f} min: RSS {samples[-1][1]:6.1f} MB "
                  f"({samples[-1][1] - samples[0][1]:+5.1f})", flush=True)
    return samples


def show_rss(samples: list[tuple[float, float, float]]) -> None:
    (t0, rss0, cpu0), (t1, rss1, cpu1) = samples[0], samples[-1]
    half = min(samples, key=lambda s: abs(s[0] - t1 / 2))
    print(f"  RSS {rss0:.1f} -> {rss1:.1f} MB: growth {rss1 - rss0:+.1f} MB over "
          f"{(t1 - t0) / 60:.1f} min ({rss1 - half[1]:+.1f} MB in the second half; peak "
          f"{max(s[1] for s in samples):.1f} MB); CPU {100 * (cpu1 - cpu0) / (t1 - t0):.1f} % "
          f"of one core; target: growth < 5 MB over 30 min")


def webcam_video(bench_dir: Path, needed_s: float = 0.0) -> Path:
    """The webcam-like clip, at least `needed_s` long (built or rebuilt when needed)."""
    minutes = max(build_bench_clips.WEBCAM_MINUTES, math.ceil(needed_s / 60.0))
    return build_bench_clips.ensure_webcam(bench_dir, build_bench_clips.DEFAULT_FOOTAGE,
                                           minutes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0,
                        help="measured stretch per case (default 120)")
    parser.add_argument("--warm-up", type=float, default=WARM_UP_S,
                        help=f"seconds before measuring (default {WARM_UP_S:g})")
    parser.add_argument("--webcam-like", action="store_true",
                        help="the camera is webcam_720p30.mp4: decode floor, default, paused")
    parser.add_argument("--decode-only", action="store_true",
                        help="only the decode floor of the webcam-like file")
    parser.add_argument("--rss-minutes", type=float, metavar="N",
                        help="watch a default run's RSS for N minutes (webcam-like file)")
    parser.add_argument("--bench-dir", type=Path, default=build_bench_clips.DEFAULT_OUT,
                        help="where the benchmark clips are built")
    parser.add_argument("--decode-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.decode_worker is not None:
        return decode_worker(args.decode_worker)
    bench_dir = args.bench_dir.expanduser()
    if args.webcam_like or args.decode_only:
        webcam_cases(webcam_video(bench_dir), args.seconds, args.warm_up, args.decode_only)
    if args.rss_minutes:
        needed = args.warm_up + args.rss_minutes * 60.0 + 30.0
        rss_watch(webcam_video(bench_dir, needed), args.rss_minutes, args.warm_up)
    if not (args.webcam_like or args.decode_only or args.rss_minutes):
        bundled_cases(args.seconds, args.warm_up)
    return 0


if __name__ == "__main__":
    sys.exit(main())
