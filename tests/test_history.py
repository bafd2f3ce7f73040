"""History: the pure summary of stored rows, periods, per-day/per-session tables, export,
forgetting, discomfort with the care text, and the v2 -> v3 migration."""

from __future__ import annotations

import csv
import io
import json
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from posture_watch.core import history_summary as hs
from posture_watch.core.messages import PACING_ADVICE, suggestion_for_rule
from posture_watch.core.types import (
    Level,
    PostureState,
    Reminder,
    ReminderKind,
    RuleResult,
    State,
)
from posture_watch.errors import UserError
from posture_watch.history import queries, schema
from posture_watch.history.rows import DiscomfortRow
from posture_watch.history.store import Store

DAY = date(2024, 6, 12)  # a local day away from DST changes
MIDNIGHT = datetime.combine(DAY, datetime.min.time()).timestamp()
START = MIDNIGHT + 9 * 3600  # the main session: 09:00 local
PREV_START = START - 86400  # the day before, same time
NOW = MIDNIGHT + 15.5 * 3600  # 15:30 local on DAY
AFTER_PRESENCE_S = 300.0


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def state(kind: State, rule: str | None = None, level: Level = Level.CAUTION,
          dist: float | None = None) -> PostureState:
    rules = (RuleResult(rule, level, 1.0, "deg"),) if rule else ()
    metrics = {"distance_cm": dist} if dist is not None else {}
    score = None if kind is State.AWAY else 80
    return PostureState(0.0, kind, score, rules, 0.9, metrics, {"light": 0.9})


def write_seconds(s: Store, sid: int, start: float,
                  pattern: list[tuple[int, PostureState]]) -> float:
    """Two samples a second (at .0 and .5) for each (seconds, state) block; returns the end."""
    t = start
    for seconds, st in pattern:
        for _ in range(seconds):
            s.add_sample(sid, st, t)
            s.add_sample(sid, st, t + 0.5)
            t += 1
    return t


def new_session(s: Store, started_at: float) -> int:
    return s.start_session(started_at=started_at, source="test", kind="live", profile=None,
                           config_fingerprint="fp")


# The main session, 20 minutes at 2 Hz:
#   100 s good, with the screen too close (a set-up finding; distance 60 cm)
#   500 s good (60 cm)
#   120 s poor, slouch (60 cm)
#   180 s away (no distance) -> one natural break
#   300 s caution, forward_head (50 cm)
MAIN = [
    (100, state(State.GOOD, "screen_too_close", dist=60.0)),
    (500, state(State.GOOD, dist=60.0)),
    (120, state(State.POOR, "slouch", Level.POOR, dist=60.0)),
    (180, state(State.AWAY)),
    (300, state(State.CAUTION, "forward_head", dist=50.0)),
]
# The day before: 100 s good, 100 s poor slouch.
PREVIOUS = [(100, state(State.GOOD)), (100, state(State.POOR, "slouch", Level.POOR))]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "history.sqlite3", now=Clock(NOW))
    prev = new_session(s, PREV_START)
    s.end_session(prev, write_seconds(s, prev, PREV_START, PREVIOUS))
    sid = new_session(s, START)
    end = write_seconds(s, sid, START, MAIN)
    s.add_reminder(sid, Reminder(0.0, ReminderKind.POSTURE, "Posture", "Sit back"),
                   START + 700, response="snoozed")
    s.add_reminder(sid, Reminder(0.0, ReminderKind.BREAK, "Break", "Move"), START + 710)
    s.add_break(sid, START + 720, START + 900, "natural")
    s.end_session(sid, end)
    yield s
    s.close()


def today_summary(s: Store) -> hs.HistorySummary:
    since, until, label = queries.period("today", None, datetime.fromtimestamp(NOW))
    return queries.load_summary(s, since, until, label, AFTER_PRESENCE_S, now=NOW)


# --- the summary against hand-computed figures -------------------------------------------


