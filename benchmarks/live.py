"""CPU use and memory of `posture-watch run` on a file-backed camera at real-time pacing.

Builds a video of about 150 s from the bundled recordings (a person sitting, slouching,
leaving and coming back), then for each case starts a real `run` process, lets it warm up,
and reads the process's CPU time and RSS from /proc over the measured stretch:

- the default adaptive rate (2 Hz; 5 Hz while poor; 0.5 Hz while away);
- a fixed 5 Hz;
- paused (the camera released);
- waiting while another program holds the camera (a call: this script opens the video
  file itself, and the run lets go of it and looks again every second).

Targets on the 2-core reference machine: at most 5 % of one core at the default rate, at
most 1 % while paused or waiting for the camera, RSS growth at most 10 MB over the run.
Linux only (/proc).

    python benchmarks/live.py [--seconds 120]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[1]
CLIPS = ("upright_hopper", "long_session", "away_astronaut", "slouch_hopper",
         "upright_astronaut", "long_session")
WARM_UP_S = 10.0


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


def measure(video: Path, seconds: float, extra: list[str], wait: str | None,
            env: dict[str, str]) -> tuple[float, float, float]:
    """CPU % of one core, RSS at the start and growth (MB) over `seconds` after warm-up;
    `wait`: "pause" (the user paused it) or "call" (this process holds the camera)."""
    cmd = [sys.executable, "-m", "posture_watch", "run", "--camera", str(video), *extra]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    holder = None
    try:
        time.sleep(WARM_UP_S)
        if wait == "pause":
            subprocess.run([sys.executable, "-m", "posture_watch", "pause"], env=env,
                           check=True, capture_output=True)
        elif wait == "call":
            holder = video.open("rb")  # another program on the camera
        if wait is not None:
            _wait_for_state(env, ("paused",) if wait == "pause" else ("camera in use",))
        cpu0, wall0, rss0 = cpu_seconds(proc.pid), time.monotonic(), rss_mb(proc.pid)
        time.sleep(seconds)
        cpu1, wall1, rss1 = cpu_seconds(proc.pid), time.monotonic(), rss_mb(proc.pid)
    finally:
        if holder is not None:
            holder.close()
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    if proc.returncode != 0:
        raise SystemExit(f"run exited with {proc.returncode}: {err.decode()[-500:]}")
    return 100.0 * (cpu1 - cpu0) / (wall1 - wall0), rss0, rss1 - rss0


def _wait_for_state(env: dict[str, str], states: tuple[str, ...]) -> None:
    """Until `status` says one of `states` (the run has let go of the camera)."""
    for _ in range(60):
        reply = subprocess.run([sys.executable, "-m", "posture_watch", "status", "--json"],
                               env=env, capture_output=True, text=True)
        if reply.returncode == 0 and json.loads(reply.stdout).get("state") in states:
            return
        time.sleep(0.5)
    raise SystemExit(f"the run never said {' or '.join(states)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0,
                        help="measured stretch per case (default 120)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "desk.mp4"
        length = build_video(video)
        needed = WARM_UP_S + 2.0 + args.seconds
        if length < needed:
            raise SystemExit(f"video is {length:.0f} s; need {needed:.0f} s")
        env = dict(os.environ, POSTURE_WATCH_RUNTIME_DIR=str(Path(tmp) / "run"),
                   POSTURE_WATCH_DATA_DIR=str(Path(tmp) / "data"))
        env.setdefault("POSTURE_WATCH_NO_DOWNLOAD", "1")
        print(f"file-backed camera: {length:.0f} s video, {args.seconds:.0f} s measured "
              f"after {WARM_UP_S:.0f} s warm-up")
        for label, extra, wait in (("default (adaptive 2 Hz)", [], None),
                                   ("fixed 5 Hz", ["--rate", "5"], None),
                                   ("paused", [], "pause"),
                                   ("camera in use (a call)", [], "call")):
            cpu, rss, growth = measure(video, args.seconds, extra, wait, env)
            print(f"  {label:<24} CPU {cpu:5.1f} % of one core, RSS {rss:5.0f} MB, "
                  f"growth {growth:+5.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
