"""The live frame source: a camera, or a video file played back at real-time pacing.

Frames carry monotonic seconds since the source started. The rate can change between
samples (adaptive sampling); pausing releases the device so its light goes off; a camera
that stops delivering is released, retried with backoff and resumed, and the gap is
recorded. Between samples the source sleeps on an event, so control commands and signals
wake it at once.

Privacy mode (`check_every_s` > 0): the camera is opened for one check every
`check_every_s` seconds (or at the rate, whichever is slower), a real device is given
`warmup_frames` for its auto-exposure, one frame is taken, and the device is released as
soon as the consumer asks for the next frame, so its light is off between checks. A file
played as a camera keeps running in media time while it is closed: a reopened file seeks to
where the clock says it is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from posture_watch.core.settings import CameraConfig
from posture_watch.core.types import Frame
from posture_watch.errors import UserError

log = logging.getLogger(__name__)

# Waits between attempts to reopen a camera that stopped delivering (the last one repeats).
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
# In privacy mode the wait between checks is cut into slices this long, so `on_tick` (control
# commands, pause expiry, the sensors) runs as often as while paused.
TICK_S = 1.0
_DEFAULT_WARMUP = CameraConfig().check_warmup_frames


@dataclass(frozen=True)
class CaptureMode:
    """The frame size and rate asked of a real camera (0: the driver's default). The models
    work on 640 px or less and a sample is taken at most 5 times a second, so a webcam's
    usual 1280 x 720 at 30 fps only costs USB bandwidth and conversion."""

    width: int = 640
    height: int = 480
    fps: float = 15.0


def ask_for_mode(cap: cv2.VideoCapture, mode: CaptureMode) -> str:
    """Ask an opened device for `mode`; drivers settle on the nearest mode they support,
    which is returned as text (for the log and the status)."""
    if mode.width > 0 and mode.height > 0:
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, mode.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, mode.height)
    if mode.fps > 0:
        cap.set(cv2.CAP_PROP_FPS, mode.fps)
    width, height = cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)
    fps = cap.get(cv2.CAP_PROP_FPS)
    return f"{width:.0f}x{height:.0f} at {fps:g} fps"


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


class VirtualClock(threading.Event):
    """Test aid: a clock that stands still until a wait on it runs out, then moves on by
    the whole timeout at once, so hours of checks replay in milliseconds. Pass the same
    object as `clock=` and `wake=`; set() still cuts a wait short, as a command would."""

    def __init__(self, start_s: float = 0.0) -> None:
        super().__init__()
        self.t = start_s

    def __call__(self) -> float:
        return self.t

    def wait(self, timeout: float | None = None) -> bool:
        if self.is_set():
            return True
        if timeout is None:
            raise ValueError("a virtual clock cannot wait without a timeout")
        self.t += timeout
        return False


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
    # Privacy mode: the camera is open only for a check every `check_every_s` seconds;
    # `next_check_s` is when the next one is due on the source's clock (None while paused,
    # while a missing camera is retried, or with privacy mode off).
    privacy: bool = False
    check_every_s: float = 0.0
    next_check_s: float | None = None
    mode: str = ""  # what a real camera settled on, e.g. "640x480 at 15 fps"

    def to_dict(self) -> dict[str, object]:
        return {"source": self.source, "opened": self.opened, "paused": self.paused,
                "rate_hz": self.rate_hz, "privacy": self.privacy,
                "check_every_s": self.check_every_s, "mode": self.mode,
                "next_check_s": None if self.next_check_s is None
                else round(self.next_check_s, 1),
                "gaps": [{"start_s": round(g.start_s, 2),
                          "end_s": None if g.end_s is None else round(g.end_s, 2)}
                         for g in self.gaps]}


def _describe(spec: str) -> str:
    return f"camera {spec}" if spec.isdigit() else spec


def awake_and_asleep_clock() -> Callable[[], float]:
    """A monotonic clock that keeps counting while the machine sleeps (Linux's
    CLOCK_BOOTTIME), so a night of sleep is a night on the monitor's clock and in the
    history, not a moment; elsewhere the plain monotonic clock."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is None:
        return time.monotonic
    return lambda: time.clock_gettime(boottime)


class CameraSource:
    """Yields fresh frames at the current rate until stopped or the file ends."""

    def __init__(self, spec: str, rate_hz: float, *, check_every_s: float = 0.0,
                 warmup_frames: int = _DEFAULT_WARMUP, mode: CaptureMode | None = None,
                 fault: FaultPlan | None = None,
                 clock: Callable[[], float] | None = None,
                 on_paced: Callable[[Pacing], None] | None = None,
                 wake: threading.Event | None = None) -> None:
        """`check_every_s` > 0 turns privacy mode on (see the module docstring), with
        `warmup_frames` dropped after each opening of a real device. A real device is
        asked for `mode` (default CaptureMode(); a file plays as it is). `on_paced`, if given,
        hears how each frame was paced (for tests: real-time runs are judged against what
        their own pacing allowed). `wake` is the event waits are on (tests on an injected
        clock pass one whose wait() moves that clock)."""
        self.spec = spec
        self.is_file = not spec.isdigit() and Path(spec).is_file()
        self.rate_hz = rate_hz
        self.check_every_s = max(0.0, check_every_s)
        self.warmup_frames = max(0, warmup_frames)
        self.mode = mode if mode is not None else CaptureMode()
        self.status = CameraStatus(_describe(spec), rate_hz=rate_hz, privacy=self.privacy,
                                   check_every_s=self.check_every_s)
        self._fault = fault
        self._clock = clock if clock is not None else awake_and_asleep_clock()
        self._on_paced = on_paced
        self._start = self._clock()
        self._cap: cv2.VideoCapture | None = None
        self._file_fps = 0.0
        self._file_index = -1  # index of the last frame grabbed from a file
        # Clock time not played from a file: before its first frame was asked for (models
        # loading, a countdown), while paused or unplugged.
        self._file_offset_s = 0.0
        # Set to cut a wait short (a command, a signal).
        self.wake = wake if wake is not None else threading.Event()
        self._paused = False
        self._paused_at = 0.0

    # -- opening and closing --------------------------------------------------------------
    def now(self) -> float:
        return self._clock() - self._start

    @property
    def privacy(self) -> bool:
        """Whether the camera is opened only for a check now and then (privacy mode)."""
        return self.check_every_s > 0

    def period_s(self) -> float:
        """Seconds from one frame to the next: the rate's, or the check interval if longer."""
        return max(self.check_every_s, 1.0 / max(self.rate_hz, 1e-3))

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
            mode = ask_for_mode(cap, self.mode)
            if mode != self.status.mode:
                log.info("%s gives %s", _describe(self.spec), mode)
            self.status.mode = mode
            if self.privacy and not self._warm_up(cap):
                cap.release()
                return False
        self._cap = cap
        self.status.opened = True
        return True

    def _warm_up(self, cap: cv2.VideoCapture) -> bool:
        """Drop the first frames of a device just opened (its auto-exposure settles)."""
        return all(cap.grab() for _ in range(self.warmup_frames))

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
        self.status.next_check_s = None
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
        if self._file_index < 0 < target:
            self._seek(target)
        while self._file_index < target:
            if not self._cap.grab():
                raise EOFError
            self._file_index += 1
        ok, image = self._cap.retrieve()
        if not ok:
            raise EOFError
        return image

    def _seek(self, target: int) -> None:
        """Move a freshly opened file to frame `target` without decoding the frames before
        it (FFmpeg seeks to the keyframe before and decodes forward, frame-exact); where the
        file cannot seek, the caller grabs forward from the start instead."""
        assert self._cap is not None
        if self._cap.set(cv2.CAP_PROP_POS_FRAMES, target):
            self._file_index = target - 1

    def frames(self, stop: threading.Event,
               on_tick: Callable[[], None] = lambda: None) -> Iterator[Frame]:
        """Fresh frames at `rate_hz` (privacy mode: one per check) until `stop` is set or a
        file ends.

        `on_tick` runs on this thread at every wake-up, paused or not: the place to apply
        control commands between samples. A file played as a camera starts at its first
        frame here, however long the caller took to get ready. In privacy mode the camera
        is released whenever this generator is not inside a check, however it ends.
        """
        try:
            yield from self._frames(stop, on_tick)
        finally:
            if self.privacy:
                self.release()
            self.status.next_check_s = None

    def _frames(self, stop: threading.Event, on_tick: Callable[[], None]) -> Iterator[Frame]:
        next_t = self.now()
        if self.is_file and self._file_index < 0:
            self._file_offset_s = next_t
        while not stop.is_set():
            on_tick()
            if stop.is_set():
                return
            self.wake.clear()
            if self._paused:
                self.status.next_check_s = None
                self.wake.wait(1.0)
                next_t = self.now()
                continue
            if not self._due(next_t, stop):
                continue  # woken early (a command) or a tick between checks: look again
            t = self.now()
            opened = self._cap is not None or self._try_open()
            try:
                image = self._read(t) if opened else None
            except EOFError:
                return
            if image is None:
                self.status.next_check_s = None
                self._recover(stop, on_tick, tried=not opened)
                next_t = self.now()
                continue
            yield Frame(image, t)
            if self.privacy:
                self.release()  # the consumer is done with this check: the light goes off
            released = self.now()
            if self._on_paced is not None:
                media = self._file_index / self._file_fps if self.is_file else None
                self._on_paced(Pacing(next_t, t, released, media))
            next_t = max(next_t + self.period_s(), released)

    def _due(self, next_t: float, stop: threading.Event) -> bool:
        """Wait on `wake` toward `next_t`; True once it is due. In privacy mode the wait is
        cut at TICK_S, so the caller's `on_tick` keeps running while the camera is off."""
        if self.privacy:
            self.status.next_check_s = next_t
        wait = next_t - self.now()
        if wait <= 0:
            return True
        self.wake.wait(min(wait, TICK_S) if self.privacy else wait)
        if stop.is_set() or self._paused:
            return False
        return self.now() >= next_t - 1e-3

    def _recover(self, stop: threading.Event, on_tick: Callable[[], None],
                 tried: bool = False) -> None:
        """Release, then retry with backoff until frames come back (or we are stopped).
        `tried`: opening the camera has just failed, so that counts as the first try.

        Control commands keep working meanwhile: `on_tick` runs at every wake-up, so the
        monitor can still be paused, snoozed or stopped while the camera is missing."""
        gap = Gap(self.now())
        self.status.gaps.append(gap)
        log.warning("%s stopped delivering frames; retrying", _describe(self.spec))
        self.release()
        attempt = 0
        deadline = self.now()
        if tried:
            gap.retries_s.append(gap.start_s)
            attempt, deadline = 1, gap.start_s + BACKOFF_S[0]
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
