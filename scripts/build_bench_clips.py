"""Build the benchmark clips, deterministically, into a cache outside the repo.

- `desk_10min.mp4` (for `benchmarks/analyze.py`): a 10-minute desk session at 1280x720,
  10 fps, cut from the bundled clips (`recordings/*.mp4`) and the real footage
  (`../shared/footage`, read in place): upright stretches, slouches (mild and full), a head
  tilt, real people at a desk (v01-v03, v05, v06, v09) and one absence of about 75 s.
  Every input is scaled to fit 1280x720 and centred on black (the 400x400 clips become
  720x720 with bars at the sides, the portrait v01-v03 408x720, v05/v06 fill the frame,
  v09 is native). A stretch shorter than its slot plays forward and back (ping-pong).
- `webcam_720p30.mp4` (for `benchmarks/live.py --webcam-like`): what a webcam on a desk
  gives: 1280x720 at 30 fps, 12 minutes. One real frame of v09 (a woman, head and
  shoulders) held still, with fresh sensor-like noise on every frame (Gaussian, sigma 2
  levels per channel, so no two frames are bit-identical); three posture changes made by
  warping the head down and toward the camera, 2 s in, 28 s held, 2 s back (a slouch at
  90 s and a forward head at 380 s, which `analyze` calls poor, and a mild slouch at
  530 s, caution) and one absence at 230 s (she slides out of view, 60 s of an empty
  backdrop tiled from the frame's own background, slides back). A longer file
  (`--webcam-minutes`) repeats the 12-minute story.

A clip is rebuilt only when its recipe changed: this script, its parameters or an input
file (a JSON manifest beside each clip records the recipe hash, the timeline, the size and
the build time).

    python scripts/build_bench_clips.py [--out DIR] [--footage DIR] [--only desk|webcam]
                                        [--webcam-minutes 12] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
RECORDINGS = REPO / "recordings"
DEFAULT_FOOTAGE = REPO.parent / "shared" / "footage"
DEFAULT_OUT = Path("~/.cache/posture-watch/bench").expanduser()
SIZE = (1280, 720)
FOURCC = "mp4v"

DESK_NAME = "desk_10min.mp4"
DESK_FPS = 10.0
DESK_LENGTH_S = 600.0

WEBCAM_FPS = 30.0
WEBCAM_MINUTES = 12
WEBCAM_SOURCE = "v09_mediapipe_gesture_test_video.mp4"
WEBCAM_FRAME = 10  # 0.4 s: upright, hands down
NOISE_SIGMA = 2.0
NOISE_BANK = 24
SEED = 20240611


@dataclass(frozen=True)
class Segment:
    """`start_s`-`end_s` of one input, played for `length_s` (ping-pong when longer);
    `length_s` None fills the clip to its full length."""

    source: str  # "rec:NAME" (recordings/NAME.mp4) or "footage:FILE"
    start_s: float
    end_s: float
    length_s: float | None
    what: str


DESK_SEGMENTS = (
    Segment("rec:upright_hopper", 0, 20, 75, "upright (calibration)"),
    Segment("rec:slouch_hopper", 0, 27, 27, "upright, slouched 9.5-19.5 s, upright"),
    Segment("footage:v09_mediapipe_gesture_test_video.mp4", 0, 7.8, 40,
            "real, upright; a hand in front of the face"),
    Segment("footage:v01_proctoring_center_focus.mp4", 0, 10.5, 45, "real, upright close-up"),
    Segment("rec:upright_astronaut", 0, 20, 60, "upright"),
    Segment("rec:mild_slouch_astronaut", 0, 27, 27, "mild slouch 9.5-19.5 s"),
    Segment("rec:slouch_astronaut", 0, 27, 27, "slouched 9.5-19.5 s"),
    Segment("footage:v05_intel_headpose_male.gif", 0, 4.96, 40, "real, upright, head turns"),
    Segment("rec:away_astronaut", 0, 9.5, 9.5, "upright, then leaves"),
    Segment("rec:away_astronaut", 9.5, 17.5, 60, "the one absence (empty office wall)"),
    Segment("rec:away_astronaut", 17.5, 25, 7.5, "comes back, upright"),
    Segment("footage:v06_intel_headpose_female.gif", 0, 1.84, 30, "real, upright, small yaw"),
    Segment("footage:v02_proctoring_center_left_center.mp4", 0, 15.3, 15.3,
            "real, upright, gaze left"),
    Segment("footage:v03_proctoring_center_right_center.mp4", 0, 15.0, 15.0,
            "real, upright, gaze right"),
    Segment("rec:head_tilt_hopper", 0, 27, 27, "head tilted 9.5-19.5 s"),
    Segment("rec:mild_slouch_hopper", 0, 27, 27, "mild slouch 9.5-19.5 s"),
    Segment("rec:upright_hopper", 0, 20, None, "upright to the end"),
)


@dataclass(frozen=True)
class Pose:
    """A head warp: `drop` (fraction of the nose-to-shoulder height) and `zoom`."""

    name: str
    drop: float
    zoom: float


@dataclass(frozen=True)
class Change:
    """From `start_s`: `transition_s` into `pose` (None: leaving), held `hold_s`, back."""

    start_s: float
    hold_s: float
    pose: Pose | None
    transition_s: float = 2.0


SLOUCH = Pose("slouch", 0.30, 1.06)
FORWARD_HEAD = Pose("forward head", 0.06, 1.25)
MILD_SLOUCH = Pose("mild slouch", 0.22, 1.05)
WEBCAM_STORY_S = 720.0
WEBCAM_CHANGES = (
    Change(90.0, 28.0, SLOUCH),
    Change(230.0, 60.0, None, transition_s=2.5),
    Change(380.0, 28.0, FORWARD_HEAD),
    Change(530.0, 28.0, MILD_SLOUCH),
)
# Where v09's frame has the head and the shoulders (PoseLandmarker / FaceLandmarker on
# frame 10: face centre (610, 385), nose y 347, shoulder line y 690), and its backdrop.
HEAD_CENTRE = (610.0, 385.0)
NOSE_TO_SHOULDERS_PX = 343.0
NECK_RAMP_Y = (470.0, 630.0)  # the warp fades from full (above) to none (below)
HEAD_SPREAD_X = 230.0
BACKDROP_COLUMNS = ((0, 180), (1000, 1280))


# -- recipes and the up-to-date check ---------------------------------------------------
def file_digest(path: Path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def recipe_hash(params: dict[str, object], inputs: Sequence[Path]) -> str:
    """Hash of this script, the clip's parameters and its input files."""
    parts = {"script": file_digest(Path(__file__)), "params": params,
             "inputs": {p.name: file_digest(p) for p in sorted(set(inputs))}}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def manifest_path(clip: Path) -> Path:
    return clip.with_suffix(".json")


