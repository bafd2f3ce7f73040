"""`run` on a file-backed camera at real-time pacing: the same verdicts as `analyze`,
surviving a camera that drops out, and answering control commands.

A real-time run is judged on what it measured about itself, never on how fast the machine
is: the camera reports where in the clip each live sample was taken (media time) and how
its pacing went (`Pacing`), so every tolerance below grows with the lag the run recorded,
and every wait ends on an event, not after a sleep.
"""

from __future__ import annotations

import bisect
import dataclasses
import io
import json
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import pytest

from posture_watch.analysis.analyze import CalibrationChoice, analyze_path
from posture_watch.config import load_config
from posture_watch.core.settings import Config
from posture_watch.core.types import PostureState, Reminder, State
from posture_watch.desktop.notices import DesktopNotices, in_quiet_hours
from posture_watch.errors import UserError
from posture_watch.monitor import camera_calibration
from posture_watch.monitor.monitor import Monitor, parse_duration
from posture_watch.vision.camera import BACKOFF_S, CameraSource, FaultPlan, Pacing
from posture_watch.vision.landmarkers import ModelPaths, make_estimator
from tests.conftest import RECORDINGS, run_cli
from tests.support.dbus import NotificationServer, private_bus
from tests.support.live import (
    HANG_GUARD_S,
    control,
    run_env,
    run_until_stopped,
    start_run,
    status,
    wait_for,
    wait_for_status,
    wait_until_running,
)

pytestmark = pytest.mark.model

LONG = RECORDINGS / "long_session.mp4"
UPRIGHT = RECORDINGS / "upright_hopper.mp4"
_EPS = 1e-6  # float noise in sums of sample times


@pytest.fixture
def notification_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotificationServer]:
    """A private session bus with a notification server on it, as the user's session bus."""
    with private_bus() as bus:
        server = NotificationServer(bus.address)
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
        try:
            yield server
        finally:
            server.close()


# -- judging a real-time run by its own measurements ------------------------------------------

@dataclasses.dataclass
class LiveRun:
    monitor: Monitor
    pacing: list[Pacing]  # one per sample, in order

    @property
    def states(self) -> list[PostureState]:
        return list(self.monitor.states)

    def media_times(self) -> list[float]:
        """Where in the clip each live sample was taken, as the camera recorded it."""
        assert [p.read_s for p in self.pacing] == [s.t_s for s in self.states]
        media = [p.media_s for p in self.pacing]
        assert all(m is not None for m in media)
        return [m for m in media if m is not None]


def live_run(clip: Path, config: Config, models: ModelPaths, *, rate_hz: float = 5.0,
             fault: FaultPlan | None = None,
             notify: Callable[[Reminder], None] = lambda r: None) -> LiveRun:
    """The monitor on `clip` played as a camera. The models are loaded first, so the
    camera's clock (and a fault plan on it) starts with the first frame, however long
    loading took on this machine. The estimator saves work as `run`'s does."""
    pacing: list[Pacing] = []
    with make_estimator(models, config.sampling) as estimator:
        camera = CameraSource(str(clip), rate_hz, fault=fault, on_paced=pacing.append)
        camera.open()
        try:
            monitor = Monitor(config, camera, estimator, None, notify=notify,
                              out=io.StringIO(), fixed_rate_hz=rate_hz)
            monitor.run()
        finally:
            camera.release()
    return LiveRun(monitor, pacing)


def changes(states: list[PostureState]) -> list[tuple[State, int]]:
    """(state, index of its first sample) at the start of each run of equal states."""
    out: list[tuple[State, int]] = []
    for k, sample in enumerate(states):
        if not out or out[-1][0] is not sample.state:
            out.append((sample.state, k))
    return out


def deciding_samples(config: Config) -> int:
    """How many samples before a sample decide its state: half the median window, the
    debounce run, and the sample itself."""
    smoothing = config.smoothing
    return smoothing.window_samples // 2 + max(smoothing.enter_samples,
                                                smoothing.leave_samples) + 1


def decision_slack(media: list[float], k: int, period: float, lookback: int) -> float:
    """How far apart, in media time, the live run and `analyze` may place what live sample
    k decided.

    Both runs need the same number of samples to decide a change, so they differ by the
    phase of their sampling grids (up to one live interval), one borderline sample read
    either way in each run (a period, a live interval), and however much longer than
    `lookback` periods the live run's deciding samples spanned because its processing fell
    behind. All of it comes from the live run's own sample positions.
    """
    window = media[max(0, k - lookback):k + 1]
    widest = max([period, *(b - a for a, b in pairwise(window))])
    behind = max(0.0, window[-1] - window[0] - period * (len(window) - 1))
    return period + 2 * widest + behind + _EPS


