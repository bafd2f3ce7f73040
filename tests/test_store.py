"""The session history database: schema and migrations, the per-second fold, batching,
crash safety, concurrent readers, corruption, write faults, forgetting and profiles."""

from __future__ import annotations

import logging
import math
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from posture_watch.core.calibration import Baseline
from posture_watch.core.types import (
    Level,
    PostureState,
    Reminder,
    ReminderKind,
    RuleResult,
    State,
)
from posture_watch.errors import UserError
from posture_watch.history import database, schema
from posture_watch.history.rows import SampleRow
from posture_watch.history.store import Store

REPO = Path(__file__).resolve().parents[1]
T0 = 1_700_000_000.0  # a wall-clock origin on a whole second


class Clock:
    """An injected clock the test moves by hand."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def sample(state: State, score: int | None = None, rules: tuple[RuleResult, ...] = (),
           dist: float | None = None, pitch: float | None = None, q: float | None = None,
           note: str = "") -> PostureState:
    metrics = {k: v for k, v in (("distance_cm", dist), ("head_pitch_deg", pitch))
               if v is not None}
    detail = {"light": q} if q is not None else {}
    return PostureState(0.0, state, score, rules, q or 0.0, metrics, detail, note)


def rule(name: str, level: Level, value: float = 0.0) -> RuleResult:
    return RuleResult(name, level, value, "deg")


def good(score: int = 90) -> PostureState:
    return sample(State.GOOD, score, q=0.9)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def store(db: Path, clock: Clock) -> Iterator[Store]:
    s = Store(db, flush_every_s=2.0, now=clock)
    yield s
    s.close()


def new_session(s: Store, started_at: float = T0) -> int:
    return s.start_session(started_at=started_at, source="camera:0", kind="live",
                           profile=None, config_fingerprint="abc")


def raw_count(path: Path, table: str = "samples") -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


# --- schema and migrations ------------------------------------------------------------


def test_new_database_has_current_schema_in_wal_mode(store: Store, db: Path) -> None:
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION == 5
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    columns = [r[1] for r in conn.execute("PRAGMA table_info(reminders)")]
    assert "response" in columns
    conn.close()


def test_default_path_honours_data_dir_override(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTURE_WATCH_DATA_DIR", str(tmp_path / "d"))
    assert database.default_path() == tmp_path / "d" / "history.sqlite3"
    with Store() as s:
        assert s.path == tmp_path / "d" / "history.sqlite3"
    assert (tmp_path / "d" / "history.sqlite3").exists()


# The v1 schema exactly as it shipped; the fixture must never follow later changes.
V1_SCHEMA = """
CREATE TABLE sessions (id INTEGER PRIMARY KEY, started_at REAL NOT NULL, ended_at REAL,
    last_seen_at REAL, source TEXT NOT NULL, kind TEXT NOT NULL, profile TEXT,
    config_fingerprint TEXT NOT NULL);
