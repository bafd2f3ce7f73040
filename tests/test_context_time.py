"""Context spans: time the camera was not watching for a reason that is neither a break
nor the user being away (a call, the screen locked, asleep, outside working hours).

Recorded through the real SessionRecorder into a real Store in a temporary folder, read
back by the summary, the per-day history, export and forgetting, and through the CLI."""

from __future__ import annotations

import json
import math
import os
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from posture_watch.core import history_summary as hs
from posture_watch.core.settings import Config
from posture_watch.core.types import PostureState, Reminder, ReminderKind, State
from posture_watch.history import database, queries, schema
from posture_watch.history.recording import SessionRecorder
from posture_watch.history.rows import SpanRow
from posture_watch.history.store import Store
from tests.conftest import run_cli

DAY = date(2024, 6, 12)
MIDNIGHT = datetime.combine(DAY, datetime.min.time()).timestamp()
START = MIDNIGHT + 9 * 3600  # 09:00 local
NOW = MIDNIGHT + 18 * 3600
NATURAL_BREAK_S = Config().reminders.breaks.natural_break_s  # 300 s
CALL_S = 72 * 60  # "72 min" (core.messages.format_duration)
NO_CONTEXT = dict.fromkeys(hs.CONTEXT_KINDS, 0)


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def posture(t_s: float, kind: State) -> PostureState:
    score = None if kind is State.AWAY else 90
    return PostureState(t_s, kind, score, (), 0.9, {}, {"light": 0.9})


def feed(recorder: SessionRecorder, since_s: float, seconds: int, kind: State) -> float:
    """One sample a second for `seconds` from `since_s` (monitor time); returns the end."""
    for i in range(seconds):
        recorder.on_sample(posture(since_s + i, kind), [])
    return since_s + seconds


def recorder_for(store: Store, started_at: float = START) -> SessionRecorder:
    return SessionRecorder(store, Config(), started_at=started_at, source="camera:0",
                           kind="camera", profile=None)


def record_call_day(store: Store, started_at: float = START) -> SessionRecorder:
    """600 s good, 100 s away, a call of 1 h 12 min, 300 s good."""
    rec = recorder_for(store, started_at)
    t = feed(rec, 0, 600, State.GOOD)
    t = feed(rec, t, 100, State.AWAY)
    rec.on_span("call", t, t + CALL_S, "zoom (pid 123)")
    feed(rec, t + CALL_S, 300, State.GOOD)
    rec.close()
    return rec


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "data" / "history.sqlite3", now=Clock(NOW))
    yield s  # type: ignore[misc]
    s.close()


def day_summary(store: Store, day: date = DAY) -> hs.HistorySummary:
    since, until, label = queries.period("today", None, datetime.combine(day, datetime.min
                                                                         .time()))
    return queries.load_summary(store, since, until, label, 3000.0, now=NOW)


def rendered(summary: hs.HistorySummary) -> str:
    console = Console(record=True, width=200)
    queries.print_summary(summary, console)
    return console.export_text()


def raw_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --- the figures (pure) ------------------------------------------------------------------


def test_context_seconds_cut_to_the_period_and_overlaps_count_once() -> None:
    spans = [SpanRow(1, "call", 100.0, 400.0, None),
             SpanRow(1, "call", 300.0, 500.0, None),  # overlaps the first: 100-500 in all
             SpanRow(1, "call", 900.0, 1200.0, None),  # cut at the period's end
             SpanRow(1, "locked", 50.0, 150.5, None),  # cut at its start; overlaps a call
             SpanRow(1, "dnd", 0.0, 1000.0, None)]  # a kind this version does not know
    assert hs.context_seconds(spans, 100.0, 1000.0) == {
        "call": 400 + 100, "locked": 50, "asleep": 0, "off_hours": 0}
    assert hs.context_seconds([], 0.0, 10.0) == NO_CONTEXT


# --- recording ---------------------------------------------------------------------------


def test_a_call_is_stored_in_wall_time_with_its_detail(store: Store) -> None:
    rec = record_call_day(store)
    assert store.spans(START, START + 86400) == [
        SpanRow(rec.session_id, "call", START + 700, START + 700 + CALL_S, "zoom (pid 123)")]
    [session] = store.sessions()
    assert session.ended_at == START + 700 + CALL_S + 299  # the last sample


