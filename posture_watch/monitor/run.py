"""`posture-watch run`: one monitoring session at the desk, wired end to end.

Takes the one-instance lock, opens the camera, loads the landmarkers, records the session
in the history, serves the control channel, stops on SIGINT/SIGTERM and prints the summary.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posture_watch.analysis.analyze import Analysis
from posture_watch.core.calibration import Baseline
from posture_watch.core.settings import Config
from posture_watch.core.summary import summarize
from posture_watch.desktop.notices import DesktopNotices
from posture_watch.errors import UserError
from posture_watch.history.recording import SessionRecorder
from posture_watch.history.store import Store
from posture_watch.monitor.context_watch import ContextWatch
from posture_watch.monitor.frame_memory import keep_frames_out_of_the_heap
from posture_watch.monitor.monitor import Monitor
from posture_watch.monitor.sensor_set import sensors_for
from posture_watch.vision.camera import CameraSource, CaptureMode, FaultPlan
from posture_watch.vision.landmarkers import ModelPaths, make_estimator


@dataclass(frozen=True)
class RunOptions:
    camera: str = "0"
    json_lines: bool = False
    fixed_rate_hz: float | None = None
    preview: bool = False
    fault: str | None = None  # test aid: "AFTER_S:DOWN_S"
    profile: str | None = None
    config_path: Path | None = None
    tray: bool = True  # the desktop shell, when a display is there


def run_monitor(config: Config, baseline: Baseline | None, models: ModelPaths,
        options: RunOptions) -> int:
    from posture_watch.monitor.control.server import ControlServer
    from posture_watch.monitor.instance_lock import InstanceLock

    keep_frames_out_of_the_heap()
    camera = CameraSource(options.camera, config.live.rate_hz,
                          check_every_s=config.camera.check_every_s,
                          warmup_frames=config.camera.check_warmup_frames,
                          mode=CaptureMode(config.camera.frame_width,
                                           config.camera.frame_height,
                                           config.camera.frame_rate),
                          fault=FaultPlan.parse(options.fault) if options.fault else None)
    with InstanceLock():
        context = ContextWatch(sensors_for(config, options.camera))
        context.start()
        context.check(camera.now())
        off = context.context.camera_off()
        if off is None:
            camera.open()
        else:  # locked, in a call or off hours already: the camera is opened later
            camera.pause()
            print(f"posture-watch: {context.context.describe(off.kind)}; the camera is "
                  "opened when that ends", file=sys.stderr)
        if baseline is None:
            print("note: no --profile given; your neutral is learned from the first "
                  f"{config.calibration.auto_seconds:g} s of steady upright sitting. For a "
                  "better one: 'posture-watch calibrate --save desk', then 'run --profile "
                  "desk'.", file=sys.stderr)
        try:
            with make_estimator(models, config.sampling) as estimator:
                est = estimator
                notices = DesktopNotices(config)
                history = _open_history(config, options, camera)
                shell = _desktop_shell(config, options)
                if options.preview:
                    from posture_watch.monitor.preview import PreviewEstimator

                    est = PreviewEstimator(estimator, shell.show_preview if shell else None)
                sinks: list[Any] = [history[1]] if history else []
                notify: Any = notices
                if shell is not None:
                    sinks.append(shell)
                    notify = _ShownBy(shell, notices)
                monitor = Monitor(config, camera, est, baseline, notify=notify,
                                  notify_text=notices.text,
                                  json_lines=options.json_lines,
                                  fixed_rate_hz=options.fixed_rate_hz, sinks=sinks,
                                  context=context)
                monitor.profile = options.profile
                if options.preview:
                    est.monitor = monitor  # type: ignore[attr-defined]
                server = ControlServer(monitor.handle)
                server.start()
                previous = _stop_on_signals(monitor)
                try:
                    if shell is None:
                        monitor.run()
                    else:
                        shell.hooks.control = monitor.handle
                        _run_beside(monitor, shell)
                finally:
                    server.close()
                    notices.close()
                    monitor.close_context()
                    context.close()
                    if history:
                        _close_history(*history, config)
                    for sig, handler in previous.items():
                        signal.signal(sig, handler)
        finally:
            camera.release()
    _print_summary(monitor, options)
    return 0


@dataclass(frozen=True)
class _ShownBy:
    """Reminders to the desktop shell first (a break as a break screen), the rest as
    notifications; nothing in quiet hours."""

    shell: Any
    notices: DesktopNotices

    def __call__(self, reminder: Any) -> None:
        if not self.notices.quiet():  # quiet hours: no break screen either
            self.notices(reminder, shown=self.shell.take_reminder(reminder))


def _desktop_shell(config: Config, options: RunOptions) -> Any:
    """The tray, break screens and nudge, when asked for and a display is there; else
    None (a one-line note says why, and `run` goes on without them)."""
    from posture_watch.desktop.display import has_display, qt_available

    if not options.tray or options.json_lines or not has_display():
        return None
    if not qt_available():
        print("posture-watch: no tray: PySide6 is not installed", file=sys.stderr)
        return None
    from posture_watch.desktop.shell.shell import DesktopShell, ShellHooks, ShellUnavailable
    from posture_watch.monitor import desktop_hooks

    hooks = ShellHooks(
        control=lambda request: {"ok": False, "error": "the monitor is not running yet"},
        summary_text=(lambda: desktop_hooks.summary_text(config))
        if config.history.record else None,
        write_report=desktop_hooks.write_report if config.history.record else None,
        config_file=lambda: desktop_hooks.config_file(options.config_path, config),
        earlier_today_s=desktop_hooks.present_today_s() if config.history.record else 0.0)
    hooks.calibrate = lambda: desktop_hooks.calibrate_in_window(
        hooks.control, options.camera, options.profile, options.config_path)
    try:
        return DesktopShell(config, hooks)
    except ShellUnavailable as exc:
        print(f"posture-watch: no tray: {exc}", file=sys.stderr)
        return None


def _run_beside(monitor: Monitor, shell: Any) -> None:
    """The monitor on its own thread while Qt runs on this one; whichever ends first
    ends the other. An error on the monitor's thread is raised here."""
    failure: list[BaseException] = []

    def work() -> None:
        try:
            monitor.run()
        except BaseException as exc:  # handed to the main thread below
            failure.append(exc)
        finally:
            shell.monitor_ended()

    thread = threading.Thread(target=work, name="posture-watch monitor", daemon=True)
    thread.start()
    shell.exec()
    monitor.stop.set()
    monitor.camera.wake.set()
    thread.join()
    if failure:
        raise failure[0]