def presence_not_counted(times: list[float], cap_s: float) -> float:
    """Time the reminder engine did not count because a gap between samples exceeded its
    `max_sample_gap_s` cap."""
    return sum(max(0.0, b - a - cap_s) for a, b in pairwise(times))


def clip_length_and_frame(clip: Path) -> tuple[float, float]:
    """The clip's duration and the time between its frames."""
    capture = cv2.VideoCapture(str(clip))
    try:
        fps, count = capture.get(cv2.CAP_PROP_FPS), capture.get(cv2.CAP_PROP_FRAME_COUNT)
    finally:
        capture.release()
    return count / fps, 1.0 / fps


def ticks_lost_to_processing(pacing: list[Pacing], period: float) -> float:
    """Sample ticks a run skipped because a sample was still being processed when the next
    was due (a real-time source takes the frame of the moment; it does not queue them)."""
    return sum(max(0.0, p.released_s - (p.due_s + period)) for p in pacing) / period


def test_live_run_matches_analyze_and_notifies_over_dbus(
        model_paths: ModelPaths, notification_server: NotificationServer) -> None:
    """The long session through the live camera at real-time pacing: the same states and
    reminders as `analyze` at the same places in the clip, up to what the live run's own
    pacing explains, and each reminder a desktop notification."""
    config = load_config(LONG.with_name("long_session.config.toml"))
    config = dataclasses.replace(config, notifications=dataclasses.replace(
        config.notifications, backend="dbus"))
    rate_hz = 5.0
    live = live_run(LONG, config, model_paths, rate_hz=rate_hz, notify=DesktopNotices(config))
    ref = analyze_path(LONG, config, CalibrationChoice(), model_paths, progress=False)
    period = 1.0 / rate_hz
    states, media = live.states, live.media_times()
    lookback = deciding_samples(config)
    # Reminder timers count presence from each run's first sample.
    start_offset = states[0].t_s - ref.states[0].t_s

    # It watched the whole clip at 5 Hz: it ended where the clip did, with a sample on
    # every tick except the ones its own processing overran (about analyze's count).
    assert not live.monitor.stop.is_set()
    lost_ticks = ticks_lost_to_processing(live.pacing, period)
    assert len(states) + lost_ticks >= 0.9 * (len(ref.states) - start_offset / period), (
        len(states), lost_ticks, len(ref.states), start_offset)

    live_changes, ref_changes = changes(states), changes(ref.states)
    assert [s for s, _ in live_changes] == [s for s, _ in ref_changes]
    for (state, k), (_, j) in zip(live_changes, ref_changes, strict=True):
        slack = decision_slack(media, k, period, lookback) + (start_offset if k == 0 else 0.0)
        assert abs(media[k] - ref.states[j].t_s) <= slack, (state, media[k],
                                                             ref.states[j].t_s, slack)
    # Every live sample's state is one `analyze` had within that slack of the same place.
    ref_times = [s.t_s for s in ref.states]
    for k, sample in enumerate(states):
        slack = decision_slack(media, k, period, lookback)
        lo = bisect.bisect_left(ref_times, media[k] - slack)
        hi = bisect.bisect_right(ref_times, media[k] + slack)
        assert sample.state in {s.state for s in ref.states[lo:hi]}, (sample, media[k], slack)

    assert [r.kind for r in live.monitor.reminders] == [r.kind for r in ref.reminders]
    index = {s.t_s: k for k, s in enumerate(states)}
    times = [s.t_s for s in states]
    cap_s = config.reminders.max_sample_gap_s
    previous_off_by = 0.0
    for mine, theirs in zip(live.monitor.reminders, ref.reminders, strict=True):
        k = index[mine.t_s]
        slack = decision_slack(media, k, period, lookback)
        # A timer reminder comes later by the live run's later start and any presence it
        # could not count; a posture reminder follows the state change it waited for; and
        # one held back by the minimum gap after the reminder before it is off by as much
        # as that one was.
        later = start_offset + presence_not_counted(times[:k + 1], cap_s)
        earliest = theirs.t_s - slack + min(0.0, previous_off_by)
        latest = theirs.t_s + later + slack + max(0.0, previous_off_by)
        assert earliest <= media[k] <= latest, (mine.kind, media[k], theirs.t_s, earliest,
                                                latest)
        previous_off_by = media[k] - theirs.t_s

    received = notification_server.notifications
    assert [n["summary"] for n in received] == [r.title for r in live.monitor.reminders]
    assert [n["body"] for n in received] == [r.message for r in live.monitor.reminders]
    assert all(n["app"] == "posture-watch" for n in received)


