"""Privacy mode ("camera light off between checks"): the camera is opened for one frame every
`check_every_s` seconds and released in between.

A file played as the camera shows its frame index in black and white blocks, so each test
reads which frame a check really got: the file's media position after every reopen is
checked frame by frame. Most tests run on an injected clock that moves only when the source
waits (`VirtualClock`), so minutes of checks take milliseconds and nothing depends on how
fast this machine is; the real-clock tests wait on events, with hang guards only.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from posture_watch.config import config_from_dict, load_config
from posture_watch.core.settings import Config
from posture_watch.core.types import Frame, PoseSample
from posture_watch.errors import UserError
from posture_watch.monitor.monitor import Monitor
from posture_watch.vision import camera as camera_module
from posture_watch.vision.camera import (
    BACKOFF_S,
    TICK_S,
    CameraSource,
    FaultPlan,
    Pacing,
    VirtualClock,
)
from tests.support.live import HANG_GUARD_S, wait_for

FPS = 25.0
CLIP_S = 60
SIZE = 64  # a 4 x 4 grid of 16 px blocks: one bit of the frame index each
SHIPPED_DEFAULTS = Path(__file__).resolve().parents[1] / "config" / "default.toml"


# -- a clip that says which frame it is ------------------------------------------------------

def _encoded(index: int) -> np.ndarray:
    image = np.zeros((SIZE, SIZE, 3), np.uint8)
    for bit in range(16):
        if index >> bit & 1:
            row, col = divmod(bit, 4)
            image[row * 16:(row + 1) * 16, col * 16:(col + 1) * 16] = 255
    return image


def index_of(image: Any) -> int:
    """The frame index shown by a frame of the clip (see `_encoded`)."""
    index = 0
    for bit in range(16):
        row, col = divmod(bit, 4)
        index |= int(image[row * 16:(row + 1) * 16, col * 16:(col + 1) * 16].mean() > 128) << bit
    return index


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CLIP_S seconds at FPS (mp4v: a keyframe every 12 frames, so most checks land between
    keyframes), frame i showing i."""
    path = tmp_path_factory.mktemp("privacy") / "numbered.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (SIZE, SIZE))
    assert writer.isOpened()
    for i in range(int(CLIP_S * FPS)):
        writer.write(_encoded(i))
    writer.release()
    return path


def frame_at(media_s: float) -> int:
    return int(media_s * FPS)


def holds_open(path: Path) -> bool:
    """Whether this process has a descriptor on `path` (/proc/self/fd)."""
    target = str(path.resolve())
    for fd in os.scandir("/proc/self/fd"):
        try:
            if os.readlink(fd.path) == target:
                return True
        except OSError:
            continue  # the descriptor of the scan itself, closed meanwhile
    return False


# -- runs on an injected clock that moves when the source waits ------------------------------

def virtual_camera(spec: str, rate_hz: float = 2.0, **options: Any) -> CameraSource:
    """A camera on a VirtualClock (whole seconds here, so the sums of waits stay exact)."""
    clock = VirtualClock(1000.0)
    return CameraSource(spec, rate_hz, clock=clock, wake=clock, **options)


@dataclass
class Check:
    t_s: float  # on the source's clock
    index: int  # the frame the image shows
    opened: bool
    holds_file: bool


@dataclass
class Tick:
    t_s: float
    opened: bool
    holds_file: bool
    next_check_s: float | None


@dataclass
class VirtualRun:
    """A privacy-mode source on a virtual clock over `clip`, watched at every frame and
    every tick between frames."""

    camera: CameraSource
    path: Path
    checks: list[Check] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    pacing: list[Pacing] = field(default_factory=list)

    def run(self, until_s: float | None = None,
            at_tick: Callable[[float], None] = lambda t: None) -> None:
        stop = threading.Event()

        def on_tick() -> None:
            now = self.camera.now()
            self.ticks.append(Tick(now, self.camera.status.opened, holds_open(self.path),
                                   self.camera.status.next_check_s))
            at_tick(now)
            if until_s is not None and now >= until_s:
                stop.set()

        for frame in self.camera.frames(stop, on_tick):
            self.checks.append(self._check(frame))

    def _check(self, frame: Frame) -> Check:
        return Check(frame.t_s, index_of(frame.image), self.camera.status.opened,
                     holds_open(self.path))

    def ticks_between_checks(self) -> list[Tick]:
        """Ticks after the first check and not at a check's time (a camera back from a
        fault ticks once, open, just before its check): the camera should be closed."""
        first = self.checks[0].t_s
        at_checks = {c.t_s for c in self.checks}
        return [t for t in self.ticks if t.t_s > first and t.t_s not in at_checks]