def test_a_call_is_its_own_time_in_the_summary_text_and_json(store: Store) -> None:
    record_call_day(store)
    s = day_summary(store)
    assert (s.stats.present_s, s.stats.away_s) == (900, 100)  # the call is neither
    assert s.context_s == {**NO_CONTEXT, "call": CALL_S}
    # 100 s away ran into the call: without the cut at the call's start it would be a
    # 4420 s natural break.
    assert s.breaks_taken == 0
    assert store.breaks(START, START + 86400) == []
    doc = json.loads(json.dumps(s.to_dict()))
    assert doc["context_s"] == {"call": CALL_S, "locked": 0, "asleep": 0, "off_hours": 0}
    text = rendered(s)
    assert "in calls" in text and "72 min" in text
    assert "screen locked" not in text  # only kinds with time besides calls


def test_a_day_without_calls_says_so(store: Store) -> None:
    rec = recorder_for(store)
    feed(rec, 0, 60, State.GOOD)
    rec.close()
    s = day_summary(store)
    assert s.context_s == NO_CONTEXT
    text = rendered(s)
    assert "in calls" in text and "0 s" in text


def test_away_before_a_call_is_a_break_only_up_to_the_call(store: Store) -> None:
    rec = recorder_for(store)
    t = feed(rec, 0, 60, State.GOOD)
    t = feed(rec, t, 400, State.AWAY)  # from 60 s to 460 s
    rec.on_span("call", t, t + 1000)
    feed(rec, t + 1000, 10, State.GOOD)
    rec.close()
    [pause] = store.breaks(START, START + 86400)
    assert (pause.start, pause.end, pause.kind) == (START + 60, START + 460, "natural")


def test_a_long_lock_is_also_a_break_and_shows_its_time(store: Store) -> None:
    rec = recorder_for(store)
    t = feed(rec, 0, 60, State.GOOD)
    rec.on_span("locked", t, t + 100)  # shorter than a natural break: no break
    t = feed(rec, t + 100, 60, State.GOOD)
    rec.on_span("locked", t, t + NATURAL_BREAK_S + 60)
    feed(rec, t + NATURAL_BREAK_S + 60, 10, State.GOOD)
    rec.close()
    [pause] = store.breaks(START, START + 86400)
    assert (pause.start - START, pause.end - START) == (220, 220 + NATURAL_BREAK_S + 60)
    s = day_summary(store)
    assert s.context_s == {**NO_CONTEXT, "locked": 100 + NATURAL_BREAK_S + 60}
    assert (s.stats.present_s, s.stats.away_s) == (130, 0)
    assert "screen locked" in rendered(s)


def test_a_lock_soon_after_a_break_reminder_is_a_reminded_break(store: Store) -> None:
    rec = recorder_for(store)
    rec.on_sample(posture(0, State.GOOD), [Reminder(0.0, ReminderKind.BREAK, "Break", "Move")])
    rec.on_span("locked", 30, 30 + NATURAL_BREAK_S)
    rec.close()
    assert [b.kind for b in store.breaks(START, START + 86400)] == ["reminded"]


def test_a_span_open_at_stop_ends_the_session_with_it(store: Store) -> None:
    rec = recorder_for(store)
    t = feed(rec, 0, 30, State.GOOD)
    rec.on_span("asleep", t, t + 50)  # the monitor stopped while asleep
    rec.close()
    [session] = store.sessions()
    assert session.ended_at == START + t + 50


@pytest.mark.parametrize("start_s,end_s", [(10.0, 10.0), (20.0, 5.0), (math.nan, 5.0),
                                           (0.0, math.inf)],
                         ids=["no length", "backwards", "nan", "endless"])
def test_a_span_without_length_is_ignored(store: Store, start_s: float, end_s: float) -> None:
    rec = recorder_for(store)
    feed(rec, 0, 30, State.AWAY)
    rec.on_span("call", start_s, end_s)
    rec.close()
    assert store.spans(-math.inf, math.inf) == []
    [session] = store.sessions()
    assert session.ended_at == START + 29


def test_an_unknown_kind_is_a_bug(store: Store) -> None:
    rec = recorder_for(store)
    with pytest.raises(ValueError, match="span kind"):
        rec.on_span("meeting", 0, 10)
    with pytest.raises(ValueError, match="span kind"):
        store.add_span(rec.session_id, "meeting", START, START + 10)
    with pytest.raises(ValueError, match="end after"):
        store.add_span(rec.session_id, "call", START + 10, START + 10)


