"""The command line for real: exit codes, one-line errors, the JSON document's keys."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import RECORDINGS, run_cli

CLIP = RECORDINGS / "upright_hopper.mp4"


def assert_one_line_error(result, *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("posture-watch: error: ")
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_missing_file(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("analyze", str(tmp_path / "nope.mp4")), "nope.mp4")


def test_text_file_renamed_mp4(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 50)
    assert_one_line_error(run_cli("analyze", str(fake)), "notes.mp4")


def test_truncated_mp4(tmp_path: Path) -> None:
    data = CLIP.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    assert_one_line_error(run_cli("analyze", str(cut)), "cut.mp4")


def test_empty_video(tmp_path: Path) -> None:
    empty = tmp_path / "empty.avi"
    writer = cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    writer.release()
    assert_one_line_error(run_cli("analyze", str(empty)), "empty.avi")


def test_zero_byte_video(tmp_path: Path) -> None:
    empty = tmp_path / "zero.mp4"
    empty.write_bytes(b"")
    assert_one_line_error(run_cli("analyze", str(empty)), "zero.mp4")


def test_unknown_config_key(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[thresholds]\nneck_flexion_poor_degs = 20\n")
    assert_one_line_error(run_cli("analyze", "--config", str(config), str(CLIP)),
                          "thresholds.neck_flexion_poor_degs")


def test_out_of_range_config_value(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[sampling]\nfile_rate_hz = -3\n")
    assert_one_line_error(run_cli("analyze", "--config", str(config), str(CLIP)),
                          "sampling.file_rate_hz")


def test_broken_toml(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[sampling\nfile_rate_hz = 5\n")
    assert_one_line_error(run_cli("analyze", "--config", str(config), str(CLIP)), "c.toml")


def test_bad_time_range() -> None:
    assert_one_line_error(run_cli("analyze", "--calibrate-from", "8:2", str(CLIP)), "8:2")


def test_usage_error_exits_2() -> None:
    result = run_cli("analyze")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


@pytest.mark.model
def test_unknown_profile(tmp_path: Path) -> None:
    env = dict(os.environ, POSTURE_WATCH_DATA_DIR=str(tmp_path))
    assert_one_line_error(run_cli("analyze", "--profile", "desk", str(CLIP), env=env), "desk")


@pytest.mark.model
def test_still_image_of_an_empty_room(tmp_path: Path) -> None:
    wall = tmp_path / "wall.png"
    rng = np.random.default_rng(1)
    cv2.imwrite(str(wall), rng.integers(90, 110, (240, 320, 3), dtype=np.uint8))
    config = tmp_path / "c.toml"
    config.write_text("[sampling]\nstill_hold_s = 4.0\n")
    result = run_cli("analyze", "--json", "--config", str(config), str(wall))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    states = {s["state"] for s in doc["samples"]}
    assert states <= {"away", "unknown"}
    assert "away" in states


@pytest.fixture(scope="module")
def json_doc() -> dict:
    result = run_cli("analyze", "--json", str(CLIP))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


@pytest.mark.model
def test_json_document_keys(json_doc: dict) -> None:
    assert set(json_doc) == {"source", "config", "calibration", "samples", "reminders",
                             "summary"}
    assert json_doc["source"]["name"] == CLIP.name
    assert json_doc["config"]["reminders"]["break"]["after_presence_s"] == 3000.0
    assert json_doc["calibration"]["method"] == "automatic"
    assert json_doc["calibration"]["baseline"]["metrics"]["slouch_ratio"] > 0
    sample = json_doc["samples"][-1]
    assert {"t", "state", "score", "quality", "metrics", "rules", "fired"} <= set(sample)
    assert sample["state"] in {"good", "caution", "poor", "away", "unknown"}
    assert 0 <= sample["score"] <= 100
    assert {"rule", "level", "value", "unit"} <= set(sample["rules"][0])
    times = [s["t"] for s in json_doc["samples"]]
    assert times == sorted(times)
    summary = json_doc["summary"]
    assert {"duration_s", "present_s", "percent_of_measured", "episodes", "main_issue",
            "suggestion", "reminders_by_kind"} <= set(summary)


@pytest.mark.model
def test_human_summary() -> None:
    result = run_cli("analyze", str(CLIP))
    assert result.returncode == 0, result.stderr
    assert CLIP.name in result.stdout
    assert "Main issue" in result.stdout
    assert "Reminders" in result.stdout
    # Without a calibration the automatic baseline is announced on stderr.
    assert "no calibration given" in result.stderr


@pytest.mark.model
def test_calibrate_then_analyze_with_profile_and_file(tmp_path: Path) -> None:
    env = dict(os.environ, POSTURE_WATCH_DATA_DIR=str(tmp_path))
    saved = run_cli("calibrate", str(CLIP), "--from", "0:6", "--save", "desk", env=env)
    assert saved.returncode == 0, saved.stderr
    profile = tmp_path / "profiles" / "desk.json"
    data = json.loads(profile.read_text())
    assert data["samples"] >= 20
    for args in (["--profile", "desk"], ["--calibration", str(profile)],
                 ["--calibrate-from", "0:6"]):
        result = run_cli("analyze", "--json", *args, str(CLIP), env=env)
        assert result.returncode == 0, result.stderr
        doc = json.loads(result.stdout)
        assert doc["calibration"]["method"] != "automatic"
        assert doc["calibration"]["baseline"]["metrics"] == pytest.approx(data["metrics"])
        assert "no calibration given" not in result.stderr


@pytest.mark.model
def test_two_pose_calibration_learns_the_users_slump(tmp_path: Path) -> None:
    """slouch_hopper: upright 0-8 s, slumped 9.5-19.5 s, upright again from 21 s."""
    clip = RECORDINGS / "slouch_hopper.mp4"
    env = dict(os.environ, POSTURE_WATCH_DATA_DIR=str(tmp_path))
    saved = run_cli("calibrate", str(clip), "--from", "0:7", "--slouch-from", "11:18",
                    "--save", "two", env=env)
    assert saved.returncode == 0, saved.stderr
    assert "two-pose: your slump shows in" in saved.stdout
    data = json.loads((tmp_path / "profiles" / "two.json").read_text())
    assert data["slump_weights"] and set(data["slump_weights"]) == set(data["slump"])
    result = run_cli("analyze", "--json", "--profile", "two", str(clip), env=env)
    assert result.returncode == 0, result.stderr
    samples = json.loads(result.stdout)["samples"]
    upright = [s["state"] for s in samples if s["t"] <= 8 or s["t"] >= 22]
    slumped = [s["state"] for s in samples if 11 <= s["t"] <= 19]
    assert set(upright) == {"good"}
    assert set(slumped) <= {"caution", "poor"}
    both = run_cli("analyze", "--json", "--calibrate-from", "0:7", "--slouch-from", "11:18",
                   str(clip), env=env)
    assert json.loads(both.stdout)["calibration"]["method"].startswith("two-pose")


@pytest.mark.model
def test_two_pose_calibration_refuses_a_slump_that_looks_upright(tmp_path: Path) -> None:
    env = dict(os.environ, POSTURE_WATCH_DATA_DIR=str(tmp_path))
    assert_one_line_error(
        run_cli("calibrate", str(CLIP), "--from", "0:5", "--slouch-from", "6:11",
                "--save", "x", env=env),
        "looks like the upright one")
    assert not (tmp_path / "profiles" / "x.json").exists()


def test_slouch_from_needs_the_upright_stretch() -> None:
    assert_one_line_error(run_cli("analyze", "--slouch-from", "1:2", str(CLIP)),
                          "--calibrate-from")


@pytest.mark.model
def test_calibration_on_an_empty_stretch_is_refused(tmp_path: Path) -> None:
    wall = tmp_path / "wall.png"
    cv2.imwrite(str(wall), np.full((240, 320, 3), 100, dtype=np.uint8))
    env = dict(os.environ, POSTURE_WATCH_DATA_DIR=str(tmp_path))
    assert_one_line_error(
        run_cli("calibrate", str(wall), "--from", "0:2", "--save", "x", env=env),
        "calibration")


@pytest.mark.model
def test_models_command_lists_both() -> None:
    result = run_cli("models")
    assert result.returncode == 0, result.stderr
    assert "pose:" in result.stdout and "face:" in result.stdout


@pytest.mark.model
def test_evaluate_command_prints_json_and_markdown() -> None:
    """The command's wiring on one clip; the figures over every clip are checked on the
    analyses the clip tests already made (test_recordings.py)."""
    long_session = RECORDINGS / "long_session.mp4"
    result = run_cli("evaluate", "--json", str(long_session))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {"inputs", "sets", "overall"} <= set(doc)
    overall = doc["overall"]
    assert overall["clips"] == 1
    assert overall["agreement"] >= 0.9
    assert overall["reminders"]["matched"] == overall["reminders"]["expected"] == 3
    assert overall["false_posture_reminders"] == 0
    assert overall["away"]["recall"] >= 0.95
    assert {"good", "bad", "away"} <= set(overall["confusion"])
    markdown = run_cli("evaluate", "--markdown", str(long_session))
    assert markdown.returncode == 0, markdown.stderr
    assert "| long_session |" in markdown.stdout


def test_evaluate_refuses_an_unlabelled_clip(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(CLIP.read_bytes())
    assert_one_line_error(run_cli("evaluate", str(clip)), "clip.labels.csv")
