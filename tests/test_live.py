"""`run` on a file-backed camera at real-time pacing: the same verdicts as `analyze`,
surviving a camera that drops out, and answering control commands."""

from __future__ import annotations

import bisect
import dataclasses
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from posture_watch.analysis.analyze import CalibrationChoice, analyze_path
from posture_watch.config import load_config
from posture_watch.core.settings import Config
from posture_watch.core.types import PostureState, Reminder, State
from posture_watch.desktop.notices import DesktopNotices, in_quiet_hours
from posture_watch.errors import UserError
from posture_watch.monitor.monitor import Monitor, parse_duration
from posture_watch.vision.camera import CameraSource, FaultPlan
from posture_watch.vision.landmarkers import ModelPaths, make_estimator
from tests.conftest import RECORDINGS, run_cli
from tests.support.dbus import BusDaemon, NotificationServer

pytestmark = pytest.mark.model

LONG = RECORDINGS / "long_session.mp4"


@pytest.fixture
def notification_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotificationServer]:
    """A private session bus with a notification server on it, as the user's session bus."""
    directory = Path(tempfile.mkdtemp(prefix="pw-live-"))
    bus = BusDaemon(directory)
    bus.start()
    server = NotificationServer(bus.address)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    try:
        yield server
    finally:
        server.close()
        bus.stop()
        shutil.rmtree(directory, ignore_errors=True)


def live_run(clip: Path, config: Config, models: ModelPaths, *, rate_hz: float = 5.0,
             fault: FaultPlan | None = None,
             notify: Callable[[Reminder], None] = lambda r: None) -> Monitor:
    camera = CameraSource(str(clip), rate_hz, fault=fault)
    camera.open()
    try:
        with make_estimator(models) as estimator:
            monitor = Monitor(config, camera, estimator, None, notify=notify,
                              out=io.StringIO(), fixed_rate_hz=rate_hz)
            monitor.run()
    finally:
        camera.release()
    return monitor


def changes(states: list[PostureState]) -> list[tuple[State, float]]:
    """(state, time) at the start of each run of equal states."""
    out: list[tuple[State, float]] = []
    for sample in states:
        if not out or out[-1][0] is not sample.state:
            out.append((sample.state, sample.t_s))
    return out


def test_live_run_matches_analyze_and_notifies_over_dbus(
        model_paths: ModelPaths, notification_server: NotificationServer) -> None:
    """The long session through the live camera at real-time pacing: the same states and
    reminders as `analyze` within one sample period, each one a desktop notification."""
    config = load_config(LONG.with_name("long_session.config.toml"))
    config = dataclasses.replace(config, notifications=dataclasses.replace(
        config.notifications, backend="dbus"))
    live = live_run(LONG, config, model_paths, rate_hz=5.0, notify=DesktopNotices(config))
    ref = analyze_path(LONG, config, CalibrationChoice(), model_paths, progress=False)
    period = 1.0 / 5.0
    assert len(live.states) >= 0.9 * len(ref.states)
    # The two runs sample on their own grids, so a state change seen at the same moment
    # can fall a sample apart: each change must line up within one sample period (plus
    # the pacing jitter of a busy machine), and every live sample must match `analyze`
    # within one period on either side of that.
    live_changes, ref_changes = changes(live.states), changes(ref.states)
    assert [s for s, _ in live_changes] == [s for s, _ in ref_changes]
    for (_, t_live), (_, t_ref) in zip(live_changes, ref_changes, strict=True):
        assert abs(t_live - t_ref) <= period + 0.25, (t_live, t_ref)
    ref_times = [s.t_s for s in ref.states]
    for sample in live.states:
        lo = bisect.bisect_left(ref_times, sample.t_s - 2 * period - 1e-6)
        hi = bisect.bisect_right(ref_times, sample.t_s + 2 * period + 1e-6)
        assert sample.state in {s.state for s in ref.states[lo:hi]}, sample
    assert [r.kind for r in live.reminders] == [r.kind for r in ref.reminders]
    for mine, theirs in zip(live.reminders, ref.reminders, strict=True):
        assert abs(mine.t_s - theirs.t_s) <= period + 0.25  # pacing jitter on a busy machine
    received = notification_server.notifications
    assert [n["summary"] for n in received] == [r.title for r in live.reminders]
    assert [n["body"] for n in received] == [r.message for r in live.reminders]
    assert all(n["app"] == "posture-watch" for n in received)


