"""Sessions recorded into the history store by `analyze --save` and by `run`."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from posture_watch.history.store import Store
from tests.conftest import RECORDINGS, run_cli
from tests.test_live import run_env, run_until_stopped, start_run, wait_until_running

pytestmark = pytest.mark.model

LONG = RECORDINGS / "long_session.mp4"


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


def test_run_records_a_live_session(tmp_path: Path) -> None:
    code, _, err, _ = run_until_stopped(tmp_path, linger_s=3.0)
    assert code == 0, err
    with Store(tmp_path / "data" / "history.sqlite3") as store:
        [session] = store.sessions()
        assert session.kind == "camera" and session.ended_at is not None
        rows = store.samples(session.started_at, session.ended_at + 1)
        assert len(rows) >= 3, rows  # a row for each second it watched
        states = {row.state for row in rows}
        # The clip is upright throughout; while the detector warms up a second may read
        # unknown (or, on a loaded machine, away), but never a posture problem.
        assert "good" in states and not states & {"caution", "poor"}, states


def test_a_killed_run_keeps_what_it_recorded(tmp_path: Path) -> None:
    proc = start_run(tmp_path, LONG)
    wait_until_running(tmp_path, proc)
    time.sleep(8)
    killed_at = time.time()
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    with Store(tmp_path / "data" / "history.sqlite3") as store:
        [session] = store.sessions()
        assert session.ended_at is None  # it never said goodbye
        rows = store.samples(session.started_at, killed_at + 1)
        assert rows, "nothing was kept"
        assert killed_at - rows[-1].t <= 4.0  # at most the last few seconds are lost


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
    import json as json_

    config = tmp_path / "long.toml"
    config.write_text(LONG.with_name("long_session.config.toml").read_text()
                      + '\n[notifications]\nbackend = "none"\n')
    proc = start_run(tmp_path, LONG, "--config", str(config))
    try:
        wait_until_running(tmp_path, proc)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:  # the posture reminder comes at about 14 s
            reply = run_cli("status", "--json", env=run_env(tmp_path))
            if reply.returncode == 0 and json_.loads(reply.stdout)["reminders"] >= 1:
                break
            time.sleep(0.5)
        assert run_cli("snooze", "10m", env=run_env(tmp_path)).returncode == 0
        assert run_cli("stop", env=run_env(tmp_path)).returncode == 0
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
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
