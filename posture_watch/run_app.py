"""The live commands: `run`, calibration from the camera, and talking to the monitor."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posture_watch import app
from posture_watch.camera import CameraSource, FaultPlan
from posture_watch.config import Config
from posture_watch.core.calibration import Baseline, build_baseline, is_steady
from posture_watch.core.summary import summarize
from posture_watch.core.types import Reminder
from posture_watch.errors import UserError
from posture_watch.live import Monitor, in_quiet_hours
from posture_watch.pipeline import collect_observations
from posture_watch.recording import SessionRecorder
from posture_watch.store import Store

# A calibration is refused when the user was found in fewer of its samples than this.
_MIN_FOUND_SHARE = 0.8


@dataclass(frozen=True)
class RunOptions:
    camera: str = "0"
    json_lines: bool = False
    fixed_rate_hz: float | None = None
    preview: bool = False
    fault: str | None = None  # test aid: "AFTER_S:DOWN_S"
    profile: str | None = None


class DesktopNotices:
    """Shows reminders (and one-off notes) as notifications, except in quiet hours."""

    def __init__(self, config: Config) -> None:
        from posture_watch.notify import make_notifier

        self._notifier = make_notifier(config.notifications.backend)
        self._quiet = config.notifications.quiet_hours

    def __call__(self, reminder: Reminder) -> None:
        self.text(reminder.title, reminder.message,
                  urgency="low" if reminder.kind.value == "posture" else "normal")

    def text(self, title: str, message: str, urgency: str = "normal") -> None:
        if not in_quiet_hours(self._quiet, dt.datetime.now().time()):
            self._notifier.notify(title, message, urgency=urgency)


def run(config: Config, baseline: Baseline | None, models: app.ModelPaths,
        options: RunOptions) -> int:
    from posture_watch.control import ControlServer, InstanceLock

    camera = CameraSource(options.camera, config.live.rate_hz,
                          fault=FaultPlan.parse(options.fault) if options.fault else None)
    with InstanceLock():
        camera.open()
        if baseline is None:
            print("note: no --profile given; your neutral is learned from the first "
                  f"{config.calibration.auto_seconds:g} s of steady upright sitting. For a "
                  "better one: 'posture-watch calibrate --save desk', then 'run --profile "
                  "desk'.", file=sys.stderr)
        try:
            with app.make_estimator(models) as estimator:
                est = estimator
                if options.preview:
                    from posture_watch.preview import PreviewEstimator

                    est = PreviewEstimator(estimator)
                notices = DesktopNotices(config)
                history = _open_history(config, options, camera)
                monitor = Monitor(config, camera, est, baseline, notify=notices,
                                  notify_text=notices.text,
                                  json_lines=options.json_lines,
                                  fixed_rate_hz=options.fixed_rate_hz,
                                  sinks=[history[1]] if history else None)
                if options.preview:
                    est.monitor = monitor  # type: ignore[attr-defined]
                server = ControlServer(monitor.handle)
                server.start()
                previous = _stop_on_signals(monitor)
                try:
                    monitor.run()
                finally:
                    server.close()
                    if history:
                        _close_history(*history, config)
                    for sig, handler in previous.items():
                        signal.signal(sig, handler)
        finally:
            camera.release()
    _print_summary(monitor, options)
    return 0


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
    from posture_watch.history import warm_rollups

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
    summary = summarize(states, monitor.reminders)
    if options.json_lines:
        doc = {"type": "summary", **summary.to_dict(),
               "camera": monitor.camera.status.to_dict()}
        sys.stdout.write(json.dumps(doc) + "\n")
        sys.stdout.flush()
        return
    if not states:
        print("posture-watch: stopped before the first sample")
        return
    from rich.console import Console

    from posture_watch.output import print_human

    analysis = app.Analysis(Path(monitor.camera.spec), None, None,
                        f"profile {options.profile!r}" if options.profile else "automatic",
                        monitor.scorer.baseline, states, monitor.reminders, summary)
    print_human(analysis, Console())
    gaps = monitor.camera.status.gaps
    if gaps:
        print(f"Camera gaps: {len(gaps)} ("
              + ", ".join(f"{g.start_s:.0f}-{(g.end_s or g.start_s):.0f} s" for g in gaps)
              + ")")


def calibrate_from_camera(spec: str, config: Config, models: app.ModelPaths,
                          seconds: float, countdown_s: int) -> Baseline:
    """Guide the user, capture `seconds` of upright sitting and check it was usable."""
    camera = CameraSource(spec, 5.0)
    camera.open()
    try:
        print("Sit upright as you do when you work well: back against the chair, feet flat, "
              "shoulders relaxed, looking at the screen.")
        for n in range(countdown_s, 0, -1):
            print(f"  starting in {n}...", flush=True)
            time.sleep(1.0)
        print(f"Hold still for {seconds:g} seconds.", flush=True)
        with app.make_estimator(models) as estimator:
            start = camera.now()
            frames = itertools.takewhile(lambda frame: frame.t_s - start <= seconds,
                                         camera.frames(threading.Event()))
            observations, total = collect_observations(frames, estimator, config)
    finally:
        camera.release()
    if total == 0 or len(observations) < _MIN_FOUND_SHARE * total:
        raise UserError(f"calibration refused: you were found in only {len(observations)} of "
                        f"{total} samples; face the camera in good light and try again")
    if not is_steady(observations):
        raise UserError("calibration refused: you moved too much while it was capturing; "
                        "sit still in your upright posture and try again")
    return build_baseline(observations, min_samples=config.calibration.min_samples,
                          source=f"camera {spec}, {seconds:g} s")
