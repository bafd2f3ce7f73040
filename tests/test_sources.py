"""Recorded frame sources: sampling, timing, stills and bad input.

Synthetic clips are written into tmp_path with cv2.VideoWriter; each frame shows its index
in black and white blocks, so a test can tell exactly which frames were sampled.
The real footage is read in place from ../shared/footage (never copied into the repo).
"""

from __future__ import annotations

import itertools
import logging
import math
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from posture_watch.errors import UserError
from posture_watch.vision import sources
from posture_watch.vision.sources import _MediaClock, _TickSampler, open_source

FOOTAGE = Path(__file__).resolve().parents[2] / "shared" / "footage"
V05_GIF = FOOTAGE / "v05_intel_headpose_male.gif"
V08_MP4 = FOOTAGE / "v08_intel_one_by_one_person_absent.mp4"
needs_footage = pytest.mark.skipif(not V08_MP4.exists(), reason="shared footage not present")

SIZE = (64, 48)  # width, height
BLOCK_W, BLOCK_H = 16, 24  # 4 x 2 blocks of 16 x 24 px: one bit of the frame index each


def _encoded(index: int) -> np.ndarray:
    """A frame showing `index` in binary as black and white blocks (survives compression)."""
    image = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    for bit in range(8):
        if index >> bit & 1:
            row, col = divmod(bit, 4)
            image[row * BLOCK_H : (row + 1) * BLOCK_H, col * BLOCK_W : (col + 1) * BLOCK_W] = 255
    return image


def _index_of(image: np.ndarray) -> int:
    index = 0
    for bit in range(8):
        row, col = divmod(bit, 4)
        block = image[row * BLOCK_H : (row + 1) * BLOCK_H, col * BLOCK_W : (col + 1) * BLOCK_W]
        index |= int(block.mean() > 128) << bit
    return index


def write_clip(path: Path, n_frames: int, fps: float = 25.0, fourcc: str = "mp4v") -> Path:
    """A clip whose frame i shows i in binary (see `_encoded`)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, SIZE)
    assert writer.isOpened(), f"cannot write {path}"
    for i in range(n_frames):
        writer.write(_encoded(i))
    writer.release()
    return path


def write_image(path: Path, level: int) -> Path:
    assert cv2.imwrite(str(path), np.full((30, 40, 3), level, np.uint8))
    return path


@pytest.fixture(scope="module")
def clip25(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s at 25 fps: 50 frames."""
    return write_clip(tmp_path_factory.mktemp("clips") / "clip25.mp4", 50)


def read_all(path: Path, **kwargs: object) -> list[tuple[int, float]]:
    """(encoded frame index, t_s) for every frame the source yields."""
    with open_source(path, **kwargs) as source:  # type: ignore[arg-type]
        return [(_index_of(f.image), f.t_s) for f in source]


def assert_one_line_error(excinfo: pytest.ExceptionInfo[UserError], name: str) -> None:
    message = str(excinfo.value)
    assert "\n" not in message
    assert name in message


# --- sampling and timing ---------------------------------------------------------------


def test_5hz_from_25fps_takes_every_fifth_frame(clip25: Path) -> None:
    frames = read_all(clip25, rate_hz=5)
    assert [i for i, _ in frames] == list(range(0, 50, 5))
    assert [t for _, t in frames] == pytest.approx([k / 5 for k in range(10)])


def test_tick_between_frames_takes_the_first_frame_after_it(clip25: Path) -> None:
    # ticks at k/3 s; frames every 0.04 s: tick 1/3 -> frame 9 (0.36 s), 2/3 -> 17 (0.68 s)
    frames = read_all(clip25, rate_hz=3)
    assert [i for i, _ in frames] == [math.ceil(k / 3 * 25 - 1e-9) for k in range(6)]