CREATE TABLE strings (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE samples (t INTEGER NOT NULL, session_id INTEGER NOT NULL,
    state INTEGER NOT NULL, n INTEGER NOT NULL, score_x10 INTEGER, rule INTEGER,
    distance_mm INTEGER, head_pitch_ddeg INTEGER, neck_ddeg INTEGER, quality_pm INTEGER,
    note INTEGER, PRIMARY KEY (t, session_id)) WITHOUT ROWID;
CREATE TABLE reminders (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, t REAL NOT NULL,
    kind TEXT NOT NULL, title TEXT NOT NULL, message TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE breaks (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, start REAL NOT NULL,
    end REAL NOT NULL, kind TEXT NOT NULL);
CREATE TABLE profiles (name TEXT PRIMARY KEY, data TEXT NOT NULL, saved_at REAL NOT NULL);
PRAGMA user_version = 1;
"""


@pytest.fixture
def v1_db(db: Path) -> Path:
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.executescript(V1_SCHEMA)
    baseline = Baseline({"head_pitch_deg": 4.0}, samples=30, source="cam")
    conn.executescript(f"""
        INSERT INTO sessions VALUES (1, {T0}, {T0 + 60}, {T0 + 60}, 'cam', 'live', NULL, 'fp');
        INSERT INTO strings VALUES (1, 'slouch');
        INSERT INTO samples VALUES ({int(T0)}, 1, 4, 2, 350, 1, 550, 120, 80, 800, NULL);
        INSERT INTO samples VALUES ({int(T0) + 1}, 1, 2, 2, 900, NULL, 560, 30, 0, 900, NULL);
        INSERT INTO reminders VALUES (1, 1, {T0 + 30}, 'posture', 'Sit up', 'msg', 'slouch');
        INSERT INTO breaks VALUES (1, 1, {T0 + 40}, {T0 + 50}, 'natural');
    """)
    conn.execute("INSERT INTO profiles VALUES ('desk', ?, ?)",
                 (__import__("json").dumps(baseline.to_dict()), T0))
    conn.commit()
    conn.close()
    return db


def test_migrates_v1_database_keeping_its_data(v1_db: Path, clock: Clock) -> None:
    with Store(v1_db, now=clock) as s:
        conn = sqlite3.connect(v1_db)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                              "WHERE type = 'index'")}
        conn.close()
        assert {"reminders_t", "breaks_start", "sessions_started"} <= indexes
        assert [r.id for r in s.sessions()] == [1]
        rows = s.samples(T0, T0 + 10)
        assert [(r.state, r.score, r.rule) for r in rows] == [
            (State.POOR, 35.0, "slouch"), (State.GOOD, 90.0, None)]
        (old,) = s.reminders(T0, T0 + 60)
        assert (old.kind, old.title, old.response) == (ReminderKind.POSTURE, "Sit up", None)
        assert s.breaks(T0, T0 + 60)[0].kind == "natural"
        profile = s.load_profile("desk")
        assert profile is not None and profile.metrics == {"head_pitch_deg": 4.0}
        # the new column works
        s.add_reminder(1, Reminder(0.0, ReminderKind.BREAK, "Break", "Stand up"), T0 + 45,
                       response="snoozed")
        assert [r.response for r in s.reminders(T0, T0 + 60)] == [None, "snoozed"]


def test_migration_from_empty_database_file(db: Path, clock: Clock) -> None:
    db.parent.mkdir(parents=True)
    db.touch()  # an empty file is a valid, empty SQLite database at version 0
    with Store(db, now=clock) as s:
        sid = new_session(s)
        s.add_sample(sid, good(), T0)
        s.end_session(sid, T0 + 1)
        assert len(s.samples(T0, T0 + 1)) == 1


def test_failed_migration_rolls_back_to_the_old_version(
        v1_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE reminders ADD COLUMN response TEXT")
        raise RuntimeError("bug in migration")

    monkeypatch.setattr(schema, "MIGRATIONS", (schema.MIGRATIONS[0], broken))
    conn = sqlite3.connect(v1_db, isolation_level=None)
    with pytest.raises(RuntimeError):
        schema.migrate(conn, target=2)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "response" not in [r[1] for r in conn.execute("PRAGMA table_info(reminders)")]
    conn.close()


def test_database_from_a_newer_version_is_refused(db: Path) -> None:
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(UserError, match="newer"):
        Store(db)
    assert db.exists()


# --- the per-second fold ----------------------------------------------------------------

NECK_C = rule("neck_flexion", Level.CAUTION, 12.0)
CLOSE = rule("screen_too_close", Level.CAUTION, 40.0)


def ten_seconds() -> list[PostureState]:
    """20 samples at 2 Hz; each pair is one second with a purpose."""
    return [
        # 0: plain good
        sample(State.GOOD, 90, dist=60.0, pitch=5.0, q=0.8),
        sample(State.GOOD, 80, dist=62.0, pitch=7.0, q=1.0),
        # 1: caution wins, its rule is the main one
        sample(State.GOOD, 90, q=1.0),
        sample(State.CAUTION, 70, (NECK_C,), pitch=20.0, q=0.6),
        # 2: poor level beats caution; neck value averages over samples that have it
        sample(State.CAUTION, 70, (rule("neck_flexion", Level.CAUTION, 14.0),), q=0.5),
        sample(State.POOR, 40, (rule("neck_flexion", Level.CAUTION, 16.0),
                                rule("slouch", Level.POOR, 60.0)), q=0.7),
        # 3: poor beats unknown; the score is the mean of scored samples only
        sample(State.POOR, 40, (rule("slouch", Level.POOR, 55.0),), q=0.9),
        sample(State.UNKNOWN, note="too dark", q=0.2),
        # 4: unknown keeps its reason
        sample(State.UNKNOWN, note="too dark", q=0.2),
        sample(State.UNKNOWN, note="too dark", q=0.4),
        # 5: away: nothing measured, no quality
        sample(State.AWAY),
        sample(State.AWAY),
        # 6: unknown beats away
        sample(State.AWAY),
        sample(State.UNKNOWN, note="not seen for a moment"),
        # 7: a posture rule is the main rule even when a set-up finding is more frequent
        sample(State.CAUTION, 75, (CLOSE, NECK_C), dist=40.0, q=1.0),
        sample(State.GOOD, 95, (CLOSE,), dist=42.0, q=1.0),
        # 8: a set-up finding alone is the main rule of a good second
        sample(State.GOOD, 95, (CLOSE,), dist=41.0, q=1.0),
        sample(State.GOOD, 93, (CLOSE,), dist=41.0, q=1.0),
        # 9: equal level and count: the first seen wins
        sample(State.CAUTION, 70, (rule("head_roll", Level.CAUTION, 9.0),), q=1.0),
        sample(State.CAUTION, 60, (rule("head_yaw", Level.CAUTION, 30.0),), q=1.0),
    ]


def test_ten_seconds_at_2hz_give_the_hand_computed_rows(store: Store) -> None:
    sid = new_session(store)
    for i, state in enumerate(ten_seconds()):
        store.add_sample(sid, state, T0 + 0.5 * i)
    store.end_session(sid, T0 + 10)
    t = int(T0)
    expected = [
        SampleRow(t, sid, State.GOOD, 2, 85.0, None, 61.0, 6.0, None, 0.9, None),
        SampleRow(t + 1, sid, State.CAUTION, 2, 80.0, "neck_flexion", None, 20.0, 12.0, 0.8,
                  None),
        SampleRow(t + 2, sid, State.POOR, 2, 55.0, "slouch", None, None, 15.0, 0.6, None),
        SampleRow(t + 3, sid, State.POOR, 2, 40.0, "slouch", None, None, None, 0.55, None),
        SampleRow(t + 4, sid, State.UNKNOWN, 2, None, None, None, None, None, 0.3, "too dark"),
        SampleRow(t + 5, sid, State.AWAY, 2, None, None, None, None, None, None, None),
        SampleRow(t + 6, sid, State.UNKNOWN, 2, None, None, None, None, None, None,
                  "not seen for a moment"),
        SampleRow(t + 7, sid, State.CAUTION, 2, 85.0, "neck_flexion", 41.0, None, 12.0, 1.0,
                  None),
        SampleRow(t + 8, sid, State.GOOD, 2, 94.0, "screen_too_close", 41.0, None, None, 1.0,
                  None),
        SampleRow(t + 9, sid, State.CAUTION, 2, 65.0, "head_roll", None, None, None, 1.0,
                  None),
    ]
    assert store.samples(T0, T0 + 10) == expected
    assert store.samples(T0 + 3, T0 + 5) == expected[3:5]
    by_day = store.state_seconds_by_day(T0, T0 + 10)
    assert list(by_day.values()) == [{State.GOOD: 2, State.CAUTION: 3, State.POOR: 2,
                                      State.UNKNOWN: 2, State.AWAY: 1}]


def test_a_late_sample_merges_into_its_stored_second(store: Store) -> None:
    sid = new_session(store)
    store.add_sample(sid, sample(State.GOOD, 90, dist=60.0, q=1.0), T0)
    store.add_sample(sid, sample(State.GOOD, 90, dist=60.0, q=1.0), T0 + 0.5)
    store.add_sample(sid, good(), T0 + 1)  # completes second 0
    store.flush()
    store.add_sample(sid, sample(State.POOR, 30, (rule("slouch", Level.POOR, 50.0),),
                                 dist=66.0, q=1.0), T0 + 0.7)  # clock stepped back
    store.end_session(sid, T0 + 2)
    first = store.samples(T0, T0 + 1)[0]
    assert (first.state, first.samples, first.rule) == (State.POOR, 3, "slouch")
    assert first.score == pytest.approx(70.0) and first.distance_cm == pytest.approx(62.0)


# --- batching ----------------------------------------------------------------------------


def test_writes_wait_for_the_flush_interval_and_hold_back_the_open_second(
        store: Store, db: Path, clock: Clock) -> None:
    sid = new_session(store)
    for i in range(4):  # seconds 0 and 1, within the 2 s interval: nothing written yet
        clock.t = T0 + 0.5 * i
        store.add_sample(sid, good(), clock.t)
    assert raw_count(db) == 0
    clock.t = T0 + 2.0
    store.add_sample(sid, good(), clock.t)  # interval due: seconds 0-1 go, 2 is still open
    assert raw_count(db) == 2 and store.rows_written == 2
    assert store.buffered_seconds == 1
    for t in (2.5, 3.0):
        clock.t = T0 + t
        store.add_sample(sid, good(), clock.t)
    assert raw_count(db) == 2
    store.end_session(sid, T0 + 3.5)
    assert raw_count(db) == 4
    (session,) = store.sessions()
    assert (session.ended_at, session.last_seen_at, session.end) == (T0 + 3.5, T0 + 4, T0 + 3.5)


def test_close_writes_everything_and_is_idempotent(db: Path, clock: Clock) -> None:
    s = Store(db, now=clock)
    sid = new_session(s)
    s.add_sample(sid, good(), T0)
    s.add_reminder(sid, Reminder(0.0, ReminderKind.EYES, "Eyes", "Look away"), T0 + 0.2)
    s.add_break(sid, T0 + 0.1, T0 + 0.3, "reminded")
    s.close()
    s.close()
    assert (raw_count(db), raw_count(db, "reminders"), raw_count(db, "breaks")) == (1, 1, 1)
    with pytest.raises(ValueError):
        s.samples(T0, T0 + 1)


def test_bad_reminder_response_or_break_kind_is_a_bug(store: Store) -> None:
    sid = new_session(store)
    with pytest.raises(ValueError):
        store.add_reminder(sid, Reminder(0.0, ReminderKind.EYES, "a", "b"), T0, "ignored")
    with pytest.raises(ValueError):
        store.add_break(sid, T0, T0 + 1, "lunch")


def test_sessions_filter_by_overlap(store: Store) -> None:
    ids = []
    for k in range(3):
        sid = new_session(store, T0 + 100 * k)
        store.end_session(sid, T0 + 100 * k + 50)
        ids.append(sid)
    assert [s.id for s in store.sessions()] == ids
    assert [s.id for s in store.sessions(since=T0 + 40, until=T0 + 120)] == ids[:2]
    assert [s.id for s in store.sessions(since=T0 + 160)] == ids[2:]
    assert [s.id for s in store.sessions(until=T0 + 100)] == ids[:1]


# --- crash safety and concurrent readers ---------------------------------------------------

# Sample i is at T0 + i / hz of sample time, and the store's flush clock is that same sample
# time: which seconds exist and when they are flushed depends on the sample index only. How
# fast the machine runs changes where a kill lands or how often a reader looks, never what
# the verdicts below compare.
WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from posture_watch.core.types import PostureState, State
    from posture_watch.history.store import Store

    path, hz, pace_s, flush_s, t0 = Path(sys.argv[1]), float(sys.argv[2]), \\
        float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
    sample_time = [t0]
    store = Store(path, flush_every_s=flush_s, now=lambda: sample_time[0])
    sid = store.start_session(started_at=t0, source="test", kind="live", profile=None,
                              config_fingerprint="x")
    states = [State.GOOD, State.CAUTION, State.POOR]
    i = 0
    while True:
        t = sample_time[0] = t0 + i / hz
        store.add_sample(sid, PostureState(0.0, states[i % 3], 50), t)
        print(f"{i} {t:.3f} {store.rows_written}", flush=True)  # after any commit it made
        i += 1
        if pace_s:
            time.sleep(pace_s)
""")
HANG_GUARD_S = 60.0  # only against a hung writer or reader: no verdict depends on it


class Progress(NamedTuple):
    """One line of the writer's output: sample index, sample time, rows committed so far."""

    index: int
    t: float
    committed: int


class Writer:
    """A Store writing in another process. A thread collects its progress lines, so the
    test waits on what the writer reports (with a hang guard), not on the clock."""

    def __init__(self, tmp_path: Path, db: Path, *, hz: float, pace_s: float,
                 flush_s: float) -> None:
        script = tmp_path / "writer.py"
        script.write_text(WRITER)
        self._stderr = tmp_path / "writer.stderr"
        env = dict(os.environ, PYTHONPATH=str(REPO))
        with self._stderr.open("w") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, str(script), str(db), str(hz), str(pace_s), str(flush_s),
                 str(T0)], stdout=subprocess.PIPE, stderr=stderr, text=True, env=env, cwd=REPO)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._pump = threading.Thread(target=self._read_lines, daemon=True)
        self._pump.start()

    def _read_lines(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.endswith("\n"):  # a line cut short by the kill is not a report
                self._lines.put(line)
        self._lines.put(None)

    def next_progress(self, deadline: float) -> Progress:
        """The writer's next report; fails the test if it exits or stalls until deadline."""
        try:
            line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            pytest.fail(f"the writer reported no progress for {HANG_GUARD_S} s (hung?)")
        if line is None:
            self.proc.wait(timeout=HANG_GUARD_S)
            pytest.fail(f"the writer exited with {self.proc.returncode}:\n"
                        f"{self._stderr.read_text()}")
        index, t, committed = line.split()
        return Progress(int(index), float(t), int(committed))

    def committed_more_than(self, rows: int, deadline: float) -> Progress:
        """Wait until the writer reports having committed more than `rows` rows."""
        while (progress := self.next_progress(deadline)).committed <= rows:
            pass
        return progress

    def kill(self) -> list[Progress]:
        """SIGKILL it; returns every report it printed that was not read yet."""
        self._stop()
        rest = []
        while (line := self._lines.get_nowait()) is not None:
            index, t, committed = line.split()
            rest.append(Progress(int(index), float(t), int(committed)))
        return rest

    def _stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=HANG_GUARD_S)
        self._pump.join(timeout=HANG_GUARD_S)

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()  # never leave a writer running, whatever failed


