"""The history commands' I/O: periods from the command line, loading a summary from the
store, printing it (rich), per-day / per-session tables, export and forgetting.

The figures themselves come from core.history_summary (pure); this module only reads the
store, picks time ranges in local time and renders. Time in context spans (calls, the
screen locked, ...) is read from its table for each period, like breaks: the cached day
rollups hold per-second figures only, so a span written later never makes one stale.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from posture_watch.core.history_summary import (
    CONTEXT_KINDS,
    HistorySummary,
    breaks_due,
    context_seconds,
    posture_stats,
    rollup,
    rollup_is_current,
    summarize_history,
)
from posture_watch.core.messages import format_duration
from posture_watch.core.screen_distance import (
    TOO_CLOSE,
    TOO_FAR,
    band_text,
    held_text,
    median_text,
)
from posture_watch.core.settings import ThresholdsConfig
from posture_watch.errors import UserError
from posture_watch.history.rows import SampleRow, SpanRow
from posture_watch.history.store import Store

# How far back the care check looks for discomfort entries (it needs > 14 days to see).
CARE_WINDOW_DAYS = 28
PERIOD_KINDS = ("session", "today", "week", "since")
_SAMPLE_FIELDS = ("t", "time", "session_id", "state", "samples", "score", "rule",
                  "distance_cm", "head_pitch_deg", "neck_deg", "quality", "note")
# How the summary names the time in each context span kind (core CONTEXT_KINDS).
CONTEXT_LABELS = {"call": "in calls", "locked": "screen locked", "asleep": "asleep",
                  "off_hours": "outside working hours"}


# --- periods -----------------------------------------------------------------------------


def _midnight(day: date) -> float:
    """Local midnight starting `day` (naive datetimes are local time: DST-safe)."""
    return datetime.combine(day, datetime.min.time()).timestamp()


def _local_date(now: datetime) -> date:
    return now.astimezone().date() if now.tzinfo else now.date()


def period(kind: str, value: str | None, now: datetime,
           store: Store | None = None) -> tuple[float, float, str]:
    """(since, until, label) for --session ID / --today / --week / --since DATE.

    Days are whole local days, so the previous period of the same length (for the
    trend) is yesterday, or the week before. --session needs the store to find its times.
    """
    today = _local_date(now)
    tomorrow = _midnight(today + timedelta(days=1))
    if kind == "today":
        return _midnight(today), tomorrow, f"today ({today.isoformat()})"
    if kind == "week":
        first = today - timedelta(days=6)
        return _midnight(first), tomorrow, f"last 7 days ({first.isoformat()} to {today})"
    if kind == "since":
        day = _parse_date(value)
        if day > today:
            raise UserError(f"--since {value}: that date is in the future")
        return _midnight(day), tomorrow, f"since {day.isoformat()}"
    if kind == "session":
        return _session_period(value, store)
    raise UserError(f"unknown history period {kind!r}: use one of {', '.join(PERIOD_KINDS)}")


def _parse_date(value: str | None) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise UserError(f"--since {value!r}: give a date as YYYY-MM-DD") from None


def _session_period(value: str | None, store: Store | None) -> tuple[float, float, str]:
    try:
        sid = int((value or "").strip())
    except ValueError:
        raise UserError(f"--session {value!r}: give a session number") from None
    if store is None:
        raise ValueError("period('session', ...) needs the store")
    found = [s for s in store.sessions() if s.id == sid]
    if not found:
        raise UserError(f"no session {sid} in the history")
    session = found[0]
    return session.started_at, math.ceil(session.end), f"session {sid}"


# --- the summary -------------------------------------------------------------------------


def day_rollups(store: Store, since: float, until: float,
                settled: float) -> list[dict[str, Any]]:
    """Rollups of [since, until) split at local midnights, oldest first.

    A whole local day that ended by `settled` comes from the store's cache (computed and
    stored once when missing); the rest (a partial first or last day, today) is computed
    from its rows every time.
    """
    cached = store.cached_rollups(since, until)
    out = []
    for day, lo, hi in _local_days(since, until):
        whole = (lo == _midnight(date.fromisoformat(day)) and float(lo).is_integer()
                 and hi == _midnight(date.fromisoformat(day) + timedelta(days=1))
                 and float(hi).is_integer() and hi <= settled)
        if not whole:
            out.append(rollup(store.samples(lo, hi)))
            continue
        data = cached.get((int(lo), int(hi)))
        if not rollup_is_current(data):
            data = store.rollup_day(int(lo), int(hi), rollup)
        out.append(data)
    return out


def warm_rollups(store: Store, days: int, now: float) -> None:
    """Compute and cache the rollups of the last `days` completed local days that are not
    cached yet, so the next long summary reads one row per day (run does this on exit)."""
    today = _midnight(date.fromtimestamp(now))
    day_rollups(store, _midnight(date.fromtimestamp(today) - timedelta(days=days)), today,
                settled=now)


def load_summary(store: Store, since: float, until: float, label: str,
                 after_presence_s: float, now: float | None = None,
                 thresholds: ThresholdsConfig | None = None) -> HistorySummary:
    """Read the period, the one before it (same length) and recent discomfort; summarize.

    Posture comes from per-day rollups (see day_rollups): the same figures as the rows,
    without reading months of them."""
    now = time.time() if now is None else now
    length = until - since
    if math.isfinite(since) and math.isfinite(until):
        settled = min(now, time.time())  # a day still going on is never stored
        posture: dict[str, Any] = {
            "rollups": day_rollups(store, since, until, settled),
            "previous_rollups": day_rollups(store, since - length, since, settled)}
    else:
        posture = {"samples": store.samples(since, until),
                   "previous_samples": store.samples(since - length, since)}
    return summarize_history(
        since=since, until=until, label=label,
        reminders=store.reminders(since, until),
        breaks=store.breaks(since, until),
        after_presence_s=after_presence_s,
        **posture,
        discomfort=store.discomfort(min(since, until - CARE_WINDOW_DAYS * 86400.0), until),
        now=now,
        thresholds=thresholds,
        spans=store.spans(since, until),
    )


def _arrow(delta: float, higher_is_better: bool) -> str:
    if delta == 0:
        return "→"
    better = (delta > 0) == higher_is_better
    arrow = "↑" if delta > 0 else "↓"
    return f"[green]{arrow}[/]" if better else f"[red]{arrow}[/]"


def _posture_table(s: HistorySummary) -> Table:
    st = s.stats
    table = Table(title=f"Posture, {s.label}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("time at the desk", format_duration(st.present_s))
    table.add_row("away", format_duration(st.away_s))
    for kind, label in _context_lines(s.context_s):
        table.add_row(label, format_duration(s.context_s[kind]))
    for state in ("good", "caution", "poor"):
        table.add_row(f"{state} (of judged time)", f"{st.percent[state]:.1f} %")
    ep = st.episodes
    table.add_row("posture episodes", f"{ep.count} (longest {format_duration(ep.longest_s)}, "
                  f"total {format_duration(ep.total_s)})")
    table.add_row("breaks taken / due", f"{s.breaks_taken} / {s.breaks_due} "
                  f"({s.breaks_natural} on your own, {s.breaks_reminded} after a reminder)")
    if s.distance is not None:
        # The median and the time outside the band: what the set-up finding rests on.
        d = s.distance
        table.add_row("screen distance (median)", f"{median_text(d)} cm")
        for rule in (TOO_CLOSE, TOO_FAR):
            if d.outside_s(rule) > 0:
                table.add_row(band_text(d, rule), f"{format_duration(d.outside_s(rule))} of "
                              f"{format_duration(d.measured_s)}")
    for kind, r in sorted(s.reminders.items()):
        table.add_row(f"{kind} reminders", f"{r['count']} ({r['snoozed']} snoozed, "
                      f"{r['dismissed']} dismissed)")
    return table


def _context_lines(context_s: dict[str, int]) -> list[tuple[str, str]]:
    """(kind, label) of the context lines to show: calls always, the others when any."""
    return [(kind, CONTEXT_LABELS[kind]) for kind in CONTEXT_KINDS
            if kind == "call" or context_s.get(kind, 0) > 0]


def _discomfort_table(s: HistorySummary) -> Table:
    table = Table(title="Discomfort you logged")
    for col in ("area", "latest", "mean", "entries"):
        table.add_column(col, justify="left" if col == "area" else "right")
    for area, d in s.discomfort.items():
        table.add_row(area.replace("_", " "), f"{d.latest}/10", f"{d.mean:.1f}", str(d.count))
    return table


def print_summary(summary: HistorySummary, console: Console) -> None:
    """Posture and discomfort side by side, then the main issue, the trend, care text."""
    if summary.stats.present_s == 0 and summary.stats.away_s == 0:
        console.print(f"No posture history for {summary.label}.")
    tables: list[Table] = [_posture_table(summary)]
    if summary.discomfort:
        tables.append(_discomfort_table(summary))
    grid = Table.grid(padding=(0, 2))
    for _ in tables:
        grid.add_column(vertical="top")
    grid.add_row(*tables)
    console.print(grid)
    issue = summary.dominant_issue
    if issue:
        console.print(f"[bold]Main issue:[/] {issue.label} (caution or poor for "
                      f"{format_duration(issue.seconds)}). {issue.suggestion}")
    if summary.setup_issue and summary.setup:
        console.print(f"[bold]Set-up:[/] {summary.setup_issue.label}, "
                      f"{held_text(summary.setup, format_duration)}. "
                      f"{summary.setup_issue.suggestion}")
    if summary.pacing_advice:
        console.print(f"[bold]Breaks:[/] {summary.breaks_taken} taken of {summary.breaks_due} "
                      f"due. {summary.pacing_advice}")
    t = summary.trend
    if t is None:
        console.print("Trend: nothing to compare with in the previous period.")
    else:
        desk = ("+" if t.present_s_delta >= 0 else "-") + format_duration(abs(t.present_s_delta))
        console.print(f"Trend vs the previous period: good {_arrow(t.good_pct_delta, True)} "
                      f"{t.good_pct_delta:+.1f} pts, poor {_arrow(t.poor_pct_delta, False)} "
                      f"{t.poor_pct_delta:+.1f} pts, time at the desk {desk}")
    if summary.care_text:
        console.print(f"[bold yellow]{summary.care_text}[/]")


# --- per day / per session ---------------------------------------------------------------


def _local_days(since: float, until: float) -> list[tuple[str, float, float]]:
    day = datetime.fromtimestamp(since).date()
    out = []
    while (lo := max(since, _midnight(day))) < until:
        hi = min(until, _midnight(day + timedelta(days=1)))
        out.append((day.isoformat(), lo, hi))
        day += timedelta(days=1)
    return out


def _row(key: dict[str, Any], samples: list[SampleRow], reminders: int, breaks: int,
         after_presence_s: float, context_s: dict[str, int]) -> dict[str, Any]:
    st = posture_stats(samples)
    return {**key, "time_at_desk_s": st.present_s, "good_pct": st.percent["good"],
            "caution_pct": st.percent["caution"], "poor_pct": st.percent["poor"],
            "episodes": st.episodes.count, "reminders": reminders, "breaks": breaks,
            "breaks_due": breaks_due(st.present_s, after_presence_s),
            "in_calls_s": context_s["call"],
            "locked_s": context_s["locked"] + context_s["asleep"], "context_s": context_s}


def _session_spans(store: Store, session_id: int, lo: float, hi: float) -> list[SpanRow]:
    return [sp for sp in store.spans(lo, hi) if sp.session_id == session_id]


def history_rows(store: Store, by: str, since: float, until: float | None = None,
                 after_presence_s: float = 3000.0) -> list[dict[str, Any]]:
    """One dict per local day (with any samples or context spans) or per session, oldest
    first. Time in context spans is cut to the day or the session: in_calls_s, locked_s
    (locked or asleep) and context_s (seconds per kind)."""
    until = time.time() if until is None else until
    if by == "day":
        rows = []
        for day, lo, hi in _local_days(since, until):
            samples = store.samples(lo, hi)
            context_s = context_seconds(store.spans(lo, hi), lo, hi)
            if samples or any(context_s.values()):
                rows.append(_row({"date": day}, samples, len(store.reminders(lo, hi)),
                                 len(store.breaks(lo, hi)), after_presence_s, context_s))
        return rows
    if by == "session":
        rows = []
        for s in store.sessions(since, until):
            lo, hi = max(since, s.started_at), min(until, math.ceil(s.end))
            samples = [r for r in store.samples(lo, hi) if r.session_id == s.id]
            reminders = [r for r in store.reminders(lo, hi) if r.session_id == s.id]
            breaks = [b for b in store.breaks(lo, hi) if b.session_id == s.id]
            key = {"session": s.id, "date": datetime.fromtimestamp(s.started_at).date()
                   .isoformat()}
            context_s = context_seconds(_session_spans(store, s.id, lo, hi), lo, hi)
            rows.append(_row(key, samples, len(reminders), len(breaks), after_presence_s,
                             context_s))
        return rows
    raise UserError(f"history by {by!r}: use 'day' or 'session'")


def print_history(rows: list[dict[str, Any]], console: Console) -> None:
    if not rows:
        console.print("No history in that period.")
        return
    table = Table(title="History")
    if "session" in rows[0]:
        table.add_column("session", justify="right")
    for col in ("date", "at desk", "in calls", "locked", "good", "caution", "poor",
                "episodes", "reminders", "breaks"):
        table.add_column(col, justify="left" if col == "date" else "right")
    for r in rows:
        cells = [str(r["session"])] if "session" in r else []
        cells += [r["date"], format_duration(r["time_at_desk_s"]),
                  format_duration(r["in_calls_s"]), format_duration(r["locked_s"]),
                  f"{r['good_pct']:.0f} %", f"{r['caution_pct']:.0f} %",
                  f"{r['poor_pct']:.0f} %", str(r["episodes"]), str(r["reminders"]),
                  f"{r['breaks']} / {r['breaks_due']}"]
        table.add_row(*cells)
    console.print(table)


# --- export and forget -------------------------------------------------------------------


def _sample_dict(row: SampleRow) -> dict[str, Any]:
    d = asdict(row)
    d["time"] = datetime.fromtimestamp(row.t).astimezone().isoformat()
    d["state"] = str(row.state)
    return {k: d[k] for k in _SAMPLE_FIELDS}


def export(store: Store, fmt: str, since: float, out: TextIO,
           until: float | None = None) -> int:
    """Write the history from `since`; returns the number of sample rows written.

    CSV is one table of per-second samples; JSON is one document with sessions, samples,
    reminders, breaks, context spans (those overlapping the range) and discomfort.
    """
    until = time.time() + 1 if until is None else until
    samples = [_sample_dict(r) for r in store.samples(since, until)]
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=_SAMPLE_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(samples)
    elif fmt == "json":
        doc = {
            "sessions": [asdict(s) for s in store.sessions(since, until)],
            "samples": samples,
            "reminders": [dict(asdict(r), kind=str(r.kind))
                          for r in store.reminders(since, until)],
            "breaks": [asdict(b) for b in store.breaks(since, until)],
            "context_spans": [asdict(sp) for sp in store.spans(since, until)],
            "discomfort": [asdict(d) for d in store.discomfort(since, until)],
        }
        json.dump(doc, out, indent=1)
        out.write("\n")
    else:
        raise UserError(f"export format {fmt!r}: use 'csv' or 'json'")
    return len(samples)


def forget(store: Store, before: float | None) -> dict[str, int]:
    """Delete history older than `before` (None: everything); returns counts per kind.

    The counts are taken just before deleting (samples counted in SQL, per day).
    """
    sessions = store.sessions(None, before)
    hi = before if before is not None else max((math.ceil(s.end) + 1 for s in sessions),
                                               default=0)
    lo = min((s.started_at for s in sessions), default=hi)
    counts = {
        "sessions": sum(1 for s in sessions if before is None or s.end < before),
        "samples": sum(sum(by_state.values())
                       for by_state in store.state_seconds_by_day(lo, hi).values()),
        "reminders": len(store.reminders(-math.inf, hi if before is not None else math.inf)),
        "breaks": len(store.breaks(-math.inf, hi if before is not None else math.inf)),
        "discomfort": len(store.discomfort(-math.inf,
                                           hi if before is not None else math.inf)),
        "spans": _spans_forgotten(store, before, {s.id for s in sessions
                                                  if before is None or s.end < before}),
    }
    removed = store.forget(before)
    counts["total"] = removed
    return counts


def _spans_forgotten(store: Store, before: float | None, sessions_gone: set[int]) -> int:
    """Context spans over by the cut or going with their session (one across the cut is
    only cut to it; see history.forgetting)."""
    spans = store.spans(-math.inf, math.inf)
    if before is None:
        return len(spans)
    return sum(1 for sp in spans if sp.end <= before or sp.session_id in sessions_gone)
