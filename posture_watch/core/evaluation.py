"""Scoring a run against labelled footage (pure): how often the states match the labels.

The labels say which predicted states are right for each labelled stretch (a `Segment`);
the figures here say how well a run did: agreement, a confusion table, precision and
recall for bad posture and for away, the reminders that should and should not have come,
and how long "away" took to show. Reading label files is I/O and lives in
`posture_watch.evaluation.labels`; this module only takes plain values.

Judging
    A sample at time t belongs to a segment when start + m <= t <= end - m, with
    m = min(margin_s, (end - start) / 4): smoothing, the debounce and the away delay all
    take a moment to follow a change, and a short segment still keeps half its length.
    `end_s = math.inf` means "to the end of the input". A sample belongs to at most one
    segment (the first by start time); samples outside every segment are not judged.
    With `judge_last_fraction`, only the final fraction of each segment's samples is
    judged: a still needs a moment for the smoothing to settle.

Categories
    Each segment's expected set falls in one category: "good" ({good}), "bad" (caution
    and/or poor), "away" ({away}) or "present" (anything else, e.g. a standing person:
    there but not judged for sitting posture).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from posture_watch.core.types import PostureState, Reminder, ReminderKind, State

T = TypeVar("T")

STATES: tuple[str, ...] = tuple(s.value for s in State)
BAD_STATES = frozenset({State.CAUTION.value, State.POOR.value})
CATEGORIES: tuple[str, ...] = ("good", "bad", "away", "present")
# Reminder times are sums of float sample times: 16.1 - 15.1 is 1.0000000000000009.
_TIME_EPS_S = 1e-9


@dataclass(frozen=True)
class Segment:
    """One labelled stretch of an input and the predicted states that count as right."""

    start_s: float
    end_s: float  # math.inf: to the end of the input
    label: str
    expected: frozenset[str]  # State values

    @property
    def category(self) -> str:
        return category_of(self.expected)


@dataclass(frozen=True)
class ExpectedReminder:
    """A reminder that should fire `tolerance_s` either side of `t_s`."""

    t_s: float
    kind: str  # a ReminderKind value
    tolerance_s: float

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class PrecisionRecall:
    tp: int
    fp: int
    fn: int
    precision: float | None  # None when nothing was predicted positive
    recall: float | None  # None when nothing was labelled positive

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class ReminderCheck:
    expected: int
    fired: int
    matched: int
    missing: list[ExpectedReminder]
    unexpected: list[tuple[float, str]]  # (t_s, kind) of fired reminders nobody expected
    timing_errors_s: list[float]  # fired minus expected, per match, in expected-time order

    @property
    def max_abs_timing_error_s(self) -> float | None:
        return max((abs(e) for e in self.timing_errors_s), default=None)

    def to_dict(self) -> dict[str, Any]:
        out = _plain(self)
        out["unexpected"] = [{"t_s": t, "kind": kind} for t, kind in self.unexpected]
        out["max_abs_timing_error_s"] = self.max_abs_timing_error_s
        return out


@dataclass(frozen=True)
class SegmentScore:
    """How one segment went: enough to say which label a run got wrong."""

    start_s: float
    end_s: float
    label: str
    category: str
    samples_judged: int
    samples_agreeing: int
    agreement: float | None
    states: dict[str, int]  # predicted state -> count

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class ClipScore:
    name: str
    samples_judged: int
    samples_agreeing: int
    agreement: float | None  # share of judged samples whose state is in the expected set
    confusion: dict[str, dict[str, int]]  # category -> predicted state -> count
    bad_posture: PrecisionRecall
    away: PrecisionRecall
    reminders: ReminderCheck | None  # None when the input gave no reminder expectations
    false_posture_reminders: int  # posture reminders inside an upright segment
    upright_s: float  # judged length of the upright segments
    away_latencies_s: list[float]  # per away segment with samples; math.inf if never seen
    segments: list[SegmentScore] = field(default_factory=list)

    @property
    def balanced_accuracy(self) -> float | None:
        return balanced_accuracy(self.confusion)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values; an infinite latency (away never detected) becomes None."""
        out = _plain(self)
        out["balanced_accuracy"] = self.balanced_accuracy
        if self.reminders is not None:
            out["reminders"] = self.reminders.to_dict()
        return out