# --- the write path ----------------------------------------------------------------------


def test_spans_wait_for_the_flush_like_breaks(tmp_path: Path) -> None:
    clock = Clock(START)
    db = tmp_path / "history.sqlite3"
    with Store(db, now=clock, flush_every_s=2.0) as s:
        sid = s.start_session(started_at=START, source="cam", kind="camera", profile=None,
                              config_fingerprint="fp")
        s.add_span(sid, "call", START, START + 60, "meet")
        assert raw_rows(db, "SELECT COUNT(*) FROM context_spans") == [(0,)]
        clock.t += 2.0
        s.add_span(sid, "off_hours", START + 60, START + 70)  # the interval is due
        assert raw_rows(db, "SELECT kind, detail FROM context_spans ORDER BY start") == [
            ("call", "meet"), ("off_hours", None)]


def test_spans_survive_a_locked_database(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 50)
    db = tmp_path / "history.sqlite3"
    with Store(db, now=Clock(START)) as s:
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        rec = recorder_for(s)  # a provisional session id
        assert rec.session_id < 0
        rec.on_span("call", 0, 60, "zoom (pid 7)")
        rec.close()  # fails quietly: locked
        other.execute("ROLLBACK")
        other.close()
        [session] = s.sessions()
        assert s.spans(START, START + 60) == [
            SpanRow(session.id, "call", START, START + 60, "zoom (pid 7)")]
        assert session.id > 0 and session.ended_at == START + 60


# --- per day, the rollup cache, export -----------------------------------------------------


def test_a_call_across_midnight_counts_on_both_days(store: Store) -> None:
    next_midnight = MIDNIGHT + 86400
    rec = recorder_for(store, next_midnight - 1000)
    feed(rec, 0, 100, State.GOOD)
    rec.on_span("call", 100, 1600)  # 900 s before midnight, 600 s after; then stopped
    rec.close()
    rows = queries.history_rows(store, "day", MIDNIGHT, next_midnight + 86400, 3000.0)
    # The second day has no samples, only the call: it still has its row.
    assert [(r["date"], r["in_calls_s"], r["time_at_desk_s"]) for r in rows] == [
        ("2024-06-12", 900, 100), ("2024-06-13", 600, 0)]
    console = Console(record=True, width=200)
    queries.print_history(rows, console)
    text = console.export_text()
    assert "in calls" in text and "15 min" in text and "10 min" in text


def test_history_by_session_counts_each_sessions_own_spans(store: Store) -> None:
    first = record_call_day(store)
    second = recorder_for(store, START + 4 * 3600)
    feed(second, 0, 10, State.GOOD)
    second.on_span("locked", 10, 130)
    second.on_span("asleep", 130, 190)
    second.close()
    rows = queries.history_rows(store, "session", MIDNIGHT, NOW, 3000.0)
    assert [(r["session"], r["in_calls_s"], r["locked_s"]) for r in rows] == [
        (first.session_id, CALL_S, 0), (second.session_id, 0, 180)]


def test_a_span_written_after_its_day_was_cached_still_counts(store: Store) -> None:
    yesterday = DAY - timedelta(days=1)
    rec = recorder_for(store, START - 86400)
    feed(rec, 0, 60, State.GOOD)
    rec.close()
    assert day_summary(store, yesterday).context_s == NO_CONTEXT
    assert store.cached_rollups(MIDNIGHT - 86400, MIDNIGHT)  # the day's rollup is stored
    store.add_span(rec.session_id, "call", START - 86400 + 60, START - 86400 + 660)
    assert day_summary(store, yesterday).context_s == {**NO_CONTEXT, "call": 600}


def test_export_json_includes_the_spans(store: Store) -> None:
    import io

    rec = record_call_day(store)
    out = io.StringIO()
    queries.export(store, "json", MIDNIGHT, out, until=NOW)
    assert json.loads(out.getvalue())["context_spans"] == [
        {"session_id": rec.session_id, "kind": "call", "start": START + 700,
         "end": START + 700 + CALL_S, "detail": "zoom (pid 123)"}]


# --- forgetting ----------------------------------------------------------------------------


def add_session(store: Store, start: float, end: float) -> int:
    sid = store.start_session(started_at=start, source="cam", kind="camera", profile=None,
                              config_fingerprint="fp")
    store.end_session(sid, end)
    return sid


