"""A real `run` on a file camera, in context: outside working hours it never opens the
camera and says when it starts; while a listed app runs, a due break waits and shows once
the app has gone (posture is still measured meanwhile)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.live import (
    RunProcess,
    control,
    run_env,
    wait_for,
    wait_for_status,
    wait_until_running,
)

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _run(tmp_path: Path, clip: Path, config: str) -> RunProcess:
    path = tmp_path / "context.toml"
    path.write_text('[notifications]\nbackend = "none"\n' + config)
    return RunProcess([sys.executable, "-m", "posture_watch", "run", "--camera", str(clip),
                       "--json", "--no-tray", "--config", str(path)],
                      run_env(tmp_path), tmp_path)


def _holds_open(pid: int, path: Path) -> bool:
    target = str(path.resolve())
    fds = Path(f"/proc/{pid}/fd")
    for fd in fds.iterdir():
        try:
            if os.readlink(fd) == target:
                return True
        except OSError:
            continue
    return False


@pytest.mark.model
def test_outside_working_hours_the_camera_is_never_opened(tmp_path: Path,
                                                          endless_upright_clip: Path) -> None:
    # Every day's hours: one hour, starting three hours from now (so never now).
    start = (dt.datetime.now().hour + 3) % 24
    hours = f'"{start:02d}:00-{(start + 1) % 24:02d}:00"'
    config = "[working_hours]\nenabled = true\n" + "".join(f"{d} = {hours}\n" for d in DAYS)
    proc = _run(tmp_path, endless_upright_clip, config)
    try:
        status = wait_for_status(tmp_path, proc, lambda s: s["state"] == "off hours",
                                 "the monitor to say it is outside working hours")
        context = status["context"]
        assert context["camera_off"].startswith("outside working hours, back ")
        assert context["camera_off"].endswith(f"{start:02d}:00")
        assert 2 * 3600 <= context["starts_in_s"] <= 3 * 3600
        assert not status["camera"]["opened"]
        assert not _holds_open(proc.pid, endless_upright_clip)
        text = control(tmp_path, "status").stdout
        assert "the camera stays closed until then" in text
        assert control(tmp_path, "stop").returncode == 0
        out, err = proc.communicate(timeout=120)
    finally:
        proc.stop_if_running()
    assert proc.returncode == 0, err
    assert "outside working hours" in err
    assert '"type": "sample"' not in out


@pytest.mark.model
def test_a_break_due_while_a_listed_app_runs_waits_for_it(tmp_path: Path,
                                                         endless_upright_clip: Path) -> None:
    app = tmp_path / "fakezoom"
    app.symlink_to("/bin/sleep")  # its process is called "fakezoom"
    presenting = subprocess.Popen([str(app), "600"])
    config = ('[context]\napps = ["fakezoom"]\nidle = false\nfullscreen = false\n'
              "do_not_disturb = false\n"
              "[reminders.break]\nafter_presence_s = 10\n")
    proc = _run(tmp_path, endless_upright_clip, config)
    try:
        wait_until_running(tmp_path, proc)
        held = wait_for_status(tmp_path, proc,
                               lambda s: s["context"]["held_reminders"] >= 1,
                               "the due break to be held")
        assert held["context"]["quiet"] == f"fakezoom (pid {presenting.pid}) is running"
        assert held["state"] in ("good", "caution", "poor")  # still measured
        presenting.kill()
        presenting.wait(60)
        wait_for_status(tmp_path, proc, lambda s: s["context"]["quiet"] is None
                        and s["context"]["held_reminders"] == 0, "the app to be gone")
        shown = wait_for(lambda: [r for r in proc.lines() if r["type"] == "reminder"
                                  and r["kind"] == "break" and r["held"] is None],
                         "the held break to show", proc=proc)
        assert control(tmp_path, "stop").returncode == 0
        _, err = proc.communicate(timeout=120)
    finally:
        presenting.kill()
        proc.stop_if_running()
    assert proc.returncode == 0, err
    lines = proc.lines()
    first = next(r for r in lines if r["type"] == "reminder" and r["kind"] == "break")
    assert first["held"] == f"fakezoom (pid {presenting.pid}) is running"
    assert "held during fakezoom" in shown[0]["reason"]
    assert shown[0]["t"] > first["t"]
    kinds = [(r["kind"], r["event"]) for r in lines if r["type"] == "context"]
    assert kinds == [("app", "began"), ("app", "ended")]
