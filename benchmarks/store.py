"""Write throughput, size on disk and 90-day read time of the session history database.

Prints:
- write throughput: samples per second through add_sample + flush (2 Hz samples, 2 s
  flushes on an injected clock, so the whole day is written as fast as the machine can);
- database size per 8-hour day at 2 Hz, written through the real Store for 5 days;
- for 90 days of 8-hour sessions at 2 Hz (generated straight into a temp database with
  executemany, one transaction per day): the time to open the Store (integrity check
  included), to read samples(since, until) over the 90 days, and to run summary-style
  aggregates in SQL (seconds per state per day; time per state, mean score, main rules),
  and the real queries.load_summary() (what `summary --since DATE` runs) over the range,
  twice: the first run finds no per-day rollups (the rows were written straight, not
  through a flush) and computes and stores one per completed day; the second is the
  steady state, served from those rollups, which is what a user running `summary` again
  sees. Both must give the same summary.

Targets: summary over 90 days within 1 s (the steady state, i.e. the second
load_summary: past days are rolled up once); at most 5 MB per 8-hour day.

    python benchmarks/store.py [--days-size 5] [--days-read 90]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from posture_watch.core.types import Level, PostureState, RuleResult, State  # noqa: E402
from posture_watch.history import queries  # noqa: E402
from posture_watch.history.store import Store  # noqa: E402

DAY_S = 8 * 3600  # an 8-hour working day
HZ = 2
START = 1_700_000_000.0
RULES = ("neck_flexion", "slouch", "forward_head", "head_roll", "screen_too_close")


def synthetic_states(rng: random.Random, n: int) -> Iterator[PostureState]:
    """A plausible day: runs of good, caution, poor, unknown and away of varying length."""
    weights = ((State.GOOD, 60), (State.CAUTION, 20), (State.POOR, 10), (State.UNKNOWN, 5),
               (State.AWAY, 5))
    states, w = zip(*weights, strict=True)
    made = 0
    while made < n:
        state = rng.choices(states, w)[0]
        for _ in range(min(rng.randint(4, 240), n - made)):
            made += 1
            yield make_state(rng, state)


def make_state(rng: random.Random, state: State) -> PostureState:
    if state in (State.AWAY, State.UNKNOWN):
        note = "too dark" if state is State.UNKNOWN else ""
        return PostureState(0.0, state, None, (), 0.3, {}, {"light": 0.3}, note)
    level = {State.GOOD: Level.GOOD, State.CAUTION: Level.CAUTION, State.POOR: Level.POOR}
    rules = (RuleResult("neck_flexion", level[state], rng.uniform(0, 30), "deg"),)
    if rng.random() < 0.3:
        rules += (RuleResult(rng.choice(RULES), Level.CAUTION, rng.uniform(0, 30), "%"),)
    metrics = {"distance_cm": rng.uniform(45, 80), "head_pitch_deg": rng.uniform(-5, 30)}
    score = {State.GOOD: 95, State.CAUTION: 70, State.POOR: 35}[state] + rng.randint(-5, 5)
    return PostureState(0.0, state, score, rules, rng.uniform(0.5, 1), metrics,
                        {"light": 1.0})


class Clock:
    def __init__(self) -> None:
        self.t = START

    def __call__(self) -> float:
        return self.t


def write_days(path: Path, days: int, rng: random.Random) -> tuple[int, float]:
    """Write `days` 8-hour days of 2 Hz samples through the Store; (samples, seconds)."""
    states = list(synthetic_states(rng, days * DAY_S * HZ))
    clock = Clock()
    started = time.perf_counter()
    with Store(path, flush_every_s=2.0, now=clock) as store:
        i = 0
        for day in range(days):
            t0 = START + day * 86400
            sid = store.start_session(started_at=t0, source="camera:0", kind="live",
                                      profile="desk", config_fingerprint="bench")
            for k in range(DAY_S * HZ):
                clock.t = t0 + k / HZ
                store.add_sample(sid, states[i], clock.t)
                i += 1
            store.end_session(sid, t0 + DAY_S)
    return len(states), time.perf_counter() - started


def db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def generate_direct(path: Path, days: int, rng: random.Random) -> None:
    """Rows in the stored format straight into the tables: fast enough for 90 days."""
    Store(path).close()  # schema
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.executemany("INSERT INTO strings (id, name) VALUES (?, ?)",
                     [(i + 1, name) for i, name in enumerate((*RULES, "too dark"))])
    for day in range(days):
        t0 = int(START) + day * 86400
        conn.execute("BEGIN")
        sid = conn.execute(
            "INSERT INTO sessions (started_at, ended_at, last_seen_at, source, kind, profile, "
            "config_fingerprint) VALUES (?, ?, ?, 'camera:0', 'live', 'desk', 'bench')",
            (t0, t0 + DAY_S, t0 + DAY_S)).lastrowid
        conn.executemany(
            "INSERT INTO samples VALUES (?, ?, ?, 2, ?, ?, ?, ?, ?, ?, ?)",
            (row_for(rng, t0 + k, sid) for k in range(DAY_S)))
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def row_for(rng: random.Random, t: int, sid: int) -> tuple[object, ...]:
    """One stored per-second row (scaled integers, as the Store writes them)."""
    state = rng.choices((0, 1, 2, 3, 4), (5, 5, 60, 20, 10))[0]
    if state < 2:  # away / unknown
        return (t, sid, state, None, None, None, None, None, 300 if state else None,
                6 if state else None)
    return (t, sid, state, rng.randint(300, 1000), rng.randint(1, 5) if state > 2 else None,
            rng.randint(450, 800), rng.randint(-50, 300), rng.randint(0, 300),
            rng.randint(500, 1000), None)


# What a `summary --days 90` needs in one scan: time per state with its means.
SUMMARY_SQL = """
    SELECT state, COUNT(*) AS seconds, AVG(score_x10) / 10, AVG(distance_mm) / 10,
        AVG(quality_pm) / 1000
    FROM samples WHERE t >= ? AND t < ? GROUP BY state
