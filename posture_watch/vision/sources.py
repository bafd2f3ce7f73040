"""Recorded frame sources: video files, animated GIFs and still images.

Every source yields `Frame(image, t_s)` with `t_s` in media time (seconds from the start
of the recording), sampled at `rate_hz` so the pose model does not run on every frame.

Time and sampling
    A video frame's time is the decoder's `CAP_PROP_POS_MSEC` while that is finite and
    strictly increasing; after the first bad value the rest of the file continues at
    1 / fps per frame. cv2 reports real per-frame GIF delays there (80 ms and 90 ms
    frames in the Intel clips even though it claims 12.5 fps), so no GIF reader is needed.
    Sampling tick k falls at k / rate_hz; the frame taken for a tick is the first whose time
    is at or after it. Frames in between are only grabbed, never retrieved: the FFmpeg
    backend still decodes them (inter-frame codecs need that) but skips colour conversion
    and the copy into a new array.

Stills
    Each image is shown for `still_hold_s` seconds on one continuous timeline, repeated at
    the sampling rate during its hold (once in every-frame mode). It is decoded once; every
    frame gets its own copy so a consumer may draw on it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

import cv2
import numpy as np

from posture_watch.core.types import Frame
from posture_watch.errors import UserError

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp"})

_FALLBACK_FPS = 25.0  # when the container reports no usable frame rate
_MAX_SANE_FPS = 1000.0
_TIME_EPS_S = 1e-6  # float noise allowed when comparing a frame time with a tick
_EARLY_END_SLACK = 0.02  # containers may estimate the frame count; 2 % off is not "truncated"


class FrameSource(Protocol):
    """What the pipeline reads frames from (recorded here; the camera lives elsewhere)."""

    name: str  # display name (file or folder name)
    # Media duration for a progress bar: the container's estimate (None if unknown) until a
    # full iteration has measured it (a GIF's real delays, a truncated file's real end).
    duration_s: float | None

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def open_source(
    path: str | Path, *, rate_hz: float | None = 5.0, still_hold_s: float = 2.0
) -> FrameSource:
    """Open a video/GIF file, an image file or a folder of images.

    `rate_hz` None or 0 yields every frame. Raises UserError (one line naming the path)
    when the input is missing, unreadable or holds no frames.
    """
    path = Path(path).expanduser()
    rate = _check_rate(rate_hz)
    hold = _check_hold(still_hold_s)
    if path.is_dir():
        return StillsSource(path, _images_in(path), rate_hz=rate, hold_s=hold)
    if not path.exists():
        raise UserError(f"{_show(path)}: no such file or folder")
    _check_readable_file(path)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return StillsSource(path, [path], rate_hz=rate, hold_s=hold)
    return VideoSource(path, rate_hz=rate)


# Keep OpenCV's bundled FFmpeg off stderr ("moov atom not found", "partial file", ...): we
# report bad files ourselves in one line. OpenCV reads this once, the first time it opens or
# writes a file with FFmpeg, hence at import time. A level the user set wins.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET


@contextlib.contextmanager
def _opencv_quiet() -> Iterator[None]:
    """Silence OpenCV's own log (e.g. "[ERROR] readHeader IHDR chunk shall be first" for a
    broken PNG, or backend warnings on a path it cannot open) while we probe a file.

    Scoped rather than global so the rest of the program keeps OpenCV's messages; an
    OPENCV_LOG_LEVEL set by the user wins.
    """
    if "OPENCV_LOG_LEVEL" in os.environ:
        yield
        return
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


def _show(path: Path) -> str:
    """The path as the user gave it, kept on one line."""
    return str(path).replace("\n", "\\n").replace("\r", "\\r")


def _check_rate(rate_hz: float | None) -> float | None:
    if rate_hz is None or rate_hz == 0:
        return None
    if not math.isfinite(rate_hz) or rate_hz < 0:
        raise UserError(f"sampling rate must be a positive number of Hz, got {rate_hz}")
    return float(rate_hz)


def _check_hold(still_hold_s: float) -> float:
    if not math.isfinite(still_hold_s) or still_hold_s <= 0:
        raise UserError(
            f"still image hold must be a positive number of seconds, got {still_hold_s}"
        )
    return float(still_hold_s)


def _check_readable_file(path: Path) -> None:
    """Turn permission problems and empty files into clear messages before cv2 sees them."""
    try:
        with path.open("rb") as f:
            first = f.read(1)
    except OSError as e:
        raise UserError(f"{_show(path)}: cannot read file ({e.strerror or e})") from None
    if not first:
        raise UserError(f"{_show(path)}: file is empty")


def _images_in(folder: Path) -> list[Path]:
    """Image files directly in `folder`, sorted by name; hidden files are ignored."""
    try:
        entries = list(folder.iterdir())
    except OSError as e:
        raise UserError(f"{_show(folder)}: cannot list folder ({e.strerror or e})") from None
    images = [
        p
        for p in entries
        if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".") and p.is_file()
    ]
    if not images:
        kinds = " ".join(sorted(IMAGE_EXTENSIONS))
        raise UserError(f"{_show(folder)}: folder has no images ({kinds})")
    return sorted(images, key=lambda p: (p.name.lower(), p.name))


def _display_name(path: Path) -> str:
    return path.name or path.resolve().name or str(path)


class _SourceBase:
    """Context-manager plumbing shared by the recorded sources."""

    name: str
    duration_s: float | None

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, duration_s={self.duration_s})"


class _TickSampler:
    """Picks the first frame at or after each tick k / rate_hz; None takes every frame."""

    def __init__(self, rate_hz: float | None) -> None:
        self._rate = rate_hz
        self._next_tick = 0

    def due(self, t_s: float) -> bool:
        if self._rate is None:
            return True
        return t_s + _TIME_EPS_S >= self._next_tick / self._rate

    def take(self, t_s: float) -> None:
        """Mark the ticks up to and including `t_s` as served (one frame per tick at most)."""
        if self._rate is not None:
            self._next_tick = math.floor((t_s + _TIME_EPS_S) * self._rate) + 1


class _MediaClock:
    """Media time of the n-th grabbed frame from the decoder's position, or from fps."""

    def __init__(self, fps: float) -> None:
        self._fps = fps
        self._use_pos = True
        self._last = -math.inf
        self._base_index = 0
        self._base_t = 0.0

    def time_of(self, index: int, pos_msec: float) -> float:
        if self._use_pos:
            t = pos_msec / 1000.0
            if math.isfinite(t) and t >= 0 and t > self._last:
                self._last = t
                return t
            self._switch_to_fps(index)
        t = self._base_t + (index - self._base_index) / self._fps
        self._last = t
        return t

    def _switch_to_fps(self, index: int) -> None:
        log.debug("decoder position unusable at frame %d; timing frames by fps", index)
        self._use_pos = False
        self._base_index = index
        self._base_t = self._last + 1.0 / self._fps if index > 0 else 0.0


