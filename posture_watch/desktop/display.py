"""Whether a desktop is there to show the tray and windows on (no Qt import)."""

from __future__ import annotations

import importlib.util
import os
import sys


def has_display(env: dict[str, str] | None = None, platform: str = sys.platform) -> bool:
    """macOS and Windows sessions always have one; elsewhere X11 or Wayland must be named."""
    env = dict(os.environ) if env is None else env
    if platform in ("darwin", "win32"):
        return True
    if env.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
        return False
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def qt_available() -> bool:
    return importlib.util.find_spec("PySide6") is not None
