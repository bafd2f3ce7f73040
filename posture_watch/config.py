"""Loading the configuration: a TOML file over the defaults, validated.

The settings themselves (defaults, ranges, choices) are the dataclasses in
``posture_watch.core.settings``. A user file only needs the keys it changes. Unknown keys,
wrong types and out-of-range values are errors that name the key: a broken file never
silently becomes the defaults.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from posture_watch.core.settings import Config
from posture_watch.core.working_hours import DAYS, parse_ranges
from posture_watch.errors import UserError

# Pairs that must be ordered: (key of the milder band, key of the stricter band, relation)
_ORDERED = (
    ("thresholds.neck_flexion_caution_deg", "thresholds.neck_flexion_poor_deg", "<="),
    ("thresholds.neck_extension_caution_deg", "thresholds.neck_extension_poor_deg", "<="),
    ("thresholds.head_roll_caution_deg", "thresholds.head_roll_poor_deg", "<="),
    ("thresholds.head_yaw_caution_deg", "thresholds.head_yaw_poor_deg", "<="),
    ("thresholds.shoulder_tilt_caution_deg", "thresholds.shoulder_tilt_poor_deg", "<="),
    ("thresholds.shrug_caution_pct", "thresholds.shrug_poor_pct", ">="),
    ("thresholds.forward_head_caution_pct", "thresholds.forward_head_poor_pct", "<="),
    ("thresholds.side_ear_shoulder_caution_deg", "thresholds.side_ear_shoulder_poor_deg", ">="),
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
    if typing.get_origin(kind) is tuple:  # a list of names
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                                  for v in value):
            raise UserError(f"config: '{path}' must be a list of names, not {value!r}")
        return tuple(v.strip() for v in value)
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
        if meta.get("pattern") == "working_hours":
            try:
                parse_ranges(value)
            except ValueError as exc:
                raise UserError(f"config: '{path}': {exc} (several: \"09:00-12:30, "
                                "13:30-17:30\")") from None
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


def _check_working_hours(cfg: Config) -> None:
    hours = cfg.working_hours
    if hours.enabled and not any(getattr(hours, day).strip() for day in DAYS):
        raise UserError("config: 'working_hours.enabled' is true but no day has hours; "
                        "give some, e.g. monday = \"09:00-17:30\"")


def config_from_dict(data: dict[str, Any]) -> Config:
    cfg = _build(Config, data, "")
    _check_order(cfg)
    _check_working_hours(cfg)
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
        if dataclasses.is_dataclass(value):
            value = config_to_dict(value)
        elif isinstance(value, tuple):
            value = list(value)  # as TOML writes it
        out[_toml_name(f.name)] = value
    return out