def test_forgetting_removes_spans(store: Store) -> None:
    old = add_session(store, START, START + 100)
    store.add_span(old, "call", START + 10, START + 20)
    store.add_span(old, "off_hours", START + 90, START + 330)  # outlives its session
    new = add_session(store, START + 200, START + 1000)
    store.add_span(new, "locked", START + 250, START + 400)  # across the cut
    store.add_span(new, "call", START + 500, START + 600)
    counts = queries.forget(store, START + 300)
    assert counts["spans"] == 2 and counts["sessions"] == 1
    assert store.spans(-math.inf, math.inf) == [
        SpanRow(new, "locked", START + 300, START + 400, None),
        SpanRow(new, "call", START + 500, START + 600, None)]
    assert queries.forget(store, None)["spans"] == 2
    assert store.spans(-math.inf, math.inf) == []


def test_retention_removes_old_spans(tmp_path: Path) -> None:
    clock = Clock(START)
    with Store(tmp_path / "history.sqlite3", now=clock) as s:
        record_call_day(s)
        clock.t = START + 3 * 86400
        s.apply_retention(2)
        assert s.spans(-math.inf, math.inf) == [] and s.sessions() == []


# --- migration -----------------------------------------------------------------------------


def test_migration_from_v4_keeps_data_and_adds_the_span_table(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    schema.migrate(conn, target=4)
    conn.execute("INSERT INTO sessions VALUES (1, ?, ?, ?, 'cam', 'live', NULL, 'fp')",
                 (START, START + 2, START + 2))
    conn.execute("INSERT INTO samples VALUES (?, 1, 2, 2, 900, NULL, 600, 30, 0, 900, NULL)",
                 (int(START),))
    conn.execute("INSERT INTO breaks VALUES (1, 1, ?, ?, 'natural')", (START, START + 1))
    conn.execute("INSERT INTO day_rollups VALUES (1, 2, '{}')")
    assert "context_spans" not in {r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    with Store(db, now=Clock(NOW)) as s:
        assert raw_rows(db, "PRAGMA user_version") == [(5,)] and schema.SCHEMA_VERSION == 5
        columns = [(r[1], r[2], r[3]) for r in raw_rows(db, "PRAGMA table_info(context_spans)")]
        assert columns == [("id", "INTEGER", 0), ("session_id", "INTEGER", 1),
                           ("kind", "TEXT", 1), ("start", "REAL", 1), ("end", "REAL", 1),
                           ("detail", "TEXT", 0)]
        assert ("context_spans_end",) in raw_rows(
            db, "SELECT name FROM sqlite_master WHERE type = 'index'")
        assert [r.id for r in s.sessions()] == [1]
        assert [(r.state, r.distance_cm) for r in s.samples(START, START + 2)] == [
            (State.GOOD, 60.0)]
        assert [b.kind for b in s.breaks(START, START + 2)] == ["natural"]
        assert raw_rows(db, "SELECT lo, hi FROM day_rollups") == [(1, 2)]
        s.add_span(1, "call", START, START + 2, "jitsi (pid 9)")
        assert s.spans(START, START + 2) == [SpanRow(1, "call", START, START + 2,
                                                     "jitsi (pid 9)")]


# --- the commands --------------------------------------------------------------------------


def test_the_summary_and_history_commands_show_calls(tmp_path: Path) -> None:
    # Yesterday 09:00: a whole past day, whatever the time now.
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    start = datetime.combine(date.fromisoformat(yesterday), datetime.min.time()).timestamp() \
        + 9 * 3600
    data = tmp_path / "data"
    with Store(data / "history.sqlite3", now=Clock(start)) as s:
        record_call_day(s, start)
    env = {**os.environ, "POSTURE_WATCH_DATA_DIR": str(data), "COLUMNS": "200",
           "POSTURE_WATCH_CONFIG_DIR": str(tmp_path / "config")}
    result = run_cli("summary", "--since", yesterday, "--json", env=env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["context_s"]["call"] == CALL_S and doc["stats"]["present_s"] == 900
    result = run_cli("summary", "--since", yesterday, env=env)
    assert result.returncode == 0, result.stderr
    assert "in calls" in result.stdout and "72 min" in result.stdout
    result = run_cli("history", "--since", yesterday, env=env)
    assert result.returncode == 0, result.stderr
    assert "in calls" in result.stdout and "72 min" in result.stdout
