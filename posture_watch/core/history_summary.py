"""Summaries of stored history (pure): time at the desk, posture, episodes, reminders,
breaks, time in context spans (calls, the screen locked...), the main issue, the trend
against the previous period, and logged discomfort.

Works on the store's plain rows (or anything with the same attributes): one row per
session-second, so a row count is a number of seconds. No database, no clock: the caller
passes the rows and `now`.

Long periods can be summarized from per-day rollups instead (see `rollup` and
`combine_rollups`): small JSON-ready figures of one local day that add up to exactly what
the rows of those days give, episodes running across midnight included.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any, Protocol

from posture_watch.core.episodes import (
    MAX_SAMPLE_GAP_S,
    MIN_EPISODE_S,
    breaks_the_run,
    is_episode,
)
from posture_watch.core.messages import PACING_ADVICE, rule_label, suggestion_for_rule
from posture_watch.core.rules import POSTURE_RULES
from posture_watch.core.screen_distance import (
    DistanceFigures,
    SetupFinding,
    figures_from_counts,
    setup_finding,
)
from posture_watch.core.settings import ThresholdsConfig
from posture_watch.core.types import State

# When to suggest seeing someone: discomfort logged over more than two weeks, or severe.
CARE_SPAN_DAYS = 14
CARE_LEVEL = 7
JUDGED = (State.GOOD, State.CAUTION, State.POOR)
# Why the camera was not watching, besides a break or the user being away: another program
# had it (a video call), the screen was locked, the machine slept, or it was outside the
# working hours. Stored as context spans; their time is neither at the desk nor away.
CONTEXT_KINDS = ("call", "locked", "asleep", "off_hours")


class SampleLike(Protocol):
    @property
    def t(self) -> int: ...
    @property
    def session_id(self) -> int: ...
    @property
    def state(self) -> State: ...
    @property
    def rule(self) -> str | None: ...
    @property
    def distance_cm(self) -> float | None: ...


class ReminderLike(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def response(self) -> str | None: ...


class BreakLike(Protocol):
    @property
    def kind(self) -> str: ...


class SpanLike(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


class DiscomfortLike(Protocol):
    @property
    def t(self) -> float: ...
    @property
    def area(self) -> str: ...
    @property
    def level(self) -> int: ...


@dataclass(frozen=True)
class Episodes:
    count: int = 0
    longest_s: int = 0
    total_s: int = 0


@dataclass(frozen=True)
class PostureStats:
    """The figures of one stretch of rows (a period, a day or a session)."""

    present_s: int
    away_s: int
    judged_s: int
    percent: dict[str, float]  # good / caution / poor, of judged seconds
    episodes: Episodes


@dataclass(frozen=True)
class Issue:
    rule: str
    label: str
    seconds: int  # posture: seconds this rule was the main non-good finding; set-up:
    # seconds outside the distance band
    suggestion: str


@dataclass(frozen=True)
class Trend:
    """This period minus the previous one of the same length."""

    good_pct_delta: float
    poor_pct_delta: float
    present_s_delta: int


@dataclass(frozen=True)
class AreaDiscomfort:
    latest: int
    mean: float
    count: int


@dataclass(frozen=True)
class HistorySummary:
    since: float
    until: float
    label: str
    stats: PostureStats
    reminders: dict[str, dict[str, int]]  # kind -> count, snoozed, dismissed
    breaks_natural: int
    breaks_reminded: int
    breaks_due: int
    mean_distance_cm: float | None
    dominant_issue: Issue | None
    setup_issue: Issue | None
    trend: Trend | None
    discomfort: dict[str, AreaDiscomfort] = field(default_factory=dict)
    seek_help: bool = False
    care_text: str | None = None
    # The median distance and time outside the band, and how long the set-up finding held:
    # the figures behind setup_issue, so what is printed agrees with the advice.
    distance: DistanceFigures | None = None
    setup: SetupFinding | None = None
    # Seconds of the period in each context span kind (CONTEXT_KINDS, all present).
    context_s: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CONTEXT_KINDS, 0))

    @property
    def breaks_taken(self) -> int:
        return self.breaks_natural + self.breaks_reminded

    @property
    def pacing_advice(self) -> str | None:
        """Advice on sitting too long, when fewer breaks were taken than were due."""
        return PACING_ADVICE if self.breaks_taken < self.breaks_due else None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["period"] = {"since": out.pop("since"), "until": out.pop("until"),
                         "label": out.pop("label")}
        out["breaks"] = {"natural": out.pop("breaks_natural"),
                         "reminded": out.pop("breaks_reminded"),
                         "taken": self.breaks_taken, "due": out.pop("breaks_due")}
        out["pacing_advice"] = self.pacing_advice
        return out


# --- posture -----------------------------------------------------------------------------


def _session_runs(session_rows: Sequence[SampleLike]) -> list[tuple[int, int]]:
    """(first, last second) of each caution/poor run of one session's rows in time order;
    a good/away/unknown row or a gap between rows that breaks the run (core.episodes)
    ends a run. The last run may still be open at the last row."""
    runs = []
    start = last = None
    for row in session_rows:
        bad = row.state in (State.CAUTION, State.POOR)
        if last is not None and (not bad or breaks_the_run(row.t - last)):
            runs.append((start, last))
            start = last = None
        if bad:
            start = row.t if start is None else start
            last = row.t
    if last is not None:
        runs.append((start, last))
    return runs  # type: ignore[return-value]


def _by_session(rows: Iterable[SampleLike]) -> dict[int, list[SampleLike]]:
    by_session: dict[int, list[SampleLike]] = defaultdict(list)
    for row in rows:
        by_session[row.session_id].append(row)
    return by_session


def _runs(rows: Sequence[SampleLike]) -> Iterable[int]:
    """Durations (s) of caution/poor runs, per session (see _session_runs)."""
    for session_rows in _by_session(rows).values():
        for start, last in _session_runs(sorted(session_rows, key=lambda r: r.t)):
            yield last + 1 - start


def episodes(rows: Sequence[SampleLike]) -> Episodes:
    lengths = [n for n in _runs(rows) if is_episode(n)]
    return Episodes(len(lengths), max(lengths, default=0), sum(lengths))


def _stats(counts: Mapping[State, int], rows: int, eps: Episodes) -> PostureStats:
    judged = sum(counts.get(s, 0) for s in JUDGED)
    percent = {s.value: round(100.0 * counts.get(s, 0) / judged, 1) if judged else 0.0
               for s in JUDGED}
    away = counts.get(State.AWAY, 0)
    return PostureStats(rows - away, away, judged, percent, eps)


def posture_stats(rows: Sequence[SampleLike]) -> PostureStats:
    return _stats(Counter(row.state for row in rows), len(rows), episodes(rows))


def _issue(seconds: Mapping[str, int]) -> Issue | None:
    """The rule with the most seconds (ties: by name)."""
    if not seconds:
        return None
    rule, n = min(seconds.items(), key=lambda kv: (-kv[1], kv[0]))
    return Issue(rule, rule_label(rule), n, suggestion_for_rule(rule))


def _top_issue(rows: Sequence[SampleLike]) -> Issue | None:
    """The posture rule that was the main finding of caution or poor seconds most often
    (ties: by name). Set-up findings come from the distances (core.screen_distance)."""
    return _issue(Counter(row.rule for row in rows
                          if row.rule in POSTURE_RULES
                          and row.state in (State.CAUTION, State.POOR)))


def _distance_counts(rows: Iterable[SampleLike]) -> dict[float, int]:
    """Seconds (rows) per distinct finite distance, the form a rollup keeps."""
    return dict(Counter(row.distance_cm for row in rows
                        if row.distance_cm is not None and math.isfinite(row.distance_cm)))


def _held_issues(dominant: Issue | None, stats: PostureStats,
                 distances: Mapping[float, int], thresholds: ThresholdsConfig,
                 ) -> tuple[Issue | None, DistanceFigures | None, SetupFinding | None]:
    """Advice only for what held: a main issue needs a posture episode in the period, a
    set-up issue a median distance outside the band (core.screen_distance)."""
    if not stats.episodes.count:
        dominant = None
    figures = figures_from_counts(distances.items(), thresholds)
    finding = setup_finding(figures)
    return dominant, figures, finding


def _setup_issue(finding: SetupFinding | None) -> Issue | None:
    if finding is None:
        return None
    return Issue(finding.rule, rule_label(finding.rule), round(finding.held_s),
                 suggestion_for_rule(finding.rule))


def _mean_distance(rows: Sequence[SampleLike]) -> float | None:
    values = [row.distance_cm for row in rows
              if row.distance_cm is not None and math.isfinite(row.distance_cm)]
    return round(statistics.fmean(values), 1) if values else None


def _trend(current: PostureStats, before: PostureStats) -> Trend:
    return Trend(round(current.percent["good"] - before.percent["good"], 1),
                 round(current.percent["poor"] - before.percent["poor"], 1),
                 current.present_s - before.present_s)


def trend(current: PostureStats, previous_rows: Sequence[SampleLike]) -> Trend | None:
    """None when the previous period holds no rows to compare with."""
    if not previous_rows:
        return None
    return _trend(current, posture_stats(previous_rows))


# --- per-day rollups ---------------------------------------------------------------------

# What a rollup's episode figures depend on: a rollup made with other values is stale.
ROLLUP_FORMAT = [1, MAX_SAMPLE_GAP_S, MIN_EPISODE_S]


def rollup(rows: Iterable[SampleLike]) -> dict[str, Any]:
    """The figures of one stretch of rows (a local day), JSON-ready.

    - states: seconds per state; rules: [state, rule, seconds] for each rule seen;
    - distances: [value, count] for each distinct finite distance (an exact mean later);
    - sessions: session id (str) -> [first second, last second, head, tail, count,
      longest, total], where head is the [start, last] run of caution/poor that begins
      at the first row, tail the one still open at the last row (both None when there is
      none; the same run when one run covers both), and count/longest/total describe the
      complete runs in between that are episodes (core.episodes).
    """
    states: Counter[str] = Counter()
    rules: Counter[tuple[str, str]] = Counter()
    distances: Counter[float] = Counter()
    rows = list(rows)
    for row in rows:
        state = row.state.value
        states[state] += 1
        if row.rule:
            rules[(state, row.rule)] += 1
        d = row.distance_cm
        if d is not None and math.isfinite(d):
            distances[d] += 1
    sessions: dict[str, list[Any]] = {}
    for sid, session_rows in _by_session(rows).items():
        session_rows.sort(key=lambda r: r.t)
        first, last = session_rows[0].t, session_rows[-1].t
        runs = _session_runs(session_rows)
        head = list(runs[0]) if runs and runs[0][0] == first else None
        tail = list(runs[-1]) if runs and runs[-1][1] == last else None
        inner = runs[(1 if head else 0):len(runs) - (1 if tail else 0)]
        lengths = [b + 1 - a for a, b in inner if is_episode(b + 1 - a)]
        sessions[str(sid)] = [first, last, head, tail, len(lengths), max(lengths, default=0),
                              sum(lengths)]
    return {"format": ROLLUP_FORMAT, "states": dict(states),
            "rules": [[st, rule, n] for (st, rule), n in rules.items()],
            "distances": [[d, n] for d, n in distances.items()], "sessions": sessions}


def rollup_is_current(data: object) -> bool:
    """Whether a stored rollup was made with this version's figures and limits."""
    return isinstance(data, dict) and data.get("format") == ROLLUP_FORMAT


