"""`run --preview`: the annotated frame, and a real window on a virtual X display."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from posture_watch.core.types import PoseSample, PostureState, State
from posture_watch.monitor.preview import annotate
from tests.conftest import RECORDINGS, run_cli
from tests.synthetic import front_person


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


@pytest.mark.model
def test_run_preview_opens_a_window_on_a_virtual_display(tmp_path: Path) -> None:
    xvfb = shutil.which("Xvfb")
    xwininfo = shutil.which("xwininfo")
    assert xvfb and xwininfo, "needs Debian's xvfb and x11-utils (.ci/run installs them)"
    display = ":97"
    server = subprocess.Popen([xvfb, display, "-screen", "0", "800x600x24", "-nolisten",
                               "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = dict(os.environ, DISPLAY=display, POSTURE_WATCH_RUNTIME_DIR=str(runtime),
               QT_QPA_PLATFORM="xcb")
    config = tmp_path / "quiet.toml"
    config.write_text('[notifications]\nbackend = "none"\n')
    proc = subprocess.Popen([sys.executable, "-m", "posture_watch", "run", "--preview",
                             "--camera", str(RECORDINGS / "upright_hopper.mp4"), "--config",
                             str(config)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        found = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            tree = subprocess.run([xwininfo, "-root", "-tree"], env=env, capture_output=True,
                                  text=True, check=False).stdout
            if "posture-watch" in tree:
                found = tree
                break
            time.sleep(0.5)
        assert found, proc.communicate(timeout=10) if proc.poll() is not None else "no window"
        assert run_cli("stop", env=env).returncode == 0
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
        server.terminate()
        server.wait(timeout=10)
