"""The import directions of ARCHITECTURE.md, enforced by import-linter (the contracts are in
pyproject.toml): they hold on this tree, and a copy of the tree that breaks one fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the package under `root` (which comes first on the import path)."""
    assert LINT_IMPORTS.exists(), "lint-imports is missing: install the test extras"
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_contracts_hold_on_this_tree() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# (module that gains the import, the import, what lint-imports must say)
VIOLATIONS = [
    ("core/reminders.py", "import time", "posture_watch.core is not allowed to import time"),
    ("core/reminders.py", "import datetime",
     "posture_watch.core is not allowed to import datetime"),
    ("core/messages.py", "import random", "posture_watch.core is not allowed to import random"),
    ("core/scoring.py", "import cv2", "posture_watch.core is not allowed to import cv2"),
    ("core/calibration.py", "import numpy", "posture_watch.core is not allowed to import numpy"),
    ("core/metrics.py", "import mediapipe",
     "posture_watch.core is not allowed to import mediapipe"),
    ("core/summary.py", "import sqlite3", "posture_watch.core is not allowed to import sqlite3"),
    ("core/pipeline.py", "from posture_watch.history import store",
     "posture_watch.core is not allowed to import posture_watch.history"),
    ("core/rules.py", "from posture_watch import config",
     "posture_watch.core is not allowed to import posture_watch.config"),
    ("vision/camera.py", "from posture_watch.history import rows",
     "posture_watch.vision is not allowed to import posture_watch.history"),
    ("history/recording.py", "from posture_watch.vision import sources",
     "posture_watch.history is not allowed to import posture_watch.vision"),
    ("desktop/notify.py", "from posture_watch.monitor import monitor",
     "posture_watch.desktop is not allowed to import posture_watch.monitor"),
    ("monitor/monitor.py", "from posture_watch.evaluation import labels",
     "posture_watch.monitor is not allowed to import posture_watch.evaluation"),
    ("analysis/analyze.py", "from posture_watch.commands import live",
     "posture_watch.analysis is not allowed to import posture_watch.commands"),
]


@pytest.mark.parametrize(("module", "line", "message"), VIOLATIONS,
                         ids=[f"{m}: {line}" for m, line, _ in VIOLATIONS])
def test_breaking_a_contract_fails(tmp_path: Path, module: str, line: str,
                                   message: str) -> None:
    shutil.copytree(REPO / "posture_watch", tmp_path / "posture_watch",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "posture_watch" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    assert message in " ".join(result.stdout.split()), result.stdout
