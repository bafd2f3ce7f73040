"""Where posture-watch keeps its files (platformdirs, with environment overrides)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "posture-watch"


def data_dir() -> Path:
    """User data directory; POSTURE_WATCH_DATA_DIR overrides it."""
    override = os.environ.get("POSTURE_WATCH_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))


def user_config_file() -> Path:
    """The user's own settings file, read by `run`, `calibrate` and `summary` when no
    --config is given; POSTURE_WATCH_CONFIG_DIR overrides its folder."""
    override = os.environ.get("POSTURE_WATCH_CONFIG_DIR")
    folder = Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))
    return folder / "config.toml"