def test_a_camera_that_drops_out_is_retried_and_the_gap_recorded(
        model_paths: ModelPaths) -> None:
    """The camera fails 5 s in for 3 s: the gap is recorded where the fault was, the camera
    is retried with backoff until it is back, and monitoring goes on to the clip's end."""
    fault = FaultPlan(after_s=5.0, down_s=3.0)
    fault_end = fault.after_s + fault.down_s
    rate_hz = 2.0
    live = live_run(UPRIGHT, Config(), model_paths, rate_hz=rate_hz, fault=fault)
    states, media = live.states, live.media_times()
    gaps = live.monitor.camera.status.gaps
    assert len(gaps) == 1
    gap = gaps[0]
    times = [s.t_s for s in states]

    # It began at the first read at or after the fault: every sample before it came first,
    # and the read that failed was the one due after the last of them.
    before = [t for t in times if t < gap.start_s]
    assert before and before[-1] < fault.after_s <= gap.start_s, (before[-1:], gap)
    last_good = live.pacing[len(before) - 1]
    assert gap.start_s >= max(last_good.due_s + 1.0 / rate_hz, last_good.released_s)
    # Retried at once, then after each backoff step (never sooner); the first try at or
    # after the fault's end brought the camera back, and that is where the gap ends.
    retries = gap.retries_s
    assert retries and retries[0] >= gap.start_s
    for step, (tried, next_try) in enumerate(pairwise(retries)):
        assert next_try - tried >= BACKOFF_S[min(step, len(BACKOFF_S) - 1)] - _EPS, retries
    assert all(t < fault_end for t in retries[:-1]), (retries, fault_end)
    assert gap.end_s is not None and gap.end_s == retries[-1] >= fault_end, (gap, fault_end)
    assert not [t for t in times if gap.start_s <= t < gap.end_s]

    # Then the clip carried on from where it had stopped (the time since the camera came
    # back aside) to its end, with a sample on every tick the run's own processing allowed,
    # and the person upright again.
    after = [k for k, t in enumerate(times) if t >= gap.end_s]
    assert after and not live.monitor.stop.is_set()
    duration_s, frame_s = clip_length_and_frame(UPRIGHT)
    resumed_at = media[after[0]]
    expected_at = gap.start_s + (times[after[0]] - gap.end_s)
    assert expected_at - frame_s - _EPS <= resumed_at <= expected_at + _EPS, (resumed_at, gap)
    lost_ticks = ticks_lost_to_processing(live.pacing[after[0]:], 1.0 / rate_hz)
    assert len(after) + lost_ticks >= 0.9 * (duration_s - resumed_at) * rate_hz, (
        len(after), lost_ticks, resumed_at)
    after_states = [states[k].state for k in after]
    assert len(after_states) > 4 and set(after_states[4:]) == {State.GOOD}, after_states


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

_ROUNDING_S = 0.05 + 0.0005  # status fields are rounded to 0.1 s, sample times to 1 ms


def last_sample_by(times: list[float], t: float) -> float:
    """The last sample taken at or before `t` on the run's clock."""
    return max(s for s in times if s <= t)