def test_kill_9_loses_at_most_the_last_seconds_and_never_corrupts(
        tmp_path: Path, db: Path) -> None:
    flush_s = 1.0
    # Flat out (no pacing), so the kill lands anywhere in the writer's work: folding a
    # sample, inside a commit, or printing.
    with Writer(tmp_path, db, hz=2.0, pace_s=0.0, flush_s=flush_s) as writer:
        deadline = time.monotonic() + HANG_GUARD_S
        reported = [writer.next_progress(deadline) for _ in range(8)]  # 4 s of 2 Hz samples
        reported += writer.kill()
    assert writer.proc.returncode == -signal.SIGKILL  # killed while writing, not crashed
    assert len(reported) >= 8
    last = reported[-1]

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = [r[0] for r in conn.execute("SELECT t FROM samples ORDER BY t")]
    conn.close()
    first = int(reported[0].t)
    assert len(stored) >= last.committed  # what it said was committed survived
    assert stored == list(range(first, first + len(stored)))  # no holes
    # All but at most the last ~2 s of sample time: a flush ran within the last flush_s of
    # samples and wrote every second before the one then open. (With flush_s = 1 this is
    # stored[-1] >= int(last.t) - 2.)
    assert stored[-1] >= math.floor(last.t - flush_s) - 1
    with Store(db) as s:  # and the next run opens it normally
        assert len(s.samples(first, last.t + 1)) == len(stored)