"""
RULES_SQL = """
    SELECT rule, COUNT(*) FROM samples WHERE t >= ? AND t < ? AND rule IS NOT NULL
    GROUP BY rule ORDER BY 2 DESC
"""


def timed(label: str, fn: object) -> object:
    started = time.perf_counter()
    result = fn()  # type: ignore[operator]
    print(f"  {label:<44} {time.perf_counter() - started:7.3f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days-size", type=int, default=5)
    parser.add_argument("--days-read", type=int, default=90)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "size" / "history.sqlite3"
        samples, seconds = write_days(path, args.days_size, rng)
        size = db_bytes(path)
        print(f"write throughput: {samples / seconds:,.0f} samples/s through add_sample + flush "
              f"({samples:,} samples in {seconds:.1f} s)")
        print(f"size: {size / args.days_size / 1e6:.2f} MB per 8-hour day at {HZ} Hz "
              f"({size / 1e6:.1f} MB for {args.days_size} days; target <= 5 MB)")

        path = Path(tmp) / "read" / "history.sqlite3"
        started = time.perf_counter()
        generate_direct(path, args.days_read, rng)
        print(f"{args.days_read} days generated in {time.perf_counter() - started:.1f} s: "
              f"{db_bytes(path) / 1e6:.0f} MB")
        since, until = START, START + args.days_read * 86400
        store = timed("open Store (quick_check + migrate)", lambda: Store(path))
        assert isinstance(store, Store)
        rows = timed("samples() over one 8-hour day", lambda: store.samples(since, since + DAY_S))
        print(f"    ({len(rows):,} per-second rows)")  # type: ignore[arg-type]
        rows = timed(f"samples() over {args.days_read} days", lambda: store.samples(since, until))
        print(f"    ({len(rows):,} per-second rows)")  # type: ignore[arg-type]
        del rows
        days = timed("state_seconds_by_day() (local days)",
                     lambda: store.state_seconds_by_day(since, until))
        print(f"    ({len(days):,} days)")  # type: ignore[arg-type]
        conn = sqlite3.connect(path)
        started = time.perf_counter()
        timed("summary SQL: seconds and means per state", lambda: conn.execute(
            SUMMARY_SQL, (since, until)).fetchall())
        timed("summary SQL: seconds per main rule", lambda: conn.execute(
            RULES_SQL, (since, until)).fetchall())
        print(f"  {'summary total (target <= 1 s)':<44} {time.perf_counter() - started:7.3f} s")
        timed("sessions() over the range", lambda: store.sessions(since, until))
        first = timed(f"queries.load_summary() over {args.days_read} days, first run",
                      lambda: queries.load_summary(store, since, until, "bench", 3000.0,
                                                   now=until))
        print("    (no rollups yet: computes and stores one per completed local day)")
        summary = timed(f"queries.load_summary() over {args.days_read} days, steady state",
                        lambda: queries.load_summary(store, since, until, "bench", 3000.0,
                                                     now=until))
        print("    (served from the stored rollups; target <= 1 s)")
        assert isinstance(first, queries.HistorySummary)
        assert isinstance(summary, queries.HistorySummary)
        assert summary == first, "the rollups changed the summary"
        print(f"    ({summary.stats.present_s:,} s at the desk, "
              f"{summary.stats.episodes.count:,} episodes)")
        conn.close()
        store.close()


if __name__ == "__main__":
    main()