def virtual_run(path: Path, check_every_s: float, rate_hz: float = 2.0,
                fault: FaultPlan | None = None) -> VirtualRun:
    pacing: list[Pacing] = []
    camera = virtual_camera(str(path), rate_hz, check_every_s=check_every_s, fault=fault,
                            on_paced=pacing.append)
    return VirtualRun(camera, path, pacing=pacing)


class CountingCapture:
    """A real cv2.VideoCapture that counts the frames grabbed through it."""

    def __init__(self, *args: Any) -> None:
        self._cap = _REAL_CAPTURE(*args)
        self.grabs = 0

    def grab(self) -> bool:
        self.grabs += 1
        return self._cap.grab()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cap, name)


_REAL_CAPTURE = cv2.VideoCapture


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> list[CountingCapture]:
    """Every capture the camera module opens, in order."""
    made: list[CountingCapture] = []

    def opening(*args: Any) -> CountingCapture:
        made.append(CountingCapture(*args))
        return made[-1]

    monkeypatch.setattr(camera_module.cv2, "VideoCapture", opening)
    return made


# -- the schedule, and the file's media position ----------------------------------------------

@pytest.mark.parametrize(("check_every_s", "rate_hz", "period_s"),
                         [(7.0, 2.0, 7.0), (7.0, 0.05, 20.0), (5.0, 5.0, 5.0)])
def test_checks_come_at_the_interval_in_media_time(clip: Path, check_every_s: float,
                                                   rate_hz: float, period_s: float) -> None:
    """One check per period (the interval, or the rate's period when that is longer) until
    the file ends; every check shows the frame of its media time, though the file was
    closed and reopened in between."""
    run = virtual_run(clip, check_every_s, rate_hz)
    assert run.camera.period_s() == period_s
    run.run()
    times = [c.t_s for c in run.checks]
    expected = [k * period_s for k in range(int(CLIP_S / period_s) + 1)
                if frame_at(k * period_s) < CLIP_S * FPS]
    assert times == expected
    assert [c.index for c in run.checks] == [frame_at(t) for t in times]
    assert [p.media_s for p in run.pacing] == [frame_at(t) / FPS for t in times]
    assert [p.due_s for p in run.pacing] == times


def test_the_camera_is_released_between_checks(clip: Path,
                                               opens: list[CountingCapture]) -> None:
    """Open (and holding a descriptor on the file) at each check; closed, with no
    descriptor, at every tick in between; opened once per check (the first check uses the
    start's opening)."""
    run = virtual_run(clip, 10.0)
    run.camera.open()  # as `run` does: the first check uses this opening
    assert run.camera.status.to_dict()["privacy"] is True
    run.run()
    assert len(run.checks) == 6
    assert all(c.opened and c.holds_file for c in run.checks)
    between = run.ticks_between_checks()
    # The wait is cut into ticks, so commands and sensors still run while the light is off.
    assert TICK_S == 1.0
    assert [t.t_s for t in between] == [float(s) for s in range(1, 60) if s % 10]
    assert not any(t.opened or t.holds_file for t in between)
    # One opening per check: the six that showed a frame and the one at 60 s that found
    # the end of the file.
    assert len(opens) == len(run.checks) + 1
    # `status` says when the next check is due.
    due = {t.next_check_s for t in between}
    assert due == {10.0 * k for k in range(1, len(run.checks) + 1)}
    assert not run.camera.status.opened and run.camera.status.next_check_s is None


def test_continuous_mode_keeps_the_file_open(clip: Path,
                                             opens: list[CountingCapture]) -> None:
    """check_every_s = 0 is the old behaviour: opened once, held between samples."""
    camera = virtual_camera(str(clip))
    stop = threading.Event()
    held: list[bool] = []
    for frame in camera.frames(stop, lambda: held.append(holds_open(clip))):
        if frame.t_s >= 5.0:
            stop.set()
    assert not camera.privacy and camera.status.to_dict()["privacy"] is False
    assert len(opens) == 1 and all(held[1:]) and camera.status.opened
    camera.release()
    assert not holds_open(clip)