def test_a_camera_that_drops_out_is_retried_and_the_gap_recorded(
        model_paths: ModelPaths) -> None:
    """The camera fails 5 s in for 3 s: the monitor keeps going and resumes afterwards."""
    monitor = live_run(RECORDINGS / "upright_hopper.mp4", Config(), model_paths, rate_hz=2.0,
                       fault=FaultPlan(after_s=5.0, down_s=3.0))
    gaps = monitor.camera.status.gaps
    assert len(gaps) == 1
    assert 4.5 <= gaps[0].start_s <= 6.0
    assert gaps[0].end_s is not None and 8.0 <= gaps[0].end_s <= 11.0
    times = [s.t_s for s in monitor.states]
    assert not [t for t in times if gaps[0].start_s + 0.1 < t < gaps[0].end_s - 0.1]
    after = [s for s in monitor.states if s.t_s > gaps[0].end_s]
    assert len(after) >= 10  # it came back and went on to the end of the clip
    assert {s.state for s in after[4:]} == {State.GOOD}


def test_durations_and_quiet_hours() -> None:
    import datetime as dt

    assert parse_duration("90") == 90.0
    assert parse_duration("15m") == 900.0
    assert parse_duration("2h") == 7200.0
    assert parse_duration(None) is None
    for bad in ("soon", "-5m", "0"):
        with pytest.raises(UserError):
            parse_duration(bad)
    assert in_quiet_hours("22:00-07:00", dt.time(23, 30))
    assert in_quiet_hours("22:00-07:00", dt.time(6, 59))
    assert not in_quiet_hours("22:00-07:00", dt.time(7, 0))
    assert in_quiet_hours("12:00-13:00", dt.time(12, 30))
    assert not in_quiet_hours("", dt.time(12, 30))


# -- the real `run` process ---------------------------------------------------------------

class RunProcess:
    """A `run` subprocess whose output goes to files, not pipes: `--json` writes a line per
    sample, and a pipe nobody reads until the end would fill up and stall the monitor."""

    def __init__(self, args: list[str], env: dict[str, str], folder: Path) -> None:
        n = len(list(folder.glob("run-*.out")))
        self._out_path, self._err_path = folder / f"run-{n}.out", folder / f"run-{n}.err"
        with self._out_path.open("w") as out, self._err_path.open("w") as err:
            self.proc = subprocess.Popen(args, env=env, stdout=out, stderr=err)
        self.pid = self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def poll(self) -> int | None:
        return self.proc.poll()

    def kill(self) -> None:
        self.proc.kill()

    def send_signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        self.proc.wait(timeout)
        return self._out_path.read_text(), self._err_path.read_text()


def start_run(tmp_path: Path, clip: Path, *extra: str) -> RunProcess:
    """`posture-watch run` on a file-backed camera, with its own runtime dir."""
    config = tmp_path / "quiet.toml"
    config.write_text('[notifications]\nbackend = "none"\n')
    return RunProcess(
        [sys.executable, "-m", "posture_watch", "run", "--camera", str(clip), "--json",
         "--config", str(config), *extra], run_env(tmp_path), tmp_path)


def run_env(tmp_path: Path) -> dict[str, str]:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return dict(os.environ, POSTURE_WATCH_RUNTIME_DIR=str(runtime),
                POSTURE_WATCH_DATA_DIR=str(tmp_path / "data"))


def control(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=run_env(tmp_path))