@dataclass(frozen=True)
class Totals:
    """Rollups of consecutive stretches added up: what posture figures need."""

    rows: int
    states: dict[State, int]
    rule_seconds: dict[tuple[State, str], int]
    distances: dict[float, int]
    episodes: Episodes


def combine_rollups(rollups: Iterable[Mapping[str, Any]]) -> Totals:
    """Add up rollups of consecutive stretches, given in time order.

    A session's caution/poor run open at the end of one stretch goes on into the next
    when the gap to that stretch's first one does not break the run, as it would row by
    row.
    """
    states: Counter[State] = Counter()
    rules: Counter[tuple[State, str]] = Counter()
    distances: Counter[float] = Counter()
    open_runs: dict[int, tuple[int, int]] = {}
    lengths = [0, 0, 0]  # count, longest, total

    def emit(run: tuple[int, int]) -> None:
        n = run[1] + 1 - run[0]
        if is_episode(n):
            lengths[0] += 1
            lengths[1] = max(lengths[1], n)
            lengths[2] += n

    for data in rollups:
        for st, n in data["states"].items():
            states[State(st)] += n
        for st, rule, n in data["rules"]:
            rules[(State(st), rule)] += n
        for d, n in data["distances"]:
            distances[d] += n
        for key, (_first, _last, head, tail, count, longest, total) in data["sessions"].items():
            sid = int(key)
            run = open_runs.pop(sid, None)
            whole = head is not None and head == tail
            joined = (run is not None and head is not None
                      and not breaks_the_run(head[0] - run[1]))
            if run is not None and not joined:
                emit(run)
            if head is not None:
                head = (run[0] if joined else head[0], head[1])  # type: ignore[index]
            if whole:
                open_runs[sid] = head  # type: ignore[assignment]
                continue
            if head is not None:
                emit(head)
            lengths[0] += count
            lengths[1] = max(lengths[1], longest)
            lengths[2] += total
            if tail is not None:
                open_runs[sid] = (tail[0], tail[1])
    for run in open_runs.values():
        emit(run)
    return Totals(sum(states.values()), dict(states), dict(rules), dict(distances),
                  Episodes(*lengths))