def up_to_date(clip: Path, recipe: str) -> bool:
    """The clip exists and was built from this recipe."""
    try:
        manifest = json.loads(manifest_path(clip).read_text())
    except (OSError, ValueError):
        return False
    return clip.exists() and manifest.get("recipe") == recipe


def write_manifest(clip: Path, recipe: str, build_s: float, extra: dict[str, object]) -> None:
    manifest = {"recipe": recipe, "size_bytes": clip.stat().st_size,
                "build_s": round(build_s, 1), **extra}
    manifest_path(clip).write_text(json.dumps(manifest, indent=1) + "\n")


# -- reading and placing frames ---------------------------------------------------------
def source_path(source: str, footage: Path) -> Path:
    kind, name = source.split(":", 1)
    return RECORDINGS / f"{name}.mp4" if kind == "rec" else footage / name


def timed_frames(path: Path) -> Iterator[tuple[float, np.ndarray]]:
    """Each frame with its media time (the decoder's position, else 1 / fps steps)."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise SystemExit(f"cannot open {path}")
    step = 1.0 / (cap.get(cv2.CAP_PROP_FPS) or 25.0)
    last = -math.inf
    try:
        while cap.grab():
            t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if not (math.isfinite(t) and t > last):
                t = last + step if math.isfinite(last) else 0.0
            last = t
            ok, frame = cap.retrieve()
            if ok:
                yield t, frame
    finally:
        cap.release()


def resample(path: Path, start_s: float, end_s: float, fps: float) -> list[np.ndarray]:
    """The frames showing at ticks start_s + k / fps before end_s (sample and hold)."""
    ticks = [start_s + k / fps for k in range(round((end_s - start_s) * fps))]
    out: list[np.ndarray] = []
    current = None
    for t, frame in timed_frames(path):
        while current is not None and len(out) < len(ticks) and ticks[len(out)] < t - 1e-6:
            out.append(current)
        if len(out) >= len(ticks):
            break
        current = frame
    while current is not None and len(out) < len(ticks):
        out.append(current)
    if not out:
        raise SystemExit(f"{path}: no frames in {start_s}-{end_s} s")
    return out


def video_length_s(path: Path) -> float:
    """A video's length from its container (frame count / fps)."""
    cap = cv2.VideoCapture(str(path))
    try:
        return cap.get(cv2.CAP_PROP_FRAME_COUNT) / (cap.get(cv2.CAP_PROP_FPS) or 25.0)
    finally:
        cap.release()


