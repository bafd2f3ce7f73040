"""The typed config: defaults, partial files, validation errors that name the key."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from posture_watch.config import config_from_dict, config_to_dict, load_config
from posture_watch.core.settings import Config
from posture_watch.errors import UserError

SHIPPED_DEFAULTS = Path(__file__).resolve().parents[1] / "config" / "default.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "user.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(UserError) as info:
        config_from_dict(data)
    return str(info.value)


def test_no_file_gives_the_defaults() -> None:
    cfg = load_config(None)
    assert cfg == Config()
    # Spot-check a few published numbers (ergonomics.md) in the defaults.
    assert cfg.thresholds.neck_flexion_caution_deg == 10.0
    assert cfg.thresholds.neck_flexion_poor_deg == 20.0
    assert cfg.thresholds.side_ear_shoulder_poor_deg == 45.0
    assert cfg.thresholds.trunk_flexion_poor_deg == 60.0
    assert cfg.reminders.posture.poor_hold_s == 60.0
    assert cfg.reminders.eyes.every_presence_s == 1200.0


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")) == Config()


def test_partial_file_overrides_only_its_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "[thresholds]\nneck_flexion_poor_deg = 25\n\n"
                           "[smoothing]\nenter_samples = 4\n")
    cfg = load_config(path)
    base = Config()
    expected = replace(
        base,
        thresholds=replace(base.thresholds, neck_flexion_poor_deg=25.0),
        smoothing=replace(base.smoothing, enter_samples=4),
    )
    assert cfg == expected
    # An integer in the file for a float setting is kept as a float.
    assert isinstance(cfg.thresholds.neck_flexion_poor_deg, float)


def test_break_table_maps_to_the_breaks_attribute(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "[reminders.break]\nafter_presence_s = 1800\n"
                                      "enabled = false\n"))
    assert cfg.reminders.breaks.after_presence_s == 1800.0
    assert cfg.reminders.breaks.enabled is False
    assert cfg.reminders.breaks.repeat_s == Config().reminders.breaks.repeat_s


def test_the_attribute_name_breaks_is_not_a_toml_key() -> None:
    assert "'reminders.breaks'" in error_of({"reminders": {"breaks": {"enabled": False}}})


@pytest.mark.parametrize(("data", "dotted"), [
    ({"display": {"theme": "dark"}}, "'display'"),
    ({"thresholds": {"neck_flex_deg": 3}}, "'thresholds.neck_flex_deg'"),
    ({"reminders": {"break": {"every_s": 60}}}, "'reminders.break.every_s'"),
])
def test_unknown_key_names_the_dotted_key(data: dict[str, Any], dotted: str) -> None:
    message = error_of(data)
    assert "unknown key" in message
    assert dotted in message


def test_unknown_key_in_a_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"unknown key 'camera\.fov'"):
        load_config(write(tmp_path, "[camera]\nfov = 70\n"))


@pytest.mark.parametrize(("data", "needle"), [
    ({"smoothing": {"window_samples": 2.5}}, "'smoothing.window_samples' must be a whole"),
    ({"calibration": {"min_samples": True}}, "'calibration.min_samples' must be a whole"),
    ({"thresholds": {"neck_flexion_poor_deg": "20"}}, "'thresholds.neck_flexion_poor_deg' must"
                                                      " be a number"),
    ({"camera": {"horizontal_fov_deg": True}}, "'camera.horizontal_fov_deg' must be a number"),
    ({"reminders": {"posture": {"enabled": 1}}}, "'reminders.posture.enabled' must be true or"),
    ({"models": {"pose": 3}}, "'models.pose' must be a string"),
    ({"camera": {"view": "top"}}, "'camera.view' must be one of auto, front, side"),
    ({"thresholds": 5}, "'thresholds' must be a table"),
])
def test_wrong_type_names_the_key(data: dict[str, Any], needle: str) -> None:
    assert needle in error_of(data)


@pytest.mark.parametrize(("data", "dotted"), [
    ({"detection": {"min_visibility": 1.5}}, "'detection.min_visibility' = 1.5"),
    ({"camera": {"horizontal_fov_deg": 10}}, "'camera.horizontal_fov_deg' = 10.0"),
    ({"smoothing": {"window_samples": 0}}, "'smoothing.window_samples' = 0"),
    ({"reminders": {"break": {"after_presence_s": 5}}}, "'reminders.break.after_presence_s'"),
])
def test_out_of_range_names_the_key(data: dict[str, Any], dotted: str) -> None:
    message = error_of(data)
    assert dotted in message
    assert "out of range" in message


def test_range_limits_are_inclusive() -> None:
    cfg = config_from_dict({"detection": {"min_visibility": 1.0, "min_quality": 0.0}})
    assert cfg.detection.min_visibility == 1.0
    assert cfg.detection.min_quality == 0.0


@pytest.mark.parametrize(("data", "first", "second"), [
    ({"thresholds": {"neck_flexion_caution_deg": 25}},
     "thresholds.neck_flexion_caution_deg", "thresholds.neck_flexion_poor_deg"),
    ({"thresholds": {"shrug_caution_pct": 75}},
     "thresholds.shrug_caution_pct", "thresholds.shrug_poor_pct"),
    ({"thresholds": {"side_ear_shoulder_poor_deg": 55}},
     "thresholds.side_ear_shoulder_caution_deg", "thresholds.side_ear_shoulder_poor_deg"),
    ({"thresholds": {"distance_near_caution_cm": 100}},
     "thresholds.distance_near_caution_cm", "thresholds.distance_far_caution_cm"),
])
def test_misordered_bands_name_both_keys(data: dict[str, Any], first: str, second: str) -> None:
    message = error_of(data)
    assert f"'{first}'" in message
    assert f"'{second}'" in message


@pytest.mark.parametrize("key", ["slouch_caution_pct", "slouch_poor_pct",
                                 "side_head_forward_caution_deg", "side_head_forward_poor_deg"])
def test_the_removed_percent_slouch_and_side_head_forward_keys_are_unknown(key: str) -> None:
    """The slump is judged on weighed cues now (core.cues): the old bands are gone."""
    assert f"unknown key 'thresholds.{key}'" in error_of({"thresholds": {key: 50}})


def test_equal_bands_are_allowed_where_the_order_is_not_strict() -> None:
    cfg = config_from_dict({"thresholds": {"neck_flexion_caution_deg": 20.0}})
    assert cfg.thresholds.neck_flexion_caution_deg == cfg.thresholds.neck_flexion_poor_deg
    with pytest.raises(UserError):
        config_from_dict({"thresholds": {"distance_near_caution_cm": 100.0}})


def test_invalid_toml_is_a_user_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[thresholds\nneck_flexion_poor_deg = 25\n")
    with pytest.raises(UserError, match="not valid TOML"):
        load_config(path)


def test_missing_and_undecodable_files_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="file not found"):
        load_config(tmp_path / "nope.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(UserError, match="cannot read"):
        load_config(binary)


def test_config_to_dict_uses_toml_names() -> None:
    data = config_to_dict(Config())
    assert "break" in data["reminders"] and "breaks" not in data["reminders"]
    assert data["reminders"]["break"]["after_presence_s"] == 3000.0
    assert data["thresholds"]["neck_flexion_poor_deg"] == 20.0


def test_config_to_dict_round_trips_through_config_from_dict() -> None:
    base = Config()
    custom = replace(
        base,
        camera=replace(base.camera, view="side", horizontal_fov_deg=78.0),
        thresholds=replace(base.thresholds, shrug_caution_pct=92.0, shrug_poor_pct=85.0),
        reminders=replace(base.reminders,
                          breaks=replace(base.reminders.breaks, after_presence_s=1500.0),
                          hydration=replace(base.reminders.hydration, enabled=True)),
    )
    for cfg in (base, custom):
        # Through JSON too, as the CLI prints it.
        data = json.loads(json.dumps(config_to_dict(cfg)))
        assert config_from_dict(data) == cfg
    assert config_from_dict(config_to_dict(custom)) != base


def _flat_keys(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in data.items():
        if isinstance(value, dict):
            keys |= _flat_keys(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def test_shipped_default_file_equals_the_built_in_defaults() -> None:
    assert SHIPPED_DEFAULTS.is_file(), f"missing {SHIPPED_DEFAULTS}"
    assert load_config(SHIPPED_DEFAULTS) == Config()


def test_shipped_default_file_lists_every_key() -> None:
    assert SHIPPED_DEFAULTS.is_file(), f"missing {SHIPPED_DEFAULTS}"
    in_file = _flat_keys(tomllib.loads(SHIPPED_DEFAULTS.read_text(encoding="utf-8")))
    assert in_file == _flat_keys(config_to_dict(Config()))


@pytest.mark.parametrize(("table", "key"), [
    ("detection", "min_quality"),
    ("smoothing", "hysteresis_deg"),
    ("reminders.posture", "poor_hold_s"),
])
def test_nan_is_rejected_and_names_the_key(tmp_path: Path, table: str, key: str) -> None:
    with pytest.raises(UserError) as info:
        load_config(write(tmp_path, f"[{table}]\n{key} = nan\n"))
    assert f"'{table}.{key}'" in str(info.value)
