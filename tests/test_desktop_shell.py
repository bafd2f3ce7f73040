"""The desktop shell in a real display, checked from outside the monitor's process.

Each test starts Xvfb split into two monitors, with openbox, xcompmgr and trayer (Debian),
runs `posture-watch run` on a file camera with its timers scaled down, and looks at what
appears with xdotool and xwininfo and in screenshots (saved under the test's folder; the
last run's are kept in tests/artifacts/desktop for a person to look at). Every wait is on
an event (a window, a state); the deadline only catches a hang.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from posture_watch.config import load_config
from posture_watch.desktop.shell.break_screen import BREAK_TITLE, WELCOME_TITLE
from posture_watch.desktop.shell.calibration_window import CALIBRATION_TITLE
from posture_watch.desktop.shell.nudge_overlay import NUDGE_TITLE
from posture_watch.desktop.shell.summary_window import SUMMARY_TITLE
from posture_watch.errors import UserError
from posture_watch.monitor.control.client import send_command
from tests.conftest import RECORDINGS, run_cli
from tests.support.clips import desk_scenario
from tests.support.desktop import HANG_GUARD_S, MONITOR, Desktop, desktop, wait_for

pytestmark = pytest.mark.model
ARTIFACTS = Path(__file__).parent / "artifacts" / "desktop"
BACKGROUND = (0x33, 0x2A, 0x1E)  # style.BACKGROUND in BGR, as OpenCV reads screenshots


@contextlib.contextmanager
def running(desk: Desktop, tmp: Path, clip: Path, config: str) -> Iterator[subprocess.Popen]:
    """`run` on the clip in the test's desktop, with its own runtime, data and config."""
    runtime = tmp / "runtime"
    runtime.mkdir(mode=0o700)
    desk.env.update(POSTURE_WATCH_RUNTIME_DIR=str(runtime),
                    POSTURE_WATCH_DATA_DIR=str(tmp / "data"),
                    POSTURE_WATCH_CONFIG_DIR=str(tmp / "config"))
    settings = tmp / "settings.toml"
    settings.write_text('[notifications]\nbackend = "none"\n' + config)
    err = tmp / "run.err"
    with (tmp / "run.out").open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "posture_watch", "run", "--camera",
                                 str(clip), "--config", str(settings)], env=desk.env,
                                stdout=stdout, stderr=stderr)
    try:
        yield proc
        assert "Traceback" not in err.read_text(), err.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
        shutil.copytree(desk.shots, ARTIFACTS, dirs_exist_ok=True)


def status(desk: Desktop) -> dict:
    """The monitor's status over its control socket (the CLI's client, in this process:
    polling does not start a Python process per look)."""
    try:
        reply = send_command("status", directory=Path(desk.env["POSTURE_WATCH_RUNTIME_DIR"]),
                             timeout_s=10.0)
    except UserError:
        return {}
    return reply if reply.get("ok") else {}


def countdown(title: str) -> int:
    match = re.search(r"(\d+):(\d\d)$", title)
    assert match, title
    return int(match[1]) * 60 + int(match[2])


def press(desk: Desktop, window: str, keys: str) -> None:
    desk.run("xdotool", "windowactivate", "--sync", window, "key", "--clearmodifiers", keys)