def test_a_reader_sees_growing_counts_while_a_writer_writes(tmp_path: Path, db: Path) -> None:
    db.parent.mkdir(parents=True)
    Store(db).close()  # created up front so the reader can open it at once
    with Writer(tmp_path, db, hz=5.0, pace_s=0.005, flush_s=0.5) as writer:
        reader = Store(db)
        # Waiting for a lock is not what this test measures (a WAL reader never has to:
        # test_a_reader_never_waits_for_an_open_write checks that without timing).
        raw = sqlite3.connect(db, timeout=HANG_GUARD_S)
        counts: list[int] = []
        raw_counts: list[int] = []
        committed_before: list[int] = []  # what the writer had reported before each read
        committed = 0
        deadline = time.monotonic() + HANG_GUARD_S
        while len(set(counts)) < 4 or counts[-1] <= 20:
            if time.monotonic() > deadline:
                pytest.fail(f"after {HANG_GUARD_S} s the reader saw only the counts {counts}")
            committed_before.append(committed)
            counts.append(len(reader.samples(0, 2e10)))
            raw_counts.append(raw.execute("SELECT COUNT(*) FROM samples").fetchone()[0])
            # the writer keeps writing; look again once it has committed beyond both reads
            seen = max(counts[-1], raw_counts[-1])
            committed = writer.committed_more_than(seen, deadline).committed
        reader.close()
        raw.close()
    assert counts == sorted(counts) and raw_counts == sorted(raw_counts)
    # each read saw every row the writer had reported committed before it
    assert all(c >= before for c, before in zip(counts, committed_before, strict=True))
    assert all(c >= before for c, before in zip(raw_counts, committed_before, strict=True))
    assert len(set(counts)) >= 4 and counts[-1] > 20


