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
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from posture_watch.core.calibration import Baseline
from posture_watch.core.context import CAMERA_OFF, Change, Kind, unseen_presence
from posture_watch.core.held_reminders import HeldReminders
from posture_watch.core.live_rate import AdaptiveRate
from posture_watch.core.pipeline import Estimator, Sink, run_loop
from posture_watch.core.reminders import ReminderEngine
from posture_watch.core.scoring import PostureScorer
from posture_watch.core.settings import Config, RemindersConfig
from posture_watch.core.staleness import StaleCalibrationWatch
from posture_watch.core.summary import for_summary
from posture_watch.core.types import Frame, PoseSample, PostureState, Reminder
from posture_watch.errors import UserError
from posture_watch.monitor.context_watch import ContextWatch
from posture_watch.vision.camera import CameraSource
from posture_watch.vision.scene_shift import SceneShiftWatch

# The exit summary covers at most this many recent samples (8 hours at 2 Hz), each kept
# only in the parts the summary reads (core.summary.for_summary).
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
                 context: ContextWatch | None = None) -> None:
        self.config = config
        self.camera = camera
        self.estimator = estimator
        self.scorer = PostureScorer(config, baseline)
        self.engine = ReminderEngine(_reminders_for(config))
        self.stop = threading.Event()
        self.states: deque[PostureState] = deque(maxlen=_SUMMARY_SAMPLES)
        self.reminders: list[Reminder] = []
        self._notify = notify
        self._notify_text = notify_text
        self._out = out
        self._json = json_lines
        self._fixed_rate = fixed_rate_hz
        self._rate = AdaptiveRate(config.live)
        self._extra_sinks = list(sinks or [])
        self._commands: queue.Queue[_Command] = queue.Queue()
        self._pause_until: float | None = None
        self._user_paused = False
        self.context = context
        self._held = HeldReminders()
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
            self._deliver([self.engine.break_now(now)], asked=True)
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
        if self.context is not None:
            self._follow_context(self.camera.now())
        self._update_snapshot()

    # -- the world around the desk (sensors/) ---------------------------------------------
    def _follow_context(self, now: float) -> None:
        assert self.context is not None
        was_quiet = self.context.context.quiet()
        for change in self.context.check(now):
            self._context_changed(change)
        if was_quiet is not None and self.context.context.quiet() is None and self._held:
            self._deliver(self._held.release(now, was_quiet.describe()), fresh=False)
        off = self.context.context.camera_off()
        if off is not None and off.kind is Kind.CALL:
            # The camera cannot look: keyboard and mouse say whether the user is there.
            self.engine.unseen(now, unseen_presence(self.context.context.idle_s(),
                                                    self.config.context.idle_after_s))

    def _held_off(self) -> bool:
        """Whether something outside says: not now (a call, a lock, sleep, off hours)."""
        return self.context is not None and self.context.context.camera_off() is not None

    def _quiet(self) -> str | None:
        """Why reminders on screen wait now, if they do."""
        if self.context is None:
            return None
        quiet = self.context.context.quiet()
        return None if quiet is None else self.context.context.describe(quiet.kind)

    def _context_changed(self, change: Change) -> None:
        """A condition began or ended: the camera follows; a long lock is a break; the
        history hears of spells the camera did not watch."""
        assert self.context is not None
        if change.kind in CAMERA_OFF:
            self._sync_camera()
        if (change.kind in (Kind.LOCKED, Kind.ASLEEP) and not change.began
                and change.lasted_s >= self.config.reminders.breaks.natural_break_s):
            self.engine.finish_break()  # away from the screen long enough: a break
        if not change.began and change.kind in CAMERA_OFF:
            self._tell_sinks(change)
        text = self._change_text(change)
        if self._json:
            self._emit({"type": "context", "t": round(change.at_s, 3),
                        "kind": change.kind.value,
                        "event": "began" if change.began else "ended",
                        "detail": change.detail, "lasted_s": round(change.lasted_s, 1),
                        "message": text})
        else:
            print(f"{dt.datetime.now():%H:%M:%S}  {text}", file=self._out, flush=True)

    def _change_text(self, change: Change) -> str:
        assert self.context is not None
        if change.began:
            text = self.context.context.describe(change.kind)
            return text + (": camera let go" if change.kind in CAMERA_OFF else
                           ": reminders wait" if change.kind is not Kind.IDLE else "")
        ended = {Kind.CALL: "camera back", Kind.LOCKED: "screen unlocked",
                 Kind.ASLEEP: "awake again", Kind.OFF_HOURS: "working hours begin"}
        return f"{ended.get(change.kind, change.kind.value + ' over')} after " \
               f"{change.lasted_s:.0f} s"

    def _tell_sinks(self, change: Change) -> None:
        for sink in self._extra_sinks:
            on_span = getattr(sink, "on_span", None)
            if on_span is not None:
                on_span(change.kind.value.replace(" ", "_"), change.at_s - change.lasted_s,
                        change.at_s, change.detail or None)

    def close_context(self) -> None:
        """When `run` stops: spells still going are told to the history."""
        if self.context is None:
            return
        for change in self.context.open_spells(self.camera.now()):
            if change.kind in CAMERA_OFF:
                self._tell_sinks(change)

    def _sync_camera(self) -> None:
        """The camera is let go while the user paused, or something outside holds it off
        (a call, the lock, sleep, hours outside work)."""
        if self._user_paused or self._held_off():
            self.camera.pause()
        elif self.camera.paused:
            self.camera.resume()

    def _update_snapshot(self) -> None:
        last = self._last
        camera = self.camera.status.to_dict()
        now = self.camera.now()
        if self.context is not None:
            context = self.context.context
            camera["in_use_by"] = [c.detail for c in context.active(Kind.CALL)]
            camera["given_up_s"] = round(self.context.total_s(Kind.CALL, now), 1)
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
            "context": self._context_status(now),
        }

    def _context_status(self, now: float) -> dict[str, Any]:
        if self.context is None:
            return {}
        context = self.context.context
        off = context.camera_off()
        off_hours = context.active(Kind.OFF_HOURS)
        return {
            "camera_off": None if off is None else context.describe(off.kind),
            "quiet": self._quiet(),
            "held_reminders": len(self._held),
            "idle_s": context.idle_s(),
            "starts_in_s": round(off_hours[0].value) if off_hours else None,
            "conditions": sorted(c.kind.value for c in context.conditions),
        }

    def _state_name(self) -> str:
        """What the user did or sees comes first: a lock or sleep, their own pause, then
        another program on the camera or hours outside work; then the last judgment."""
        off = self.context.context.camera_off() if self.context is not None else None
        if off is not None and off.kind in (Kind.LOCKED, Kind.ASLEEP):
            return off.kind.value
        if self._user_paused:
            return "paused"
        if off is not None:
            return "camera in use" if off.kind is Kind.CALL else off.kind.value
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
        self.states.append(for_summary(state))
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

    def _deliver(self, reminders: list[Reminder], *, fresh: bool = True,
                 asked: bool = False) -> None:
        """Reminders out: kept for the summary (when `fresh`, not released from a hold),
        notified (or held while the desktop asks for quiet, unless the user `asked`), and
        printed or emitted."""
        if fresh:
            self.reminders.extend(reminders)
        quiet = None if asked else self._quiet()
        for reminder in reminders:
            if quiet is None:
                self._notify(reminder)
            else:
                self._held.hold(reminder)
            if self._json:
                self._emit({"type": "reminder", "t": round(reminder.t_s, 3),
                            "kind": reminder.kind.value, "title": reminder.title,
                            "message": reminder.message, "reason": reminder.reason,
                            "held": quiet})
            else:
                note = f" (held: {quiet})" if quiet else ""
                print(f"{dt.datetime.now():%H:%M:%S}  {reminder.kind.value}: {reminder.title}"
                      f"{note}", file=self._out, flush=True)

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
        """Faster while posture is poor (confirm quickly), slower while away or long
        good (save CPU): core/live_rate.py."""
        if self._fixed_rate:
            return self._fixed_rate
        return self._rate.rate_for(state)

    # -- main -----------------------------------------------------------------------------
    def run(self) -> None:
        sinks: list[Sink] = [*self._extra_sinks, self]
        if self.context is not None:  # what already held when `run` started
            for kind in sorted(self.context.context.kinds() - {Kind.IDLE}):
                began = self.context.since_s(kind)
                detail = next((c.detail for c in self.context.context.active(kind)), "")
                self._context_changed(Change(kind, True, began or 0.0, detail=detail))
        self._update_snapshot()
        run_loop(self.camera.frames(self.stop, on_tick=self._tick), _Estimating(self._estimate),
                 self.scorer, self.engine, sinks)


def _reminders_for(config: Config) -> RemindersConfig:
    """In privacy mode a check stands for the time until the next one: the last look
    carries (presence, absence, posture) instead of the gap being cut to
    `max_sample_gap_s`, which would slow every timer several times over."""
    reminders = config.reminders
    period = config.camera.check_every_s
    if period > 0 and reminders.max_sample_gap_s < period + 1.0:
        return replace(reminders, max_sample_gap_s=period + 1.0)
    return reminders


@dataclass(frozen=True)
class _Estimating:
    """An Estimator made of a function (the monitor's estimate-and-watch step)."""

    estimate: Callable[[Frame], PoseSample]