@pytest.mark.parametrize("rate_hz", [None, 0])
def test_every_frame_mode(clip25: Path, rate_hz: float | None) -> None:
    frames = read_all(clip25, rate_hz=rate_hz)
    assert [i for i, _ in frames] == list(range(50))
    assert [t for _, t in frames] == pytest.approx([i / 25 for i in range(50)])


def test_rate_above_fps_yields_each_frame_once(clip25: Path) -> None:
    frames = read_all(clip25, rate_hz=100)
    assert [i for i, _ in frames] == list(range(50))


def test_video_metadata_and_frame_shape(clip25: Path) -> None:
    with open_source(clip25) as source:
        assert source.name == "clip25.mp4"
        assert source.duration_s == pytest.approx(2.0)
        frame = next(iter(source))
    assert frame.image.shape == (SIZE[1], SIZE[0], 3)
    assert frame.image.dtype == np.uint8


@pytest.mark.parametrize(
    ("name", "fourcc"), [("c.avi", "MJPG"), ("c.mkv", "mp4v"), ("c.mov", "mp4v")]
)
def test_other_containers(tmp_path: Path, name: str, fourcc: str) -> None:
    path = write_clip(tmp_path / name, 20, fourcc=fourcc)
    assert [i for i, _ in read_all(path, rate_hz=5)] == [0, 5, 10, 15]


def test_iterating_again_starts_over(clip25: Path) -> None:
    with open_source(clip25, rate_hz=5) as source:
        first = [f.t_s for f in source]
        second = [f.t_s for f in source]
    assert first == second and len(first) == 10


def test_close_mid_iteration_stops_quietly(clip25: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = open_source(clip25, rate_hz=None)
    frames = iter(source)
    next(frames)
    source.close()
    assert list(frames) == []
    assert not caplog.records
    with pytest.raises(ValueError):
        iter(source)


class _LyingCapture:
    """A real capture whose fps, frame count and positions are nonsense."""

    def __init__(self, real: cv2.VideoCapture, lies: dict[int, float]) -> None:
        self._real = real
        self._lies = lies

    def get(self, prop: int) -> float:
        return self._lies.get(prop, self._real.get(prop))

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf, 1e9])
def test_nonsense_fps_count_and_position_do_not_crash(
    clip25: Path, monkeypatch: pytest.MonkeyPatch, bad: float
) -> None:
    real_capture = cv2.VideoCapture
    lies = {cv2.CAP_PROP_FPS: bad, cv2.CAP_PROP_FRAME_COUNT: bad, cv2.CAP_PROP_POS_MSEC: bad}
    monkeypatch.setattr(
        sources.cv2, "VideoCapture", lambda path: _LyingCapture(real_capture(path), lies)
    )
    with open_source(clip25, rate_hz=None) as source:
        assert source.duration_s is None
        times = [f.t_s for f in source]
    assert len(times) == 50
    assert all(b > a for a, b in itertools.pairwise(times))


def test_media_clock_switches_to_fps_without_going_back() -> None:
    clock = _MediaClock(fps=10)
    positions = [0.0, 100.0, 200.0, 200.0, 0.0, math.nan]
    times = [clock.time_of(i, p) for i, p in enumerate(positions)]
    assert times == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])


def test_media_clock_from_the_start_is_index_over_fps() -> None:
    clock = _MediaClock(fps=4)
    assert [clock.time_of(i, 0.0) for i in range(3)] == [0.0, 0.25, 0.5]


def test_tick_sampler_serves_each_tick_once() -> None:
    sampler = _TickSampler(2.0)  # ticks at 0, 0.5, 1.0, 1.5
    taken = []
    for t in [0.0, 0.3, 0.6, 1.7, 1.8, 2.0]:
        if sampler.due(t):
            sampler.take(t)
            taken.append(t)
    assert taken == [0.0, 0.6, 1.7, 2.0]


# --- real footage -----------------------------------------------------------------------


