"""`run`: the monitor at the desk. The same loop, core and reminder engine as `analyze`,
fed by the live camera source, with adaptive sampling, notifications and control commands.

Control commands arrive on the control server's thread; they are queued and applied by
the monitor's own thread between samples (the camera and the engine are never touched
from two threads), and the caller waits briefly for the result.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from posture_watch.core.calibration import Baseline
from posture_watch.core.pipeline import Estimator, Sink, run_loop
from posture_watch.core.reminders import ReminderEngine
from posture_watch.core.scoring import PostureScorer
from posture_watch.core.settings import Config
from posture_watch.core.staleness import StaleCalibrationWatch
from posture_watch.core.types import Frame, PoseSample, PostureState, Reminder, State
from posture_watch.errors import UserError
from posture_watch.monitor.camera_yield import CameraYield
from posture_watch.monitor.session_pause import SessionPause
from posture_watch.vision.camera import CameraSource
from posture_watch.vision.scene_shift import SceneShiftWatch

# The exit summary covers at most this many recent samples (8 hours at 2 Hz).
_SUMMARY_SAMPLES = 8 * 3600 * 2


def parse_duration(text: str | None) -> float | None:
    """'90', '90s', '15m', '2h' -> seconds; None stays None."""
    if text is None:
        return None
    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        value = float(number) * units[unit]
    except ValueError:
        raise UserError(f"duration {text!r}: use seconds or a number with s, m or h") from None
    if value <= 0:
        raise UserError(f"duration {text!r} must be positive")
    return value


@dataclass
class _Command:
    name: str
    args: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    reply: dict[str, Any] = field(default_factory=dict)


class Monitor:
    """Wires the camera, estimator, core and sinks; answers control commands."""

    def __init__(self, config: Config, camera: CameraSource, estimator: Estimator,
                 baseline: Baseline | None, *, notify: Callable[[Reminder], None],
                 notify_text: Callable[[str, str], None] = lambda title, message: None,
                 out: TextIO = sys.stdout, json_lines: bool = False,
                 fixed_rate_hz: float | None = None, sinks: list[Sink] | None = None,
                 camera_yield: CameraYield | None = None,
                 session_pause: SessionPause | None = None) -> None:
        self.config = config
        self.camera = camera
        self.estimator = estimator
        self.scorer = PostureScorer(config, baseline)
        self.engine = ReminderEngine(config.reminders)
        self.stop = threading.Event()
        self.states: deque[PostureState] = deque(maxlen=_SUMMARY_SAMPLES)
        self.reminders: list[Reminder] = []
        self._notify = notify
        self._notify_text = notify_text
        self._out = out
        self._json = json_lines
        self._fixed_rate = fixed_rate_hz
        self._extra_sinks = list(sinks or [])
        self._commands: queue.Queue[_Command] = queue.Queue()
        self._pause_until: float | None = None
        self._user_paused = False
        self._yield = camera_yield
        self._session = session_pause
        self._last: PostureState | None = None
        self._staleness = StaleCalibrationWatch()
        self._scene = SceneShiftWatch()
        self.notes: list[str] = []  # one-off messages, e.g. a calibration that looks stale
        self.profile: str | None = None  # the saved profile judged against, if any
        self.snapshot: dict[str, Any] = {}

    # -- control --------------------------------------------------------------------------
    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Control-server handler (runs on the server's thread)."""
        command = _Command(str(request.get("command")), dict(request.get("args") or {}))
        if command.name == "status":
            return {"ok": True, **self.snapshot}
        self._commands.put(command)
        self.camera.wake.set()
        if not command.done.wait(5.0):
            return {"ok": False, "error": "the monitor did not answer in time"}
        return command.reply

    def _apply(self, command: _Command) -> dict[str, Any]:
        now = self.camera.now()
        name, args = command.name, command.args
        if name == "pause":
            seconds = parse_duration(args.get("duration"))
            self._pause_until = None if seconds is None else now + seconds
            self._user_paused = True
            self._sync_camera()
        elif name == "resume":
            self._pause_until = None
            self._user_paused = False
            self._sync_camera()
        elif name == "snooze":
            seconds = parse_duration(args.get("duration"))
            self.engine.snooze(now, seconds)
            for sink in self._extra_sinks:
                on_snooze = getattr(sink, "on_snooze", None)
                if on_snooze is not None:
                    on_snooze(now)
        elif name == "break":
            self._deliver([self.engine.break_now(now)])
        elif name == "postpone":
            seconds = parse_duration(args.get("duration"))
            if seconds is None:
                seconds = self.config.desktop.postpone_s
            self.engine.postpone_break(seconds)
        elif name == "skip":
            self.engine.skip_break()
        elif name == "break_done":
            self.engine.finish_break()
        elif name == "profile":
            from posture_watch.history.profiles import load_profile

            name = str(args.get("name", ""))
            self.scorer.use_baseline(load_profile(name))
            self.profile = name
        elif name == "stop":
            self.stop.set()
        else:
            return {"ok": False, "error": f"unknown command {name!r}"}
        self._update_snapshot()
        return {"ok": True, **self.snapshot}

    def _tick(self) -> None:
        """Between samples, on the monitor's thread: commands, pause expiry."""
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                break
            try:
                command.reply = self._apply(command)
            except UserError as exc:
                command.reply = {"ok": False, "error": str(exc)}
            command.done.set()
        if self._pause_until is not None and self.camera.now() >= self._pause_until:
            self._pause_until = None
            self._user_paused = False
            self._sync_camera()
        if self._yield is not None:
            change = self._yield.check(self.camera.now())
            if change is not None:
                self._camera_changed(change)
        if self._session is not None:
            lock = self._session.check(self.camera.now())
            if lock is not None:
                self._lock_changed(*lock)
        self._update_snapshot()

    def _held_off(self) -> bool:
        """Whether something outside says: not now (another program, a lock, sleep)."""
        return ((self._yield is not None and self._yield.active)
                or (self._session is not None and self._session.active))

    def _lock_changed(self, change: str, lasted_s: float) -> None:
        assert self._session is not None
        self._sync_camera()
        if change == "unlock" and lasted_s >= self.config.reminders.breaks.natural_break_s:
            self.engine.finish_break()  # away from the screen long enough: a break
        text = (f"screen {self._session.describe()}: camera let go" if change == "lock"
                else f"screen unlocked after {lasted_s:.0f} s")
        if self._json:
            self._emit({"type": "session", "t": round(self.camera.now(), 3),
                        "event": change, "lasted_s": round(lasted_s, 1), "message": text})
        else:
            print(f"{dt.datetime.now():%H:%M:%S}  {text}", file=self._out, flush=True)

    def _sync_camera(self) -> None:
        """The camera is let go while the user paused, another program holds it, or the
        screen is locked."""
        if self._user_paused or self._held_off():
            self.camera.pause()
        elif self.camera.paused:
            self.camera.resume()

    def _camera_changed(self, change: str) -> None:
        assert self._yield is not None
        self._sync_camera()
        text = self._yield.describe() if change == "yield" else "camera back"
        if self._json:
            self._emit({"type": "camera", "t": round(self.camera.now(), 3),
                        "in_use_by": [str(u) for u in self._yield.in_use_by],
                        "message": text})
        else:
            print(f"{dt.datetime.now():%H:%M:%S}  {text}", file=self._out, flush=True)

    def _update_snapshot(self) -> None:
        last = self._last
        camera = self.camera.status.to_dict()
        if self._yield is not None:
            camera["in_use_by"] = [str(u) for u in self._yield.in_use_by]
            camera["given_up_s"] = round(self._yield.total_s(self.camera.now()), 1)
        self.snapshot = {
            "running_s": round(self.camera.now(), 1),
            "state": self._state_name(),
            "score": last.score if last else None,
            "paused_until_s": None if self._pause_until is None
            else round(self._pause_until, 1),
            "camera": camera,
            "timers": {k: round(v, 1) for k, v in self.engine.snapshot().items()},
            "reminders": len(self.reminders),
            "calibration": self._calibration(),
        }

    def _state_name(self) -> str:
        """What the user did or sees comes first: a lock, their own pause, then another
        program on the camera; then the last judgment."""
        if self._session is not None and self._session.active:
            return self._session.describe()
        if self._user_paused:
            return "paused"
        if self._yield is not None and self._yield.active:
            return "camera in use"
        if self.camera.paused:
            return "paused"
        return self._last.state.value if self._last else "starting"

    def _calibration(self) -> dict[str, Any]:
        baseline = self.scorer.baseline
        return {"profile": self.profile,
                "source": baseline.source if baseline else None,
                "view": baseline.view if baseline else None,
                "two_pose": baseline.two_pose if baseline else False}

    # -- sinks ----------------------------------------------------------------------------
    def on_sample(self, state: PostureState, reminders: list[Reminder]) -> None:
        self._last = state
        self.states.append(state)
        if self._json:
            from posture_watch.analysis.output import sample_to_dict

            self._emit({"type": "sample", **sample_to_dict(state)})
        self._deliver(reminders)
        note = self._staleness.update(state)
        if note is not None:
            self._say("Calibration looks out of date", note)
        self.camera.rate_hz = self._rate_for(state)
        self.camera.status.rate_hz = self.camera.rate_hz
        self._tick()

    def _deliver(self, reminders: list[Reminder]) -> None:
        """Reminders out: kept for the summary, notified, and printed or emitted."""
        self.reminders.extend(reminders)
        for reminder in reminders:
            self._notify(reminder)
            if self._json:
                self._emit({"type": "reminder", "t": round(reminder.t_s, 3),
                            "kind": reminder.kind.value, "title": reminder.title,
                            "message": reminder.message, "reason": reminder.reason})
            else:
                print(f"{dt.datetime.now():%H:%M:%S}  {reminder.kind.value}: {reminder.title}",
                      file=self._out, flush=True)

    def _say(self, title: str, note: str) -> None:
        """A one-off message: kept, on stderr, and as a desktop notice."""
        self.notes.append(note)
        print(f"posture-watch: {note}", file=sys.stderr, flush=True)
        self._notify_text(title, note)

    def _estimate(self, frame: Frame) -> PoseSample:
        """The estimator, with the moved-camera watch looking at the same frame."""
        sample = self.estimator.estimate(frame)
        note = self._scene.update(frame, sample)
        if note is not None:
            self._say("The camera moved", note)
        return sample

    def _emit(self, doc: dict[str, Any]) -> None:
        self._out.write(json.dumps(doc) + "\n")
        self._out.flush()

    def _rate_for(self, state: PostureState) -> float:
        """Faster while posture is poor (confirm quickly), slower while away (save CPU)."""
        if self._fixed_rate:
            return self._fixed_rate
        live = self.config.live
        if state.state is State.POOR:
            return live.poor_rate_hz
        if state.state is State.AWAY:
            return live.away_rate_hz
        return live.rate_hz

    # -- main -----------------------------------------------------------------------------
    def run(self) -> None:
        sinks: list[Sink] = [*self._extra_sinks, self]
        self._update_snapshot()
        run_loop(self.camera.frames(self.stop, on_tick=self._tick), _Estimating(self._estimate),
                 self.scorer, self.engine, sinks)


@dataclass(frozen=True)
class _Estimating:
    """An Estimator made of a function (the monitor's estimate-and-watch step)."""

    estimate: Callable[[Frame], PoseSample]