def _open_history(config: Config, options: RunOptions,
                  camera: CameraSource) -> tuple[Store, SessionRecorder] | None:
    """The history store and this session's recorder, unless recording is off."""
    if not config.history.record:
        return None
    store = Store()
    store.apply_retention(config.history.retention_days)
    # Sample times count from the camera's start; the session starts at that wall time.
    recorder = SessionRecorder(store, config, started_at=time.time() - camera.now(),
                               source=options.camera, kind="camera", profile=options.profile)
    return store, recorder


def _close_history(store: Store, recorder: SessionRecorder, config: Config) -> None:
    """End the session, and prepare the per-day summaries of past days for next time."""
    from posture_watch.history.queries import warm_rollups

    recorder.close()
    try:
        warm_rollups(store, config.history.retention_days, time.time())
    except UserError as exc:  # a read that failed: the summary will compute it later
        print(f"posture-watch: {exc}", file=sys.stderr)
    store.close()


def _stop_on_signals(monitor: Monitor) -> dict[int, Any]:
    """SIGINT and SIGTERM finish the current sample, then stop."""

    def stop(signum: int, frame: object) -> None:
        monitor.stop.set()
        monitor.camera.wake.set()

    return {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}


def _print_summary(monitor: Monitor, options: RunOptions) -> None:
    states = list(monitor.states)
    summary = summarize(states, monitor.reminders, monitor.config.thresholds)
    if options.json_lines:
        doc = {"type": "summary", **summary.to_dict(),
               "camera": {**monitor.camera.status.to_dict(),
                          "given_up_s": monitor.snapshot.get("camera", {}).get(
                              "given_up_s", 0.0)}}
        sys.stdout.write(json.dumps(doc) + "\n")
        sys.stdout.flush()
        return
    if not states:
        print("posture-watch: stopped before the first sample")
        return
    from rich.console import Console

    from posture_watch.analysis.output import print_human

    analysis = Analysis(Path(monitor.camera.spec), None, None,
                        f"profile {options.profile!r}" if options.profile else "automatic",
                        monitor.scorer.baseline, states, monitor.reminders, summary)
    print_human(analysis, Console())
    given_up = monitor.snapshot.get("camera", {}).get("given_up_s", 0.0)
    if given_up:
        print(f"Camera given to other programs (calls): {given_up:.0f} s")
    gaps = monitor.camera.status.gaps
    if gaps:
        print(f"Camera gaps: {len(gaps)} ("
              + ", ".join(f"{g.start_s:.0f}-{(g.end_s or g.start_s):.0f} s" for g in gaps)
              + ")")