def test_summary_matches_hand_computed_figures(store: Store) -> None:
    s = today_summary(store)
    st = s.stats
    assert st.present_s == 1020  # 100 + 500 + 120 + 300 (one row per second)
    assert st.away_s == 180
    assert st.judged_s == 1020
    # 600 / 1020 = 58.82 %, 300 / 1020 = 29.41 %, 120 / 1020 = 11.76 %
    assert st.percent == {"good": 58.8, "caution": 29.4, "poor": 11.8}
    # two runs: 120 s poor (ended by away) and 300 s caution (ended by the session's end)
    assert st.episodes == hs.Episodes(count=2, longest_s=300, total_s=420)
    assert s.reminders == {"posture": {"count": 1, "snoozed": 1, "dismissed": 0},
                           "break": {"count": 1, "snoozed": 0, "dismissed": 0}}
    assert (s.breaks_natural, s.breaks_reminded, s.breaks_taken) == (1, 0, 1)
    assert s.breaks_due == 3  # floor(1020 / 300)
    # 1 break taken of 3 due: sitting too long without a break is called out.
    assert s.pacing_advice == PACING_ADVICE and s.to_dict()["pacing_advice"] == PACING_ADVICE
    # (720 s * 60 cm + 300 s * 50 cm) / 1020 s = 58200 / 1020 = 57.06
    assert s.mean_distance_cm == 57.1
    # forward_head 300 s beats slouch 120 s
    assert s.dominant_issue is not None
    assert (s.dominant_issue.rule, s.dominant_issue.seconds) == ("forward_head", 300)
    assert s.dominant_issue.suggestion == suggestion_for_rule("forward_head")
    # The 100 s flagged screen_too_close were at 60 cm, like most of the day: the median
    # distance (60 cm) is inside the band, so there is no set-up advice to contradict it.
    assert s.distance is not None
    assert (s.distance.median_cm, s.distance.measured_s, s.distance.too_close_s) \
        == (60.0, 1020.0, 0.0)
    assert s.setup_issue is None and s.setup is None
    # yesterday: 200 s present, 50 % good, 50 % poor
    # good 58.8 - 50 = +8.8, poor 11.8 - 50 = -38.2, desk 1020 - 200 = +820 s
    assert s.trend == hs.Trend(good_pct_delta=8.8, poor_pct_delta=-38.2, present_s_delta=820)
    assert (s.discomfort, s.seek_help, s.care_text) == ({}, False, None)


def test_summary_to_dict_is_json_ready(store: Store) -> None:
    d = today_summary(store).to_dict()
    assert d["period"]["label"] == "today (2024-06-12)"
    assert d["breaks"] == {"natural": 1, "reminded": 0, "taken": 1, "due": 3}
    assert d["stats"]["episodes"]["count"] == 2
    assert json.loads(json.dumps(d))["trend"]["present_s_delta"] == 820


def test_no_trend_when_the_previous_period_is_empty(store: Store) -> None:
    since, until, label = queries.period("today", None,
                                         datetime.fromtimestamp(NOW - 86400))
    s = queries.load_summary(store, since, until, label, AFTER_PRESENCE_S, now=NOW)
    assert s.stats.present_s == 200
    assert s.trend is None


def test_print_summary_shows_issue_trend_and_care(store: Store) -> None:
    store.add_discomfort(START, "neck", 8, "stiff")
    console = Console(record=True, width=200)
    queries.print_summary(today_summary(store), console)
    text = console.export_text()
    assert "58.8 %" in text and "head pushed forward" in text
    assert "+8.8 pts" in text and "↑" in text
    assert "neck" in text and "8/10" in text
    assert "no medical advice" in text


@dataclass
class Row:
    t: int
    state: State
    session_id: int = 1
    rule: str | None = None
    distance_cm: float | None = None