def test_a_reopened_file_seeks_instead_of_decoding_from_the_start(
        clip: Path, opens: list[CountingCapture]) -> None:
    """Each check grabs one frame, the one it shows (the reopened file seeks to it), not
    the hundreds of frames before it; the last check, past the end, finds the end."""
    run = virtual_run(clip, 10.0)
    run.run()
    assert [c.index for c in run.checks] == [0, 250, 500, 750, 1000, 1250]
    assert [c.grabs for c in opens] == [1] * len(run.checks) + [1]


# -- pause, faults, stop ---------------------------------------------------------------------

def test_pause_and_resume_in_privacy_mode(clip: Path,
                                          opens: list[CountingCapture]) -> None:
    """Paused at 12 s, resumed at 40 s: no check while paused, the camera stays closed, a
    check comes at once on resume, and the file carries on from where it was paused."""
    run = virtual_run(clip, 10.0)

    def operator(now: float) -> None:
        if now >= 12.0 and not run.camera.paused and now < 40.0:
            run.camera.pause()
        elif now >= 40.0 and run.camera.paused:
            run.camera.resume()

    run.run(until_s=65.0, at_tick=operator)
    times = [c.t_s for c in run.checks]
    assert times == [0.0, 10.0, 40.0, 50.0, 60.0]
    paused_s = 40.0 - 12.0
    assert [c.index for c in run.checks] == [frame_at(0), frame_at(10)] + [
        frame_at(t - paused_s) for t in times[2:]]
    paused = [t for t in run.ticks if 12.0 < t.t_s < 40.0]
    assert paused and not any(t.opened or t.holds_file for t in paused)
    assert all(t.next_check_s is None for t in paused[1:])
    assert len(opens) == len(run.checks)


def test_a_check_that_fails_is_retried_with_backoff(clip: Path,
                                                    opens: list[CountingCapture]) -> None:
    """The camera fails from 15 s to 25 s: the check at 20 s starts a gap, retries follow
    the backoff, the first good retry is the next check, and the checks go on from there;
    the file resumes where it stopped, as in continuous mode."""
    fault = FaultPlan(after_s=15.0, down_s=10.0)
    run = virtual_run(clip, 10.0, fault=fault)
    run.run(until_s=50.0)
    [gap] = run.camera.status.gaps
    assert gap.start_s == 20.0
    steps = [b - a for a, b in pairwise(gap.retries_s)]
    assert steps == list(BACKOFF_S[:len(steps)])
    assert gap.end_s == gap.retries_s[-1] >= fault.after_s + fault.down_s
    back = gap.end_s
    times = [c.t_s for c in run.checks]
    assert times == [0.0, 10.0, back, back + 10.0, back + 20.0]
    lost_s = back - gap.start_s
    assert [c.index for c in run.checks[2:]] == [frame_at(t - lost_s) for t in times[2:]]
    # Opened at each check, once more for the check that failed; never while it was down.
    assert len(opens) == len(run.checks) + 1
    assert not any(t.opened or t.holds_file for t in run.ticks_between_checks())


def test_stop_ends_a_long_wait_between_checks(clip: Path) -> None:
    """Real clock, a check every 10 minutes: stop ends the wait at once, the camera is
    closed, and no second check is taken."""
    camera = CameraSource(str(clip), 2.0, check_every_s=600.0)
    stop = threading.Event()
    checks: list[float] = []
    first = threading.Event()

    def consume() -> None:
        for frame in camera.frames(stop):
            checks.append(frame.t_s)
            first.set()

    thread = threading.Thread(target=consume)
    thread.start()
    assert first.wait(HANG_GUARD_S)
    wait_for(lambda: camera.status.next_check_s is not None, "the wait for the next check")
    stop.set()
    camera.wake.set()
    thread.join(HANG_GUARD_S)
    assert not thread.is_alive() and len(checks) == 1
    assert camera.now() < 600.0 and not camera.status.opened and not holds_open(clip)


def test_a_real_clock_run_takes_its_frames_where_its_pacing_says(clip: Path) -> None:
    """Real clock, a check every 1.5 s (a 1 s tick and a 0.5 s rest in each wait): each
    check shows the frame of its own read time, and the file is closed between checks."""
    pacing: list[Pacing] = []
    camera = CameraSource(str(clip), 2.0, check_every_s=1.5, on_paced=pacing.append)
    stop = threading.Event()
    shown: list[int] = []
    closed: list[bool] = []

    def on_tick() -> None:
        if shown:
            closed.append(not camera.status.opened and not holds_open(clip))

    for frame in camera.frames(stop, on_tick):
        shown.append(index_of(frame.image))
        if len(shown) == 3:
            stop.set()
    start = pacing[0].due_s  # where the file's first frame was put on the clock
    assert shown == [int((p.read_s - start) * FPS) for p in pacing]
    assert [round(p.media_s * FPS) for p in pacing if p.media_s is not None] == shown
    for before, after in pairwise(pacing):
        assert after.due_s == max(before.due_s + 1.5, before.released_s)
        assert after.read_s >= after.due_s
    assert closed and all(closed)