@dataclass(frozen=True)
class Overall:
    """Totals over many inputs: pooled per sample, not averaged per clip."""

    clips: int
    samples_judged: int
    samples_agreeing: int
    agreement: float | None
    confusion: dict[str, dict[str, int]]
    bad_posture: PrecisionRecall
    away: PrecisionRecall
    reminders: ReminderCheck | None  # None when no input gave reminder expectations
    false_posture_reminders: int
    upright_s: float
    false_posture_reminders_per_hour: float | None  # None without upright footage
    away_segments: int
    away_missed: int  # away segments never detected
    away_latency_mean_s: float | None  # over the detected ones
    away_latency_max_s: float | None  # math.inf when one was never detected

    @property
    def balanced_accuracy(self) -> float | None:
        return balanced_accuracy(self.confusion)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values; an infinite maximum latency becomes None (see away_missed)."""
        out = _plain(self)
        out["balanced_accuracy"] = self.balanced_accuracy
        if self.reminders is not None:
            out["reminders"] = self.reminders.to_dict()
        return out


# The categories that balanced accuracy averages over, and the predictions right for each.
_RIGHT_FOR = {"good": frozenset({State.GOOD.value}), "bad": BAD_STATES,
              "away": frozenset({State.AWAY.value})}


def class_counts(confusion: dict[str, dict[str, int]]) -> dict[str, tuple[int, int]]:
    """Per labelled category (good, bad, away) present: (samples judged right, judged)."""
    out = {}
    for category, right in _RIGHT_FOR.items():
        row = confusion.get(category)
        if row and sum(row.values()):
            out[category] = (sum(row.get(s, 0) for s in right), sum(row.values()))
    return out


def balanced_accuracy(confusion: dict[str, dict[str, int]]) -> float | None:
    """The mean of the recalls of the categories present (upright, slouched, away): with
    three slouched samples to one upright, calling everything bad scores only 50 %."""
    counts = class_counts(confusion)
    if not counts:
        return None
    return sum(right / judged for right, judged in counts.values()) / len(counts)


def category_of(expected: frozenset[str]) -> str:
    """The confusion-table row for a segment's expected set."""
    if expected == {State.GOOD.value}:
        return "good"
    if expected == {State.AWAY.value}:
        return "away"
    if expected and expected <= BAD_STATES:
        return "bad"
    return "present"


def score_clip(
    name: str,
    states: Sequence[PostureState],
    segments: Sequence[Segment],
    reminders_fired: Sequence[Reminder],
    expected_reminders: Sequence[ExpectedReminder] | None,
    *,
    margin_s: float,
    judge_last_fraction: float | None = None,
) -> ClipScore:
    """Score one input's predicted states and reminders against its labels."""
    if margin_s < 0:
        raise ValueError(f"margin_s must not be negative, got {margin_s}")
    if judge_last_fraction is not None and not 0 < judge_last_fraction <= 1:
        raise ValueError(f"judge_last_fraction must be in (0, 1], got {judge_last_fraction}")
    ordered = sorted(segments, key=lambda s: (s.start_s, s.end_s))
    judged = _assign(states, ordered, margin_s, judge_last_fraction)
    pairs = [(seg, s.state.value) for seg, samples in judged for s in samples]
    agreeing = sum(state in seg.expected for seg, state in pairs)
    upright = [seg for seg in ordered if seg.category == "good"]
    return ClipScore(
        name=name,
        samples_judged=len(pairs),
        samples_agreeing=agreeing,
        agreement=_ratio(agreeing, len(pairs)),
        confusion=_confusion((seg.category, state) for seg, state in pairs),
        bad_posture=_bad_posture(pairs),
        away=_precision_recall(
            (seg.category == "away", state == State.AWAY.value) for seg, state in pairs
        ),
        reminders=None
        if expected_reminders is None
        else match_reminders(reminders_fired, expected_reminders),
        false_posture_reminders=_false_posture_reminders(reminders_fired, upright, margin_s),
        upright_s=_covered_s(states, upright, margin_s),
        away_latencies_s=_away_latencies(states, ordered),
        segments=[_segment_score(seg, samples) for seg, samples in judged],
    )