@needs_footage
def test_gif_uses_real_frame_delays() -> None:
    # cv2 claims 12.5 fps (0.08 s/frame) but the GIF mixes 80 ms and 90 ms delays
    with open_source(V05_GIF, rate_hz=None) as source:
        assert source.duration_s == pytest.approx(62 / 12.5)  # the container's estimate
        times = [f.t_s for f in source]
        assert source.duration_s == pytest.approx(5.16)  # measured: sum of the real delays
    assert len(times) == 62
    assert times[:4] == pytest.approx([0.0, 0.08, 0.17, 0.25])
    assert times[-1] == pytest.approx(5.08)


@needs_footage
def test_gif_at_5hz() -> None:
    with open_source(V05_GIF) as source:
        frames = list(source)
    times = [f.t_s for f in frames]
    assert 24 <= len(frames) <= 27
    assert all(b > a for a, b in itertools.pairwise(times))
    assert times[-1] == pytest.approx(5.0, abs=0.2)
    assert frames[0].image.shape == (270, 480, 3)


@needs_footage
def test_long_mp4_at_5hz() -> None:
    count, last = 0, -1.0
    with open_source(V08_MP4) as source:
        assert source.duration_s == pytest.approx(139.4)
        for frame in source:  # not kept: 700 frames of 768x432 would be 700 MB
            assert frame.t_s > last
            last = frame.t_s
            count += 1
    assert abs(count - 139 * 5) <= 5
    assert last == pytest.approx(139.2, abs=0.2)


class _CountingCapture:
    """Counts grab() and retrieve() on a real capture."""

    def __init__(self, real: cv2.VideoCapture, counts: dict[str, int]) -> None:
        self._real = real
        self._counts = counts

    def grab(self) -> bool:
        self._counts["grab"] += 1
        return self._real.grab()

    def retrieve(self) -> tuple[bool, np.ndarray]:
        self._counts["retrieve"] += 1
        return self._real.retrieve()

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