def ping_pong(count: int, length: int) -> Iterator[int]:
    """Indices 0..count-1 forward, back and forward again, `length` of them."""
    period = max(1, 2 * (count - 1))
    for k in range(length):
        j = k % period
        yield j if j < count else period - j


def fit(frame: np.ndarray, size: tuple[int, int] = SIZE) -> np.ndarray:
    """`frame` scaled to fit `size`, centred on black."""
    width, height = size
    h, w = frame.shape[:2]
    if (w, h) == size:
        return frame
    scale = min(width / w, height / h)
    new_w, new_h = round(w * scale), round(h * scale)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(frame, (new_w, new_h), interpolation=interpolation)
    canvas = np.zeros((height, width, 3), np.uint8)
    x, y = (width - new_w) // 2, (height - new_h) // 2
    canvas[y:y + new_h, x:x + new_w] = resized
    return canvas


def open_writer(path: Path, fps: float, size: tuple[int, int] = SIZE) -> cv2.VideoWriter:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*FOURCC), fps, size)
    if not writer.isOpened():
        raise SystemExit(f"cannot write {path}")
    return writer


def partial_path(clip: Path) -> Path:
    """Where a clip is written before it replaces the old one (same container suffix)."""
    return clip.with_name(f".{clip.stem}.partial{clip.suffix}")


# -- desk_10min ----------------------------------------------------------------------------
def segment_lengths(segments: Sequence[Segment], total_s: float) -> list[float]:
    """Each segment's length in the clip; the open one fills up to `total_s`."""
    fixed = sum(s.length_s for s in segments if s.length_s is not None)
    return [s.length_s if s.length_s is not None else total_s - fixed for s in segments]


def write_desk(path: Path, footage: Path) -> list[dict[str, object]]:
    """Write the desk clip; the timeline it followed."""
    writer = open_writer(path, DESK_FPS)
    timeline: list[dict[str, object]] = []
    at = 0.0
    try:
        for segment, length_s in zip(DESK_SEGMENTS, segment_lengths(DESK_SEGMENTS,
                                                                   DESK_LENGTH_S), strict=True):
            frames = resample(source_path(segment.source, footage), segment.start_s,
                              segment.end_s, DESK_FPS)
            count = round(length_s * DESK_FPS)
            for index in ping_pong(len(frames), count):
                writer.write(fit(frames[index]))
            timeline.append({"start_s": round(at, 1), "end_s": round(at + count / DESK_FPS, 1),
                             "source": segment.source, "from_s": segment.start_s,
                             "to_s": segment.end_s, "what": segment.what})
            at += count / DESK_FPS
    finally:
        writer.release()
    return timeline


def desk_inputs(footage: Path) -> list[Path]:
    return [source_path(s.source, footage) for s in DESK_SEGMENTS]


def ensure_desk(out_dir: Path = DEFAULT_OUT, footage: Path = DEFAULT_FOOTAGE,
                force: bool = False) -> Path:
    """desk_10min.mp4 in `out_dir`, built unless up to date."""
    params = {"size": SIZE, "fps": DESK_FPS, "length_s": DESK_LENGTH_S, "fourcc": FOURCC,
              "segments": [asdict(s) for s in DESK_SEGMENTS]}
    return _ensure(out_dir / DESK_NAME, params, desk_inputs(footage), force,
                   lambda path: {"timeline": write_desk(path, footage)})


# -- webcam_720p30 -------------------------------------------------------------------------
def smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


