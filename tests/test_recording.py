"""Sessions recorded into the history store by `analyze --save` and by `run`."""

from __future__ import annotations

import json
import math
import os
import signal
import time
from itertools import pairwise
from pathlib import Path

import pytest

from posture_watch.history.rows import SampleRow
from posture_watch.history.store import Store
from tests.conftest import RECORDINGS, run_cli
from tests.support.live import (
    HANG_GUARD_S,
    RunProcess,
    run_env,
    run_until_stopped,
    seconds_apart,
    start_run,
    wait_for,
    wait_until_running,
)

pytestmark = pytest.mark.model

LONG = RECORDINGS / "long_session.mp4"
# The history store commits what `run` records every this many seconds (Store's default).
STORE_FLUSH_EVERY_S = 2.0
# A reported sample time is rounded to 1 ms: one this close to a wall-clock second's
# boundary may belong to either second.
_BOUNDARY_S = 0.001


def test_analyze_save_records_the_session(tmp_path: Path) -> None:
    config = LONG.with_name("long_session.config.toml")
    result = run_cli("--data-dir", str(tmp_path), "analyze", "--save", "--no-progress",
                     "--config", str(config), str(LONG))
    assert result.returncode == 0, result.stderr
    with Store(tmp_path / "history.sqlite3") as store:
        [session] = store.sessions()
        assert session.kind == "file" and session.source == str(LONG)
        assert session.ended_at is not None
        assert session.ended_at - session.started_at == pytest.approx(40.0, abs=0.5)
        seconds = store.samples(session.started_at, session.ended_at + 1)
        assert 38 <= len(seconds) <= 41  # one row per second of the 40 s clip
        assert {row.state for row in seconds} >= {"good", "poor", "away"}
        kinds = [r.kind for r in store.reminders(session.started_at, session.ended_at + 1)]
        assert kinds == ["posture", "stretch", "break"]
        [pause] = store.breaks(session.started_at, session.ended_at + 1)
        # Away from about 28.5 s to 35 s, 3.5 s after the break reminder at 25 s.
        assert pause.kind == "reminded"
        assert 4.0 <= pause.end - pause.start <= 8.0


def possible_seconds(started_at: float, t: float) -> set[int]:
    """The wall-clock second(s) a sample reported at `t` (camera clock) was stored under."""
    wall = started_at + t
    return {math.floor(wall - _BOUNDARY_S), math.floor(wall + _BOUNDARY_S)}


def check_rows_hold_reported_samples(rows: list[SampleRow], started_at: float,
                                     times: list[float]) -> None:
    """Every stored second holds exactly the samples the run reported for it (none made up,
    none missing)."""
    for row in rows:
        surely = sum(possible_seconds(started_at, t) == {row.t} for t in times)
        maybe = sum(row.t in possible_seconds(started_at, t) for t in times)
        assert surely <= row.samples <= maybe, (row, surely, maybe)


def test_run_records_a_live_session(tmp_path: Path, endless_upright_clip: Path) -> None:
    # Watch until samples have come in three different seconds.
    code, out, err, _ = run_until_stopped(tmp_path, endless_upright_clip,
                                          until=lambda times: seconds_apart(times, 3))
    assert code == 0, err
    times = [line["t"] for line in map(json.loads, out.splitlines()) if line["type"] == "sample"]
    with Store(tmp_path / "data" / "history.sqlite3") as store:
        [session] = store.sessions()
        assert session.kind == "camera" and session.ended_at is not None
        # From the session's first second: it began partway through it.
        rows = store.samples(math.floor(session.started_at), session.ended_at + 1)
        assert len(rows) >= 3, rows  # a row for each second it watched
        stored = {row.t for row in rows}
        assert all(possible_seconds(session.started_at, t) & stored for t in times)
        check_rows_hold_reported_samples(rows, session.started_at, times)
        states = {row.state for row in rows}
        # The clip is upright throughout; while the detector warms up a second may read
        # unknown (or, on a loaded machine, away), but never a posture problem.
        assert "good" in states and not states & {"caution", "poor"}, states


def watched_for(times: list[float], seconds: float) -> bool:
    return bool(times) and times[-1] - times[0] >= seconds


def rows_in_store(path: Path) -> int:
    """How many per-second rows another process has committed to the store so far."""
    with Store(path) as store:
        return len(store.samples(0.0, time.time() + 3600))


def test_a_killed_run_keeps_what_it_recorded(tmp_path: Path,
                                             endless_upright_clip: Path) -> None:
    database = tmp_path / "data" / "history.sqlite3"
    proc = start_run(tmp_path, endless_upright_clip)
    try:
        wait_until_running(tmp_path, proc)  # the store and its schema exist from here on
        wait_for(lambda: watched_for(proc.sample_times(), 8.0), "8 s of samples", proc=proc)
        wait_for(lambda: rows_in_store(database), "rows in the store", proc=proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=HANG_GUARD_S)
    finally:
        proc.stop_if_running()
    check_killed_run_kept_all_but_the_last_flush(proc, database)


