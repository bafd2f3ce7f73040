"""Recording a session into the history store: a sink for the one pipeline loop.

Samples, reminders and breaks go to the store as they happen (the store batches its
writes); `run` records live, `analyze --save` records a file (analysis.saving). A break
is a stretch away of at least `reminders.break.natural_break_s`: "reminded" when it began
within ten minutes of a break reminder, "natural" otherwise.

Context spans (a call, the screen locked, asleep, outside working hours) come from the
monitor once each has ended, before the next sample. They are their own kind of time: a
stretch away that ran into a call ends where the call began, so a call is never counted as
a break or as time away. A lock or sleep long enough is also a break, as the monitor's
reminders count it (the monitor, on unlock).
"""

from __future__ import annotations

import hashlib
import json
import math

from posture_watch.config import config_to_dict
from posture_watch.core.settings import Config
from posture_watch.core.types import PostureState, Reminder, ReminderKind, State
from posture_watch.history.rows import SPAN_KINDS
from posture_watch.history.store import Store

# A break that starts this soon after a break reminder answered it.
_REMINDED_WITHIN_S = 600.0
# Context spans that are time away from the screen: long enough, they are a break.
_AWAY_FROM_SCREEN = ("locked", "asleep")


def config_fingerprint(config: Config) -> str:
    """A short hash of the effective config, so sessions under different settings differ."""
    text = json.dumps(config_to_dict(config), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class SessionRecorder:
    """Writes one session: every sample, every reminder, every break, every context span."""

    def __init__(self, store: Store, config: Config, *, started_at: float, source: str,
                 kind: str, profile: str | None) -> None:
        self._store = store
        self._start = started_at
        self._natural_break_s = config.reminders.breaks.natural_break_s
        self.session_id = store.start_session(
            started_at=started_at, source=source, kind=kind, profile=profile,
            config_fingerprint=config_fingerprint(config))
        self._away_since: float | None = None
        self._last_break_reminder: float | None = None
        self._last_t = 0.0

    def on_sample(self, state: PostureState, reminders: list[Reminder]) -> None:
        wall = self._start + state.t_s
        self._last_t = state.t_s
        self._store.add_sample(self.session_id, state, wall)
        for reminder in reminders:
            self._store.add_reminder(self.session_id, reminder, self._start + reminder.t_s)
            if reminder.kind is ReminderKind.BREAK:
                self._last_break_reminder = reminder.t_s
        if state.state is State.AWAY:
            if self._away_since is None:
                self._away_since = state.t_s
        else:
            self._close_away(state.t_s)

    def on_snooze(self, t_s: float) -> None:
        """The user snoozed: the reminders of the last ten minutes were answered so."""
        now = self._start + t_s
        self._store.respond_to_reminders(self.session_id, now - _REMINDED_WITHIN_S, now,
                                         "snoozed")

    def on_span(self, kind: str, start_s: float, end_s: float,
                detail: str | None = None) -> None:
        """A context span in monitor time (the samples' t_s), reported once it has ended.

        kind is one of history.rows.SPAN_KINDS (another is a bug: ValueError); a span
        without length (end_s <= start_s) is ignored."""
        if kind not in SPAN_KINDS:
            raise ValueError(f"span kind must be one of {SPAN_KINDS}")
        if not (math.isfinite(start_s) and math.isfinite(end_s) and end_s > start_s):
            return
        self._store.add_span(self.session_id, kind, self._start + start_s,
                             self._start + end_s, detail)
        self._away_through(kind, start_s, end_s)
        self._last_t = max(self._last_t, end_s)  # the session lasts to its last span too

    def _away_through(self, kind: str, start_s: float, end_s: float) -> None:
        """A stretch away that ran into the span ends where the span began. A lock or
        sleep is time away from the screen itself: the stretch goes on to its end, a break
        when long enough (as the monitor's reminders count it)."""
        if self._away_since is not None and self._away_since > start_s:
            return  # reported after the samples that followed it: they decided already
        if kind in _AWAY_FROM_SCREEN:
            if self._away_since is None:
                self._away_since = start_s
            self._close_away(end_s)
        else:
            self._close_away(start_s)

    def _close_away(self, until: float) -> None:
        since, self._away_since = self._away_since, None
        if since is None or until - since < self._natural_break_s:
            return
        reminded = (self._last_break_reminder is not None
                    and 0 <= since - self._last_break_reminder <= _REMINDED_WITHIN_S)
        self._store.add_break(self.session_id, self._start + since, self._start + until,
                              "reminded" if reminded else "natural")

    def close(self) -> None:
        """End the session at its last sample or span (a break still going at the end
        counts up to it)."""
        self._close_away(self._last_t)
        self._store.end_session(self.session_id, self._start + self._last_t)