def match_reminders(
    fired: Sequence[Reminder], expected: Sequence[ExpectedReminder]
) -> ReminderCheck:
    """Pair fired with expected reminders one to one: same kind, within the tolerance,
    closest pairs first (greedy, so one early stray cannot steal a later exact match)."""
    candidates = sorted(
        (abs(f.t_s - e.t_s), j, i)
        for i, f in enumerate(fired)
        for j, e in enumerate(expected)
        if _kind(f.kind) == e.kind and abs(f.t_s - e.t_s) <= e.tolerance_s + _TIME_EPS_S
    )
    pair_of: dict[int, int] = {}  # expected index -> fired index
    used: set[int] = set()
    for _, j, i in candidates:
        if j not in pair_of and i not in used:
            pair_of[j] = i
            used.add(i)
    order = sorted(pair_of, key=lambda j: (expected[j].t_s, j))
    return ReminderCheck(
        expected=len(expected),
        fired=len(fired),
        matched=len(pair_of),
        missing=[e for j, e in enumerate(expected) if j not in pair_of],
        unexpected=[(f.t_s, _kind(f.kind)) for i, f in enumerate(fired) if i not in used],
        timing_errors_s=[fired[pair_of[j]].t_s - expected[j].t_s for j in order],
    )


def combine(scores: Sequence[ClipScore]) -> Overall:
    """Pool many inputs' figures: sums of counts, ratios recomputed from the sums."""
    judged = sum(s.samples_judged for s in scores)
    agreeing = sum(s.samples_agreeing for s in scores)
    upright_s = sum(s.upright_s for s in scores)
    false_reminders = sum(s.false_posture_reminders for s in scores)
    latencies = [t for s in scores for t in s.away_latencies_s]
    detected = [t for t in latencies if math.isfinite(t)]
    return Overall(
        clips=len(scores),
        samples_judged=judged,
        samples_agreeing=agreeing,
        agreement=_ratio(agreeing, judged),
        confusion=_sum_confusion(s.confusion for s in scores),
        bad_posture=_sum_precision_recall(s.bad_posture for s in scores),
        away=_sum_precision_recall(s.away for s in scores),
        reminders=_sum_reminders([s.reminders for s in scores if s.reminders is not None]),
        false_posture_reminders=false_reminders,
        upright_s=upright_s,
        false_posture_reminders_per_hour=false_reminders / (upright_s / 3600.0)
        if upright_s > 0
        else None,
        away_segments=len(latencies),
        away_missed=len(latencies) - len(detected),
        away_latency_mean_s=sum(detected) / len(detected) if detected else None,
        away_latency_max_s=max(latencies, default=None),
    )


# --- judging ---------------------------------------------------------------------------


def _window(seg: Segment, margin_s: float) -> tuple[float, float]:
    """The judged part of a segment: its edges trimmed by the margin."""
    margin = min(margin_s, (seg.end_s - seg.start_s) / 4)
    return seg.start_s + margin, seg.end_s - margin


def _assign(
    states: Sequence[PostureState],
    segments: Sequence[Segment],
    margin_s: float,
    last_fraction: float | None,
) -> list[tuple[Segment, list[PostureState]]]:
    """Each segment with the samples it judges, in time order."""
    windows = [_window(seg, margin_s) for seg in segments]
    groups: list[list[PostureState]] = [[] for _ in segments]
    for sample in sorted(states, key=lambda s: s.t_s):
        for group, (lo, hi) in zip(groups, windows, strict=True):
            if lo <= sample.t_s <= hi:
                group.append(sample)
                break
    if last_fraction is not None:
        groups = [last_part(g, last_fraction) for g in groups]
    return list(zip(segments, groups, strict=True))


def last_part(samples: list[T], fraction: float) -> list[T]:
    """The final `fraction` of the samples, rounded up so one sample is still judged."""
    keep = math.ceil(len(samples) * fraction - 1e-9)  # 25 * 0.28 is 7.000000000000001
    return samples[len(samples) - keep :]


def _segment_score(seg: Segment, samples: list[PostureState]) -> SegmentScore:
    agreeing = sum(s.state.value in seg.expected for s in samples)
    counts = {state: 0 for state in STATES}
    for s in samples:
        counts[s.state.value] += 1
    return SegmentScore(seg.start_s, seg.end_s, seg.label, seg.category, len(samples),
                        agreeing, _ratio(agreeing, len(samples)), counts)


