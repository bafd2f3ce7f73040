"""`run --preview`: the annotated frame, and a real window on a virtual X display."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from posture_watch.core.types import PoseSample, PostureState, State
from posture_watch.monitor.preview import WINDOW, annotate
from tests.conftest import run_cli
from tests.support.desktop import start_xvfb
from tests.synthetic import front_person

HANG_GUARD_S = 120.0  # the window opens in seconds; this only catches a hang


def test_annotate_draws_the_landmarks_and_the_verdict() -> None:
    image = np.zeros((480, 640, 3), dtype=np.uint8)
    person = front_person()  # shoulders at (170, 320) and (470, 320)
    sample = PoseSample(0.0, 640, 480, (person,))
    poor = annotate(image, sample, PostureState(0.0, State.POOR, 40))
    assert not np.array_equal(poor, image)
    assert poor[320, 170].any() and poor[320, 470].any()  # both shoulders marked
    assert poor[320, 320].any()  # the shoulder line
    assert poor[400, 50].sum() == 0  # nothing drawn where there is nothing
    good = annotate(image, sample, PostureState(0.0, State.GOOD, 100))
    assert not np.array_equal(good[320, 170], poor[320, 170])  # coloured by the state
    assert not image.any()  # the frame itself is left untouched


@pytest.fixture
def display() -> Iterator[str]:
    server, number = start_xvfb(800, 600)
    try:
        yield number
    finally:
        server.terminate()
        server.wait(timeout=HANG_GUARD_S)


def window_tree(xwininfo: str, env: dict[str, str]) -> str:
    return subprocess.run([xwininfo, "-root", "-tree"], env=env, capture_output=True,
                          text=True, check=True, timeout=HANG_GUARD_S).stdout


@pytest.mark.model
def test_run_preview_opens_a_window_on_a_virtual_display(
        tmp_path: Path, display: str, endless_upright_clip: Path) -> None:
    xwininfo = shutil.which("xwininfo")
    assert xwininfo, "needs Debian's xvfb and x11-utils (.ci/run installs them)"
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = dict(os.environ, DISPLAY=display, POSTURE_WATCH_RUNTIME_DIR=str(runtime),
               POSTURE_WATCH_DATA_DIR=str(tmp_path / "data"), QT_QPA_PLATFORM="xcb")
    config = tmp_path / "quiet.toml"
    config.write_text('[notifications]\nbackend = "none"\n')
    out, err = tmp_path / "run.out", tmp_path / "run.err"
    with out.open("w") as stdout, err.open("w") as stderr:  # a full pipe would stall it
        proc = subprocess.Popen([sys.executable, "-m", "posture_watch", "run", "--preview",
                                 "--camera", str(endless_upright_clip), "--config",
                                 str(config)], env=env, stdout=stdout, stderr=stderr)
    try:
        # Until the window is in the tree: waiting on the run's exit between looks, so a
        # run that dies is reported at once; the deadline only catches a hang.
        deadline = time.monotonic() + HANG_GUARD_S
        while f'"{WINDOW}"' not in (tree := window_tree(xwininfo, env)):
            assert time.monotonic() < deadline, f"no {WINDOW!r} window:\n{tree}"
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=0.2)
                pytest.fail(f"run exited {code} before its window showed: {err.read_text()}")
        assert run_cli("stop", env=env).returncode == 0
        assert proc.wait(timeout=HANG_GUARD_S) == 0, err.read_text()
        assert "Traceback" not in err.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