def _totals_stats(totals: Totals) -> PostureStats:
    return _stats(totals.states, totals.rows, totals.episodes)


def _totals_issue(totals: Totals) -> Issue | None:
    """_top_issue from rollups."""
    seconds: Counter[str] = Counter()
    for (st, rule), n in totals.rule_seconds.items():
        if rule in POSTURE_RULES and st in (State.CAUTION, State.POOR):
            seconds[rule] += n
    return _issue(seconds)


def _totals_mean_distance(totals: Totals) -> float | None:
    """statistics.fmean of the values, exactly: fsum is the correctly rounded exact sum."""
    n = sum(totals.distances.values())
    if not n:
        return None
    exact = sum((Fraction(d) * c for d, c in totals.distances.items()), Fraction(0))
    return round(float(exact) / n, 1)


# --- reminders and breaks ----------------------------------------------------------------


def reminders_by_kind(reminders: Iterable[ReminderLike]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in reminders:
        entry = out.setdefault(str(r.kind), {"count": 0, "snoozed": 0, "dismissed": 0})
        entry["count"] += 1
        if r.response in ("snoozed", "dismissed"):
            entry[r.response] += 1
    return out


def breaks_due(present_s: float, after_presence_s: float) -> int:
    """One break is due per `after_presence_s` of presence (whole breaks only)."""
    return math.floor(present_s / after_presence_s) if after_presence_s > 0 else 0


# --- context spans -----------------------------------------------------------------------


def _union_length(intervals: Iterable[tuple[float, float]]) -> float:
    """Total length covered by the intervals (overlaps counted once)."""
    total = 0.0
    reach = -math.inf
    for lo, hi in sorted(intervals):
        lo = max(lo, reach)
        if hi > lo:
            total += hi - lo
            reach = hi
    return total


def context_seconds(spans: Iterable[SpanLike], since: float, until: float) -> dict[str, int]:
    """Seconds of [since, until) inside spans of each kind (CONTEXT_KINDS, in that order).

    Spans are cut to the period, so a call across midnight counts on both days; spans of
    one kind that overlap (recorded twice) count once.
    """
    by_kind: dict[str, list[tuple[float, float]]] = {kind: [] for kind in CONTEXT_KINDS}
    for span in spans:
        lo, hi = max(span.start, since), min(span.end, until)
        if span.kind in by_kind and hi > lo:
            by_kind[span.kind].append((lo, hi))
    return {kind: round(_union_length(parts)) for kind, parts in by_kind.items()}


# --- discomfort --------------------------------------------------------------------------


def discomfort_by_area(entries: Iterable[DiscomfortLike]) -> dict[str, AreaDiscomfort]:
    by_area: dict[str, list[DiscomfortLike]] = defaultdict(list)
    for e in entries:
        by_area[e.area].append(e)
    return {area: AreaDiscomfort(max(rows, key=lambda e: e.t).level,
                                 round(statistics.fmean(e.level for e in rows), 1), len(rows))
            for area, rows in sorted(by_area.items())}


def _local_day(t: float) -> datetime:
    return datetime.fromtimestamp(t).replace(hour=0, minute=0, second=0, microsecond=0)


def care_reasons(entries: Iterable[DiscomfortLike], now: float) -> list[str]:
    """Why to suggest a professional: severe discomfort, or discomfort (level > 0) logged
    on days more than two weeks apart. Entries after `now` are ignored."""
    felt = [e for e in entries if e.level > 0 and e.t <= now]
    reasons = []
    if any(e.level >= CARE_LEVEL for e in felt):
        reasons.append(f"you logged discomfort at {CARE_LEVEL}/10 or more")
    if felt:
        days = _local_day(max(e.t for e in felt)) - _local_day(min(e.t for e in felt))
        if days.days > CARE_SPAN_DAYS:
            reasons.append(f"you have logged discomfort over {days.days} days")
    return reasons


NO_MEDICAL_ADVICE = ("posture-watch gives no medical advice; it only keeps track of what you "
                     "log and how you sit.")


def care_text(reasons: Sequence[str]) -> str:
    """Our wording of the guide's "when to seek help" section, with the disclaimer."""
    why = " and ".join(reasons)
    return (f"Because {why}, consider having it looked at. A doctor or physiotherapist "
            "should see pain that goes on for more than two weeks, or that comes with "
            "numbness or tingling running down an arm, weakness in an arm or leg, a fever, "
            f"or that began after a fall or an accident. {NO_MEDICAL_ADVICE}")


# --- the whole summary -------------------------------------------------------------------


def summarize_history(*, since: float, until: float, label: str,
                      samples: Sequence[SampleLike] = (), reminders: Iterable[ReminderLike],
                      breaks: Iterable[BreakLike], after_presence_s: float,
                      previous_samples: Sequence[SampleLike] = (),
                      discomfort: Iterable[DiscomfortLike] = (),
                      now: float,
                      rollups: Sequence[Mapping[str, Any]] | None = None,
                      previous_rollups: Sequence[Mapping[str, Any]] | None = None,
                      thresholds: ThresholdsConfig | None = None,
                      spans: Iterable[SpanLike] = (),
                      ) -> HistorySummary:
    """Summarize [since, until). `discomfort` may reach back before `since` (the care check
    looks at the last weeks); the per-area figures use only entries inside the period.

    `rollups` / `previous_rollups` (consecutive stretches in time order, see `rollup`)
    stand in for `samples` / `previous_samples` when given, with identical results.
    `thresholds` give the distance band of the set-up findings (the defaults if None).
    `spans` are the context spans overlapping the period (see context_seconds).
    """
    if rollups is not None:
        totals = combine_rollups(rollups)
        stats = _totals_stats(totals)
        mean_distance = _totals_mean_distance(totals)
        dominant, distances = _totals_issue(totals), totals.distances
    else:
        stats = posture_stats(samples)
        mean_distance = _mean_distance(samples)
        dominant, distances = _top_issue(samples), _distance_counts(samples)
    dominant, figures, finding = _held_issues(dominant, stats, distances,
                                              thresholds or ThresholdsConfig())
    if previous_rollups is not None:
        before = combine_rollups(previous_rollups)
        change = _trend(stats, _totals_stats(before)) if before.rows else None
    else:
        change = trend(stats, previous_samples)
    kinds = Counter(str(b.kind) for b in breaks)
    entries = list(discomfort)
    reasons = care_reasons(entries, now)
    return HistorySummary(
        since=since, until=until, label=label, stats=stats,
        reminders=reminders_by_kind(reminders),
        breaks_natural=kinds["natural"], breaks_reminded=kinds["reminded"],
        breaks_due=breaks_due(stats.present_s, after_presence_s),
        mean_distance_cm=mean_distance,
        dominant_issue=dominant,
        setup_issue=_setup_issue(finding),
        trend=change,
        discomfort=discomfort_by_area(e for e in entries if since <= e.t < until),
        seek_help=bool(reasons),
        care_text=care_text(reasons) if reasons else None,
        distance=figures,
        setup=finding,
        context_s=context_seconds(spans, since, until),
    )