def change_amount(change: Change, t: float) -> float:
    """How far into `change` the clip is at `t` (0 before and after, 1 while held)."""
    into = t - change.start_s
    held_until = change.transition_s + change.hold_s
    if into <= 0 or into >= held_until + change.transition_s:
        return 0.0
    if into < change.transition_s:
        return smoothstep(into / change.transition_s)
    if into <= held_until:
        return 1.0
    return smoothstep(1.0 - (into - held_until) / change.transition_s)


def scene_at(t: float) -> tuple[Pose | None, float, float]:
    """The pose and how far into it, and how far the person has left, at clip time `t`."""
    t = t % WEBCAM_STORY_S
    for change in WEBCAM_CHANGES:
        amount = change_amount(change, t)
        if amount > 0:
            return (change.pose, amount, 0.0) if change.pose else (None, 0.0, amount)
    return None, 0.0, 0.0


class WebcamScene:
    """Renders the webcam clip's picture at a pose and an absence amount."""

    def __init__(self, frame: np.ndarray) -> None:
        self.frame = frame
        self.backdrop = backdrop(frame)
        height, width = frame.shape[:2]
        self.xs, self.ys = np.meshgrid(np.arange(width, dtype=np.float32),
                                       np.arange(height, dtype=np.float32))
        top, bottom = NECK_RAMP_Y
        ramp = np.clip((bottom - self.ys) / (bottom - top), 0.0, 1.0)
        spread = np.exp(-0.5 * ((self.xs - HEAD_CENTRE[0]) / HEAD_SPREAD_X) ** 2)
        self.weight = (ramp * ramp * (3.0 - 2.0 * ramp) * spread).astype(np.float32)

    def render(self, pose: Pose | None, amount: float, away: float) -> np.ndarray:
        picture = self.frame if pose is None or amount == 0 else self.warp(pose, amount)
        return self.slide_out(picture, away) if away > 0 else picture

    def warp(self, pose: Pose, amount: float) -> np.ndarray:
        """The head moved down by drop and scaled by zoom about its centre, times amount;
        the shoulders stay, the neck between them is squeezed."""
        cx, cy = HEAD_CENTRE
        drop = amount * pose.drop * NOSE_TO_SHOULDERS_PX
        zoom = 1.0 + amount * (pose.zoom - 1.0)
        src_x = cx + (self.xs - cx) / zoom
        src_y = cy + (self.ys - cy - drop) / zoom
        map_x = self.xs + self.weight * (src_x - self.xs)
        map_y = self.ys + self.weight * (src_y - self.ys)
        return cv2.remap(self.frame, map_x, map_y, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)

    def slide_out(self, picture: np.ndarray, away: float) -> np.ndarray:
        """The picture slid right by `away` of its width, the empty backdrop behind it."""
        width = picture.shape[1]
        shift = round(away * width)
        out = self.backdrop.copy()
        if shift < width:
            out[:, shift:] = picture[:, :width - shift]
        return out


def backdrop(frame: np.ndarray) -> np.ndarray:
    """The scene with nobody in it: the frame's background columns, tiled and mirrored."""
    strip = np.hstack([frame[:, a:b] for a, b in BACKDROP_COLUMNS])
    tiles = [strip if i % 2 == 0 else strip[:, ::-1]
             for i in range(math.ceil(frame.shape[1] / strip.shape[1]))]
    return np.ascontiguousarray(np.hstack(tiles)[:, :frame.shape[1]])


