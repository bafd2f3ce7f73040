"""Summaries of stored history (pure): time at the desk, posture, episodes, reminders,
breaks, the main issue, the trend against the previous period, and logged discomfort.

Works on the store's plain rows (or anything with the same attributes): one row per
session-second, so a row count is a number of seconds. No database, no clock: the caller
passes the rows and `now`.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from posture_watch.core.messages import rule_label, suggestion_for_rule
from posture_watch.core.rules import POSTURE_RULES
from posture_watch.core.types import State

# A stretch of caution/poor seconds shorter than this is a blip, not an episode.
MIN_EPISODE_S = 5
# Seconds missing between two caution/poor rows beyond this end the run (a stall, a pause).
MAX_GAP_S = 5
# When to suggest seeing someone: discomfort logged over more than two weeks, or severe.
CARE_SPAN_DAYS = 14
CARE_LEVEL = 7
JUDGED = (State.GOOD, State.CAUTION, State.POOR)


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
    seconds: int  # seconds in which this rule was the main non-good finding
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

    @property
    def breaks_taken(self) -> int:
        return self.breaks_natural + self.breaks_reminded

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["period"] = {"since": out.pop("since"), "until": out.pop("until"),
                         "label": out.pop("label")}
        out["breaks"] = {"natural": out.pop("breaks_natural"),
                         "reminded": out.pop("breaks_reminded"),
                         "taken": self.breaks_taken, "due": out.pop("breaks_due")}
        return out


# --- posture -----------------------------------------------------------------------------


def _runs(rows: Sequence[SampleLike]) -> Iterable[int]:
    """Durations (s) of caution/poor runs, per session; a good/away/unknown row or a gap of
    more than MAX_GAP_S seconds between rows ends a run."""
    by_session: dict[int, list[SampleLike]] = defaultdict(list)
    for row in rows:
        by_session[row.session_id].append(row)
    for session_rows in by_session.values():
        start = last = None
        for row in sorted(session_rows, key=lambda r: r.t):
            bad = row.state in (State.CAUTION, State.POOR)
            if last is not None and (not bad or row.t - last > MAX_GAP_S):
                yield last + 1 - start
                start = last = None
            if bad:
                start = row.t if start is None else start
                last = row.t
        if last is not None:
            yield last + 1 - start


def episodes(rows: Sequence[SampleLike]) -> Episodes:
    lengths = [n for n in _runs(rows) if n >= MIN_EPISODE_S]
    return Episodes(len(lengths), max(lengths, default=0), sum(lengths))


def posture_stats(rows: Sequence[SampleLike]) -> PostureStats:
    counts = Counter(row.state for row in rows)
    judged = sum(counts[s] for s in JUDGED)
    percent = {s.value: round(100.0 * counts[s] / judged, 1) if judged else 0.0
               for s in JUDGED}
    away = counts[State.AWAY]
    return PostureStats(len(rows) - away, away, judged, percent, episodes(rows))


def _top_issue(rows: Sequence[SampleLike], posture: bool) -> Issue | None:
    """The rule that was the main finding for the most seconds (ties: by name)."""
    seconds = Counter(row.rule for row in rows
                      if row.rule and (row.rule in POSTURE_RULES) == posture
                      and (not posture or row.state in (State.CAUTION, State.POOR)))
    if not seconds:
        return None
    rule, n = min(seconds.items(), key=lambda kv: (-kv[1], kv[0]))
    return Issue(rule, rule_label(rule), n, suggestion_for_rule(rule))


def _mean_distance(rows: Sequence[SampleLike]) -> float | None:
    values = [row.distance_cm for row in rows
              if row.distance_cm is not None and math.isfinite(row.distance_cm)]
    return round(statistics.fmean(values), 1) if values else None


def trend(current: PostureStats, previous_rows: Sequence[SampleLike]) -> Trend | None:
    """None when the previous period holds no rows to compare with."""
    if not previous_rows:
        return None
    before = posture_stats(previous_rows)
    return Trend(round(current.percent["good"] - before.percent["good"], 1),
                 round(current.percent["poor"] - before.percent["poor"], 1),
                 current.present_s - before.present_s)


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
                      samples: Sequence[SampleLike], reminders: Iterable[ReminderLike],
                      breaks: Iterable[BreakLike], after_presence_s: float,
                      previous_samples: Sequence[SampleLike] = (),
                      discomfort: Iterable[DiscomfortLike] = (),
                      now: float) -> HistorySummary:
    """Summarize [since, until). `discomfort` may reach back before `since` (the care check
    looks at the last weeks); the per-area figures use only entries inside the period."""
    stats = posture_stats(samples)
    kinds = Counter(str(b.kind) for b in breaks)
    entries = list(discomfort)
    reasons = care_reasons(entries, now)
    return HistorySummary(
        since=since, until=until, label=label, stats=stats,
        reminders=reminders_by_kind(reminders),
        breaks_natural=kinds["natural"], breaks_reminded=kinds["reminded"],
        breaks_due=breaks_due(stats.present_s, after_presence_s),
        mean_distance_cm=_mean_distance(samples),
        dominant_issue=_top_issue(samples, posture=True),
        setup_issue=_top_issue(samples, posture=False),
        trend=trend(stats, previous_samples),
        discomfort=discomfort_by_area(e for e in entries if since <= e.t < until),
        seek_help=bool(reasons),
        care_text=care_text(reasons) if reasons else None,
    )
