"""The reminder engine: posture states in, reminder events out.

Pure and deterministic: time comes only from ``PostureState.t_s``, so a recorded clip and
a live camera give the same events and tests can run a working day in a fraction of a
second. Policies, all thresholds from ``RemindersConfig``:

Time. Each sample stands for the time since the previous sample, capped at
``max_sample_gap_s`` so a stalled source never counts as hours at the desk. A clock that
goes backwards adds nothing. The first sample adds nothing.

Presence. Every state except AWAY is presence. UNKNOWN (someone is there but posture cannot
be measured) counts for break, eye, stretch and hydration timing, but it neither builds nor
clears a posture hold: it only pauses it.

Posture. POOR time builds the poor hold; CAUTION and POOR time build the not-good hold. A
hold is cleared only after ``clear_after_good_s`` of continuous GOOD (hysteresis), by any
AWAY sample, or by firing. A posture reminder needs the current sample to be CAUTION or
POOR, a full hold (poor first, then caution) and the end of ``cooldown_s`` since the last
posture reminder; holds keep building during the cooldown. The message names the rule that
was at the worse level for the most time during the hold.

Breaks, eyes, hydration. These run on a grid of presence time, so deferring one (by
min_gap or snooze) does not shift the ones after it: a movement break at
``after_presence_s`` of continuous presence and then every ``repeat_s``; an eye break every
``eyes.every_presence_s``; a drink every ``hydration.every_s`` (off by default). Grid points
missed during a snooze collapse into one reminder.

Natural break. An absence of at least ``natural_break_s`` restarts the break, eye and
stretch timers; a shorter absence only pauses them. Hydration is not reset by absences:
leaving the desk does not mean you drank.

Stretch. Due after ``every_presence_s`` of presence since the last stretch reminder, or when
one posture class (good, or not good) has lasted ``static_posture_s`` with no absence and no
change of class (UNKNOWN pauses this timer). Either way both timers restart, so the two
triggers never produce back-to-back stretches. Stretches rotate through the catalogue.

Snooze. ``snooze`` silences every kind until its end; timers keep running. Break, eye,
stretch and hydration reminders that came due meanwhile fire at the first present sample
after the snooze (once each, spaced by min_gap). Posture holds do not build during a
snooze, so bad posture must be held for a full hold time after it ends before a posture
reminder fires. ``snooze(t, 0)`` ends a snooze early.

Away, unjudged and spacing. Nothing fires on an AWAY sample, nor on an UNKNOWN one (a
sample too dark or too unclear to judge never produces a reminder); what is due waits for
the next judged sample (and a natural break in the meantime may reset it). At most one
reminder fires per sample and never two within ``min_gap_s``; when several are due, the
most important fires first (posture > break > stretch > eyes > hydration) and the rest wait
for the next sample past the gap.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from posture_watch.core.messages import (
    STRETCHES,
    break_text,
    eyes_text,
    format_duration,
    hydration_text,
    posture_text,
    stretch_text,
)
from posture_watch.core.settings import RemindersConfig
from posture_watch.core.types import Level, PostureState, Reminder, ReminderKind, State

# Float slack for threshold comparisons: sample times like 0.2 s do not sum exactly.
_EPS = 1e-6

_NOT_GOOD = (State.CAUTION, State.POOR)


def _reached(value: float, limit: float) -> bool:
    return value >= limit - _EPS


@dataclass
class _Grid:
    """A reminder due at `first_s`, then every `every_s`, of some elapsed time."""

    first_s: float
    every_s: float
    next_s: float = 0.0

    def __post_init__(self) -> None:
        self.next_s = self.first_s

    def due(self, elapsed_s: float) -> bool:
        return _reached(elapsed_s, self.next_s)

    def fired(self, elapsed_s: float) -> None:
        """Move to the next grid point after `elapsed_s` (missed points collapse into one)."""
        while _reached(elapsed_s, self.next_s):
            self.next_s += self.every_s

    def reset(self) -> None:
        self.next_s = self.first_s

    def remaining(self, elapsed_s: float) -> float:
        return max(0.0, self.next_s - elapsed_s)


@dataclass
class _Run:
    """One unbroken stretch of CAUTION/POOR samples, not yet counted toward the hold."""

    length_s: float = 0.0
    poor_s: float = 0.0
    poor_rules: dict[str, float] = field(default_factory=dict)
    not_good_rules: dict[str, float] = field(default_factory=dict)
    counted: bool = False  # outlasted a glance: its samples go straight into the hold


@dataclass
class _PostureHold:
    """Time spent in poor / not-good posture since the hold was last cleared.

    A not-good stretch counts only once it has lasted ``glance_s``; shorter ones (a look
    at the keyboard, reaching for a cup) are dropped when the next GOOD sample comes.
    """

    poor_s: float = 0.0
    not_good_s: float = 0.0
    good_run_s: float = 0.0
    poor_rules: dict[str, float] = field(default_factory=dict)
    not_good_rules: dict[str, float] = field(default_factory=dict)
    run: _Run = field(default_factory=_Run)

    def clear(self) -> None:
        self.poor_s = self.not_good_s = self.good_run_s = 0.0
        self.poor_rules.clear()
        self.not_good_rules.clear()
        self.run = _Run()

    def add(self, state: PostureState, dt: float, clear_after_good_s: float,
            glance_s: float = 0.0) -> None:
        """Count one sample; short GOOD blips pause the hold, a long GOOD run clears it."""
        if state.state is State.GOOD:
            self.run = _Run()  # a stretch that ended before glance_s was a glance
            self.good_run_s += dt
            if _reached(self.good_run_s, clear_after_good_s):
                self.clear()
            return
        if state.state not in _NOT_GOOD:
            return  # UNKNOWN: neither builds nor clears
        self.good_run_s = 0.0
        if self.run.counted:
            self._count(state, dt, self)
            return
        self._count(state, dt, self.run)
        if _reached(self.run.length_s, glance_s):
            self._take(self.run)

    @staticmethod
    def _count(state: PostureState, dt: float, into: _PostureHold | _Run) -> None:
        if isinstance(into, _Run):
            into.length_s += dt
        else:
            into.not_good_s += dt
        _weigh(into.not_good_rules, state, (Level.CAUTION, Level.POOR), dt)
        if state.state is State.POOR:
            into.poor_s += dt
            _weigh(into.poor_rules, state, (Level.POOR,), dt)

    def _take(self, run: _Run) -> None:
        """Move a stretch that outlasted a glance into the hold; the rest of it follows."""
        self.not_good_s += run.length_s
        self.poor_s += run.poor_s
        for mine, theirs in ((self.not_good_rules, run.not_good_rules),
                             (self.poor_rules, run.poor_rules)):
            for rule, seconds in theirs.items():
                mine[rule] = mine.get(rule, 0.0) + seconds
        self.run = _Run(counted=True)


def _weigh(weights: dict[str, float], state: PostureState, levels: tuple, dt: float) -> None:
    for result in state.rules:
        if result.level in levels:
            weights[result.rule] = weights.get(result.rule, 0.0) + dt


def _main_rule(weights: dict[str, float]) -> str | None:
    """The rule with the most time; ties go to the alphabetically first name."""
    if not weights:
        return None
    return max(sorted(weights), key=lambda rule: weights[rule])


class ReminderEngine:
    """Turns a stream of PostureState samples into Reminder events (see module docstring)."""

    def __init__(self, config: RemindersConfig) -> None:
        self._cfg = config
        self._last_t: float | None = None
        self._presence_s = 0.0  # all presence this session
        self._since_break_s = 0.0  # presence since the last natural break
        self._away_s = 0.0  # length of the current absence
        self._break_taken = False  # the current absence already counted as a natural break
        self._natural_breaks = 0
        self._skipped_breaks = 0
        self._hold = _PostureHold()
        self._posture_quiet_until = -math.inf
        self._since_stretch_s = 0.0
        self._static_s = 0.0
        self._static_good: bool | None = None
        self._snooze_until = -math.inf
        self._last_fire_t: float | None = None
        self._break_count = 0
        self._stretch_count = 0
        self._break_grid = _Grid(config.breaks.after_presence_s, config.breaks.repeat_s)
        self._eyes_grid = _Grid(config.eyes.every_presence_s, config.eyes.every_presence_s)
        self._drink_grid = _Grid(config.hydration.every_s, config.hydration.every_s)
        self._checks: tuple[Callable[[PostureState], Reminder | None], ...] = (
            self._posture,
            self._movement_break,
            self._stretch,
            self._eyes,
            self._hydration,
        )

    # ----- public API -------------------------------------------------------------------

    def update(self, state: PostureState) -> list[Reminder]:
        """Take one sample (t_s non-decreasing) and return the reminders it triggers."""
        dt = self._step(state.t_s)
        if state.present:
            self._add_presence(state, dt)
        else:
            self._add_absence(dt)
        return self._fire(state)

    def unseen(self, t_s: float, present: bool | None) -> None:
        """Time the camera could not look (another program had it). Keyboard and mouse
        input tells whether the user was there: `present` time counts toward the break,
        eye, stretch and hydration timers (a call is sitting too) but builds no posture
        hold; idle time, or no way to tell (None), is neither presence nor absence, since
        idle alone is never a break. Posture is judged afresh when the camera is back."""
        dt = self._step(t_s)
        self._hold.clear()
        self._static_s = 0.0
        self._static_good = None
        if present:
            self._away_s = 0.0
            self._break_taken = False
            self._presence_s += dt
            self._since_break_s += dt
            self._since_stretch_s += dt

    def snooze(self, t_s: float, duration_s: float | None = None) -> None:
        """Silence all reminders until t_s + duration (default: config.snooze_default_s)."""
        duration = self._cfg.snooze_default_s if duration_s is None else duration_s
        if not math.isfinite(duration) or duration < 0:
            raise ValueError(f"snooze duration must be a non-negative number, not {duration!r}")
        self._snooze_until = t_s + duration
        if duration > 0:
            self._hold.clear()

    # ----- breaks asked for or answered on a break screen (desktop/) -------------------

    def break_now(self, t_s: float) -> Reminder:
        """A movement break the user asked for now: the break reminder, whatever is due."""
        self._break_grid.fired(self._since_break_s)
        title, message = break_text(self._break_count, self._since_break_s)
        self._break_count += 1
        self._last_fire_t = t_s
        return Reminder(t_s, ReminderKind.BREAK, title, message, "asked for")

    def postpone_break(self, duration_s: float) -> None:
        """The next movement break comes after this much more presence."""
        if not math.isfinite(duration_s) or duration_s <= 0:
            raise ValueError(f"postpone needs a positive duration, not {duration_s!r}")
        self._break_grid.next_s = self._since_break_s + duration_s

    def skip_break(self) -> None:
        """The user skipped a break: no break is counted, and the next one is a full
        interval of presence away (as Workrave's skip restarts its timer)."""
        self._skipped_breaks += 1
        self._break_grid.next_s = self._since_break_s + self._cfg.breaks.after_presence_s

    def finish_break(self) -> None:
        """A break screen ran to its end with the user still in view (stretching at the
        desk, say): it counts as a break, as an absence of natural_break_s would."""
        self._natural_break()

    def snapshot(self) -> dict[str, float]:
        """Current timers, in seconds, for status lines and debugging."""
        now = self._last_t if self._last_t is not None else 0.0
        return {
            "presence_s": self._presence_s,
            "since_break_s": self._since_break_s,
            "away_s": self._away_s,
            "natural_breaks": float(self._natural_breaks),
            "skipped_breaks": float(self._skipped_breaks),
            "poor_held_s": self._hold.poor_s,
            "not_good_held_s": self._hold.not_good_s,
            "good_run_s": self._hold.good_run_s,
            "static_posture_s": self._static_s,
            "since_stretch_s": self._since_stretch_s,
            "next_break_in_s": self._break_grid.remaining(self._since_break_s),
            "next_eyes_in_s": self._eyes_grid.remaining(self._since_break_s),
            "next_hydration_in_s": self._drink_grid.remaining(self._presence_s),
            "posture_cooldown_s": max(0.0, self._posture_quiet_until - now),
            "snoozed_s": max(0.0, self._snooze_until - now),
        }

    # ----- timers -----------------------------------------------------------------------

    def _step(self, t_s: float) -> float:
        """Seconds this sample stands for: the gap to the previous one, capped."""
        if self._last_t is None:
            self._last_t = t_s
            return 0.0
        gap = t_s - self._last_t
        if gap <= 0:
            return 0.0  # duplicate or backwards time: keep the latest clock
        self._last_t = t_s
        return min(gap, self._cfg.max_sample_gap_s)

    def _add_presence(self, state: PostureState, dt: float) -> None:
        self._away_s = 0.0
        self._break_taken = False
        self._presence_s += dt
        self._since_break_s += dt
        self._since_stretch_s += dt
        self._track_static(state.state, dt)
        if state.t_s - dt < self._snooze_until:
            self._hold.clear()  # posture is re-confirmed after a snooze, not carried over
        else:
            self._hold.add(state, dt, self._cfg.posture.clear_after_good_s,
                           self._cfg.posture.glance_s)

    def _add_absence(self, dt: float) -> None:
        self._away_s += dt
        self._hold.clear()
        self._static_s = 0.0
        self._static_good = None
        if not self._break_taken and _reached(self._away_s, self._cfg.breaks.natural_break_s):
            self._natural_break()

    def _natural_break(self) -> None:
        self._break_taken = True
        self._natural_breaks += 1
        self._since_break_s = 0.0
        self._since_stretch_s = 0.0
        self._break_grid.reset()
        self._eyes_grid.reset()

    def _track_static(self, state: State, dt: float) -> None:
        """Time in one posture class (good / not good); UNKNOWN pauses it."""
        if state is State.UNKNOWN:
            return
        good = state is State.GOOD
        if good != self._static_good:
            self._static_good = good
            self._static_s = 0.0
        self._static_s += dt

    # ----- firing -----------------------------------------------------------------------

    def _fire(self, state: PostureState) -> list[Reminder]:
        t = state.t_s
        if not state.measured or t < self._snooze_until:
            return []  # nothing fires while away or when the sample could not be judged
        if self._last_fire_t is not None and not _reached(
            t - self._last_fire_t, self._cfg.min_gap_s
        ):
            return []
        for check in self._checks:  # in priority order
            reminder = check(state)
            if reminder is not None:
                self._last_fire_t = t
                return [reminder]
        return []

    def _posture(self, state: PostureState) -> Reminder | None:
        cfg = self._cfg.posture
        if not cfg.enabled or state.state not in _NOT_GOOD or state.t_s < self._posture_quiet_until:
            return None
        hold = self._hold
        if _reached(hold.poor_s, cfg.poor_hold_s):
            poor, held, rule = True, hold.poor_s, _main_rule(hold.poor_rules)
        elif _reached(hold.not_good_s, cfg.caution_hold_s):
            poor, held, rule = False, hold.not_good_s, None
        else:
            return None
        rule = rule or _main_rule(hold.not_good_rules)
        title, message = posture_text(rule, poor)
        what = "poor posture" if poor else "posture not good"
        reason = f"{what} for {format_duration(held)}" + (f" ({rule})" if rule else "")
        hold.clear()
        self._posture_quiet_until = state.t_s + cfg.cooldown_s
        return Reminder(state.t_s, ReminderKind.POSTURE, title, message, reason)

    def _movement_break(self, state: PostureState) -> Reminder | None:
        if not self._cfg.breaks.enabled or not self._break_grid.due(self._since_break_s):
            return None
        self._break_grid.fired(self._since_break_s)
        title, message = break_text(self._break_count, self._since_break_s)
        self._break_count += 1
        reason = f"present for {format_duration(self._since_break_s)} without a break"
        return Reminder(state.t_s, ReminderKind.BREAK, title, message, reason)

    def _stretch(self, state: PostureState) -> Reminder | None:
        cfg = self._cfg.stretch
        if not cfg.enabled:
            return None
        if _reached(self._static_s, cfg.static_posture_s):
            kind = "good" if self._static_good else "not good"
            reason = f"same posture ({kind}) for {format_duration(self._static_s)}"
        elif _reached(self._since_stretch_s, cfg.every_presence_s):
            reason = f"{format_duration(self._since_stretch_s)} at the desk since the last stretch"
        else:
            return None
        stretch = STRETCHES[self._stretch_count % len(STRETCHES)]
        self._stretch_count += 1
        self._since_stretch_s = 0.0
        self._static_s = 0.0
        title, message = stretch_text(stretch)
        return Reminder(state.t_s, ReminderKind.STRETCH, title, message, reason)

    def _eyes(self, state: PostureState) -> Reminder | None:
        if not self._cfg.eyes.enabled or not self._eyes_grid.due(self._since_break_s):
            return None
        self._eyes_grid.fired(self._since_break_s)
        title, message = eyes_text()
        reason = f"{format_duration(self._since_break_s)} at the screen (20-20-20 rule)"
        return Reminder(state.t_s, ReminderKind.EYES, title, message, reason)

    def _hydration(self, state: PostureState) -> Reminder | None:
        if not self._cfg.hydration.enabled or not self._drink_grid.due(self._presence_s):
            return None
        self._drink_grid.fired(self._presence_s)
        title, message = hydration_text()
        reason = f"{format_duration(self._presence_s)} at the desk this session"
        return Reminder(state.t_s, ReminderKind.HYDRATION, title, message, reason)