def test_episodes_need_five_seconds_and_end_at_long_gaps() -> None:
    c, g = State.CAUTION, State.GOOD
    assert hs.episodes([Row(t, c) for t in range(4)]).count == 0  # 4 s: a blip
    assert hs.episodes([Row(t, c) for t in range(5)]) == hs.Episodes(1, 5, 5)
    # a 6 s gap (t 2 -> 8) ends the run: 3 s + 3 s, no episode
    assert hs.episodes([Row(t, c) for t in (0, 1, 2, 8, 9, 10)]).count == 0
    # a 5 s gap does not: one run from 0 to 7 inclusive
    assert hs.episodes([Row(t, c) for t in (0, 1, 2, 7)]) == hs.Episodes(1, 8, 8)
    # a good second ends it
    rows = [Row(t, c) for t in range(3)] + [Row(3, g)] + [Row(t, c) for t in range(4, 7)]
    assert hs.episodes(rows).count == 0
    # two sessions do not join: 3 s in one, then 3 s in the other
    rows = [Row(t, c, session_id=0 if t < 3 else 1) for t in range(6)]
    assert hs.episodes(rows).count == 0


# --- periods -----------------------------------------------------------------------------


def midnight(d: date) -> float:
    return datetime.combine(d, datetime.min.time()).timestamp()


def test_periods_today_week_since() -> None:
    now = datetime.fromtimestamp(NOW)
    nxt = midnight(DAY + timedelta(days=1))
    assert queries.period("today", None, now)[:2] == (MIDNIGHT, nxt)
    assert queries.period("week", None, now)[:2] == (midnight(DAY - timedelta(days=6)), nxt)
    since, until, label = queries.period("since", "2024-06-01", now)
    assert (since, until, label) == (midnight(date(2024, 6, 1)), nxt, "since 2024-06-01")


@pytest.mark.parametrize("kind,value", [("since", "2024-13-01"), ("since", "yesterday"),
                                        ("since", None), ("since", "2024-06-13"),
                                        ("session", "x"), ("session", "99"), ("month", None)])
def test_bad_periods_are_user_errors(store: Store, kind: str, value: str | None) -> None:
    with pytest.raises(UserError):
        queries.period(kind, value, datetime.fromtimestamp(NOW), store)


def test_session_period_and_summary(store: Store) -> None:
    since, until, label = queries.period("session", "2", datetime.fromtimestamp(NOW), store)
    assert (since, until, label) == (START, START + 1200, "session 2")
    s = queries.load_summary(store, since, until, label, AFTER_PRESENCE_S, now=NOW)
    assert s.stats.present_s == 1020
    assert s.trend is None  # the 20 minutes before the session hold nothing


# --- per day / per session ---------------------------------------------------------------


def test_history_by_day_and_by_session(store: Store) -> None:
    rows = queries.history_rows(store, "day", MIDNIGHT - 86400, NOW, AFTER_PRESENCE_S)
    assert [(r["date"], r["time_at_desk_s"], r["good_pct"], r["poor_pct"], r["episodes"],
             r["reminders"], r["breaks"], r["breaks_due"]) for r in rows] == [
        ("2024-06-11", 200, 50.0, 50.0, 1, 0, 0, 0),  # 100 s poor is one episode
        ("2024-06-12", 1020, 58.8, 11.8, 2, 2, 1, 3)]
    rows = queries.history_rows(store, "session", MIDNIGHT - 86400, NOW, AFTER_PRESENCE_S)
    assert [(r["session"], r["date"], r["time_at_desk_s"], r["caution_pct"])
            for r in rows] == [(1, "2024-06-11", 200, 0.0), (2, "2024-06-12", 1020, 29.4)]
    console = Console(record=True, width=200)
    queries.print_history(rows, console)
    assert "2024-06-12" in console.export_text()
    with pytest.raises(UserError):
        queries.history_rows(store, "month", MIDNIGHT, NOW)


# --- export and forget -------------------------------------------------------------------


