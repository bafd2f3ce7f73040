"""The local session history: an SQLite database of sessions, per-second posture, reminders
and breaks (the standard library's sqlite3, no ORM).

Why it looks the way it does:
- Samples are folded into one row per session-second (worst state, mean score, main rule,
  a few metrics) in a WITHOUT ROWID table keyed by (second, session): an 8-hour day at
  2 Hz stays around a megabyte or two and time-range reads are one index walk. No images.
- Writes are buffered and committed in one transaction every `flush_every_s` (WAL,
  synchronous=NORMAL), so a kill -9 loses at most the last couple of seconds and never
  leaves a broken file. The second still being filled is held back until it is complete.
- A write that fails (disk full, I/O error, locked) is logged and retried at the next
  flush; the buffer is capped so memory stays bounded. Monitoring never stops for it.
- A corrupt file is moved aside (never deleted) and a new database is started.
- The schema is versioned with PRAGMA user_version and an ordered list of migrations run
  in one transaction.
- Summaries over months read per-day rollups (one small JSON row per completed local day)
  instead of millions of rows. A flush deletes the rollups of the days it writes into and
  forget those of the days it cuts into, so a rollup always matches its day's rows; one is
  stored only if no other write landed since its rows were read.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posture_watch.core.calibration import Baseline
from posture_watch.core.rules import POSTURE_RULES
from posture_watch.core.types import Level, PostureState, Reminder, ReminderKind, State
from posture_watch.errors import UserError
from posture_watch.paths import data_dir

log = logging.getLogger(__name__)

DB_NAME = "history.sqlite3"
BUSY_TIMEOUT_MS = 2000  # how long a write waits for another writer before it counts as failed
MAX_BUFFERED_SECONDS = 3600  # per-second rows kept in memory while the database is unwritable
_DROP_LOG_EVERY_S = 60.0  # how often a long outage repeats its dropped-samples count
_MAX_PENDING_EVENTS = 1000  # reminders / breaks kept in memory while unwritable
_CORRUPT_ERRORS = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})
_REMINDER_RESPONSES = (None, "snoozed", "dismissed")
_BREAK_KINDS = ("natural", "reminded")
DISCOMFORT_AREAS = ("neck", "shoulders", "upper_back", "lower_back")

# Integer codes stored for states; a higher code wins when a second holds several states:
# a judged posture beats "cannot judge", which beats "away", and poor beats everything.
_STATE_CODE = {State.AWAY: 0, State.UNKNOWN: 1, State.GOOD: 2, State.CAUTION: 3, State.POOR: 4}
_CODE_STATE = {code: state for state, code in _STATE_CODE.items()}
_LEVEL_RANK = {Level.GOOD: 0, Level.CAUTION: 1, Level.POOR: 2}


def default_path() -> Path:
    return data_dir() / DB_NAME


# --- schema and migrations -------------------------------------------------------------


def _v1_create(conn: sqlite3.Connection) -> None:
    """The first schema (kept exactly as shipped: later versions migrate from it).

    Statement by statement: executescript() would commit the migration transaction.
    """
    for statement in _V1_TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)


_V1_TABLES = """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            started_at REAL NOT NULL,
            ended_at REAL,
            last_seen_at REAL,
            source TEXT NOT NULL,
            kind TEXT NOT NULL,
            profile TEXT,
            config_fingerprint TEXT NOT NULL
        );
        CREATE TABLE strings (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE TABLE samples (
            t INTEGER NOT NULL,
            session_id INTEGER NOT NULL,
            state INTEGER NOT NULL,
            n INTEGER NOT NULL,
            score_x10 INTEGER,
            rule INTEGER,
            distance_mm INTEGER,
            head_pitch_ddeg INTEGER,
            neck_ddeg INTEGER,
            quality_pm INTEGER,
            note INTEGER,
            PRIMARY KEY (t, session_id)
        ) WITHOUT ROWID;
        CREATE TABLE reminders (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL,
            t REAL NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            message TEXT NOT NULL,
            reason TEXT NOT NULL
        );
        CREATE TABLE breaks (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL,
            start REAL NOT NULL,
            end REAL NOT NULL,
            kind TEXT NOT NULL
        );
        CREATE TABLE profiles (
            name TEXT PRIMARY KEY,
            data TEXT NOT NULL,
            saved_at REAL NOT NULL
        );
"""


def _v2_reminder_response(conn: sqlite3.Connection) -> None:
    """v2: how the user answered a reminder, and time indexes for the range readers."""
    conn.execute("ALTER TABLE reminders ADD COLUMN response TEXT")
    conn.execute("CREATE INDEX reminders_t ON reminders (t)")
    conn.execute("CREATE INDEX breaks_start ON breaks (start)")
    conn.execute("CREATE INDEX sessions_started ON sessions (started_at)")


def _v3_discomfort(conn: sqlite3.Connection) -> None:
    """v3: discomfort the user logs by hand (area, 0-10 level), shown beside posture.

    The allowed areas are spelled out here, not taken from DISCOMFORT_AREAS, so that a
    later change to the constant cannot change what this migration did.
    """
    conn.execute("""
        CREATE TABLE discomfort (
            id INTEGER PRIMARY KEY,
            t REAL NOT NULL,
            area TEXT NOT NULL
                CHECK (area IN ('neck', 'shoulders', 'upper_back', 'lower_back')),
            level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 10),
            note TEXT NOT NULL DEFAULT ''
        )""")
    conn.execute("CREATE INDEX discomfort_t ON discomfort (t)")


def _v4_day_rollups(conn: sqlite3.Connection) -> None:
    """v4: a cache of per-local-day summary figures, keyed by the day's [lo, hi) seconds.

    Derived data only (rebuilt from samples when missing), so dropping rows is always safe.
    """
    conn.execute("""
        CREATE TABLE day_rollups (
            lo INTEGER NOT NULL,
            hi INTEGER NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (lo, hi)
        ) WITHOUT ROWID""")


# MIGRATIONS[i] takes the schema from version i to i + 1. Append only; never edit one.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _v1_create,
    _v2_reminder_response,
    _v3_discomfort,
    _v4_day_rollups,
)
SCHEMA_VERSION = len(MIGRATIONS)


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to `target` in one transaction; returns the version found.

    The version is read again under the write lock, so two processes opening an old file
    at once migrate it only once.
    """
    found = _user_version(conn)
    if found > SCHEMA_VERSION:
        raise UserError(f"history database has schema version {found}, newer than this "
                        f"posture-watch understands ({SCHEMA_VERSION}); upgrade posture-watch")
    if found >= target:
        return found
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = _user_version(conn)
        for version in range(found, target):
            MIGRATIONS[version](conn)
        conn.execute(f"PRAGMA user_version = {max(found, target):d}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found


# --- plain rows out ----------------------------------------------------------------------


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
class DiscomfortRow:
    """One self-reported discomfort entry."""

    t: float  # wall time of the entry
    area: str  # one of DISCOMFORT_AREAS
    level: int  # 0 (none) to 10 (worst)
    note: str


# --- the per-second fold -----------------------------------------------------------------


@dataclass(slots=True)
class _Second:
    """Running aggregate of the samples of one session-second."""

    state: int = -1
    n: int = 0
    rules: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # rank, count, order
    sums: dict[str, list[float]] = field(default_factory=dict)  # column -> [sum, count]
    note: str | None = None

    def add(self, state: PostureState) -> None:
        code = _STATE_CODE[state.state]
        if code > self.state:
            self.state, self.note = code, None
        if code == self.state and self.note is None and state.note:
            self.note = state.note
        self.n += 1
        self._add("score", state.score)
        for r in state.rules:
            if r.level is not Level.GOOD:
                rank = _LEVEL_RANK[r.level] + (10 if _is_posture_rule(r.rule) else 0)
                old = self.rules.get(r.rule, (rank, 0, len(self.rules)))
                self.rules[r.rule] = (max(old[0], rank), old[1] + 1, old[2])
        if state.quality_detail:
            self._add("quality", state.quality)
        self._add("distance_cm", state.metrics.get("distance_cm"))
        self._add("head_pitch_deg", state.metrics.get("head_pitch_deg"))
        neck = next((r.value for r in state.rules if r.rule == "neck_flexion"), None)
        self._add("neck_deg", neck)

    def _add(self, column: str, value: float | None) -> None:
        if value is None or not math.isfinite(value):
            return
        acc = self.sums.setdefault(column, [0.0, 0])
        acc[0] += value
        acc[1] += 1

    def scaled_mean(self, column: str, scale: int) -> int | None:
        acc = self.sums.get(column)
        return round(acc[0] / acc[1] * scale) if acc else None

    def main_rule(self) -> str | None:
        """Worst level first (posture before set-up), then the most frequent, then first."""
        if not self.rules:
            return None
        return max(self.rules.items(), key=lambda kv: (kv[1][0], kv[1][1], -kv[1][2]))[0]


def _is_posture_rule(name: str) -> bool:
    return name in POSTURE_RULES


# Means are stored as scaled integers (1-2 bytes each instead of an 8-byte REAL): this
# halves the file and speeds up scans. Stored column -> (SampleRow field, scale).
_SCALED = {"score_x10": ("score", 10), "distance_mm": ("distance_cm", 10),
           "head_pitch_ddeg": ("head_pitch_deg", 10), "neck_ddeg": ("neck_deg", 10),
           "quality_pm": ("quality", 1000)}
_SAMPLE_COLUMNS = ("t", "session_id", "state", "n", "score_x10", "rule", "distance_mm",
                   "head_pitch_ddeg", "neck_ddeg", "quality_pm", "note")
# Unscaled in SQL (NULL stays NULL): cheaper than doing it per value in Python.
_SELECT_SAMPLES = (
    "SELECT " + ", ".join(f"{c} / {_SCALED[c][1]}.0" if c in _SCALED else c
                          for c in _SAMPLE_COLUMNS)
    + " FROM samples WHERE t >= ? AND t < ? ORDER BY t, session_id"
)


def _weighted(column: str) -> str:
    return (f"{column} = CASE WHEN {column} IS NULL THEN excluded.{column} "
            f"WHEN excluded.{column} IS NULL THEN {column} "
            f"ELSE CAST(ROUND(({column} * n + excluded.{column} * excluded.n) * 1.0 "
            f"/ (n + excluded.n)) AS INTEGER) END")


def _worst_wins(column: str) -> str:
    return (f"{column} = CASE WHEN excluded.state > state THEN excluded.{column} "
            f"ELSE COALESCE({column}, excluded.{column}) END")


# A second that is already stored (a late sample, the wall clock stepping back) is merged:
# the worst state wins, counts add up and means are weighted by sample count.
_INSERT_SAMPLE = (
    f"INSERT INTO samples ({', '.join(_SAMPLE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_SAMPLE_COLUMNS))}) "
    "ON CONFLICT (t, session_id) DO UPDATE SET "
    + ", ".join([
        "state = MAX(state, excluded.state)", "n = n + excluded.n",
        *(_weighted(c) for c in _SCALED),
        _worst_wins("rule"), _worst_wins("note"),
    ])
)


# --- opening, with corruption handling --------------------------------------------------


class _CorruptError(sqlite3.DatabaseError):
    """The file opened but its integrity check found damage."""


def _is_corruption(exc: sqlite3.Error) -> bool:
    return isinstance(exc, _CorruptError) or \
        getattr(exc, "sqlite_errorname", "") in _CORRUPT_ERRORS


def _aside_path(path: Path, when: float) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    return aside


def _move_aside(path: Path, when: float) -> Path:
    """Rename the file (and its WAL/shared-memory companions, kept paired) out of the way."""
    aside = _aside_path(path, when)
    try:
        os.replace(path, aside)
        for suffix in ("-wal", "-shm"):
            companion = Path(f"{path}{suffix}")
            if companion.exists():
                os.replace(companion, Path(f"{aside}{suffix}"))
    except OSError as exc:
        raise UserError(f"history database {path} is corrupt and could not be moved "
                        f"aside: {exc}") from None
    return aside


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        rows = conn.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            detail = "; ".join(str(r[0]) for r in rows[:3])
            raise _CorruptError(f"integrity check failed: {detail}")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _open(path: Path, when: float) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the history folder {path.parent}: {exc}") from None
    try:
        return _connect(path)
    except sqlite3.DatabaseError as exc:
        if not _is_corruption(exc):
            raise UserError(f"cannot open the history database {path}: {exc}") from None
        aside = _move_aside(path, when)
        log.warning("history database %s is corrupt (%s); moved it to %s and started a new one",
                    path, exc, aside.name)
    try:
        return _connect(path)
    except sqlite3.Error as exc:
        raise UserError(f"cannot create the history database {path}: {exc}") from None


# --- the store ---------------------------------------------------------------------------


class Store:
    """Session history. Writers buffer; readers return plain rows. Thread-safe."""

    def __init__(self, path: Path | None = None, *, flush_every_s: float = 2.0,
                 now: Callable[[], float] = time.time,
                 max_buffered_s: int = MAX_BUFFERED_SECONDS) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._now = now
        self._flush_every_s = flush_every_s
        self._max_buffered = max_buffered_s
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = _open(self.path, now())
        self._seconds: dict[tuple[int, int], _Second] = {}  # insertion order ~ time order
        self._latest: dict[int, int] = {}  # session -> newest second seen
        self._reminders: deque[tuple[Any, ...]] = deque(maxlen=_MAX_PENDING_EVENTS)
        self._breaks: deque[tuple[Any, ...]] = deque(maxlen=_MAX_PENDING_EVENTS)
        self._ends: dict[int, float] = {}
        self._pending_sessions: dict[int, tuple[Any, ...]] = {}  # provisional id -> row
        self._real_ids: dict[int, int] = {}  # provisional id -> id in the database
        self._string_ids: dict[str, int] = {}
        self._last_flush = now()
        self._failures = 0
        self._dropped = 0
        self._rows_written = 0
        self._last_drop_log = -math.inf

    @property
    def rows_written(self) -> int:
        """Per-second sample rows committed by this store so far (for status and tests)."""
        return self._rows_written

    @property
    def buffered_seconds(self) -> int:
        """Per-second rows waiting in memory (complete or not)."""
        return len(self._seconds)

    # -- context manager

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing

    def start_session(self, *, started_at: float, source: str, kind: str,
                      profile: str | None, config_fingerprint: str) -> int:
        """Record a session at once (its id is needed now); if the database cannot be
        written, hand out a provisional id and insert the row at a later flush."""
        row = (started_at, source, kind, profile, config_fingerprint)
        with self._lock:
            conn = self._require_open()
            try:
                cur = conn.execute(
                    "INSERT INTO sessions (started_at, source, kind, profile, "
                    "config_fingerprint) VALUES (?, ?, ?, ?, ?)", row)
                assert cur.lastrowid is not None
                return cur.lastrowid
            except sqlite3.Error as exc:
                self._note_failure(exc)
                provisional = -(len(self._real_ids) + len(self._pending_sessions) + 1)
                self._pending_sessions[provisional] = row
                return provisional

    def add_sample(self, session_id: int, state: PostureState, wall_time: float) -> None:
        """Fold a sample into its session-second; flushes when the interval is due."""
        second = math.floor(wall_time)
        with self._lock:
            key = (session_id, second)
            acc = self._seconds.get(key)
            if acc is None:
                acc = self._seconds[key] = _Second()
                self._bound_buffer()
            acc.add(state)
            if second > self._latest.get(session_id, second - 1):
                self._latest[session_id] = second
        self._maybe_flush()

    def add_reminder(self, session_id: int, reminder: Reminder, wall_time: float,
                     response: str | None = None) -> None:
        if response not in _REMINDER_RESPONSES:
            raise ValueError(f"reminder response must be one of {_REMINDER_RESPONSES}")
        with self._lock:
            self._reminders.append((session_id, wall_time, reminder.kind.value,
                                    reminder.title, reminder.message, reminder.reason,
                                    response))
        self._maybe_flush()

    def respond_to_reminders(self, session_id: int, since: float, until: float,
                             response: str) -> int:
        """Mark the session's reminders fired in [since, until] (and not yet answered) with
        the user's response; returns how many. Never raises: a failure is logged."""
        if response not in _REMINDER_RESPONSES or response is None:
            raise ValueError(f"reminder response must be one of {_REMINDER_RESPONSES}")
        self.flush()  # reminders still in the buffer must be in the table first
        with self._lock:
            if self._conn is None:
                return 0
            try:
                with self._conn:
                    cursor = self._conn.execute(
                        "UPDATE reminders SET response = ? WHERE session_id = ? AND t >= ? "
                        "AND t <= ? AND response IS NULL", (response, session_id, since, until))
                return cursor.rowcount
            except sqlite3.Error as exc:
                log.warning("could not record the reminder response: %s", exc)
                return 0

    def add_break(self, session_id: int, start: float, end: float, kind: str) -> None:
        if kind not in _BREAK_KINDS:
            raise ValueError(f"break kind must be one of {_BREAK_KINDS}")
        with self._lock:
            self._breaks.append((session_id, start, end, kind))
        self._maybe_flush()

    def add_discomfort(self, t: float, area: str, level: int, note: str = "") -> None:
        """Log discomfort at once (typed by the user, so an error is reported, not queued)."""
        if area not in DISCOMFORT_AREAS:
            raise UserError(f"discomfort area {area!r}: use one of {', '.join(DISCOMFORT_AREAS)}")
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 10:
            raise UserError(f"discomfort level {level!r}: use a whole number from 0 to 10")
        with self._lock:
            conn = self._require_open()
            try:
                conn.execute("INSERT INTO discomfort (t, area, level, note) VALUES (?, ?, ?, ?)",
                             (t, area, level, note))
            except sqlite3.Error as exc:
                raise UserError(f"cannot log discomfort to {self.path}: {exc}") from None

    def end_session(self, session_id: int, ended_at: float) -> None:
        with self._lock:
            self._ends[session_id] = ended_at
            self._latest.pop(session_id, None)  # its last second is complete now
        self.flush()

    def flush(self) -> None:
        """Write what is ready in one transaction; on failure keep it for the next flush."""
        with self._lock:
            self._last_flush = self._now()
            if self._conn is None:
                return
            batch = self._ready_seconds()
            if not (batch or self._reminders or self._breaks or self._ends
                    or self._pending_sessions):
                return
            try:
                self._write(self._conn, batch)
            except sqlite3.Error as exc:
                self._rollback(self._conn)
                self._note_failure(exc)
                return
            self._after_write(batch)

    def close(self) -> None:
        """Flush everything (the open seconds too) and close; safe to call twice."""
        with self._lock:
            if self._conn is None:
                return
            self._latest.clear()
            self.flush()
            if self._seconds or self._reminders or self._breaks or self._ends:
                log.warning("history: closing with %d unwritten seconds of samples "
                            "(the database could not be written)", len(self._seconds))
            self._conn.close()
            self._conn = None

    # -- profiles

    def save_profile(self, name: str, baseline: Baseline) -> None:
        _check_profile_name(name)
        data = json.dumps(baseline.to_dict(), sort_keys=True)
        with self._lock:
            conn = self._require_open()
            try:
                conn.execute("INSERT OR REPLACE INTO profiles (name, data, saved_at) "
                             "VALUES (?, ?, ?)", (name, data, self._now()))
            except sqlite3.Error as exc:
                raise UserError(f"cannot save profile {name!r} to {self.path}: {exc}") from None

    def load_profile(self, name: str) -> Baseline | None:
        _check_profile_name(name)
        with self._reading() as conn:
            row = conn.execute(
                "SELECT data FROM profiles WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        try:
            data = json.loads(row[0])
        except json.JSONDecodeError as exc:
            raise UserError(f"profile {name!r} in {self.path} is unreadable: {exc}") from None
        return Baseline.from_dict(data, origin=f"profile {name!r} in {self.path}")

    # -- reading

    def sessions(self, since: float | None = None,
                 until: float | None = None) -> list[SessionRow]:
        """Sessions overlapping [since, until), oldest first."""
        self.flush()
        lo = -math.inf if since is None else since
        hi = math.inf if until is None else until
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT id, started_at, ended_at, last_seen_at, source, kind, profile, "
                "config_fingerprint FROM sessions WHERE started_at < ? AND "
                "COALESCE(ended_at, last_seen_at, started_at) >= ? ORDER BY started_at, id",
                (hi, lo)).fetchall()
        return [SessionRow(*r) for r in rows]

    def samples(self, since: float, until: float) -> list[SampleRow]:
        """Per-second rows with since <= t < until, in time order.

        Meant for a day or a session (28,800 rows for 8 hours); summaries over months
        should aggregate in SQL instead (see state_seconds_by_day).
        """
        self.flush()
        with self._reading() as conn:
            return self._read_samples(conn, since, until)

    def _read_samples(self, conn: sqlite3.Connection, since: float,
                      until: float) -> list[SampleRow]:
        names = self._names(conn)
        rows = conn.execute(_SELECT_SAMPLES, (math.ceil(since), math.ceil(until))).fetchall()
        states = _CODE_STATE
        return [SampleRow(t, sid, states[st], n, score, names.get(rule), dist, pitch, neck,
                          quality, names.get(note))
                for t, sid, st, n, score, rule, dist, pitch, neck, quality, note in rows]

    def cached_rollups(self, since: float, until: float) -> dict[tuple[int, int], Any]:
        """Stored day rollups lying within [since, until), decoded: (lo, hi) -> data.

        An undecodable row is left out (it will be computed again)."""
        with self._reading() as conn:
            rows = conn.execute("SELECT lo, hi, data FROM day_rollups WHERE lo >= ? AND "
                                "hi <= ?", (math.floor(since), math.ceil(until))).fetchall()
        out = {}
        for lo, hi, data in rows:
            try:
                out[(lo, hi)] = json.loads(data)
            except ValueError:
                continue
        return out

    def rollup_day(self, lo: int, hi: int,
                   compute: Callable[[list[SampleRow]], dict[str, Any]]) -> dict[str, Any]:
        """compute(samples of [lo, hi)), stored as that day's rollup; returns it.

        The rows are read and the rollup written in one transaction: if another
        connection wrote in between, the write fails (SQLite refuses to upgrade a stale
        read) and nothing is stored. A failed write is ignored: the rollup is still
        returned. Only call this for a completed day.
        """
        self.flush()
        with self._reading() as conn:
            conn.execute("BEGIN")
            try:
                data = compute(self._read_samples(conn, lo, hi))
            except BaseException:
                self._rollback(conn)
                raise
            try:
                conn.execute("INSERT OR REPLACE INTO day_rollups (lo, hi, data) VALUES "
                             "(?, ?, ?)", (lo, hi, json.dumps(data, separators=(",", ":"))))
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(conn)
                log.debug("history: day rollup %d-%d not stored: %s", lo, hi, exc)
        return data

    def reminders(self, since: float, until: float) -> list[ReminderRow]:
        self.flush()
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT session_id, t, kind, title, message, reason, response FROM reminders "
                "WHERE t >= ? AND t < ? ORDER BY t, id", (since, until)).fetchall()
        return [ReminderRow(sid, t, ReminderKind(kind), title, message, reason, response)
                for sid, t, kind, title, message, reason, response in rows]

    def breaks(self, since: float, until: float) -> list[BreakRow]:
        """Breaks that started in [since, until)."""
        self.flush()
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT session_id, start, end, kind FROM breaks WHERE start >= ? "
                "AND start < ? ORDER BY start, id", (since, until)).fetchall()
        return [BreakRow(*r) for r in rows]

    def discomfort(self, since: float, until: float) -> list[DiscomfortRow]:
        """Discomfort entries with since <= t < until, oldest first."""
        with self._reading() as conn:
            rows = conn.execute("SELECT t, area, level, note FROM discomfort WHERE t >= ? "
                                "AND t < ? ORDER BY t, id", (since, until)).fetchall()
        return [DiscomfortRow(*r) for r in rows]

    def state_seconds_by_day(self, since: float, until: float) -> dict[str, dict[State, int]]:
        """Seconds in each state per local calendar day (YYYY-MM-DD), counted in SQL.

        One small query per local day (boundaries from the C library, so DST days are
        23 or 25 hours): a GROUP BY over months of rows would sort millions of them.
        """
        self.flush()
        out: dict[str, dict[State, int]] = {}
        with self._reading() as conn:
            for day, lo, hi in _local_days(since, until):
                rows = conn.execute("SELECT state, COUNT(*) FROM samples WHERE t >= ? AND "
                                    "t < ? GROUP BY state", (lo, hi)).fetchall()
                if rows:
                    out[day] = {_CODE_STATE[code]: count for code, count in rows}
        return out

    # -- forgetting

    def forget(self, before: float | None) -> int:
        """Delete history older than `before` (None: all of it); returns rows removed.

        Profiles are settings, not history, and stay. Sessions go only when they ended
        before the cut; a session spanning it keeps its row and loses its older seconds.
        """
        self.flush()
        with self._lock:
            conn = self._require_open()
            try:
                removed = self._delete(conn, before)
                if before is None:  # leave nothing readable behind in free pages or the WAL
                    conn.execute("VACUUM")
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                self._rollback(conn)
                raise UserError(f"cannot delete history in {self.path}: {exc}") from None
        return removed

    def apply_retention(self, days: int) -> int:
        """Forget everything older than `days` days (by the store's clock)."""
        if days < 1:
            raise UserError(f"history retention must be at least 1 day, not {days}")
        return self.forget(self._now() - days * 86400.0)

    # -- internals

    def _require_open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("the history store is closed")
        return self._conn

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock; a failed read is a one-line UserError."""
        with self._lock:
            conn = self._require_open()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise UserError(f"cannot read the history database {self.path}: {exc}") \
                    from None

    def _maybe_flush(self) -> None:
        if self._now() - self._last_flush >= self._flush_every_s:
            self.flush()

    def _bound_buffer(self) -> None:
        """Drop the oldest buffered seconds beyond the cap (the database is unwritable)."""
        while len(self._seconds) > self._max_buffered:
            oldest = next(iter(self._seconds))
            self._dropped += self._seconds.pop(oldest).n

    def _ready_seconds(self) -> list[tuple[tuple[int, int], _Second]]:
        """Complete seconds: older than the newest second seen for their session."""
        latest = self._latest
        return [(key, acc) for key, acc in self._seconds.items()
                if key[0] not in latest or key[1] < latest[key[0]]]

    def _write(self, conn: sqlite3.Connection,
               batch: list[tuple[tuple[int, int], _Second]]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        real = self._insert_pending_sessions(conn)
        ids = dict(self._string_ids)
        needed = {n for _, acc in batch for n in (acc.main_rule(), acc.note) if n}
        self._intern(conn, needed - ids.keys(), ids)
        conn.executemany(_INSERT_SAMPLE, self._sample_rows(batch, ids, real))
        if batch:  # the rollups of the days written into no longer hold
            seconds = [second for (_, second), _ in batch]
            conn.execute("DELETE FROM day_rollups WHERE lo <= ? AND hi > ?",
                         (max(seconds), min(seconds)))
        conn.executemany(
            "INSERT INTO reminders (session_id, t, kind, title, message, reason, response) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(real.get(r[0], r[0]), *r[1:]) for r in self._reminders])
        conn.executemany("INSERT INTO breaks (session_id, start, end, kind) VALUES (?, ?, ?, ?)",
                         [(real.get(b[0], b[0]), *b[1:]) for b in self._breaks])
        self._update_sessions(conn, batch, real)
        conn.execute("COMMIT")
        self._string_ids = ids
        self._real_ids.update(real)

    def _insert_pending_sessions(self, conn: sqlite3.Connection) -> dict[int, int]:
        real = dict(self._real_ids)
        for provisional, row in self._pending_sessions.items():
            cur = conn.execute("INSERT INTO sessions (started_at, source, kind, profile, "
                               "config_fingerprint) VALUES (?, ?, ?, ?, ?)", row)
            assert cur.lastrowid is not None
            real[provisional] = cur.lastrowid
        return real

    @staticmethod
    def _intern(conn: sqlite3.Connection, names: Iterable[str], ids: dict[str, int]) -> None:
        for name in names:
            conn.execute("INSERT OR IGNORE INTO strings (name) VALUES (?)", (name,))
            ids[name] = conn.execute("SELECT id FROM strings WHERE name = ?",
                                     (name,)).fetchone()[0]

    @staticmethod
    def _sample_rows(batch: list[tuple[tuple[int, int], _Second]], ids: dict[str, int],
                     real: dict[int, int]) -> list[tuple[Any, ...]]:
        rows = []
        for (sid, second), acc in batch:
            rule = acc.main_rule()
            means = [acc.scaled_mean(field, scale) for field, scale in _SCALED.values()]
            score, distance, pitch, neck, quality = means
            rows.append((second, real.get(sid, sid), acc.state, acc.n, score,
                         ids.get(rule) if rule else None, distance, pitch, neck, quality,
                         ids.get(acc.note) if acc.note else None))
        return rows

    def _update_sessions(self, conn: sqlite3.Connection,
                         batch: list[tuple[tuple[int, int], _Second]],
                         real: dict[int, int]) -> None:
        seen: dict[int, int] = {}
        for (sid, second), _ in batch:
            seen[sid] = max(seen.get(sid, second), second)
        conn.executemany(
            "UPDATE sessions SET last_seen_at = MAX(COALESCE(last_seen_at, 0), ?) "
            "WHERE id = ?", [(second + 1, real.get(sid, sid)) for sid, second in seen.items()])
        conn.executemany("UPDATE sessions SET ended_at = ? WHERE id = ?",
                         [(end, real.get(sid, sid)) for sid, end in self._ends.items()])

    def _after_write(self, batch: list[tuple[tuple[int, int], _Second]]) -> None:
        for key, _ in batch:
            del self._seconds[key]
        self._rows_written += len(batch)
        self._reminders.clear()
        self._breaks.clear()
        self._ends.clear()
        self._pending_sessions.clear()
        if self._failures or self._dropped:
            log.warning("history: writing again after %d failed attempts%s", self._failures,
                        f"; {self._dropped} samples were dropped meanwhile"
                        if self._dropped else "")
        self._failures = self._dropped = 0

    def _note_failure(self, exc: sqlite3.Error) -> None:
        self._failures += 1
        if self._failures == 1:
            log.warning("history: cannot write to %s (%s); keeping up to %d s of samples in "
                        "memory and retrying", self.path, exc, self._max_buffered)
        else:
            log.debug("history: write attempt %d failed: %s", self._failures, exc)
        now = self._now()
        if self._dropped and now - self._last_drop_log >= _DROP_LOG_EVERY_S:
            self._last_drop_log = now
            log.warning("history: dropped the %d oldest samples so far (database still "
                        "unwritable: %s)", self._dropped, exc)

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                log.debug("history: rollback failed: %s", exc)

    @staticmethod
    def _names(conn: sqlite3.Connection) -> dict[int | None, str]:
        return dict(conn.execute("SELECT id, name FROM strings").fetchall())

    @staticmethod
    def _delete(conn: sqlite3.Connection, before: float | None) -> int:
        if before is None:
            where = [("", ())] * 5
        else:
            where = [(" WHERE t < ?", (math.ceil(before),)), (" WHERE t < ?", (before,)),
                     (" WHERE start < ?", (before,)),
                     (" WHERE COALESCE(ended_at, last_seen_at, started_at) < ?", (before,)),
                     (" WHERE t < ?", (before,))]
        removed = 0
        conn.execute("BEGIN IMMEDIATE")
        tables = ("samples", "reminders", "breaks", "sessions", "discomfort")
        for table, (clause, args) in zip(tables, where, strict=True):
            removed += conn.execute(f"DELETE FROM {table}{clause}", args).rowcount
        # derived data, not counted: the rollups of every day the cut reaches into
        conn.execute("DELETE FROM day_rollups" + (" WHERE lo < ?" if before is not None
                                                  else ""), where[0][1])
        conn.execute("COMMIT")
        return removed


def _local_days(since: float, until: float) -> Iterator[tuple[str, int, int]]:
    """(YYYY-MM-DD, first second, end second) of each local day overlapping the range."""
    lo, end = math.ceil(since), math.ceil(until)
    day = time.localtime(lo)
    while lo < end:
        next_midnight = int(time.mktime((day.tm_year, day.tm_mon, day.tm_mday + 1,
                                         0, 0, 0, 0, 0, -1)))
        hi = min(next_midnight, end)
        yield time.strftime("%Y-%m-%d", day), lo, hi
        lo, day = hi, time.localtime(hi)


def _check_profile_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise UserError(f"profile name {name!r}: use 1 to 64 characters")
