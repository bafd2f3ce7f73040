"""The plain rows the history hands out, and the codes and values its columns may hold."""

from __future__ import annotations

from dataclasses import dataclass

from posture_watch.core.history_summary import CONTEXT_KINDS
from posture_watch.core.types import ReminderKind, State

# Integer codes stored for states; a higher code wins when a second holds several states:
# a judged posture beats "cannot judge", which beats "away", and poor beats everything.
STATE_CODE = {State.AWAY: 0, State.UNKNOWN: 1, State.GOOD: 2, State.CAUTION: 3, State.POOR: 4}
CODE_STATE = {code: state for state, code in STATE_CODE.items()}

REMINDER_RESPONSES = (None, "snoozed", "dismissed")
BREAK_KINDS = ("natural", "reminded")
DISCOMFORT_AREAS = ("neck", "shoulders", "upper_back", "lower_back")
SPAN_KINDS = CONTEXT_KINDS  # call, locked, asleep, off_hours


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    started_at: float
    ended_at: float | None  # None: still running, or the process died
    last_seen_at: float | None  # end of the last stored second
    source: str
    kind: str
    profile: str | None
    config_fingerprint: str

    @property
    def end(self) -> float:
        """Best known end: the clean end, else the last stored second, else the start."""
        return self.ended_at or self.last_seen_at or self.started_at


@dataclass(slots=True)  # not frozen: frozen __init__ is twice as slow on millions of rows
class SampleRow:
    """One session-second of posture."""

    t: int  # wall-clock second (Unix time, floored)
    session_id: int
    state: State  # the worst state in the second
    samples: int  # how many samples were folded into it
    score: float | None  # mean score of the scored samples
    rule: str | None  # the main non-good rule (posture rules first, then set-up findings)
    distance_cm: float | None
    head_pitch_deg: float | None  # absolute, down is positive
    neck_deg: float | None  # the neck_flexion rule's value: pitch relative to the neutral
    quality: float | None  # mean over the samples with a person in view
    note: str | None  # why the posture could not be judged (unknown seconds)


@dataclass(frozen=True, slots=True)
class ReminderRow:
    session_id: int
    t: float
    kind: ReminderKind
    title: str
    message: str
    reason: str
    response: str | None


@dataclass(frozen=True, slots=True)
class BreakRow:
    session_id: int
    start: float
    end: float
    kind: str


@dataclass(frozen=True, slots=True)
class SpanRow:
    """A context span: the camera was not watching, for a reason that is not a break."""

    session_id: int
    kind: str  # one of SPAN_KINDS
    start: float  # wall time (Unix s)
    end: float
    detail: str | None  # e.g. the program holding the camera


@dataclass(frozen=True, slots=True)
class DiscomfortRow:
    """One self-reported discomfort entry."""

    t: float  # wall time of the entry
    area: str  # one of DISCOMFORT_AREAS
    level: int  # 0 (none) to 10 (worst)
    note: str