def test_sampling_converts_only_sampled_frames(
    clip25: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cost check, as work done rather than time (speed figures belong to benchmarks)."""
    counts = {"grab": 0, "retrieve": 0}
    real_capture = cv2.VideoCapture
    monkeypatch.setattr(
        sources.cv2, "VideoCapture", lambda path: _CountingCapture(real_capture(path), counts)
    )
    with open_source(clip25, rate_hz=5) as source:
        assert sum(1 for _ in source) == 10
    assert counts == {"grab": 51, "retrieve": 10}  # 50 frames + the failing end-of-file grab


# --- stills -----------------------------------------------------------------------------


@pytest.fixture
def stills(tmp_path: Path) -> Path:
    folder = tmp_path / "stills"
    folder.mkdir()
    write_image(folder / "b.jpg", 100)
    write_image(folder / "a.png", 50)
    write_image(folder / "C.bmp", 150)
    (folder / "notes.txt").write_text("not an image")
    (folder / ".hidden.png").write_bytes(b"junk")
    (folder / "sub").mkdir()
    write_image(folder / "sub" / "d.png", 200)
    return folder


def test_stills_hold_and_timeline(stills: Path) -> None:
    with open_source(stills, rate_hz=5, still_hold_s=2.0) as source:
        assert source.name == "stills"
        assert source.duration_s == pytest.approx(6.0)
        frames = list(source)
    assert len(frames) == 30
    assert [f.t_s for f in frames] == pytest.approx([k / 5 for k in range(30)])
    levels = [round(float(f.image.mean())) for f in frames]
    assert levels == [50] * 10 + [100] * 10 + [150] * 10  # a, b, C: by name, case-blind


def test_stills_every_frame_mode_gives_one_frame_per_image(stills: Path) -> None:
    with open_source(stills, rate_hz=None, still_hold_s=1.5) as source:
        assert [f.t_s for f in source] == [0.0, 1.5, 3.0]


def test_stills_hold_not_a_multiple_of_the_period(stills: Path) -> None:
    with open_source(stills, rate_hz=3, still_hold_s=0.5) as source:
        times = [f.t_s for f in source]
    assert times == pytest.approx([0.0, 1 / 3, 0.5, 0.5 + 1 / 3, 1.0, 1.0 + 1 / 3])


def test_single_image_file(stills: Path) -> None:
    with open_source(stills / "b.jpg", rate_hz=5, still_hold_s=1.0) as source:
        assert source.name == "b.jpg"
        frames = list(source)
    assert [f.t_s for f in frames] == pytest.approx([0, 0.2, 0.4, 0.6, 0.8])


def test_each_still_is_decoded_once_and_frames_own_their_pixels(
    stills: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real_imdecode = cv2.imdecode

    def counting_imdecode(data: np.ndarray, flags: int) -> np.ndarray | None:
        calls.append(1)
        return real_imdecode(data, flags)

    monkeypatch.setattr(sources.cv2, "imdecode", counting_imdecode)
    with open_source(stills, rate_hz=5, still_hold_s=1.0) as source:
        frames = list(source)
    assert len(calls) == 3
    frames[0].image[:] = 0  # a consumer drawing on one frame...
    assert frames[1].image.mean() == pytest.approx(50, abs=1)  # ...does not change the next


def test_unreadable_still_is_skipped_with_a_warning(
    stills: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (stills / "b.jpg").write_bytes(b"\xff\xd8 this is not really a jpeg")
    with caplog.at_level(logging.WARNING), open_source(stills, rate_hz=1, still_hold_s=1) as s:
        frames = list(s)
        assert s.duration_s == 2.0
    assert [round(float(f.image.mean())) for f in frames] == [50, 150]
    assert [f.t_s for f in frames] == [0.0, 1.0]  # the next image takes the slot
    assert any("b.jpg" in r.getMessage() for r in caplog.records)


def test_closing_a_stills_source_mid_hold_stops_it(stills: Path) -> None:
    source = open_source(stills, rate_hz=5, still_hold_s=2.0)
    frames = iter(source)
    next(frames)
    source.close()
    assert list(frames) == []


def test_real_stills_folder_is_not_recursive() -> None:
    folder = FOOTAGE / "stills"
    if not folder.exists():
        pytest.skip("shared footage not present")
    with open_source(folder, rate_hz=None) as source:
        assert len(list(source)) == 4  # the s03 PNGs; s04 sits in a sub-folder


# --- bad input --------------------------------------------------------------------------


def _bad_inputs(tmp: Path) -> dict[str, Path]:
    """Name -> path of an input that must fail with a one-line UserError naming it."""
    empty_dir = tmp / "empty_folder"
    empty_dir.mkdir()
    only_text = tmp / "text_folder"
    only_text.mkdir()
    (only_text / "readme.txt").write_text("hi")
    broken_dir = tmp / "broken_folder"
    broken_dir.mkdir()
    (broken_dir / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (broken_dir / "y.jpg").write_bytes(b"")
    (tmp / "text.mp4").write_text("hello, I am not a video\n")
    (tmp / "zero_bytes.mp4").write_bytes(b"")
    (tmp / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    for name, fourcc in [("no_frames.mp4", "mp4v"), ("no_frames.avi", "MJPG")]:
        writer = cv2.VideoWriter(str(tmp / name), cv2.VideoWriter_fourcc(*fourcc), 25, SIZE)
        writer.release()  # a container that never got a frame
    half = write_clip(tmp / "whole.mp4", 50).read_bytes()
    (tmp / "half_mp4v.mp4").write_bytes(half[: len(half) // 2])  # index (moov) is at the end
    paths = {
        "missing file": tmp / "missing.mp4",
        "missing folder": tmp / "missing_folder" / "clip.mp4",
        "folder without images": empty_dir,
        "folder with only text": only_text,
        "folder of broken images": broken_dir,
        "text renamed .mp4": tmp / "text.mp4",
        "zero-byte file": tmp / "zero_bytes.mp4",
        "broken image file": tmp / "broken.png",
        "mp4 writer released with no frames": tmp / "no_frames.mp4",
        "avi writer released with no frames": tmp / "no_frames.avi",
        "first half of an mp4 with the index at the end": tmp / "half_mp4v.mp4",
    }
    if V08_MP4.exists():  # index at the front: opens, but the cut leaves no whole frame
        (tmp / "header_only.mp4").write_bytes(V08_MP4.read_bytes()[:30_000])
        paths["mp4 cut after its header"] = tmp / "header_only.mp4"
    return paths


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _bad_inputs(tmp_path_factory.mktemp("bad"))


BAD_CASES = [
    "missing file",
    "missing folder",
    "folder without images",
    "folder with only text",
    "folder of broken images",
    "text renamed .mp4",
    "zero-byte file",
    "broken image file",
    "mp4 writer released with no frames",
    "avi writer released with no frames",
    "first half of an mp4 with the index at the end",
    "mp4 cut after its header",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_is_one_line_user_error(bad_inputs: dict[str, Path], case: str) -> None:
    if case not in bad_inputs:
        pytest.skip("shared footage not present")
    path = bad_inputs[case]
    with pytest.raises(UserError) as excinfo:
        open_source(path)
    assert_one_line_error(excinfo, path.name)


@pytest.mark.parametrize(("rate_hz", "hold"), [(-1.0, 2.0), (math.nan, 2.0), (5.0, 0.0)])
def test_bad_settings(clip25: Path, rate_hz: float, hold: float) -> None:
    with pytest.raises(UserError):
        open_source(clip25, rate_hz=rate_hz, still_hold_s=hold)


def test_truncated_avi_yields_what_it_has_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    whole = write_clip(tmp_path / "whole.avi", 50, fourcc="MJPG").read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole[: len(whole) // 2])
    with caplog.at_level(logging.WARNING):
        frames = read_all(cut, rate_hz=None)
    assert 0 < len(frames) < 50
    whole_frames = frames[:-1]  # the last one may be half decoded
    assert [i for i, _ in whole_frames] == list(range(len(whole_frames)))
    assert any("cut.avi" in r.getMessage() and "early" in r.getMessage() for r in caplog.records)


@needs_footage
def test_truncated_real_mp4_yields_the_first_half(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = V08_MP4.read_bytes()
    cut = tmp_path / "v08_half.mp4"
    cut.write_bytes(data[: len(data) // 2])
    count, last = 0, 0.0
    with caplog.at_level(logging.WARNING), open_source(cut) as source:
        for frame in source:
            count, last = count + 1, frame.t_s
        assert source.duration_s == pytest.approx(last + 0.1, abs=0.15)
    assert 50 < last < 130 and count > 250
    assert any("v08_half.mp4" in r.getMessage() for r in caplog.records)


def test_opencv_and_ffmpeg_stay_off_stderr(tmp_path: Path) -> None:
    """In a fresh process, since FFmpeg reads its log level once per process."""
    text = tmp_path / "text.mp4"
    text.write_text("not a video")
    cut = tmp_path / "cut.avi"
    cut.write_bytes(write_clip(tmp_path / "w.avi", 50, fourcc="MJPG").read_bytes()[:9000])
    script = (
        "import logging, sys\n"
        "logging.disable(logging.CRITICAL)  # only OpenCV/FFmpeg output is under test\n"
        "from posture_watch.vision.sources import open_source\n"
        "from posture_watch.errors import UserError\n"
        "for p in sys.argv[1:]:\n"
        "    try:\n"
        "        with open_source(p) as s:\n"
        "            list(s)\n"
        "    except UserError as e:\n"
        "        print(e)\n"
    )
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n broken")  # OpenCV logs "IHDR chunk shall be first"
    missing = tmp_path / "missing%03d.mp4"
    result = subprocess.run(
        [sys.executable, "-c", script, str(text), str(cut), str(broken), str(missing)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 3  # all but the truncated clip are errors
