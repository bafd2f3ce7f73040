"""The typed configuration, loaded from TOML and validated.

Defaults live in the dataclasses below; ``config/default.toml`` ships the same values
with the sources of every threshold (a test keeps the two equal). A user file only needs
the keys it changes. Unknown keys, wrong types and out-of-range values are errors that
name the key: a broken file never silently becomes the defaults.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posture_watch.errors import UserError


def _num(default: float, lo: float | None = None, hi: float | None = None) -> Any:
    return field(default=default, metadata={"min": lo, "max": hi})


@dataclass(frozen=True)
class SamplingConfig:
    file_rate_hz: float = _num(5.0, 0.1, 60.0)
    still_hold_s: float = _num(2.0, 0.1, 600.0)


@dataclass(frozen=True)
class ModelsConfig:
    pose: str = ""
    face: str = ""


@dataclass(frozen=True)
class CameraConfig:
    horizontal_fov_deg: float = _num(60.0, 20.0, 150.0)
    interpupillary_mm: float = _num(63.0, 45.0, 80.0)
    view: str = field(default="auto", metadata={"choices": ("auto", "front", "side")})


@dataclass(frozen=True)
class DetectionConfig:
    min_visibility: float = _num(0.5, 0.0, 1.0)
    away_after_s: float = _num(1.0, 0.0, 60.0)
    min_brightness: float = _num(35.0, 0.0, 255.0)
    min_contrast: float = _num(12.0, 0.0, 128.0)
    min_quality: float = _num(0.5, 0.0, 1.0)
    min_body_extent: float = _num(0.06, 0.0, 1.0)


@dataclass(frozen=True)
class CalibrationConfig:
    auto_seconds: float = _num(5.0, 1.0, 600.0)
    min_samples: int = _num(5, 1, 10_000)


@dataclass(frozen=True)
class SmoothingConfig:
    window_samples: int = _num(5, 1, 100)
    hysteresis_deg: float = _num(3.0, 0.0, 20.0)
    hysteresis_pct: float = _num(3.0, 0.0, 20.0)
    enter_samples: int = _num(3, 1, 100)
    leave_samples: int = _num(2, 1, 100)


@dataclass(frozen=True)
class ThresholdsConfig:
    neck_flexion_caution_deg: float = _num(10.0, 0.0, 90.0)
    neck_flexion_poor_deg: float = _num(20.0, 0.0, 90.0)
    neck_extension_caution_deg: float = _num(5.0, 0.0, 90.0)
    neck_extension_poor_deg: float = _num(12.0, 0.0, 90.0)
    head_roll_caution_deg: float = _num(10.0, 0.0, 90.0)
    head_roll_poor_deg: float = _num(20.0, 0.0, 90.0)
    head_yaw_caution_deg: float = _num(15.0, 0.0, 90.0)
    head_yaw_poor_deg: float = _num(30.0, 0.0, 90.0)
    head_yaw_hold_s: float = _num(10.0, 0.0, 3600.0)
    shoulder_tilt_caution_deg: float = _num(5.0, 0.0, 45.0)
    shoulder_tilt_poor_deg: float = _num(10.0, 0.0, 45.0)
    shrug_caution_pct: float = _num(90.0, 10.0, 100.0)
    shrug_poor_pct: float = _num(80.0, 10.0, 100.0)
    slouch_caution_pct: float = _num(90.0, 10.0, 100.0)
    slouch_poor_pct: float = _num(80.0, 10.0, 100.0)
    forward_head_caution_pct: float = _num(107.0, 100.0, 300.0)
    forward_head_poor_pct: float = _num(115.0, 100.0, 300.0)
    side_ear_shoulder_caution_deg: float = _num(50.0, 0.0, 90.0)
    side_ear_shoulder_poor_deg: float = _num(45.0, 0.0, 90.0)
    side_head_forward_caution_deg: float = _num(7.0, 0.0, 90.0)
    side_head_forward_poor_deg: float = _num(14.0, 0.0, 90.0)
    trunk_flexion_caution_deg: float = _num(20.0, 0.0, 90.0)
    trunk_flexion_poor_deg: float = _num(60.0, 0.0, 90.0)
    distance_near_caution_cm: float = _num(50.0, 10.0, 200.0)
    distance_far_caution_cm: float = _num(100.0, 10.0, 300.0)


@dataclass(frozen=True)
class PostureReminderConfig:
    enabled: bool = True
    poor_hold_s: float = _num(60.0, 1.0, 3600.0)
    caution_hold_s: float = _num(300.0, 1.0, 14400.0)
    clear_after_good_s: float = _num(10.0, 0.0, 600.0)
    glance_s: float = _num(5.0, 0.0, 600.0)
    cooldown_s: float = _num(600.0, 0.0, 14400.0)


@dataclass(frozen=True)
class BreakReminderConfig:
    enabled: bool = True
    after_presence_s: float = _num(3000.0, 10.0, 28800.0)
    natural_break_s: float = _num(300.0, 1.0, 7200.0)
    repeat_s: float = _num(600.0, 10.0, 14400.0)


@dataclass(frozen=True)
class StretchReminderConfig:
    enabled: bool = True
    every_presence_s: float = _num(3600.0, 10.0, 28800.0)
    static_posture_s: float = _num(1800.0, 10.0, 28800.0)


@dataclass(frozen=True)
class EyesReminderConfig:
    enabled: bool = True
    every_presence_s: float = _num(1200.0, 10.0, 14400.0)


@dataclass(frozen=True)
class HydrationReminderConfig:
    enabled: bool = False
    every_s: float = _num(3600.0, 60.0, 28800.0)


@dataclass(frozen=True)
class RemindersConfig:
    snooze_default_s: float = _num(900.0, 10.0, 86400.0)
    min_gap_s: float = _num(60.0, 0.0, 3600.0)
    # Most time one sample gap may add to the reminder timers: a stalled source must not
    # count as hours at the desk. Keep it above the sampling interval.
    max_sample_gap_s: float = _num(5.0, 0.5, 600.0)
    posture: PostureReminderConfig = field(default_factory=PostureReminderConfig)
    breaks: BreakReminderConfig = field(default_factory=BreakReminderConfig)
    stretch: StretchReminderConfig = field(default_factory=StretchReminderConfig)
    eyes: EyesReminderConfig = field(default_factory=EyesReminderConfig)
    hydration: HydrationReminderConfig = field(default_factory=HydrationReminderConfig)


@dataclass(frozen=True)
class LiveConfig:
    rate_hz: float = _num(2.0, 0.1, 30.0)
    poor_rate_hz: float = _num(5.0, 0.1, 30.0)
    away_rate_hz: float = _num(0.5, 0.05, 30.0)


@dataclass(frozen=True)
class NotificationsConfig:
    backend: str = field(default="auto", metadata={
        "choices": ("auto", "dbus", "macos", "windows", "terminal", "none")})
    quiet_hours: str = field(default="", metadata={"pattern": "quiet_hours"})


@dataclass(frozen=True)
class HistoryConfig:
    record: bool = True
    retention_days: int = _num(90, 1, 36500)


@dataclass(frozen=True)
class Config:
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    thresholds: ThresholdsConfig = field(default_factory=ThresholdsConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    live: LiveConfig = field(default_factory=LiveConfig)
    notifications: NotificationsConfig = field(default_factory=NotificationsConfig)
    history: HistoryConfig = field(default_factory=HistoryConfig)


# Pairs that must be ordered: (key of the milder band, key of the stricter band, relation)
_ORDERED = (
    ("thresholds.neck_flexion_caution_deg", "thresholds.neck_flexion_poor_deg", "<="),
    ("thresholds.neck_extension_caution_deg", "thresholds.neck_extension_poor_deg", "<="),
    ("thresholds.head_roll_caution_deg", "thresholds.head_roll_poor_deg", "<="),
    ("thresholds.head_yaw_caution_deg", "thresholds.head_yaw_poor_deg", "<="),
    ("thresholds.shoulder_tilt_caution_deg", "thresholds.shoulder_tilt_poor_deg", "<="),
    ("thresholds.shrug_caution_pct", "thresholds.shrug_poor_pct", ">="),
    ("thresholds.slouch_caution_pct", "thresholds.slouch_poor_pct", ">="),
    ("thresholds.forward_head_caution_pct", "thresholds.forward_head_poor_pct", "<="),
    ("thresholds.side_ear_shoulder_caution_deg", "thresholds.side_ear_shoulder_poor_deg", ">="),
    ("thresholds.side_head_forward_caution_deg", "thresholds.side_head_forward_poor_deg", "<="),
    ("thresholds.trunk_flexion_caution_deg", "thresholds.trunk_flexion_poor_deg", "<="),
    ("thresholds.distance_near_caution_cm", "thresholds.distance_far_caution_cm", "<"),
)

# TOML table names that differ from the attribute names
_TOML_NAMES = {"breaks": "break"}


def _toml_name(attr: str) -> str:
    return _TOML_NAMES.get(attr, attr)


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    by_toml = {_toml_name(f.name): f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        f = by_toml.get(key)
        if f is None:
            raise UserError(f"config: unknown key '{path}'")
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, dict):
                raise UserError(f"config: '{path}' must be a table")
            kwargs[f.name] = _build(kind, value, f"{path}.")
            continue
        kwargs[f.name] = _check_value(path, kind, value, f.metadata)
    return cls(**kwargs)


def _check_value(path: str, kind: Any, value: Any, meta: typing.Mapping[str, Any]) -> Any:
    if isinstance(kind, types.UnionType):
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    if kind is bool:
        if not isinstance(value, bool):
            raise UserError(f"config: '{path}' must be true or false, not {value!r}")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise UserError(f"config: '{path}' must be a string, not {value!r}")
        choices = meta.get("choices")
        if choices and value not in choices:
            raise UserError(f"config: '{path}' must be one of {', '.join(choices)}, not {value!r}")
        if meta.get("pattern") == "quiet_hours" and value and not _is_time_range(value):
            raise UserError(f"config: '{path}' must look like \"22:00-07:00\", not {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(f"config: '{path}' must be a whole number, not {value!r}")
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UserError(f"config: '{path}' must be a number, not {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise UserError(f"config: '{path}' must be a finite number, not {value!r}")
    lo, hi = meta.get("min"), meta.get("max")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise UserError(f"config: '{path}' = {value} is out of range [{lo}, {hi}]")
    return value


def _is_time_range(text: str) -> bool:
    parts = text.split("-")
    if len(parts) != 2:
        return False
    try:
        for part in parts:
            hours, minutes = part.split(":")
            if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59 and len(minutes) == 2):
                return False
    except ValueError:
        return False
    return True


def _get(cfg: Config, dotted: str) -> Any:
    obj: Any = cfg
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _check_order(cfg: Config) -> None:
    for milder, stricter, rel in _ORDERED:
        a, b = _get(cfg, milder), _get(cfg, stricter)
        ok = {"<=": a <= b, ">=": a >= b, "<": a < b}[rel]
        if not ok:
            raise UserError(f"config: '{milder}' ({a}) must be {rel} '{stricter}' ({b})")


def config_from_dict(data: dict[str, Any]) -> Config:
    cfg = _build(Config, data, "")
    _check_order(cfg)
    return cfg


def load_config(path: Path | None) -> Config:
    """Load a user config file over the defaults; None gives the defaults."""
    if path is None:
        return Config()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"config: file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"config: cannot read {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"config: {path} is not valid TOML: {exc}") from None
    return config_from_dict(data)


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """The config as nested plain data with the TOML table names (for JSON output)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        out[_toml_name(f.name)] = (
            config_to_dict(value) if dataclasses.is_dataclass(value) else value
        )
    return out