def test_control_commands_change_the_monitor_and_sigterm_flushes(
        tmp_path: Path, endless_upright_clip: Path) -> None:
    """Pause releases the camera and resume reopens it; snooze and a timed pause last as
    long as asked; a second run is refused; SIGTERM ends the run with its summary."""
    proc = start_run(tmp_path, endless_upright_clip)
    try:
        first = wait_until_running(tmp_path, proc)
        assert first["camera"]["opened"] is True
        assert control(tmp_path, "pause").returncode == 0
        paused = status(tmp_path)
        assert paused["state"] == "paused"
        assert paused["camera"]["opened"] is False  # released: the light goes off
        assert control(tmp_path, "resume").returncode == 0
        # The camera is reopened on the monitor's thread after the reply: wait for it.
        resumed = wait_for_status(tmp_path, proc, lambda reply: reply["camera"]["opened"],
                                  "the camera to be reopened after resume")
        assert resumed["state"] != "paused" and resumed["camera"]["opened"] is True
        before_snooze = status(tmp_path)
        assert control(tmp_path, "snooze", "10m").returncode == 0
        snoozed = status(tmp_path)
        assert control(tmp_path, "pause", "1h").returncode == 0
        paused_for_an_hour = status(tmp_path)
        assert paused_for_an_hour["paused_until_s"] is not None
        # A second run is refused.
        second = start_run(tmp_path, UPRIGHT)
        try:
            out, err = second.communicate(timeout=HANG_GUARD_S)
        finally:
            second.stop_if_running()
        assert second.returncode == 2
        assert err.strip().splitlines()[-1].startswith("posture-watch: error: posture-watch "
                                                         "is already running")
        assert control(tmp_path, "resume").returncode == 0
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=HANG_GUARD_S)
    finally:
        proc.stop_if_running()
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[-1]["type"] == "summary"
    samples = [line for line in lines if line["type"] == "sample"]
    assert samples and lines[-1]["duration_s"] > 0
    assert "Traceback" not in err
    assert control(tmp_path, "status").returncode == 2  # gone, and it says so

    # The snooze ends 600 s after the moment it was applied, somewhere between the two
    # status replies around it; `snoozed_s` counts from the last sample the monitor had
    # seen, which lies between the last samples before those two replies.
    times = [line["t"] for line in samples]
    applied_from = before_snooze["running_s"] - _ROUNDING_S
    applied_by = snoozed["running_s"] + _ROUNDING_S
    snoozed_s = snoozed["timers"]["snoozed_s"]
    shortest = applied_from + 600 - last_sample_by(times, applied_by) - _ROUNDING_S
    longest = applied_by + 600 - last_sample_by(times, applied_from) + _ROUNDING_S
    assert shortest <= snoozed_s <= longest, (shortest, snoozed_s, longest)
    paused_until = paused_for_an_hour["paused_until_s"]
    assert (snoozed["running_s"] + 3600 - 2 * _ROUNDING_S <= paused_until
            <= paused_for_an_hour["running_s"] + 3600 + 2 * _ROUNDING_S), paused_until


def test_stop_command_ends_the_run(tmp_path: Path, endless_upright_clip: Path) -> None:
    code, out, err, _ = run_until_stopped(tmp_path, endless_upright_clip)
    assert code == 0, err
    assert json.loads(out.splitlines()[-1])["type"] == "summary"


def test_a_lock_left_by_a_killed_run_is_cleared(tmp_path: Path,
                                                endless_upright_clip: Path) -> None:
    crashed = start_run(tmp_path, endless_upright_clip)
    try:
        wait_until_running(tmp_path, crashed)
    finally:
        crashed.kill()  # SIGKILL: no clean-up at all
        crashed.communicate(timeout=HANG_GUARD_S)
    assert (tmp_path / "runtime" / "posture-watch.lock").exists()
    code, _, err, first = run_until_stopped(tmp_path, endless_upright_clip)
    assert first["camera"]["opened"] is True
    assert code == 0, err


