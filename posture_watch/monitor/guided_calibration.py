"""`calibrate --window`: the camera calibration driven from the calibration window.

The capture (camera_calibration.calibrate_from_camera, the same as in the terminal) runs
on a worker thread with a guide that sends each annotated frame, instruction and progress
to the window, and waits for its Start button instead of counting down. The profile is
saved exactly as `calibrate --camera` saves it.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from posture_watch.core.types import Frame, PoseSample
from posture_watch.errors import UserError
from posture_watch.history.profiles import save_profile
from posture_watch.monitor.camera_calibration import Cancelled, calibrate_from_camera
from posture_watch.monitor.preview import annotate

_REFUSED = "calibration refused: "


class WindowGuide:
    """camera_calibration.Guide for the window: frames and steps out, the click in."""

    def __init__(self, feed: Any, stop: threading.Event) -> None:
        self._feed = feed
        self._stop = stop
        self.start = threading.Event()

    def instruct(self, phase: str, text: str, seconds: float) -> None:
        self.start.clear()
        self._feed.phase.emit(phase, text, seconds)

    def go(self) -> bool:
        return self.start.is_set() or self._stop.is_set()

    def show(self, frame: Frame, sample: PoseSample, fraction: float | None) -> None:
        caption = "found you" if sample.people else "no one in view"
        image = annotate(np.asarray(frame.image), sample, None, caption)
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        height, width = rgb.shape[:2]
        self._feed.frame.emit(rgb.tobytes(), width, height)
        self._feed.progress.emit(-1.0 if fraction is None else fraction)


def describe(name: str, baseline: Any) -> str:
    poses = "two poses" if baseline.two_pose else "one pose"
    cues = ", ".join(sorted(baseline.slump_weights)).replace("_", " ")
    extra = f"; your slump shows in: {cues}" if cues else ""
    return (f"Saved profile “{name}” ({baseline.view} view, {poses}{extra}). Use it with "
            f"'posture-watch run --profile {name}'.")


def run_calibration_window(spec: str, config: Any, models: Any, seconds: float, *,
                           two_pose: bool, save: str, config_path: Path | None = None) -> int:
    """Shows the window until the user closes it; 0 when a profile was saved, else 2.
    Ticking the nudge box writes `[desktop] nudge` into the settings file in use."""
    from posture_watch.desktop.shell.calibration_window import CalibrationWindow, Feed
    from posture_watch.desktop.shell.shell import ShellUnavailable, make_application

    try:
        app = make_application()
    except ShellUnavailable as exc:
        raise UserError(f"the calibration window needs a display: {exc}; use "
                        "'posture-watch calibrate --camera' in a terminal instead") from None
    feed = Feed()
    window = CalibrationWindow(save, feed, nudge=config.desktop.nudge)

    def choose_nudge(on: bool) -> None:
        from posture_watch.monitor.desktop_hooks import config_file, set_setting

        path = config_file(config_path, config)
        try:
            set_setting(path, "desktop", "nudge", on)
            print(f"nudge {'on' if on else 'off'} in {path} (from the next start)")
        except UserError as exc:
            print(f"posture-watch: the nudge setting was not saved: {exc}", file=sys.stderr)

    window.nudge_chosen.connect(choose_nudge)
    stop = threading.Event()
    saved: list[str] = []
    outcome: list[str] = []
    workers: list[threading.Thread] = []

    def work(guide: WindowGuide) -> None:
        try:
            baseline = calibrate_from_camera(spec, config, models, seconds,
                                             two_pose=two_pose, guide=guide, stop=stop)
            path = save_profile(save, baseline)
            saved.append(str(path))
            outcome.append(f"saved profile {save!r} to {path}")
            feed.done.emit(True, describe(save, baseline))
        except Cancelled:
            return
        except UserError as exc:
            outcome.append(f"posture-watch: {exc}")
            text = str(exc).removeprefix(_REFUSED)
            feed.done.emit(False, text[:1].upper() + text[1:])

    def begin() -> None:
        guide = WindowGuide(feed, stop)
        window.start_clicked.connect(guide.start.set)
        worker = threading.Thread(target=work, args=(guide,), name="calibration", daemon=True)
        workers.append(worker)
        worker.start()

    def retry() -> None:
        window.start_clicked.disconnect()
        begin()

    window.retry_clicked.connect(retry)
    window.closed.connect(stop.set)
    window.closed.connect(app.quit)
    window.show()
    begin()
    app.exec()
    stop.set()
    for worker in workers:
        worker.join(timeout=30)
    if outcome:  # the last attempt's outcome, in the terminal too
        print(outcome[-1], file=sys.stdout if saved else sys.stderr)
    return 0 if saved else 2