def test_a_reader_never_waits_for_an_open_write(store: Store, db: Path) -> None:
    sid = new_session(store)
    store.add_sample(sid, good(), T0)
    store.end_session(sid, T0 + 1)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock, with a write not yet committed
    other.execute("INSERT INTO samples (t, session_id, state, n) VALUES (?, ?, 2, 1)",
                   (int(T0) + 1, sid))
    try:
        raw = sqlite3.connect(db, timeout=0)  # no busy wait at all: any lock wait fails
        assert raw.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == 1
        raw.close()
        assert len(store.samples(T0, T0 + 10)) == 1  # nothing buffered: no write attempted
    finally:
        other.execute("ROLLBACK")
        other.close()


# --- corruption -------------------------------------------------------------------------


def asides(db: Path) -> list[Path]:
    return sorted(db.parent.glob(db.name + ".corrupt-*"))


def test_garbage_file_is_moved_aside(db: Path, clock: Clock,
                                     caplog: pytest.LogCaptureFixture) -> None:
    db.parent.mkdir(parents=True)
    garbage = os.urandom(8192)
    db.write_bytes(garbage)
    with caplog.at_level(logging.WARNING, logger="posture_watch.history.database"), \
            Store(db, now=clock) as s:
        sid = new_session(s)
        s.add_sample(sid, good(), T0)
        s.end_session(sid, T0 + 1)
        assert len(s.samples(T0, T0 + 1)) == 1
    (aside,) = asides(db)
    assert aside.name == "history.sqlite3.corrupt-" + time.strftime(
        "%Y%m%d-%H%M%S", time.localtime(T0))
    assert aside.read_bytes() == garbage
    assert "corrupt" in caplog.text and aside.name in caplog.text
    assert len(caplog.records) == 1