# -- a real device (a stand-in for cv2.VideoCapture) -----------------------------------------

@dataclass
class _Device:
    """A webcam stand-in: counts its openings and grabs; fails grabs while `down`."""

    openings: list[_Device]
    down: Callable[[], bool] = lambda: False
    grabs: int = 0
    released: bool = False
    props: dict[int, float] = field(default_factory=dict)

    def isOpened(self) -> bool:  # cv2's name
        return True

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:  # a camera that has every mode it is asked for
        return self.props.get(prop, 0.0)

    def grab(self) -> bool:
        self.grabs += 1
        return not self.down()

    def retrieve(self) -> tuple[bool, np.ndarray]:
        return True, _encoded(self.grabs)

    def release(self) -> None:
        self.released = True


def fake_devices(monkeypatch: pytest.MonkeyPatch,
                 down: Callable[[], bool] = lambda: False) -> list[_Device]:
    devices: list[_Device] = []

    def opening(source: object) -> _Device:
        assert source == 0
        device = _Device(devices, down)
        devices.append(device)
        return device

    monkeypatch.setattr(camera_module.cv2, "VideoCapture", opening)
    return devices


def test_a_device_is_warmed_up_then_released_at_each_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    devices = fake_devices(monkeypatch)
    camera = virtual_camera("0", check_every_s=30.0, warmup_frames=7)
    stop = threading.Event()
    shown: list[int] = []
    for frame in camera.frames(stop, lambda: None):
        shown.append(index_of(frame.image))
        assert camera.status.opened and not devices[-1].released
        if len(shown) == 4:
            stop.set()
    assert len(devices) == 4 and all(d.released for d in devices)
    # 7 warm-up frames dropped, then the freshest of two grabs (a one-frame buffer).
    assert [d.grabs for d in devices] == [9] * 4 and shown == [9] * 4
    assert all(d.props[cv2.CAP_PROP_BUFFERSIZE] == 1 for d in devices)
    assert camera.now() == 90.0 and not camera.status.opened


def test_a_device_is_not_warmed_up_in_continuous_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    devices = fake_devices(monkeypatch)
    camera = virtual_camera("0", warmup_frames=7)
    stop = threading.Event()
    for frame in camera.frames(stop, lambda: None):
        if frame.t_s >= 1.0:
            stop.set()
    assert len(devices) == 1 and devices[0].grabs == 6 and not devices[0].released
    # It was asked for the small mode the models need ([camera] frame_width ...).
    assert {k: devices[0].props[k] for k in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT,
                                             cv2.CAP_PROP_FPS)} == {
        cv2.CAP_PROP_FRAME_WIDTH: 640, cv2.CAP_PROP_FRAME_HEIGHT: 480, cv2.CAP_PROP_FPS: 15.0}
    assert camera.status.mode == "640x480 at 15 fps"