def test_break_screen_on_each_monitor_closes_when_the_user_leaves(tmp_path: Path) -> None:
    clip = desk_scenario(RECORDINGS, [("upright", 24), ("away", 18), ("upright", 300)],
                         tmp_path / "desk.mp4")
    config = "[reminders.break]\nafter_presence_s = 10\nnatural_break_s = 15\n"
    with desktop(tmp_path / "shots") as desk, running(desk, tmp_path, clip, config) as proc:
        windows = wait_for("the break screens", lambda: (
            w if len(w := desk.windows(BREAK_TITLE)) == 2 else None), proc)
        lefts = sorted(desk.geometry(w)[0] for w in windows)
        assert lefts[0] < MONITOR[0] <= lefts[1], f"not one per monitor: {lefts}"
        first = countdown(desk.title(windows[0]))
        assert 0 < first <= 15
        shot = desk.screenshot("break_screen")
        for window in windows:  # each window painted in the shell's colours
            x, y, _width, height = desk.geometry(window)
            patch = shot[y + height // 2 - 40: y + height // 2 - 20, x + 8: x + 20]
            assert np.abs(patch.astype(int) - BACKGROUND).max() < 12, patch.mean((0, 1))
        wait_for("the countdown to move", lambda: any(
            countdown(desk.title(w)) < first for w in desk.windows(BREAK_TITLE)), proc)
        # The user walks away (24 s into the clip): the screens close by themselves ...
        wait_for("the break screens to close", lambda: not desk.windows(BREAK_TITLE), proc)
        # ... and on return, after longer than the break, a welcome-back note.
        wait_for("the welcome-back note", lambda: desk.windows(WELCOME_TITLE), proc)
        desk.screenshot("welcome_back")
        assert status(desk)["timers"]["natural_breaks"] >= 1
        assert run_cli("stop", env=desk.env).returncode == 0
        assert proc.wait(timeout=HANG_GUARD_S) == 0


def test_postpone_and_skip_on_the_full_screen_break(tmp_path: Path) -> None:
    clip = desk_scenario(RECORDINGS, [("upright", 600)], tmp_path / "desk.mp4")
    config = '[desktop]\nbreak_screen = "fullscreen"\npostpone_s = 120\npostpone_max = 1\n'
    with desktop(tmp_path / "shots") as desk, running(desk, tmp_path, clip, config) as proc:
        wait_for("a judged sample", lambda: status(desk).get("state") == "good", proc)
        assert run_cli("break", env=desk.env).returncode == 0  # "take a break now"
        windows = wait_for("the break screens", lambda: (
            w if len(w := desk.windows(BREAK_TITLE)) == 2 else None), proc)
        assert sorted(desk.geometry(w) for w in windows) == [
            (0, 0, *MONITOR), (MONITOR[0], 0, *MONITOR)]  # each monitor covered whole
        press(desk, windows[0], "alt+p")
        wait_for("postpone to close them", lambda: not desk.windows(BREAK_TITLE), proc)
        assert 100 <= status(desk)["timers"]["next_break_in_s"] <= 120
        assert run_cli("break", env=desk.env).returncode == 0
        windows = wait_for("the break screens again", lambda: desk.windows(BREAK_TITLE), proc)
        desk.screenshot("break_screen_postponed_once")  # postpone greyed out: 1 allowed
        press(desk, windows[0], "alt+p")  # refused: the one postpone is used
        press(desk, windows[0], "alt+s")
        wait_for("skip to close them", lambda: not desk.windows(BREAK_TITLE), proc)
        timers = status(desk)["timers"]
        assert timers["skipped_breaks"] == 1
        assert timers["next_break_in_s"] > 2900  # a full interval ahead again
        assert run_cli("stop", env=desk.env).returncode == 0
        assert proc.wait(timeout=HANG_GUARD_S) == 0


def _tray_icon(desk: Desktop, pid: int) -> str | None:
    for window in desk.run("xdotool", "search", "--onlyvisible", "--pid", str(pid),
                           check=False).split():
        _x, y, width, height = desk.geometry(window)
        if width <= 48 and height <= 48 and y < 40:
            return window
    return None


def _icon_colour(desk: Desktop, icon: str, name: str) -> np.ndarray:
    """The mean colour (BGR) of the icon's most saturated pixels."""
    x, y, width, height = desk.geometry(icon)
    patch = desk.screenshot(name)[y: y + height, x: x + width].reshape(-1, 3).astype(int)
    saturation = patch.max(axis=1) - patch.min(axis=1)
    return patch[saturation >= np.percentile(saturation, 80)].mean(axis=0)


def _is(bgr: np.ndarray, colour: str) -> bool:
    blue, green, red = bgr
    if colour == "green":
        return green > red + 40 and green > blue + 20
    return red > green + 60 and red > blue + 60


def test_tray_icon_follows_the_state_nudge_and_quit_from_the_menu(tmp_path: Path) -> None:
    clip = desk_scenario(RECORDINGS, [("upright", 12), ("slouched", 40), ("upright", 300)],
                         tmp_path / "desk.mp4")
    config = "[reminders.posture]\npoor_hold_s = 3\n[desktop]\nnudge = true\n"
    with desktop(tmp_path / "shots") as desk, running(desk, tmp_path, clip, config) as proc:
        icon = wait_for("the tray icon", lambda: _tray_icon(desk, proc.pid), proc)
        # The icon follows the state (polled once a second): green, then red.
        wait_for("a green icon", lambda: _is(_icon_colour(desk, icon, "tray_good"),
                                             "green"), proc)
        wait_for("poor posture", lambda: status(desk).get("state") == "poor", proc)
        wait_for("a red icon", lambda: _is(_icon_colour(desk, icon, "tray_poor"), "red"), proc)
        # Held past the hold time: the glow on both monitors' edges, faint, click-through.
        nudges = wait_for("the nudge", lambda: (
            w if len(w := desk.windows(NUDGE_TITLE)) == 2 else None), proc)
        assert {desk.geometry(w)[0] for w in nudges} == {0, MONITOR[0]}
        wait_for("the glow to fade in", lambda: _edge_tint(desk) > 15, proc)
        shot = desk.screenshot("nudge")
        assert np.abs(shot[400, 640].astype(int) - shot[400, 1900]).max() <= 2  # inside: untouched
        wait_for("upright again", lambda: status(desk).get("state") == "good", proc)
        wait_for("the nudge to fade out", lambda: not desk.windows(NUDGE_TITLE), proc)
        _open_menu(desk, proc, icon)
        desk.screenshot("tray_menu")
        desk.run("xdotool", "key", "q")  # Quit
        assert proc.wait(timeout=HANG_GUARD_S) == 0


def _open_menu(desk: Desktop, proc: subprocess.Popen, icon: str) -> str:
    """Right-click the tray icon once no menu is open, and wait for the menu.

    Two presses of a button within Qt's double-click time and distance (400 ms, 5 px) are
    a double-click, and the tray icon ignores a right double-click: a click at the same
    spot just after the last menu closed opened nothing. So the click lands at whichever
    end of the icon is farther from the pointer (which rests where the last click was):
    never a double-click, however soon it follows, and nothing to wait out."""
    wait_for("no tray menu open", lambda: not _menu(desk, proc.pid), proc)
    x, y, width, height = desk.geometry(icon)
    ends = (x + 3, x + width - 4)
    assert ends[1] - ends[0] > 10, f"a tray icon {width} px wide"
    pointer_x, _pointer_y = desk.pointer()
    desk.click(max(ends, key=lambda end: abs(end - pointer_x)), y + height // 2, button=3)
    return wait_for("the tray menu", lambda: _menu(desk, proc.pid), proc)


def test_tooltip_and_calibrate_from_the_tray(tmp_path: Path) -> None:
    clip = desk_scenario(RECORDINGS, [("upright", 900)], tmp_path / "desk.mp4")
    config = "[calibration]\ntwo_pose = false\ncapture_s = 3\n"  # an upright clip: one pose
    with desktop(tmp_path / "shots") as desk, running(desk, tmp_path, clip, config) as proc:
        icon = wait_for("the tray icon", lambda: _tray_icon(desk, proc.pid), proc)
        wait_for("a green icon", lambda: _is(_icon_colour(desk, icon, "tray_good"),
                                             "green"), proc)
        x, y, width, height = desk.geometry(icon)
        desk.move_pointer(x + width // 2, y + height // 2)
        tip = wait_for("the tooltip", lambda: next(
            (w for w in desk.run("xdotool", "search", "--onlyvisible", "--pid",
                                 str(proc.pid), check=False).split()
             if desk.geometry(w)[2] > 150 and desk.geometry(w)[3] < 120), None), proc)
        desk.screenshot("tray_tooltip")  # three lines: state, time at the desk, next break
        assert desk.geometry(tip)[3] >= 45
        _open_menu(desk, proc, icon)
        desk.run("xdotool", "key", "c")  # Calibrate…: the monitor lets go of the camera
        [window] = wait_for("the calibration window", lambda: desk.windows(
            f"{CALIBRATION_TITLE}: upright$"), proc)
        assert status(desk)["state"] == "paused"
        press(desk, window, "alt+s")
        wait_for("the profile saved", lambda: desk.windows(f"{CALIBRATION_TITLE}: saved$"),
                 proc)
        press(desk, window, "alt+d")
        # Judged against the new profile from then on, and watching again.
        wait_for("the new profile in use", lambda: (
            s := status(desk)).get("calibration", {}).get("profile") == "desk"
            and s["state"] != "paused", proc)
        assert "camera" in status(desk)["calibration"]["source"]
        assert (tmp_path / "data" / "profiles" / "desk.json").exists()
        assert run_cli("stop", env=desk.env).returncode == 0
        assert proc.wait(timeout=HANG_GUARD_S) == 0


def _menu_item(desk: Desktop, proc: subprocess.Popen, icon: str, *keys: str) -> None:
    """Open the tray menu and pick an item by its mnemonic keys."""
    _open_menu(desk, proc, icon)
    desk.run("xdotool", "key", *keys)
    wait_for("the menu to close", lambda: not _menu(desk, proc.pid), proc)


def test_every_tray_menu_item(tmp_path: Path) -> None:
    clip = desk_scenario(RECORDINGS, [("upright", 900)], tmp_path / "desk.mp4")
    opened = tmp_path / "opened.txt"
    bin_dir = tmp_path / "bin"  # a stand-in for the desktop's opener: notes what it got
    bin_dir.mkdir()
    (bin_dir / "xdg-open").write_text(f'#!/bin/sh\necho "$1" >> "{opened}"\n')
    (bin_dir / "xdg-open").chmod(0o755)
    with desktop(tmp_path / "shots") as desk:
        desk.env["PATH"] = f"{bin_dir}:{desk.env['PATH']}"
        with running(desk, tmp_path, clip, "") as proc:
            icon = wait_for("the tray icon", lambda: _tray_icon(desk, proc.pid), proc)
            wait_for("good posture", lambda: status(desk).get("state") == "good", proc)
            _menu_item(desk, proc, icon, "p", "1")  # Pause > For 15 minutes
            paused = wait_for("paused", lambda: (s := status(desk))["state"] == "paused"
                              and s, proc)
            assert paused["paused_until_s"] - paused["running_s"] == pytest.approx(900, abs=5)
            wait_for("the paused icon", lambda: _is_slate(_icon_colour(desk, icon,
                                                                       "tray_paused")), proc)
            _menu_item(desk, proc, icon, "r")  # Resume
            wait_for("watching again", lambda: status(desk)["state"] == "good", proc)
            _menu_item(desk, proc, icon, "s")  # Snooze reminders (the default 15 min)
            assert status(desk)["timers"]["snoozed_s"] == pytest.approx(900, abs=5)
            _menu_item(desk, proc, icon, "b")  # Take a break now
            [window, _] = wait_for("the break screens", lambda: (
                w if len(w := desk.windows(BREAK_TITLE)) == 2 else None), proc)
            press(desk, window, "alt+s")
            wait_for("skipped", lambda: not desk.windows(BREAK_TITLE), proc)
            _menu_item(desk, proc, icon, "u")  # Today's summary
            wait_for("the summary", lambda: desk.windows(f"^{SUMMARY_TITLE}$"), proc)
            desk.screenshot("today_summary")
            _menu_item(desk, proc, icon, "e")  # Open the report
            _menu_item(desk, proc, icon, "f")  # Open the config file
            wait_for("both opened", lambda: opened.exists()
                     and len(opened.read_text().split()) == 2, proc)
            report, settings = (Path(p.removeprefix("file://"))
                                for p in opened.read_text().split())
            assert report == tmp_path / "data" / "report.html"
            assert "<html" in report.read_text().lower()
            assert settings == tmp_path / "settings.toml"  # the --config in use
            _menu_item(desk, proc, icon, "q")
            assert proc.wait(timeout=HANG_GUARD_S) == 0


def _is_slate(bgr: np.ndarray) -> bool:
    blue, green, red = bgr  # icons.COLOURS["paused"], #4a6b8a
    return blue > red + 40 and blue > green + 15


def _edge_tint(desk: Desktop) -> int:
    """How much warmer (red over blue) the left edge is than the screen's grey."""
    pixel = desk.screenshot("nudge_probe")[400, 3].astype(int)
    return int(pixel[2] - pixel[0])


def _menu(desk: Desktop, pid: int) -> str | None:
    """The tray menu: taller than the icon, hanging from the top right corner under it."""
    for window in desk.run("xdotool", "search", "--onlyvisible", "--pid", str(pid),
                           check=False).split():
        x, y, width, height = desk.geometry(window)
        if height > 150 and y < 60 and x + width > 2 * MONITOR[0] - 60:
            return window
    return None


def _calibrate(desk: Desktop, tmp: Path, clip: Path) -> subprocess.Popen:
    desk.env.update(POSTURE_WATCH_DATA_DIR=str(tmp / "data"),
                    POSTURE_WATCH_CONFIG_DIR=str(tmp / "config"))
    return subprocess.Popen([sys.executable, "-m", "posture_watch", "calibrate", "--camera",
                             str(clip), "--window", "--one-pose", "--seconds", "3",
                             "--save", "gui"], env=desk.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_the_calibration_window_guides_and_saves_a_profile(tmp_path: Path) -> None:
    clip = desk_scenario(RECORDINGS, [("upright", 600)], tmp_path / "desk.mp4")
    with desktop(tmp_path / "shots") as desk:
        proc = _calibrate(desk, tmp_path, clip)
        try:
            [window] = wait_for("the window, ready for step 1", lambda: desk.windows(
                f"{CALIBRATION_TITLE}: upright$"), proc)
            x, y, _width, height = desk.geometry(window)
            # The live picture with the landmarks: wait for the first frame to be drawn.
            wait_for("the live picture", lambda: desk.screenshot("calibration_preview")[
                y + 60: y + height - 60, x + 60: x + 580].std() > 20, proc)
            press(desk, window, "alt+s")
            wait_for("the profile saved", lambda: desk.windows(f"{CALIBRATION_TITLE}: saved$"),
                     proc)
            desk.screenshot("calibration_saved")
            press(desk, window, "alt+n")  # the nudge, chosen during calibration
            press(desk, window, "alt+d")
            out, err = proc.communicate(timeout=HANG_GUARD_S)
        finally:
            if proc.poll() is None:
                proc.kill()
            shutil.copytree(desk.shots, ARTIFACTS, dirs_exist_ok=True)
    assert proc.returncode == 0, err
    assert "saved profile 'gui'" in out
    settings = tmp_path / "config" / "config.toml"  # the user's own, written for the nudge
    assert "nudge on" in out and load_config(settings).desktop.nudge
    profile = json.loads((tmp_path / "data" / "profiles" / "gui.json").read_text())
    assert profile["samples"] >= 5 and "camera" in profile["source"]


def test_the_calibration_window_says_what_to_fix(tmp_path: Path) -> None:
    clip = desk_scenario(RECORDINGS, [("away", 600)], tmp_path / "empty.mp4")
    with desktop(tmp_path / "shots") as desk:
        proc = _calibrate(desk, tmp_path, clip)
        try:
            [window] = wait_for("the window", lambda: desk.windows(
                f"{CALIBRATION_TITLE}: upright$"), proc)
            press(desk, window, "alt+s")
            wait_for("the refusal", lambda: desk.windows(f"{CALIBRATION_TITLE}: refused$"),
                     proc)
            desk.screenshot("calibration_refused")
            press(desk, window, "alt+c")
            _out, err = proc.communicate(timeout=HANG_GUARD_S)
        finally:
            if proc.poll() is None:
                proc.kill()
            shutil.copytree(desk.shots, ARTIFACTS, dirs_exist_ok=True)
    assert proc.returncode == 2
    assert "no one was in view" in err and "Traceback" not in err
    assert not (tmp_path / "data" / "profiles" / "gui.json").exists()
