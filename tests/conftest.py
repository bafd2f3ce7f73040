"""Shared fixtures: the real model files, and each recorded clip analysed once per session."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from posture_watch.analysis.analyze import Analysis, CalibrationChoice, analyze_path
from posture_watch.config import load_config
from posture_watch.core.settings import Config
from posture_watch.vision.landmarkers import ModelPaths, resolve_models

REPO = Path(__file__).resolve().parents[1]
RECORDINGS = REPO / "recordings"
FOOTAGE = REPO.parent / "shared" / "footage"


def clip_config(clip: Path) -> Path | None:
    """A clip's own test config (`X.config.toml` beside `X.mp4`), if it has one."""
    candidate = clip.with_name(clip.stem + ".config.toml")
    return candidate if candidate.exists() else None


# Longer than pytest-timeout lets a test run (pyproject.toml): a run on this clip never
# reaches its end before the test stops it.
ENDLESS_S = 600


@pytest.fixture(scope="session")
def endless_upright_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """upright_hopper looped at 1 fps for ENDLESS_S seconds, made once per test session."""
    from tests.support.clips import looped_clip

    return looped_clip(RECORDINGS / "upright_hopper.mp4", ENDLESS_S,
                       tmp_path_factory.mktemp("clips") / "endless_upright.mp4")


@pytest.fixture(scope="session")
def model_paths() -> ModelPaths:
    return resolve_models(Config())


@pytest.fixture(scope="session")
def analyze_clip(model_paths: ModelPaths) -> Callable[[Path], Analysis]:
    """Analyse a clip with its own config (or the defaults); each clip only once."""
    cache: dict[Path, Analysis] = {}

    def run(path: Path) -> Analysis:
        if path not in cache:
            config = load_config(clip_config(path))
            cache[path] = analyze_path(path, config, CalibrationChoice(), model_paths,
                                           progress=False)
        return cache[path]

    return run


def run_cli(*args: str, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m posture_watch ARGS` for real and capture its output."""
    return subprocess.run([sys.executable, "-m", "posture_watch", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600, check=False)