def _sane_fps(fps: float) -> float | None:
    return fps if math.isfinite(fps) and 0 < fps <= _MAX_SANE_FPS else None


def _sane_count(count: float) -> int | None:
    return int(count) if math.isfinite(count) and count >= 1 else None


class VideoSource(_SourceBase):
    """A video file or animated GIF read through cv2.VideoCapture.

    Opening grabs the first frame, so a file that opens but holds no frames fails in
    `open_source` rather than halfway into a run. Iterating again starts from the beginning.
    """

    def __init__(self, path: Path, *, rate_hz: float | None) -> None:
        self.path = path
        self.name = _display_name(path)
        self.rate_hz = rate_hz
        self._closed = False
        self._cap = self._open_checked()
        self._primed = True  # opening grabbed the first frame
        reported_fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = _sane_fps(reported_fps)
        self.frame_count = _sane_count(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.duration_s = (
            self.frame_count / self.fps if self.fps is not None and self.frame_count else None
        )
        if self.fps is None:
            log.debug(
                "%s: no usable frame rate (%r); assuming %g fps where needed",
                self.name,
                reported_fps,
                _FALLBACK_FPS,
            )

    def _open_checked(self) -> cv2.VideoCapture:
        with _opencv_quiet():
            cap = cv2.VideoCapture(str(self.path))
            opened = cap.isOpened()
            has_frame = opened and cap.grab()
        if not opened:
            cap.release()
            raise UserError(
                f"{_show(self.path)}: cannot open as a video (not a video, damaged, "
                "or an unsupported format)"
            )
        if not has_frame:
            cap.release()
            raise UserError(f"{_show(self.path)}: video has no readable frames (empty or damaged)")
        return cap

    def _fresh_capture(self) -> cv2.VideoCapture:
        """The capture positioned before its first unread frame (reopened if used)."""
        if self._primed:
            return self._cap
        self._cap.release()
        self._cap = self._open_checked()
        return self._cap

    def __iter__(self) -> Iterator[Frame]:
        if self._closed:
            raise ValueError(f"{self.name}: source is closed")
        cap = self._fresh_capture()
        self._primed = False
        return self._frames(cap)

    def _frames(self, cap: cv2.VideoCapture) -> Iterator[Frame]:
        clock = _MediaClock(self.fps or _FALLBACK_FPS)
        sampler = _TickSampler(self.rate_hz)
        grabbed = yielded = 0
        t = 0.0
        has_frame = True  # the grab done while opening
        while has_frame or cap.grab():
            has_frame = False
            t = clock.time_of(grabbed, cap.get(cv2.CAP_PROP_POS_MSEC))
            grabbed += 1
            if not sampler.due(t):
                continue
            ok, image = cap.retrieve()
            if not ok or image is None:
                log.debug("%s: could not decode frame %d", self.name, grabbed - 1)
                continue  # the tick stays open for the next frame
            sampler.take(t)
            yielded += 1
            yield Frame(image=image, t_s=round(t, 6))
        if self._closed or cap is not self._cap:
            return  # stopped by close() or a newer iteration, not by the end of the file
        if yielded == 0:
            raise UserError(f"{_show(self.path)}: no frame of the video could be decoded")
        self._warn_if_short(grabbed, t)
        self.duration_s = t + 1.0 / (self.fps or _FALLBACK_FPS)  # now measured, not estimated

    def _warn_if_short(self, grabbed: int, last_t: float) -> None:
        expected = self.frame_count
        if expected is None or grabbed >= expected * (1 - _EARLY_END_SLACK) - 1:
            return
        log.warning(
            "%s ended early: %d of %d frames (%.1f s of about %.1f s); "
            "the file may be truncated or damaged",
            self.name,
            grabbed,
            expected,
            last_t,
            expected / (self.fps or _FALLBACK_FPS),
        )

    def close(self) -> None:
        self._closed = True
        self._cap.release()


class StillsSource(_SourceBase):
    """Still images in order, each held for `hold_s` seconds of media time.

    An unreadable image is skipped with a warning and the next one takes its place on the
    timeline; opening fails only when no image can be read.
    """

    def __init__(
        self, path: Path, images: list[Path], *, rate_hz: float | None, hold_s: float
    ) -> None:
        self.path = path
        self.name = _display_name(path)
        self.rate_hz = rate_hz
        self.hold_s = hold_s
        self._closed = False
        self._images, first = self._skip_to_readable(images)
        self._first: np.ndarray | None = first
        self.duration_s = len(self._images) * hold_s  # an upper bound if some fail later

    @property
    def frames_per_image(self) -> int:
        if self.rate_hz is None:
            return 1
        return max(1, math.ceil(self.hold_s * self.rate_hz - _TIME_EPS_S))

    def _skip_to_readable(self, images: list[Path]) -> tuple[list[Path], np.ndarray]:
        """Drop leading unreadable images and keep the first readable one decoded."""
        for i, image_path in enumerate(images):
            image = _read_image(image_path)
            if image is not None:
                return images[i:], image
        if len(images) == 1:
            raise UserError(f"{_show(images[0])}: cannot read image (damaged or unsupported)")
        raise UserError(f"{_show(self.path)}: none of the {len(images)} images could be read")

    def __iter__(self) -> Iterator[Frame]:
        if self._closed:
            raise ValueError(f"{self.name}: source is closed")
        return self._frames()

    def _frames(self) -> Iterator[Frame]:
        first, self._first = self._first, None  # decoded again if iterated twice
        start = 0.0
        for image_path in self._images:
            image = first if first is not None else _read_image(image_path)
            first = None
            if image is None:
                continue
            yield from self._hold(image, start)
            if self._closed:
                return  # stopped by close()
            start += self.hold_s
        self.duration_s = start  # now without the images that failed

    def _hold(self, image: np.ndarray, start_s: float) -> Iterator[Frame]:
        step = 0.0 if self.rate_hz is None else 1.0 / self.rate_hz
        count = self.frames_per_image
        for j in range(count):
            if self._closed:
                return
            own = image if j == count - 1 else image.copy()  # copy before anyone draws on it
            yield Frame(image=own, t_s=round(start_s + j * step, 6))

    def close(self) -> None:
        self._closed = True
        self._first = None


def _read_image(path: Path) -> np.ndarray | None:
    """Decode an image as 8-bit BGR; None (with a warning) when that fails.

    Reads the bytes ourselves so non-ASCII paths work on every platform.
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        log.warning("skipping %s: cannot read file (%s)", _show(path), e.strerror or e)
        return None
    with _opencv_quiet():
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        log.warning("skipping %s: not a readable image", _show(path))
    return image
