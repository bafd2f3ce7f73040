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
