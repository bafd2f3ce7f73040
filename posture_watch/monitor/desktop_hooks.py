"""What the desktop shell's menu can reach, wired from the monitor's side: today's
summary, the report, the settings file (written from the defaults, all commented out, the
first time it is opened)."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from posture_watch.core.settings import Config
from posture_watch.errors import UserError
from posture_watch.paths import data_dir, user_config_file

# The shipped defaults with their sources (beside the package in a source checkout).
_DEFAULTS = Path(__file__).resolve().parents[2] / "config" / "default.toml"


def summary_text(config: Config) -> str:
    from rich.console import Console

    from posture_watch.history import queries
    from posture_watch.history.store import Store

    try:
        with Store() as store:
            since, until, label = queries.period("today", None, dt.datetime.now(), store)
            result = queries.load_summary(store, since, until, label,
                                          config.reminders.breaks.after_presence_s,
                                          thresholds=config.thresholds)
    except UserError as exc:
        return f"The history cannot be read: {exc}"
    out = io.StringIO()
    queries.print_summary(result, Console(file=out, width=88, color_system=None))
    return out.getvalue()


def present_today_s() -> float:
    """Time at the desk recorded today before this session (0 when nothing is recorded
    or the history cannot be read)."""
    from posture_watch.history import queries
    from posture_watch.history.store import Store

    try:
        with Store() as store:
            since, until, label = queries.period("today", None, dt.datetime.now(), store)
            result = queries.load_summary(store, since, until, label, 3000.0)
    except UserError:
        return 0.0
    return float(result.stats.present_s)


def write_report() -> Path:
    from posture_watch.history.report import write_report as write
    from posture_watch.history.store import Store

    now = time.time()
    with Store() as store:
        return write(store, now - 7 * 86400, now, data_dir() / "report.html")


def _default_lines(config: Config) -> list[str]:
    """The shipped default.toml (with the sources), or the defaults written out."""
    if _DEFAULTS.is_file():
        return _DEFAULTS.read_text(encoding="utf-8").splitlines()
    from posture_watch.config import config_to_dict

    lines: list[str] = []

    def table(prefix: str, data: dict) -> None:
        scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
        if scalars:
            lines.extend(["", f"[{prefix}]"] if prefix else [])
            lines.extend(f"{k} = {json.dumps(v)}" for k, v in scalars.items())
        for key, value in data.items():
            if isinstance(value, dict):
                table(f"{prefix}.{key}" if prefix else key, value)

    table("", config_to_dict(Config()))
    return lines


def config_file(given: Path | None, config: Config) -> Path:
    """The settings file in use; the user's own one is created on first use."""
    if given is not None:
        return given
    path = user_config_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = ["# posture-watch settings. Uncomment a key to change it; every key is shown",
                 "# with its default.", ""]
        for line in _default_lines(config):
            lines.append(line if not line or line.startswith(("#", "[")) else f"# {line}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def calibrate_in_window(control: Callable[[dict[str, Any]], dict[str, Any]], camera: str,
                        profile: str | None, config_path: Path | None) -> None:
    """The tray's "Calibrate…": pause (the camera is let go), open the calibration window
    in its own process on the same camera, and when it saved the profile, judge against
    it from then on; then resume. Returns at once; the waiting is on a thread."""
    name = profile or "desk"
    control({"command": "pause", "args": {}})
    argv = [sys.executable, "-m", "posture_watch", "calibrate", "--camera", camera,
            "--window", "--save", name]
    if config_path is not None:
        argv += ["--config", str(config_path)]

    def wait() -> None:
        try:
            saved = subprocess.run(argv, check=False).returncode == 0
        except OSError:
            saved = False
        if saved:
            control({"command": "profile", "args": {"name": name}})
        control({"command": "resume", "args": {}})

    threading.Thread(target=wait, name="calibration window", daemon=True).start()


def set_setting(path: Path, table: str, key: str, value: bool) -> None:
    """Set `key` in `[table]` of the settings file, keeping everything else as it was: the
    key's line (commented out or not) is replaced, or added to the table, or the table is
    added. A result that no longer loads is undone (UserError)."""
    from posture_watch.config import load_config

    before = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = before.splitlines()
    setting = f"{key} = {'true' if value else 'false'}"
    header = next((i for i, line in enumerate(lines) if line.strip() == f"[{table}]"), None)
    if header is None:
        lines += ["", f"[{table}]", setting]
    else:
        end = next((i for i in range(header + 1, len(lines))
                    if lines[i].lstrip().startswith("[")), len(lines))
        found = next((i for i in range(header + 1, end)
                      if lines[i].lstrip("# ").split("=")[0].strip() == key
                      and "=" in lines[i]), None)
        if found is None:
            lines.insert(header + 1, setting)
        else:
            lines[found] = setting
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        load_config(path)
    except UserError:
        path.write_text(before, encoding="utf-8")
        raise