def test_truncated_database_is_moved_aside(db: Path, clock: Clock) -> None:
    with Store(db, now=clock) as s:
        sid = new_session(s)
        for i in range(4000):
            s.add_sample(sid, good(), T0 + i)
        s.end_session(sid, T0 + 4000)
    size = db.stat().st_size
    assert size > 40_000
    with db.open("r+b") as f:
        f.truncate(size // 2)
    with Store(db, now=clock) as s:
        assert s.samples(T0, T0 + 4000) == []
        new_session(s)
    (aside,) = asides(db)
    assert aside.stat().st_size == size // 2
    assert raw_count(db, "sessions") == 1


def test_two_corruptions_in_one_second_keep_both_files(db: Path, clock: Clock) -> None:
    db.parent.mkdir(parents=True)
    for _ in range(2):
        db.write_bytes(b"x" * 4096)
        Store(db, now=clock).close()
    assert len(asides(db)) == 2


# --- write faults ---------------------------------------------------------------------------


class FaultyConnection:
    """Wraps a connection; while `error` is set, every statement fails with it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.error: str | None = None

    def _check(self) -> None:
        if self.error:
            raise sqlite3.OperationalError(self.error)

    def execute(self, *args: Any) -> sqlite3.Cursor:
        self._check()
        return self.conn.execute(*args)

    def executemany(self, *args: Any) -> sqlite3.Cursor:
        self._check()
        return self.conn.executemany(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


@pytest.mark.parametrize("error", ["disk I/O error", "database is locked"])
def test_injected_write_errors_keep_the_batch_until_they_clear(
        store: Store, db: Path, clock: Clock, error: str,
        caplog: pytest.LogCaptureFixture) -> None:
    faulty = FaultyConnection(store._db.conn)  # type: ignore[arg-type]
    store._db.conn = faulty  # type: ignore[assignment]
    faulty.error = error
    with caplog.at_level(logging.WARNING, logger="posture_watch.history.write_buffer"):
        sid = new_session(store)  # provisional id, inserted later
        for i in range(20):
            clock.t = T0 + 0.5 * i
            store.add_sample(sid, good(), clock.t)
        store.add_reminder(sid, Reminder(0.0, ReminderKind.POSTURE, "a", "b"), T0 + 3)
        store.end_session(sid, T0 + 10)
        store.flush()
    assert sid < 0
    assert raw_count(db) == 0 and raw_count(db, "sessions") == 0
    assert sum(error in r.message for r in caplog.records) == 1  # logged once, not per try
    faulty.error = None
    store.flush()
    (session,) = store.sessions()
    assert session.ended_at == T0 + 10
    rows = store.samples(T0, T0 + 10)
    assert [r.t for r in rows] == list(range(int(T0), int(T0) + 10))
    assert {r.session_id for r in rows} == {session.id}
    assert [r.session_id for r in store.reminders(T0, T0 + 10)] == [session.id]
    # the provisional id keeps working for the rest of the session
    store.add_break(sid, T0 + 11, T0 + 12, "natural")
    store.flush()
    assert store.breaks(T0, T0 + 20)[0].session_id == session.id


def test_real_disk_full_then_recovery(store: Store, db: Path, clock: Clock) -> None:
    sid = new_session(store)
    conn = store._db.conn
    assert conn is not None
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite now reports SQLITE_FULL
    for i in range(1000):  # enough rows to need new pages
        clock.t = T0 + 0.5 * i
        store.add_sample(sid, sample(State.GOOD, 90, dist=55.5, pitch=3.3, q=0.9), clock.t)
    assert store.rows_written < 200 and store.buffered_seconds > 300  # the last page filled up
    conn.execute("PRAGMA max_page_count = 1073741823")
    store.end_session(sid, clock.t + 1)
    assert len(store.samples(T0, T0 + 3000)) == 500


def test_real_lock_by_another_writer_then_recovery(
        db: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 50)
    with Store(db, now=clock) as s:
        sid = new_session(s)
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # holds the write lock
        for i in range(10):
            clock.t = T0 + 0.5 * i
            s.add_sample(sid, good(), clock.t)
        s.end_session(sid, T0 + 5)  # fails quietly: locked
        assert s.rows_written == 0
        other.execute("ROLLBACK")
        other.close()
        s.flush()
        assert s.rows_written == 5


def test_buffer_is_capped_dropping_the_oldest(
        db: Path, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    with Store(db, now=clock, max_buffered_s=10) as s:
        faulty = FaultyConnection(s._db.conn)  # type: ignore[arg-type]
        s._db.conn = faulty  # type: ignore[assignment]
        sid = new_session(s)
        faulty.error = "database or disk is full"
        with caplog.at_level(logging.WARNING, logger="posture_watch.history.write_buffer"):
            for i in range(60):  # 30 s at 2 Hz
                clock.t = T0 + 0.5 * i
                s.add_sample(sid, good(), clock.t)
            assert s.buffered_seconds == 10
            faulty.error = None
            s.end_session(sid, T0 + 30)
        assert [r.t for r in s.samples(T0, T0 + 30)] == list(range(int(T0) + 20,
                                                                   int(T0) + 30))
    assert "dropped" in caplog.text and "40 samples" in caplog.text


# --- forgetting and profiles ----------------------------------------------------------------


def fill_days(s: Store, days: int) -> list[int]:
    """A 60-second session with a reminder and a break at the start of each day."""
    ids = []
    for d in range(days):
        start = T0 + d * 86400
        sid = new_session(s, start)
        for i in range(60):
            s.add_sample(sid, good(), start + i)
        s.add_reminder(sid, Reminder(0.0, ReminderKind.BREAK, "a", "b"), start + 10)
        s.add_break(sid, start + 20, start + 30, "natural")
        s.end_session(sid, start + 60)
        ids.append(sid)
    return ids


def test_forget_before_a_time(store: Store) -> None:
    ids = fill_days(store, 3)
    removed = store.forget(T0 + 86400 + 30)  # day 0 entirely, half of day 1's samples
    assert removed == (60 + 1 + 1 + 1) + 30 + 1 + 1
    assert [s.id for s in store.sessions()] == ids[1:]
    assert len(store.samples(0, 2e10)) == 30 + 60
    assert len(store.reminders(0, 2e10)) == 1 and len(store.breaks(0, 2e10)) == 1


def test_forget_everything_keeps_profiles(store: Store, db: Path) -> None:
    fill_days(store, 2)
    store.save_profile("desk", Baseline({"head_pitch_deg": 1.0}))
    assert store.forget(None) == 2 * (60 + 1 + 1 + 1)
    assert store.sessions() == [] and store.samples(0, 2e10) == []
    assert store.load_profile("desk") is not None
    assert raw_count(db) == 0


def test_retention_by_days(store: Store, clock: Clock) -> None:
    ids = fill_days(store, 5)
    clock.t = T0 + 5 * 86400  # now: the start of day 5
    assert store.apply_retention(3) == 2 * 63
    assert [s.id for s in store.sessions()] == ids[2:]
    assert store.apply_retention(3) == 0
    with pytest.raises(UserError):
        store.apply_retention(0)


def test_profile_round_trip(store: Store) -> None:
    baseline = Baseline({"head_pitch_deg": 4.5, "slouch_ratio": 0.61},
                        {"head_pitch_deg": 0.8}, (0.5, 0.4), 42, "camera:0", False)
    assert store.load_profile("desk") is None
    store.save_profile("desk", baseline)
    assert store.load_profile("desk") == baseline
    store.save_profile("desk", Baseline({"head_pitch_deg": 9.0}))
    loaded = store.load_profile("desk")
    assert loaded is not None and loaded.metrics == {"head_pitch_deg": 9.0}
    with pytest.raises(UserError):
        store.save_profile("", baseline)


def test_damaged_profile_is_a_user_error(store: Store) -> None:
    store.save_profile("desk", Baseline({"head_pitch_deg": 4.5}))
    assert store._db.conn is not None
    store._db.conn.execute("UPDATE profiles SET data = '{\"version\": 7}'")
    with pytest.raises(UserError, match="profile 'desk'"):
        store.load_profile("desk")


def test_seconds_per_local_day_across_a_dst_change(store: Store,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        sid = new_session(store)
        midnight = time.mktime((2023, 11, 5, 0, 0, 0, 0, 0, -1))  # a 25-hour day
        for offset, state in ((-1, State.AWAY), (0, State.GOOD), (25 * 3600 - 1, State.POOR),
                              (25 * 3600, State.CAUTION)):
            store.add_sample(sid, sample(state), midnight + offset)
        store.end_session(sid, midnight + 25 * 3600 + 1)
        by_day = store.state_seconds_by_day(midnight - 10, midnight + 26 * 3600)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert by_day == {"2023-11-04": {State.AWAY: 1},
                      "2023-11-05": {State.GOOD: 1, State.POOR: 1},
                      "2023-11-06": {State.CAUTION: 1}}


def test_a_failed_read_is_a_user_error(store: Store) -> None:
    faulty = FaultyConnection(store._db.conn)  # type: ignore[arg-type]
    store._db.conn = faulty  # type: ignore[assignment]
    faulty.error = "disk I/O error"
    with pytest.raises(UserError, match=r"cannot read the history database .*: disk I/O error"):
        store.samples(T0, T0 + 1)
    faulty.error = None


def test_a_response_marks_only_the_reminders_in_its_window(tmp_path: Path,
                                                          clock: Clock) -> None:
    from posture_watch.core.types import Reminder, ReminderKind

    path = tmp_path / "h.sqlite3"
    with Store(path, flush_every_s=3600, now=clock) as store:  # the clock stands still
        sid = store.start_session(started_at=1000.0, source="t", kind="camera", profile=None,
                                  config_fingerprint="x")
        for t in (1010.0, 1500.0, 1590.0):
            store.add_reminder(sid, Reminder(t - 1000.0, ReminderKind.POSTURE, "p", "m"), t)
        # They are all still in the write buffer: they must be answered all the same.
        assert raw_count(path, "reminders") == 0
        assert store.respond_to_reminders(sid, 1400.0, 1600.0, "snoozed") == 2
        assert store.respond_to_reminders(sid, 1400.0, 1600.0, "dismissed") == 0  # answered
        responses = [r.response for r in store.reminders(0.0, 2000.0)]
    assert responses == [None, "snoozed", "snoozed"]