def test_export_csv_and_json_parse_back(store: Store) -> None:
    store.add_discomfort(START, "lower_back", 3)
    out = io.StringIO()
    assert queries.export(store, "csv", MIDNIGHT - 86400, out, until=NOW) == 1400
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 1400  # 200 + 1200 seconds
    assert sum(r["state"] == "away" for r in rows) == 180
    assert {r["rule"] for r in rows if r["state"] == "poor"} == {"slouch"}

    out = io.StringIO()
    queries.export(store, "json", MIDNIGHT - 86400, out, until=NOW)
    doc = json.loads(out.getvalue())
    assert {k: len(v) for k, v in doc.items()} == {
        "sessions": 2, "samples": 1400, "reminders": 2, "breaks": 1, "context_spans": 0,
        "discomfort": 1}
    assert doc["reminders"][0]["response"] == "snoozed"
    # only today
    out = io.StringIO()
    assert queries.export(store, "json", MIDNIGHT, out, until=NOW) == 1200
    with pytest.raises(UserError):
        queries.export(store, "xml", MIDNIGHT, io.StringIO())


def test_forget_before_a_time_and_everything(store: Store) -> None:
    store.add_discomfort(PREV_START, "neck", 2)
    store.add_discomfort(START, "neck", 3)
    counts = queries.forget(store, MIDNIGHT)
    assert counts == {"sessions": 1, "samples": 200, "reminders": 0, "breaks": 0,
                      "discomfort": 1, "spans": 0, "total": 202}
    assert len(store.samples(0, NOW)) == 1200
    assert [d.level for d in store.discomfort(0, NOW)] == [3]
    counts = queries.forget(store, None)
    assert counts == {"sessions": 1, "samples": 1200, "reminders": 2, "breaks": 1,
                      "discomfort": 1, "spans": 0, "total": 1205}
    assert store.samples(0, NOW) == [] and store.sessions() == []


# --- discomfort and the care text --------------------------------------------------------


def test_discomfort_by_area_in_the_summary(store: Store) -> None:
    store.add_discomfort(START + 10, "neck", 2)
    store.add_discomfort(START + 20, "neck", 5, "after the call")
    store.add_discomfort(START + 30, "shoulders", 1)
    store.add_discomfort(START - 86400, "neck", 6)  # yesterday: not in today's figures
    s = today_summary(store)
    assert s.discomfort == {"neck": hs.AreaDiscomfort(latest=5, mean=3.5, count=2),
                            "shoulders": hs.AreaDiscomfort(latest=1, mean=1.0, count=1)}
    assert not s.seek_help and s.care_text is None  # all below 7, over one day


def test_care_text_for_a_severe_level(store: Store) -> None:
    store.add_discomfort(START, "upper_back", 7)
    s = today_summary(store)
    assert s.seek_help and s.care_text is not None
    for words in ("7/10", "doctor or physiotherapist", "two weeks", "numbness or tingling",
                  "weakness", "fever", "no medical advice"):
        assert words in s.care_text


def test_care_text_after_more_than_two_weeks_of_entries(store: Store) -> None:
    store.add_discomfort(START - 14 * 86400, "neck", 3)  # exactly 14 days: not yet
    store.add_discomfort(START, "neck", 3)
    assert not today_summary(store).seek_help
    store.add_discomfort(START - 15 * 86400, "neck", 2)  # 15 days apart
    s = today_summary(store)
    assert s.seek_help and s.care_text is not None
    assert "over 15 days" in s.care_text and "no medical advice" in s.care_text


def test_level_zero_and_future_entries_do_not_trigger_care() -> None:
    @dataclass
    class Entry:
        t: float
        area: str
        level: int

    entries = [Entry(0.0, "neck", 0), Entry(20 * 86400.0, "neck", 2),
               Entry(40 * 86400.0, "neck", 9)]
    assert hs.care_reasons(entries, now=30 * 86400.0) == []


@pytest.mark.parametrize("area,level", [("knee", 3), ("neck", 11), ("neck", -1),
                                        ("neck", 2.5), ("neck", True)])