def status(tmp_path: Path) -> dict:
    result = control(tmp_path, "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def wait_until_running(tmp_path: Path, proc: RunProcess) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        result = control(tmp_path, "status", "--json")
        if result.returncode == 0 and json.loads(result.stdout)["state"] != "starting":
            return json.loads(result.stdout)
        time.sleep(0.5)
    raise AssertionError("the monitor never answered")


def test_control_commands_change_the_monitor_and_sigterm_flushes(tmp_path: Path) -> None:
    proc = start_run(tmp_path, RECORDINGS / "long_session.mp4")
    try:
        first = wait_until_running(tmp_path, proc)
        assert first["camera"]["opened"] is True
        assert control(tmp_path, "pause").returncode == 0
        paused = status(tmp_path)
        assert paused["state"] == "paused"
        assert paused["camera"]["opened"] is False  # released: the light goes off
        assert control(tmp_path, "resume").returncode == 0
        time.sleep(1.5)
        resumed = status(tmp_path)
        assert resumed["state"] != "paused" and resumed["camera"]["opened"] is True
        assert control(tmp_path, "snooze", "10m").returncode == 0
        assert 590 <= status(tmp_path)["timers"]["snoozed_s"] <= 600.5
        assert control(tmp_path, "pause", "1h").returncode == 0
        assert status(tmp_path)["paused_until_s"] is not None
        assert control(tmp_path, "resume").returncode == 0
        second = start_run(tmp_path, RECORDINGS / "upright_hopper.mp4")
        out, err = second.communicate(timeout=120)
        assert second.returncode == 2
        assert err.strip().splitlines()[-1].startswith("posture-watch: error: posture-watch "
                                                         "is already running")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[-1]["type"] == "summary"
    samples = [line for line in lines if line["type"] == "sample"]
    assert samples and lines[-1]["duration_s"] > 0
    assert "Traceback" not in err
    assert control(tmp_path, "status").returncode == 2  # gone, and it says so


def run_until_stopped(tmp_path: Path, *extra: str,
                      linger_s: float = 0.0) -> tuple[int, str, str, dict]:
    """Start `run` on the upright clip, wait for it (and `linger_s` more), `stop` it:
    exit code, output, first status."""
    proc = start_run(tmp_path, RECORDINGS / "upright_hopper.mp4", *extra)
    try:
        first = wait_until_running(tmp_path, proc)
        time.sleep(linger_s)
        assert control(tmp_path, "stop").returncode == 0
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out, err, first


def test_stop_command_ends_the_run(tmp_path: Path) -> None:
    code, out, err, _ = run_until_stopped(tmp_path)
    assert code == 0, err
    assert json.loads(out.splitlines()[-1])["type"] == "summary"


def test_a_lock_left_by_a_killed_run_is_cleared(tmp_path: Path) -> None:
    crashed = start_run(tmp_path, RECORDINGS / "upright_hopper.mp4")
    wait_until_running(tmp_path, crashed)
    crashed.kill()  # SIGKILL: no clean-up at all
    crashed.communicate(timeout=30)
    assert (tmp_path / "runtime" / "posture-watch.lock").exists()
    code, _, err, first = run_until_stopped(tmp_path)
    assert first["camera"]["opened"] is True
    assert code == 0, err


def test_no_camera_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_cli("run", "--camera", "9", env=run_env(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot open camera 9" in lines[0] and "--camera" in lines[0]


# -- calibration from the camera -----------------------------------------------------------

def calibrate_camera(tmp_path: Path, clip: str, seconds: float) -> subprocess.CompletedProcess:
    return run_cli("calibrate", "--camera", str(RECORDINGS / clip), "--seconds", str(seconds),
                   "--countdown", "0", "--save", "desk", env=run_env(tmp_path))


def test_calibration_from_the_camera_saves_a_profile_run_can_use(tmp_path: Path) -> None:
    result = calibrate_camera(tmp_path, "upright_hopper.mp4", 4)
    assert result.returncode == 0, result.stderr
    assert "Hold still" in result.stdout
    profile = json.loads((tmp_path / "data" / "profiles" / "desk.json").read_text())
    assert profile["samples"] >= 15 and "camera" in profile["source"]
    code, out, err, _ = run_until_stopped(tmp_path, "--profile", "desk")
    assert code == 0 and "no --profile given" not in err
    states = [json.loads(line) for line in out.splitlines()]
    assert {s["state"] for s in states if s["type"] == "sample"} <= {"good", "unknown"}


def test_calibration_is_refused_when_the_person_is_not_there(tmp_path: Path) -> None:
    # away_astronaut: upright for 8 s, then the view slides to an empty wall until 19 s.
    result = calibrate_camera(tmp_path, "away_astronaut.mp4", 16)
    assert result.returncode == 2
    assert "found in only" in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "data" / "profiles" / "desk.json").exists()


def test_calibration_is_refused_when_the_person_moved(tmp_path: Path) -> None:
    # slouch_hopper: upright until 8 s, then sinks into a slouch by 9.5 s.
    result = calibrate_camera(tmp_path, "slouch_hopper.mp4", 13)
    assert result.returncode == 2
    assert "moved too much" in result.stderr.strip().splitlines()[-1]


def test_commands_are_answered_while_the_camera_is_missing(model_paths: ModelPaths) -> None:
    """Unplugged 2 s in and never back: `status` and `stop` still work, and stop ends it."""
    import threading

    camera = CameraSource(str(RECORDINGS / "upright_hopper.mp4"), 2.0,
                          fault=FaultPlan(after_s=2.0, down_s=600.0))
    camera.open()
    replies: list[dict] = []
    try:
        with make_estimator(model_paths) as estimator:
            monitor = Monitor(Config(), camera, estimator, None, notify=lambda r: None,
                              out=io.StringIO())

            def operator() -> None:
                time.sleep(5.0)  # the camera has been gone for about 3 s
                replies.append(monitor.handle({"command": "status"}))
                replies.append(monitor.handle({"command": "stop"}))

            thread = threading.Thread(target=operator)
            thread.start()
            started = time.monotonic()
            monitor.run()
            thread.join(timeout=10)
    finally:
        camera.release()
    assert time.monotonic() - started < 12
    assert replies[0]["ok"] and replies[0]["camera"]["gaps"][-1]["end_s"] is None
    assert replies[1]["ok"]
