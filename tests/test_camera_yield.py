"""Giving the camera back to another program (issue 11, part 1): the sensor that lists the
camera's other users, and a real `run` that lets go of its file camera while a second
process holds the same file open (the watch's timing is in test_context.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from posture_watch.core.context import Condition, Kind
from posture_watch.sensors.camera_users import CameraUsers, camera_path
from tests.support.live import (
    control,
    start_run,
    wait_for_status,
    wait_until_running,
)

HOLDER = ("import sys\n"
          "f = open(sys.argv[1], 'rb')\n"
          "print('open', flush=True)\n"
          "sys.stdin.read()\n")  # holds the file until its stdin closes


def _holder(path: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
    return proc


def _release(proc: subprocess.Popen) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=60)


def test_the_sensor_lists_other_processes_holding_the_camera(tmp_path: Path) -> None:
    camera = tmp_path / "camera.bin"
    camera.write_bytes(b"frames")
    users = CameraUsers(str(camera))
    assert users.target == camera.resolve()
    with camera.open("rb"):  # this process's own descriptor never counts
        assert users.read() == ()
        holder = _holder(camera)
        try:
            [found] = users.users()
            assert found.pid == holder.pid and found.name.startswith("python")
            assert str(found) == f"{found.name} (pid {holder.pid})"
            assert users.read() == (Condition(Kind.CALL, str(found)),)
        finally:
            _release(holder)
    assert users.read() == ()
    assert camera_path("7") == (None if not Path("/dev/video7").exists()
                                else Path("/dev/video7").resolve())
    assert CameraUsers(str(tmp_path / "missing")).read() == ()  # nothing to look for


@pytest.mark.model
def test_run_gives_the_camera_to_another_process_and_takes_it_back(
        tmp_path: Path, endless_upright_clip: Path) -> None:
    proc = start_run(tmp_path, endless_upright_clip, "--no-tray")
    holder = None
    try:
        wait_until_running(tmp_path, proc)
        opened_at = time.monotonic()
        holder = _holder(endless_upright_clip)
        waiting = wait_for_status(
            tmp_path, proc, lambda s: s["state"] == "camera in use"
            and not s["camera"]["opened"], "the monitor to let go of the camera")
        released_s = time.monotonic() - opened_at
        [user] = waiting["camera"]["in_use_by"]
        assert user.startswith("python") and user.endswith(f"(pid {holder.pid})")
        assert "camera in use by" in control(tmp_path, "status").stdout
        closed_at = time.monotonic()
        _release(holder)
        holder = None
        back = wait_for_status(tmp_path, proc, lambda s: s["camera"]["opened"]
                               and s["state"] not in ("camera in use", "paused"),
                               "the monitor to take the camera back")
        resumed_s = time.monotonic() - closed_at
        assert back["camera"]["in_use_by"] == [] and back["camera"]["given_up_s"] > 0
        samples_before = len(proc.sample_times())
        wait_for_status(tmp_path, proc, lambda s: len(proc.sample_times()) > samples_before,
                        "samples again")
        assert control(tmp_path, "stop").returncode == 0
        out, err = proc.communicate(timeout=120)
    finally:
        if holder is not None:
            _release(holder)
        proc.stop_if_running()
    assert proc.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()
              if line.startswith('{"type": "context"')]
    assert [(e["kind"], e["event"]) for e in events] == [("call", "began"), ("call", "ended")]
    assert events[0]["message"].startswith(f"camera in use by {user}")
    print(f"\ncamera released {released_s:.2f} s after another process opened it; "
          f"taken back {resumed_s:.2f} s after it closed (wall time, status polled)")