def check_killed_run_kept_all_but_the_last_flush(proc: RunProcess, database: Path) -> None:
    """Judge what a killed run kept against what it reported before the kill.

    The store commits every complete second each STORE_FLUSH_EVERY_S, at the first sample
    after that interval; so the samples lost are those since the second in which the last
    flush came: less than a second, a flush interval and one sample's processing (which is
    less than the gap to the next sample) before the last one.
    """
    times = proc.sample_times()
    assert not list(database.parent.glob("*.corrupt-*"))  # the file opened as it was
    with Store(database) as store:
        [session] = store.sessions()
        assert session.ended_at is None  # it never said goodbye
        rows = store.samples(math.floor(session.started_at), time.time() + 3600)
    assert rows, "nothing was kept"
    check_rows_hold_reported_samples(rows, session.started_at, times)
    stored = {row.t for row in rows}
    kept = [bool(possible_seconds(session.started_at, t) & stored) for t in times]
    first_lost = kept.index(False) if False in kept else len(kept)
    assert all(kept[:first_lost]) and not any(kept[first_lost:]), kept  # lost only at the end
    lost = times[first_lost:]
    if lost:
        widest_gap = max([0.0, *(b - a for a, b in pairwise(lost))])
        allowed = 1.0 + STORE_FLUSH_EVERY_S + widest_gap + 2 * _BOUNDARY_S
        assert lost[-1] - lost[0] < allowed, (lost, allowed)


def test_report_command_charts_a_saved_session(tmp_path: Path) -> None:
    config = LONG.with_name("long_session.config.toml")
    saved = run_cli("--data-dir", str(tmp_path), "analyze", "--save", "--no-progress",
                    "--config", str(config), str(LONG))
    assert saved.returncode == 0, saved.stderr
    out = tmp_path / "report.html"
    result = run_cli("--data-dir", str(tmp_path), "report", "--out", str(out))
    assert result.returncode == 0, result.stderr
    page = out.read_text()
    assert page.count('<img src="data:image/png;base64,') == 4
    bad = run_cli("--data-dir", str(tmp_path), "report", "--since", "last tuesday")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


def test_history_commands_on_a_saved_session(tmp_path: Path) -> None:
    import csv
    import io
    import json

    data = ["--data-dir", str(tmp_path)]
    config = LONG.with_name("long_session.config.toml")
    assert run_cli(*data, "analyze", "--save", "--no-progress", "--config", str(config),
                   str(LONG)).returncode == 0
    assert run_cli(*data, "log-discomfort", "shoulders", "8").returncode == 0
    summary = run_cli(*data, "summary", "--week", "--json")
    assert summary.returncode == 0, summary.stderr
    doc = json.loads(summary.stdout)
    assert doc["reminders"]  # the three reminders of the clip
    assert doc["seek_help"] is True  # a level of 8 brings the care text
    assert "medical advice" in doc["care_text"]
    human = run_cli(*data, "summary", "--week")
    assert human.returncode == 0 and "Main issue" in human.stdout
    history = run_cli(*data, "history", "--by", "session")
    assert history.returncode == 0 and "History" in history.stdout
    exported = run_cli(*data, "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert 38 <= len(rows) <= 41 and {"t", "state", "score"} <= set(rows[0])
    assert json.loads(run_cli(*data, "export", "--format", "json").stdout)["sessions"]
    refused = run_cli(*data, "forget", "--all")  # no terminal to ask, no --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert run_cli(*data, "forget", "--all", "--yes").returncode == 0
    assert json.loads(run_cli(*data, "export", "--format", "json").stdout)["sessions"] == []


def test_snoozing_is_recorded_as_the_response_to_recent_reminders(tmp_path: Path) -> None:
    config = tmp_path / "long.toml"
    config.write_text(LONG.with_name("long_session.config.toml").read_text()
                      + '\n[notifications]\nbackend = "none"\n')
    proc = start_run(tmp_path, LONG, "--config", str(config))
    try:
        wait_until_running(tmp_path, proc)
        wait_for(lambda: [line for line in proc.lines() if line["type"] == "reminder"],
                 "the posture reminder (about 14 s into the clip)", proc=proc)
        assert run_cli("snooze", "10m", env=run_env(tmp_path)).returncode == 0
        assert run_cli("stop", env=run_env(tmp_path)).returncode == 0
        proc.communicate(timeout=HANG_GUARD_S)
    finally:
        proc.stop_if_running()
    with Store(tmp_path / "data" / "history.sqlite3") as store:
        [session] = store.sessions()
        reminders = store.reminders(session.started_at, time.time() + 1)
        assert reminders and reminders[0].kind == "posture"
        assert reminders[0].response == "snoozed"
        # `run` left the per-day summaries of the past 90 days ready for the next summary.
        assert len(store.cached_rollups(time.time() - 92 * 86400, time.time())) >= 89


def test_a_saved_profile_is_kept_in_the_history_too(tmp_path: Path) -> None:
    result = run_cli("--data-dir", str(tmp_path), "calibrate", str(LONG), "--from", "0:6",
                     "--save", "desk")
    assert result.returncode == 0, result.stderr
    with Store(tmp_path / "history.sqlite3") as store:
        kept = store.load_profile("desk")
    assert kept is not None and kept.metrics["slouch_ratio"] > 0
