"""Named calibration profiles stored as JSON files in the user data directory."""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path

from posture_watch.core.calibration import Baseline
from posture_watch.errors import UserError
from posture_watch.paths import data_dir

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def profiles_dir() -> Path:
    return data_dir() / "profiles"


def _path(name: str) -> Path:
    if not _NAME.match(name) or name.endswith(".json"):
        raise UserError(f"profile name {name!r}: use letters, digits, '-', '_' or '.'")
    return profiles_dir() / f"{name}.json"


def load_baseline_file(path: Path) -> Baseline:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"calibration file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"calibration file {path} is unreadable: {exc}") from None
    return Baseline.from_dict(data, origin=str(path))


def save_baseline_file(baseline: Baseline, path: Path) -> None:
    """Write atomically so a crash never leaves half a profile behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(baseline.to_dict(), indent=2, sort_keys=True)
    try:
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False,
                                         suffix=".tmp", encoding="utf-8") as tmp:
            tmp.write(text)
        os.replace(tmp.name, path)
    except OSError as exc:
        raise UserError(f"cannot save calibration to {path}: {exc}") from None


def load_profile(name: str) -> Baseline:
    path = _path(name)
    if not path.exists():
        known = ", ".join(list_profiles()) or "none saved yet"
        raise UserError(f"no calibration profile named {name!r} (known: {known}); "
                        f"create it with 'posture-watch calibrate PATH --from S:E --save {name}'")
    return load_baseline_file(path)


def save_profile(name: str, baseline: Baseline) -> Path:
    """Save as a JSON file (the profile's home) and keep a copy in the history store, so
    the history knows the neutral each session was judged against."""
    path = _path(name)
    save_baseline_file(baseline, path)
    from posture_watch.history.store import Store

    try:
        with Store() as store:
            store.save_profile(name, baseline)
    except UserError as exc:
        logging.getLogger(__name__).warning("profile not copied into the history: %s", exc)
    return path


def list_profiles() -> list[str]:
    directory = profiles_dir()
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.json"))