def test_a_device_that_fails_to_warm_up_is_retried_with_backoff(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Unplugged from 50 s to 70 s: the check at 60 s cannot open it (that counts as the
    first try), the retries follow the backoff without an immediate second opening, and the
    first opening that warms up is the next check."""
    camera = virtual_camera("0", check_every_s=30.0, warmup_frames=3)
    devices = fake_devices(monkeypatch, down=lambda: 50.0 <= camera.now() < 70.0)
    stop = threading.Event()
    times = []
    for frame in camera.frames(stop, lambda: None):
        times.append(frame.t_s)
        if len(times) == 4:
            stop.set()
    [gap] = camera.status.gaps
    assert gap.start_s == 60.0 and gap.retries_s[0] == 60.0
    steps = [b - a for a, b in pairwise(gap.retries_s)]
    assert steps == list(BACKOFF_S[:len(steps)])
    assert gap.end_s == gap.retries_s[-1] >= 70.0
    assert times == [0.0, 30.0, gap.end_s, gap.end_s + 30.0]
    assert len(devices) == len(times) + len(gap.retries_s) - 1


# -- the monitor's control commands on a privacy-mode camera ---------------------------------

@dataclass(frozen=True)
class _Nobody:
    """An estimator that sees nobody (the control path is under test, not the model)."""

    def estimate(self, frame: Frame) -> PoseSample:
        height, width = frame.image.shape[:2]  # type: ignore[attr-defined]
        return PoseSample(frame.t_s, width, height)


@pytest.fixture
def monitor_on(clip: Path) -> Iterator[tuple[Monitor, threading.Thread]]:
    """The monitor on a camera checking every 10 minutes, running on its own thread."""
    camera = CameraSource(str(clip), 2.0, check_every_s=600.0)
    camera.open()
    monitor = Monitor(Config(), camera, _Nobody(), None, notify=lambda r: None,
                      out=io.StringIO())
    thread = threading.Thread(target=monitor.run)
    thread.start()
    try:
        yield monitor, thread
    finally:
        monitor.stop.set()
        camera.wake.set()
        thread.join(HANG_GUARD_S)
        camera.release()


def test_pause_resume_and_stop_reach_a_monitor_waiting_between_checks(
        clip: Path, monitor_on: tuple[Monitor, threading.Thread]) -> None:
    """With 10 minutes to the next check, `pause`, `resume` and `stop` are still answered;
    resume takes a check at once, and stop ends the run."""
    monitor, thread = monitor_on
    camera = monitor.camera
    wait_for(lambda: len(monitor.states) == 1 and camera.status.next_check_s is not None,
             "the first check")
    assert monitor.snapshot["camera"]["privacy"] is True
    assert not camera.status.opened and not holds_open(clip)

    paused = monitor.handle({"command": "pause"})
    assert paused["ok"] and paused["state"] == "paused" and paused["camera"]["paused"]
    assert paused["camera"]["next_check_s"] is None and not paused["camera"]["opened"]

    resumed = monitor.handle({"command": "resume"})
    assert resumed["ok"] and not resumed["camera"]["paused"]
    wait_for(lambda: len(monitor.states) == 2, "the check taken on resume")
    assert camera.now() < 600.0  # it did not wait for the next scheduled check
    wait_for(lambda: not camera.status.opened and camera.status.next_check_s is not None,
             "the camera let go after that check")
    assert not holds_open(clip)

    assert monitor.handle({"command": "stop"})["ok"]
    thread.join(HANG_GUARD_S)
    assert not thread.is_alive() and len(monitor.states) == 2
    assert not holds_open(clip)


# -- configuration --------------------------------------------------------------------------

def test_privacy_mode_is_off_by_default_and_configurable() -> None:
    shipped = load_config(SHIPPED_DEFAULTS).camera
    assert shipped == Config().camera
    assert shipped.check_every_s == 0.0 and shipped.check_warmup_frames > 0
    cfg = config_from_dict({"camera": {"check_every_s": 30, "check_warmup_frames": 0}})
    assert cfg.camera.check_every_s == 30.0 and isinstance(cfg.camera.check_every_s, float)
    assert cfg.camera.check_warmup_frames == 0


@pytest.mark.parametrize(("camera", "needle"), [
    ({"check_every_s": -1}, "'camera.check_every_s' = -1.0 is out of range"),
    ({"check_every_s": 601}, "'camera.check_every_s' = 601.0 is out of range"),
    ({"check_every_s": "30s"}, "'camera.check_every_s' must be a number"),
    ({"check_warmup_frames": 2.5}, "'camera.check_warmup_frames' must be a whole number"),
    ({"check_warmup_frames": -1}, "'camera.check_warmup_frames' = -1 is out of range"),
])
def test_bad_privacy_settings_name_the_key(camera: dict[str, Any], needle: str) -> None:
    with pytest.raises(UserError) as info:
        config_from_dict({"camera": camera})
    assert needle in str(info.value)


def test_in_privacy_mode_a_check_stands_for_the_time_to_the_next() -> None:
    """The reminder timers take each check's gap whole (the last look carries), instead of
    cutting it to max_sample_gap_s: ten checks 30 s apart are five minutes at the desk."""
    from posture_watch.core.types import PostureState, State

    for every_s, expected in ((0.0, 10 * 5.0), (30.0, 10 * 30.0)):
        config = config_from_dict({"camera": {"check_every_s": every_s}})
        monitor = Monitor(config, CameraSource("0", 2.0, check_every_s=every_s), _Nobody(),
                          None, notify=lambda r: None, out=io.StringIO())
        for check in range(11):
            monitor.engine.update(PostureState(check * 30.0, State.GOOD, 90))
        assert monitor.engine.snapshot()["presence_s"] == expected