class SensorNoise:
    """Fresh-looking Gaussian noise per frame from a seeded bank (never the same twice in
    a row), added with saturation."""

    def __init__(self, shape: tuple[int, ...], sigma: float, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.up: list[np.ndarray] = []
        self.down: list[np.ndarray] = []
        for _ in range(NOISE_BANK):
            levels = np.rint(self.rng.normal(0.0, sigma, shape))
            self.up.append(np.clip(levels, 0, 255).astype(np.uint8))
            self.down.append(np.clip(-levels, 0, 255).astype(np.uint8))
        self.last = -1

    def add(self, picture: np.ndarray) -> np.ndarray:
        k = int(self.rng.integers(NOISE_BANK - 1))
        k = k + 1 if k >= self.last else k
        self.last = k
        return cv2.subtract(cv2.add(picture, self.up[k]), self.down[k])


def webcam_frame(footage: Path) -> np.ndarray:
    """The held frame of v09, at 1280x720."""
    cap = cv2.VideoCapture(str(footage / WEBCAM_SOURCE))
    try:
        for _ in range(WEBCAM_FRAME + 1):
            ok, frame = cap.read()
            if not ok:
                raise SystemExit(f"{WEBCAM_SOURCE}: fewer than {WEBCAM_FRAME + 1} frames")
    finally:
        cap.release()
    return fit(frame)


def write_webcam(path: Path, footage: Path, minutes: int) -> dict[str, object]:
    """Write the webcam clip; its story."""
    scene = WebcamScene(webcam_frame(footage))
    noise = SensorNoise(scene.frame.shape, NOISE_SIGMA, SEED)
    writer = open_writer(path, WEBCAM_FPS)
    key: tuple[object, ...] | None = None
    picture = scene.frame
    try:
        for i in range(round(minutes * 60 * WEBCAM_FPS)):
            now = scene_at(i / WEBCAM_FPS)
            if now != key:
                key, picture = now, scene.render(*now)
            writer.write(noise.add(picture))
    finally:
        writer.release()
    return {"story_s": WEBCAM_STORY_S,
            "changes": [{"start_s": c.start_s, "transition_s": c.transition_s,
                         "hold_s": c.hold_s, "what": c.pose.name if c.pose else "away"}
                        for c in WEBCAM_CHANGES]}


def webcam_name(minutes: int) -> str:
    return ("webcam_720p30.mp4" if minutes == WEBCAM_MINUTES
            else f"webcam_720p30_{minutes}min.mp4")


def ensure_webcam(out_dir: Path = DEFAULT_OUT, footage: Path = DEFAULT_FOOTAGE,
                  minutes: int = WEBCAM_MINUTES, force: bool = False) -> Path:
    """webcam_720p30[_Nmin].mp4 in `out_dir`, built unless up to date."""
    params = {"size": SIZE, "fps": WEBCAM_FPS, "minutes": minutes, "fourcc": FOURCC,
              "source": WEBCAM_SOURCE, "frame": WEBCAM_FRAME, "sigma": NOISE_SIGMA,
              "bank": NOISE_BANK, "seed": SEED, "story_s": WEBCAM_STORY_S,
              "changes": [asdict(c) for c in WEBCAM_CHANGES]}
    return _ensure(out_dir / webcam_name(minutes), params, [footage / WEBCAM_SOURCE], force,
                   lambda path: write_webcam(path, footage, minutes))


# -- building -----------------------------------------------------------------------------
def _ensure(clip: Path, params: dict[str, object], inputs: Sequence[Path], force: bool,
            write: Callable[[Path], dict[str, object]]) -> Path:
    """Build `clip` with `write(partial_path)` unless its recipe is unchanged."""
    missing = [p for p in inputs if not p.exists()]
    if missing:
        raise SystemExit(f"missing input: {missing[0]}")
    recipe = recipe_hash(params, inputs)
    if not force and up_to_date(clip, recipe):
        print(f"{clip}: up to date", file=sys.stderr)
        return clip
    clip.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(clip)
    print(f"{clip}: building ...", file=sys.stderr)
    start = time.perf_counter()
    extra = write(partial)
    os.replace(partial, clip)
    build_s = time.perf_counter() - start
    write_manifest(clip, recipe, build_s, extra)
    print(f"{clip}: built in {build_s:.0f} s, {clip.stat().st_size / 1e6:.1f} MB",
          file=sys.stderr)
    return clip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"cache folder (default {DEFAULT_OUT})")
    parser.add_argument("--footage", type=Path, default=DEFAULT_FOOTAGE,
                        help="the real footage folder (read in place)")
    parser.add_argument("--only", choices=("desk", "webcam"), help="build just one clip")
    parser.add_argument("--webcam-minutes", type=int, default=WEBCAM_MINUTES,
                        help=f"length of the webcam clip (default {WEBCAM_MINUTES})")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args()
    out = args.out.expanduser()
    if args.only in (None, "desk"):
        print(ensure_desk(out, args.footage, args.force))
    if args.only in (None, "webcam"):
        print(ensure_webcam(out, args.footage, args.webcam_minutes, args.force))
    return 0


if __name__ == "__main__":
    sys.exit(main())
