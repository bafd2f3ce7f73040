"""The live frame source: a camera, or a video file played back at real-time pacing.

Frames carry monotonic seconds since the source started. The rate can change between
samples (adaptive sampling); pausing releases the device so its light goes off; a camera
that stops delivering is released, retried with backoff and resumed, and the gap is
recorded. Between samples the source sleeps on an event, so control commands and signals
wake it at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from posture_watch.core.types import Frame
from posture_watch.errors import UserError

log = logging.getLogger(__name__)

# Waits between attempts to reopen a camera that stopped delivering (the last one repeats).
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)


@dataclass(frozen=True)
class FaultPlan:
    """Test aid: reads fail from `after_s` for `down_s` seconds (a camera unplugged)."""

    after_s: float
    down_s: float

    @classmethod
    def parse(cls, text: str) -> FaultPlan:
        try:
            after, down = (float(x) for x in text.split(":"))
        except ValueError:
            raise UserError(f"fault plan {text!r}: expected AFTER_S:DOWN_S") from None
        return cls(after, down)


@dataclass
class Gap:
    start_s: float
    end_s: float | None = None  # None while the camera is still missing
    # When each reopen was tried (kept for tests and debugging; not in the status reply).
    retries_s: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Pacing:
    """How one frame was paced, in seconds on the source's clock: when it was due, when it
    was read, and when its consumer asked for the next one (a consumer slower than the rate
    pushes the next frame back). `media_s` is the frame's position in a video file played
    as a camera (None for a device)."""

    due_s: float
    read_s: float
    released_s: float
    media_s: float | None


@dataclass
class CameraStatus:
    source: str
    opened: bool = False
    paused: bool = False
    rate_hz: float = 0.0
    gaps: list[Gap] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"source": self.source, "opened": self.opened, "paused": self.paused,
                "rate_hz": self.rate_hz,
                "gaps": [{"start_s": round(g.start_s, 2),
                          "end_s": None if g.end_s is None else round(g.end_s, 2)}
                         for g in self.gaps]}


def _describe(spec: str) -> str:
    return f"camera {spec}" if spec.isdigit() else spec


class CameraSource:
    """Yields fresh frames at the current rate until stopped or the file ends."""

    def __init__(self, spec: str, rate_hz: float, *, fault: FaultPlan | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 on_paced: Callable[[Pacing], None] | None = None) -> None:
        """`on_paced`, if given, hears how each frame was paced (for tests: real-time runs
        are judged against what their own pacing allowed)."""
        self.spec = spec
        self.is_file = not spec.isdigit() and Path(spec).is_file()
        self.rate_hz = rate_hz
        self.status = CameraStatus(_describe(spec), rate_hz=rate_hz)
        self._fault = fault
        self._clock = clock
        self._on_paced = on_paced
        self._start = clock()
        self._cap: cv2.VideoCapture | None = None
        self._file_fps = 0.0
        self._file_index = -1  # index of the last frame grabbed from a file
        # Clock time not played from a file: before its first frame was asked for (models
        # loading, a countdown), while paused or unplugged.
        self._file_offset_s = 0.0
        self.wake = threading.Event()  # set to cut a wait short (a command, a signal)
        self._paused = False
        self._paused_at = 0.0

    # -- opening and closing --------------------------------------------------------------
    def now(self) -> float:
        return self._clock() - self._start

    def open(self) -> None:
        """Open the device or file; a one-line UserError says what was tried."""
        if not self._try_open():
            hint = ("choose another with --camera INDEX, a device path such as /dev/video1, "
                    "or a video file")
            raise UserError(f"cannot open {_describe(self.spec)} (missing, busy or not a "
                            f"camera); {hint}")

    def _try_open(self) -> bool:
        source: int | str = int(self.spec) if self.spec.isdigit() else self.spec
        cap = cv2.VideoCapture(source)
        if not cap.isOpened():
            cap.release()
            return False
        if self.is_file:
            self._file_fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
            self._file_index = -1
        else:
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # keep the driver from queueing old frames
        self._cap = cap
        self.status.opened = True
        return True

    def release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        self.status.opened = False

    # -- pause ------------------------------------------------------------------------------
    def pause(self) -> None:
        """Release the device (its light goes off) until resume()."""
        if not self._paused:
            self._paused_at = self.now()
        self._paused = self.status.paused = True
        self.release()
        self.wake.set()

    def resume(self) -> None:
        if self._paused and self.is_file:  # a file 'camera' carries on where it stopped
            self._file_offset_s += self.now() - self._paused_at
        self._paused = self.status.paused = False
        self.wake.set()

    @property
    def paused(self) -> bool:
        return self._paused

    # -- reading ----------------------------------------------------------------------------
    def _faulty(self, t: float) -> bool:
        plan = self._fault
        return plan is not None and plan.after_s <= t < plan.after_s + plan.down_s

    def _read(self, t: float) -> object | None:
        """The freshest frame now, or None when the camera fails."""
        if self._cap is None or self._faulty(t):
            return None
        if self.is_file:
            return self._read_file(t)
        # With a one-frame buffer, the first grab may return the frame that waited there;
        # the second is taken now.
        if not (self._cap.grab() and self._cap.grab()):
            return None
        ok, image = self._cap.retrieve()
        return image if ok else None

    def _read_file(self, t: float) -> object | None:
        """The file's frame for media time t - offset, skipping (not decoding) the rest."""
        assert self._cap is not None
        target = int((t - self._file_offset_s) * self._file_fps)
        while self._file_index < target:
            if not self._cap.grab():
                raise EOFError
            self._file_index += 1
        ok, image = self._cap.retrieve()
        if not ok:
            raise EOFError
        return image

    def frames(self, stop: threading.Event,
               on_tick: Callable[[], None] = lambda: None) -> Iterator[Frame]:
        """Fresh frames at `rate_hz` until `stop` is set or a file ends.

        `on_tick` runs on this thread at every wake-up, paused or not: the place to apply
        control commands between samples. A file played as a camera starts at its first
        frame here, however long the caller took to get ready.
        """
        next_t = self.now()
        if self.is_file and self._file_index < 0:
            self._file_offset_s = next_t
        while not stop.is_set():
            on_tick()
            if stop.is_set():
                return
            self.wake.clear()
            if self._paused:
                self.wake.wait(1.0)
                next_t = self.now()
                continue
            wait = next_t - self.now()
            if wait > 0:
                self.wake.wait(wait)
                if stop.is_set() or self._paused:
                    continue
                if self.now() < next_t - 1e-3:
                    continue  # woken early (a command): recompute the wait
            t = self.now()
            try:
                image = self._read(t) if self._cap is not None or self._try_open() else None
            except EOFError:
                return
            if image is None:
                self._recover(stop, on_tick)
                next_t = self.now()
                continue
            yield Frame(image, t)
            released = self.now()
            if self._on_paced is not None:
                media = self._file_index / self._file_fps if self.is_file else None
                self._on_paced(Pacing(next_t, t, released, media))
            next_t = max(next_t + 1.0 / max(self.rate_hz, 1e-3), released)

    def _recover(self, stop: threading.Event, on_tick: Callable[[], None]) -> None:
        """Release, then retry with backoff until frames come back (or we are stopped).

        Control commands keep working meanwhile: `on_tick` runs at every wake-up, so the
        monitor can still be paused, snoozed or stopped while the camera is missing."""
        gap = Gap(self.now())
        self.status.gaps.append(gap)
        log.warning("%s stopped delivering frames; retrying", _describe(self.spec))
        self.release()
        attempt = 0
        deadline = self.now()
        while not stop.is_set() and not self._paused:
            self.wake.wait(max(0.0, deadline - self.now()))
            self.wake.clear()
            on_tick()
            if stop.is_set() or self._paused or self.now() < deadline:
                continue  # woken by a command: answer it, keep the backoff
            t = self.now()
            deadline = t + BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
            attempt += 1
            gap.retries_s.append(t)
            if self._faulty(t) or not self._try_open():
                continue
            if self.is_file:  # a file 'camera' carries on from where it stopped
                self._file_offset_s += t - gap.start_s
            gap.end_s = t
            log.warning("%s is back after %.1f s", _describe(self.spec), t - gap.start_s)
            return
        gap.end_s = self.now()