def test_no_camera_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_cli("run", "--camera", "9", env=run_env(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot open camera 9" in lines[0] and "--camera" in lines[0]


# -- calibration from the camera -----------------------------------------------------------

def calibrate_camera(tmp_path: Path, clip: str, seconds: float,
                     *extra: str) -> subprocess.CompletedProcess:
    return run_cli("calibrate", "--camera", str(RECORDINGS / clip), "--seconds", str(seconds),
                   "--countdown", "0", "--save", "desk", *(extra or ("--one-pose",)),
                   env=run_env(tmp_path))


def test_calibration_from_the_camera_saves_a_profile_run_can_use(
        tmp_path: Path, model_paths: ModelPaths, monkeypatch: pytest.MonkeyPatch,
        endless_upright_clip: Path) -> None:
    # In this process first, where the capture's pacing can be seen: it kept a sample from
    # (nearly) every tick of the 4 s that its own processing left it.
    pacing: list[Pacing] = []
    rates: list[float] = []

    def paced_camera(spec: str, rate_hz: float) -> CameraSource:
        rates.append(rate_hz)
        return CameraSource(spec, rate_hz, on_paced=pacing.append)

    monkeypatch.setattr(camera_calibration, "CameraSource", paced_camera)
    seconds = 4.0
    baseline = camera_calibration.calibrate_from_camera(str(UPRIGHT), Config(), model_paths,
                                                        seconds, countdown_s=0)
    [rate_hz] = rates
    ticks = seconds * rate_hz - ticks_lost_to_processing(pacing, 1.0 / rate_hz)
    assert baseline.samples >= 0.75 * ticks, (baseline.samples, ticks)  # 15 of 20 at full pace

    result = calibrate_camera(tmp_path, UPRIGHT.name, seconds)
    assert result.returncode == 0, result.stderr
    assert "Hold it for 4 seconds" in result.stdout and "slump" not in result.stdout
    profile = json.loads((tmp_path / "data" / "profiles" / "desk.json").read_text())
    assert profile["samples"] >= Config().calibration.min_samples
    assert "camera" in profile["source"]
    code, out, err, _ = run_until_stopped(tmp_path, endless_upright_clip, "--profile", "desk")
    assert code == 0 and "no --profile given" not in err
    assert "camera seems to have moved" not in err  # a still camera, a swaying person
    states = [json.loads(line) for line in out.splitlines()]
    assert {s["state"] for s in states if s["type"] == "sample"} <= {"good", "unknown"}


def test_two_pose_calibration_refuses_a_slump_that_looks_upright(tmp_path: Path) -> None:
    # upright_hopper sits upright throughout: the "slumped" capture teaches nothing.
    result = calibrate_camera(tmp_path, UPRIGHT.name, 3, "--seconds", "3")
    assert "Now slump the way you do" in result.stdout
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "looks like the upright one" in line
    assert not (tmp_path / "data" / "profiles" / "desk.json").exists()


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
    """Unplugged 2 s in and never back: while the camera is being retried, `status` and
    `stop` are answered, and stop ends the run without another retry."""
    fault = FaultPlan(after_s=2.0, down_s=600.0)
    replies: list[dict] = []
    failures: list[BaseException] = []
    retries_when_stopped: list[int] = []
    with make_estimator(model_paths) as estimator:
        camera = CameraSource(str(UPRIGHT), 2.0, fault=fault)
        camera.open()
        try:
            monitor = Monitor(Config(), camera, estimator, None, notify=lambda r: None,
                              out=io.StringIO())

            def retried(times: int) -> bool:
                gaps = camera.status.gaps
                return bool(gaps) and len(gaps[-1].retries_s) >= times

            def operator() -> None:
                try:
                    # Three tries (at once, 0.5 s, 1.5 s): it is in its 2 s backoff now.
                    wait_for(lambda: retried(3), "the missing camera to be retried")
                    replies.append(monitor.handle({"command": "status"}))
                except BaseException as exc:  # reported below; the run must still stop
                    failures.append(exc)
                finally:
                    replies.append(monitor.handle({"command": "stop"}))
                    retries_when_stopped.append(len(camera.status.gaps[-1].retries_s)
                                                if camera.status.gaps else -1)

            thread = threading.Thread(target=operator)
            thread.start()
            monitor.run()
            thread.join(timeout=HANG_GUARD_S)
        finally:
            camera.release()
    assert not thread.is_alive() and not failures, failures
    status_reply, stop_reply = replies
    assert status_reply["ok"] and status_reply["camera"]["gaps"][-1]["end_s"] is None
    assert stop_reply["ok"]
    [gap] = camera.status.gaps
    assert gap.start_s >= fault.after_s
    # Stop ended the run inside the backoff wait: no try came after it, and the gap was
    # closed when the run stopped.
    assert [len(gap.retries_s)] == retries_when_stopped
    assert gap.end_s is not None and gap.end_s >= gap.retries_s[-1]
    assert all(s.t_s < gap.start_s for s in monitor.states)


# -- a camera moved during the run ----------------------------------------------------------

CAMERA_MOVES_AT_S = 6.0


def moved_camera_clip(folder: Path) -> Path:
    """upright_hopper as seen by a camera knocked 6 % of the picture down at 6 s."""
    source = cv2.VideoCapture(str(UPRIGHT))
    fps = source.get(cv2.CAP_PROP_FPS)
    path = folder / "moved_camera.mp4"
    writer = None
    index = 0
    while True:
        ok, image = source.read()
        if not ok:
            break
        height, width = image.shape[:2]
        if writer is None:
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                     (width, height))
        if index / fps >= CAMERA_MOVES_AT_S:
            shift = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.06 * height]]
            image = cv2.warpAffine(image, np.float32(shift), (width, height),
                                   borderMode=cv2.BORDER_REPLICATE)
        writer.write(image)
        index += 1
    source.release()
    assert writer is not None
    writer.release()
    return path


def test_a_camera_moved_during_the_run_is_noticed_once(tmp_path: Path) -> None:
    clip = moved_camera_clip(tmp_path)
    proc = start_run(tmp_path, clip)
    try:
        wait_until_running(tmp_path, proc)
        wait_for(lambda: "camera seems to have moved" in proc.stderr(),
                 "the moved-camera notice", proc=proc)
        # Printed while its sample was being estimated, after the earlier samples' lines.
        assert max(proc.sample_times()) >= CAMERA_MOVES_AT_S
        assert control(tmp_path, "stop").returncode == 0
        _, err = proc.communicate(timeout=HANG_GUARD_S)
    finally:
        proc.stop_if_running()
    assert err.count("camera seems to have moved") == 1
    assert "about 6 % of the picture" in err