def _confusion(pairs: Iterable[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """Category -> predicted state -> count; every state listed for each category seen."""
    table: dict[str, dict[str, int]] = {}
    for category, state in pairs:
        row = table.setdefault(category, {s: 0 for s in STATES})
        row[state] = row.get(state, 0) + 1
    return {c: table[c] for c in sorted(table, key=_category_order)}


def _category_order(category: str) -> tuple[int, str]:
    return (CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES), category)


def _bad_posture(pairs: Sequence[tuple[Segment, str]]) -> PrecisionRecall:
    """Bad posture as a detector. "present" segments are left out: a standing person's
    sitting posture is not judged, so a caution there is neither right nor wrong."""
    return _precision_recall(
        (seg.category == "bad", state in BAD_STATES)
        for seg, state in pairs
        if seg.category != "present"
    )


def _precision_recall(outcomes: Iterable[tuple[bool, bool]]) -> PrecisionRecall:
    """From (labelled positive, predicted positive) per sample."""
    tp = fp = fn = 0
    for actual, predicted in outcomes:
        tp += actual and predicted
        fp += predicted and not actual
        fn += actual and not predicted
    return _pr(tp, fp, fn)


def _pr(tp: int, fp: int, fn: int) -> PrecisionRecall:
    return PrecisionRecall(tp, fp, fn, _ratio(tp, tp + fp), _ratio(tp, tp + fn))


def _false_posture_reminders(
    fired: Sequence[Reminder], upright: Sequence[Segment], margin_s: float
) -> int:
    """Posture reminders inside an upright segment's judged window: each one is a false
    alarm (the window leaves a margin for a reminder that was late for an earlier slouch)."""
    windows = [_window(seg, margin_s) for seg in upright]
    return sum(
        _kind(r.kind) == ReminderKind.POSTURE.value
        and any(lo <= r.t_s <= hi for lo, hi in windows)
        for r in fired
    )


def _covered_s(
    states: Sequence[PostureState], segments: Sequence[Segment], margin_s: float
) -> float:
    """Judged seconds of the segments: each window clipped to the time the states cover
    (so a still's endless segment counts only as long as it was shown)."""
    if not states:
        return 0.0
    first = min(s.t_s for s in states)
    last = max(s.t_s for s in states)
    total = 0.0
    for seg in segments:
        lo, hi = _window(seg, margin_s)
        total += max(0.0, min(hi, last) - max(lo, first))
    return total


def _away_latencies(states: Sequence[PostureState], segments: Sequence[Segment]) -> list[float]:
    """Per away segment that has samples: seconds from its start to the first away sample
    inside it (math.inf if none); the margin does not apply, this measures the delay."""
    latencies = []
    for seg in segments:
        if seg.category != "away":
            continue
        inside = sorted(
            (s for s in states if seg.start_s <= s.t_s <= seg.end_s), key=lambda s: s.t_s
        )
        if not inside:
            continue
        first_away = next((s.t_s for s in inside if s.state is State.AWAY), None)
        latencies.append(math.inf if first_away is None else first_away - seg.start_s)
    return latencies


# --- totals ----------------------------------------------------------------------------


def _sum_confusion(tables: Iterable[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    total: dict[str, dict[str, int]] = {}
    for table in tables:
        for category, row in table.items():
            into = total.setdefault(category, {s: 0 for s in STATES})
            for state, count in row.items():
                into[state] = into.get(state, 0) + count
    return {c: total[c] for c in sorted(total, key=_category_order)}


def _sum_precision_recall(items: Iterable[PrecisionRecall]) -> PrecisionRecall:
    tp = fp = fn = 0
    for pr in items:
        tp, fp, fn = tp + pr.tp, fp + pr.fp, fn + pr.fn
    return _pr(tp, fp, fn)


def _sum_reminders(checks: Sequence[ReminderCheck]) -> ReminderCheck | None:
    if not checks:
        return None
    return ReminderCheck(
        expected=sum(c.expected for c in checks),
        fired=sum(c.fired for c in checks),
        matched=sum(c.matched for c in checks),
        missing=[m for c in checks for m in c.missing],
        unexpected=[u for c in checks for u in c.unexpected],
        timing_errors_s=[e for c in checks for e in c.timing_errors_s],
    )


# --- helpers ---------------------------------------------------------------------------


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _kind(kind: ReminderKind | str) -> str:
    return kind.value if isinstance(kind, enum.Enum) else str(kind)


def _plain(value: Any) -> Any:
    """JSON-ready copy: dataclasses to dicts, sets sorted, tuples to lists, and an infinite
    float to None (JSON has no infinity)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