def test_bad_discomfort_is_a_user_error(store: Store, area: str, level: int) -> None:
    with pytest.raises(UserError):
        store.add_discomfort(START, area, level)


# --- migration ---------------------------------------------------------------------------


def test_migration_v2_to_v3_keeps_data(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    schema.migrate(conn, target=2)
    conn.execute("INSERT INTO sessions VALUES (1, ?, ?, ?, 'cam', 'live', NULL, 'fp')",
                 (START, START + 2, START + 2))
    conn.execute("INSERT INTO samples VALUES (?, 1, 2, 2, 900, NULL, 600, 30, 0, 900, NULL)",
                 (int(START),))
    conn.execute("INSERT INTO reminders VALUES (1, 1, ?, 'posture', 'T', 'M', 'R', 'dismissed')",
                 (START + 1,))
    conn.close()
    with Store(db, now=Clock(NOW)) as s:
        check = sqlite3.connect(db)
        assert check.execute("PRAGMA user_version").fetchone()[0] == 5 == schema.SCHEMA_VERSION
        check.close()
        assert [r.id for r in s.sessions()] == [1]
        assert [(r.state, r.distance_cm) for r in s.samples(START, START + 2)] == [
            (State.GOOD, 60.0)]
        assert [r.response for r in s.reminders(START, START + 2)] == ["dismissed"]
        s.add_discomfort(START + 5, "shoulders", 4, "desk move")
        assert s.discomfort(START, START + 10) == [
            DiscomfortRow(START + 5, "shoulders", 4, "desk move")]


def history_of(rows: list[Row]) -> hs.HistorySummary:
    return hs.summarize_history(since=0, until=10_000, label="x", samples=rows, reminders=[],
                                breaks=[], after_presence_s=300, now=10_000)


def test_dominant_issue_counts_only_non_good_seconds() -> None:
    # 6 s slouch while judged good (smoothing lag) must not beat 5 s of caution head_roll
    rows = [Row(t, State.GOOD, rule="slouch") for t in range(6)]
    rows += [Row(t, State.CAUTION, rule="head_roll") for t in range(6, 11)]
    s = history_of(rows)
    assert s.dominant_issue is not None and s.dominant_issue.rule == "head_roll"
    assert s.setup_issue is None


def test_no_main_issue_without_a_posture_episode() -> None:
    # Four 4 s blips of caution: 16 s in all, but never held for an episode (5 s).
    rows = [Row(t, State.CAUTION if t % 10 < 4 else State.GOOD,
                rule="head_roll" if t % 10 < 4 else None) for t in range(40)]
    s = history_of(rows)
    assert s.stats.episodes.count == 0
    assert s.dominant_issue is None


def distance_rows(*runs: tuple[int, float | None]) -> list[Row]:
    """One good row a second per (seconds, distance) run; None: away."""
    rows, t = [], 0
    for seconds, cm in runs:
        rows += [Row(t + i, State.GOOD if cm is not None else State.AWAY, distance_cm=cm)
                 for i in range(seconds)]
        t += seconds
    return rows


def test_set_up_issue_from_the_distances_that_held() -> None:
    # 200 s at 45 cm, 100 s at 60 cm, 50 s away: the median is 45 cm.
    s = history_of(distance_rows((200, 45.0), (100, 60.0), (50, None)))
    assert s.distance is not None and s.distance.median_cm == 45.0
    assert s.setup_issue is not None
    assert (s.setup_issue.rule, s.setup_issue.seconds) == ("screen_too_close", 200)
    assert s.setup_issue.suggestion == suggestion_for_rule("screen_too_close")
    assert s.setup is not None and (s.setup.held_s, s.setup.of_s) == (200.0, 300.0)
    console = Console(record=True, width=200)
    queries.print_summary(s, console)
    text = console.export_text()
    assert "screen distance (median)" in text and "45 cm" in text
    assert "average" not in text
    assert "Set-up: too close to the screen, closer than 50 cm for 3 min of 5 min." in text


@pytest.mark.parametrize("runs", [
    ((3, 45.0), (297, 60.0)),  # three seconds under the band
    ((140, 45.0), (160, 60.0)),  # held, but for less than half the time: typically 60 cm
    ((4, 30.0),),  # all of it, but 4 s is shorter than a posture episode
], ids=["three seconds", "less than half", "too short"])
def test_no_set_up_issue_from_a_few_seconds(runs: tuple[tuple[int, float], ...]) -> None:
    s = history_of(distance_rows(*runs))
    assert s.setup_issue is None and s.setup is None
    console = Console(record=True, width=200)
    queries.print_summary(s, console)
    assert "Set-up" not in console.export_text()


# --- per-day rollups ---------------------------------------------------------------------


def random_blocks(rng: random.Random, n: int) -> list[tuple[int, PostureState | None]]:
    """Blocks of 1-12 s of random states; None is a gap (no samples) of that length."""
    kinds = [(State.GOOD, None), (State.GOOD, "screen_too_close"),
             (State.CAUTION, "forward_head"), (State.POOR, "slouch"),
             (State.CAUTION, "screen_too_close"), (State.AWAY, None), (State.UNKNOWN, None)]
    blocks: list[tuple[int, PostureState | None]] = []
    for _ in range(n):
        if rng.random() < 0.1:
            blocks.append((rng.randint(1, 9), None))
            continue
        kind, rule = rng.choice(kinds)
        dist = None if kind is State.AWAY else rng.choice((48.3, 55.5, 60.1, 71.7))
        level = Level.POOR if kind is State.POOR else Level.CAUTION
        blocks.append((rng.randint(1, 12), state(kind, rule, level, dist)))
    return blocks


def write_blocks(s: Store, sid: int, start: float,
                 blocks: list[tuple[int, PostureState | None]]) -> float:
    t = start
    for seconds, st in blocks:
        t = t + seconds if st is None else write_seconds(s, sid, t, [(seconds, st)])
    return t


def rows_summary(s: Store, since: float, until: float) -> hs.HistorySummary:
    """The row-by-row path: what load_summary gave before rollups."""
    length = until - since
    return hs.summarize_history(
        since=since, until=until, label="x", samples=s.samples(since, until),
        reminders=s.reminders(since, until), breaks=s.breaks(since, until),
        after_presence_s=AFTER_PRESENCE_S, previous_samples=s.samples(since - length, since),
        discomfort=s.discomfort(min(since, until - queries.CARE_WINDOW_DAYS * 86400.0), until),
        now=NOW)


def cached_days(db: Path) -> set[tuple[int, int]]:
    conn = sqlite3.connect(db)
    try:
        return {(lo, hi) for lo, hi in conn.execute("SELECT lo, hi FROM day_rollups")}
    finally:
        conn.close()


def test_rollups_give_the_row_by_row_summary(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    rng = random.Random(3)
    s = Store(db, now=Clock(NOW))
    for back in range(9, -1, -1):  # ten days, today included, two sessions a day
        day_start = midnight(DAY - timedelta(days=back))
        for hour in (10, 14):
            sid = new_session(s, day_start + hour * 3600)
            s.end_session(sid, write_blocks(s, sid, day_start + hour * 3600,
                                            random_blocks(rng, 60)))
    # a session across midnight: one poor run of 30 s before and 20 s after it
    two_days_ago = midnight(DAY - timedelta(days=2))
    sid = new_session(s, two_days_ago - 100)
    end = write_blocks(s, sid, two_days_ago - 100, [
        (70, state(State.GOOD, dist=60.1)), (30, state(State.POOR, "slouch", Level.POOR)),
        (20, state(State.POOR, "slouch", Level.POOR)), (5, state(State.GOOD))])
    s.end_session(sid, end)
    assert [len(r) for r in queries._local_days(two_days_ago - 30, two_days_ago + 20)] == [3, 3]
    across = hs.summarize_history(since=two_days_ago - 30, until=two_days_ago + 20, label="x",
                                  samples=s.samples(two_days_ago - 30, two_days_ago + 20),
                                  reminders=[], breaks=[], after_presence_s=300, now=NOW)
    assert across.stats.episodes == hs.Episodes(1, 50, 50)

    since, until = midnight(DAY - timedelta(days=4)), midnight(DAY + timedelta(days=1))
    expected = rows_summary(s, since, until).to_dict()
    assert expected["stats"]["episodes"]["count"] > 10 and expected["trend"] is not None
    first = queries.load_summary(s, since, until, "x", AFTER_PRESENCE_S, now=NOW)
    assert first.to_dict() == expected
    # the nine completed days of both periods are cached; today is not
    days = {(int(midnight(DAY - timedelta(days=b))), int(midnight(DAY - timedelta(days=b - 1))))
            for b in range(1, 10)}
    assert cached_days(db) == days
    assert queries.load_summary(s, since, until, "x", AFTER_PRESENCE_S, now=NOW).to_dict() \
        == expected
    # a session in a cached day's afternoon, written later: that day's rollup is dropped
    sid = new_session(s, two_days_ago + 20 * 3600)
    s.end_session(sid, write_seconds(s, sid, two_days_ago + 20 * 3600,
                                     [(30, state(State.POOR, "slouch", Level.POOR))]))
    assert cached_days(db) == days - {(int(two_days_ago), int(two_days_ago + 86400))}
    expected = rows_summary(s, since, until).to_dict()
    assert queries.load_summary(s, since, until, "x", AFTER_PRESENCE_S, now=NOW).to_dict() \
        == expected
    assert cached_days(db) == days
    # a period not starting at midnight (partial first day) gives the same as well
    assert queries.load_summary(s, since + 3600.5, until, "x", AFTER_PRESENCE_S,
                                now=NOW).to_dict() == {
        **rows_summary(s, since + 3600.5, until).to_dict(), "period": {
            "since": since + 3600.5, "until": until, "label": "x"}}
    # forgetting drops the rollups of the days it cuts into
    s.forget(two_days_ago + 3600)
    assert cached_days(db) == {d for d in days if d[0] >= two_days_ago + 3600}
    s.forget(None)
    assert cached_days(db) == set()
    s.close()


def test_a_stale_rollup_format_is_computed_again(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    with Store(db, now=Clock(NOW)) as s:
        sid = new_session(s, PREV_START)
        s.end_session(sid, write_seconds(s, sid, PREV_START, PREVIOUS))
        since, until = midnight(DAY - timedelta(days=1)), midnight(DAY)
        expected = rows_summary(s, since, until).to_dict()
        conn = sqlite3.connect(db)
        conn.execute("INSERT INTO day_rollups VALUES (?, ?, '{\"format\": [0]}')",
                     (int(since), int(until)))
        conn.commit()
        conn.close()
        assert queries.load_summary(s, since, until, "x", AFTER_PRESENCE_S,
                                    now=NOW).to_dict() == expected
        assert s.cached_rollups(since, until)[(int(since), int(until))]["format"] \
            == hs.ROLLUP_FORMAT


def test_no_pacing_advice_when_the_breaks_were_taken() -> None:
    summary = hs.HistorySummary(
        since=0.0, until=3600.0, label="t",
        stats=hs.PostureStats(present_s=3600, away_s=0, judged_s=3600,
                              percent={"good": 100.0, "caution": 0.0, "poor": 0.0},
                              episodes=hs.Episodes(count=0, longest_s=0, total_s=0)),
        reminders={}, breaks_natural=1, breaks_reminded=0, breaks_due=1,
        mean_distance_cm=None, dominant_issue=None, setup_issue=None, trend=None)
    assert summary.pacing_advice is None
