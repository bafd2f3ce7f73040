"""The desktop layer's parts without a display: when it turns on, what the tray says,
the icons (drawn by Qt offscreen), the engine's break commands and the settings file."""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path

import numpy as np
import pytest

from posture_watch.core.reminders import ReminderEngine
from posture_watch.core.settings import Config, RemindersConfig
from posture_watch.core.types import PostureState, ReminderKind, State
from posture_watch.desktop.display import has_display
from posture_watch.desktop.shell.tray_state import icon_state, tooltip


def test_a_display_is_needed_on_linux_only() -> None:
    assert not has_display({}, "linux")
    assert has_display({"DISPLAY": ":0"}, "linux")
    assert has_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not has_display({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert has_display({}, "darwin") and has_display({}, "win32")


def _status(state: str = "good", **extra) -> dict:
    return {"state": state, "running_s": 100.0, "paused_until_s": None,
            "camera": {"source": "0", "gaps": []},
            "timers": {"presence_s": 3900.0, "next_break_in_s": 720.0, "snoozed_s": 0.0},
            **extra}


def test_the_tray_says_the_state_the_time_at_the_desk_and_the_next_break() -> None:
    assert icon_state(_status()) == "good"
    assert tooltip(_status(), earlier_today_s=1200.0) == (
        "posture-watch: posture good\nAt the desk today: 85 min\nNext break in 12 min")
    paused = _status("paused", paused_until_s=1000.0)
    assert icon_state(paused) == "paused"
    assert "Resumes in 15 min" in tooltip(paused)
    lost = _status(camera={"source": "0", "gaps": [{"start_s": 5.0, "end_s": None}]})
    assert icon_state(lost) == "camera"
    assert tooltip(lost).startswith("posture-watch: camera unavailable (0)")
    in_call = _status("camera in use", camera={"source": "0", "gaps": [],
                                                "in_use_by": ["zoom (pid 42)"]})
    assert icon_state(in_call) == "camera"
    assert tooltip(in_call).startswith("posture-watch: camera in use by zoom (pid 42)\n")
    assert icon_state(_status("starting")) == "unknown"
    assert tooltip(_status("starting")).startswith("posture-watch: starting")


def test_the_tray_says_when_working_hours_begin_and_why_reminders_wait() -> None:
    off = _status("off hours", context={"camera_off": "outside working hours, back Mon 08:00",
                                        "quiet": None})
    assert icon_state(off) == "paused"
    assert tooltip(off) == ("posture-watch: outside working hours, back Mon 08:00\n"
                            "At the desk today: 65 min")
    presenting = _status(context={"camera_off": None,
                                  "quiet": "full-screen window (Impress)"})
    assert icon_state(presenting) == "good"  # still measured
    assert "Reminders wait: full-screen window (Impress)" in tooltip(presenting)


@pytest.fixture(scope="module")
def qt_offscreen():
    """Qt drawing with no display; the setting is put back for the tests after these."""
    before = os.environ.get("QT_QPA_PLATFORM")
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    yield QApplication.instance() or QApplication([])
    if before is None:
        os.environ.pop("QT_QPA_PLATFORM", None)
    else:
        os.environ["QT_QPA_PLATFORM"] = before


def _grey(state: str) -> np.ndarray:
    from posture_watch.desktop.shell.icons import state_pixmap

    image = state_pixmap(state).toImage()
    out = np.zeros((image.height(), image.width()))
    for y in range(image.height()):
        for x in range(image.width()):
            c = image.pixelColor(x, y)
            out[y, x] = (0.3 * c.red() + 0.59 * c.green() + 0.11 * c.blue()) * c.alphaF()
    return out


def test_every_state_icon_reads_without_colour(qt_offscreen) -> None:
    from posture_watch.desktop.shell.icons import STATES

    greys = {state: _grey(state) for state in STATES}
    for a in STATES:
        for b in STATES:
            if a < b:  # in grey alone, two icons differ over many pixels
                assert (np.abs(greys[a] - greys[b]) > 40).sum() > 150, (a, b)


def _present(t: float) -> PostureState:
    return PostureState(t, State.GOOD, 100)


def test_break_now_postpone_skip_and_finish() -> None:
    config = RemindersConfig()
    engine = ReminderEngine(config)
    for t in range(0, 601, 1):
        engine.update(_present(float(t)))
    asked = engine.break_now(600.0)
    assert asked.kind is ReminderKind.BREAK and asked.reason == "asked for"
    engine.postpone_break(120.0)
    assert engine.snapshot()["next_break_in_s"] == 120.0
    engine.skip_break()
    snap = engine.snapshot()
    assert snap["skipped_breaks"] == 1 and snap["natural_breaks"] == 0
    assert snap["next_break_in_s"] == config.breaks.after_presence_s
    engine.finish_break()
    snap = engine.snapshot()
    assert snap["natural_breaks"] == 1 and snap["since_break_s"] == 0.0
    with pytest.raises(ValueError):
        engine.postpone_break(0.0)


def test_the_settings_file_is_written_commented_and_loads(tmp_path: Path, monkeypatch) -> None:
    from posture_watch.config import load_config
    from posture_watch.monitor.desktop_hooks import config_file

    monkeypatch.setenv("POSTURE_WATCH_CONFIG_DIR", str(tmp_path))
    path = config_file(None, Config())
    assert path == tmp_path / "config.toml"
    text = path.read_text()
    assert "# tray = true" in text and "[desktop]" in text
    tomllib.loads(text)
    assert load_config(path) == Config()  # all commented: the defaults
    given = tmp_path / "mine.toml"
    assert config_file(given, Config()) == given  # --config wins, never rewritten


def test_pause_until_tomorrow_ends_at_midnight() -> None:
    from posture_watch.desktop.shell.tray import seconds_to_tomorrow

    assert seconds_to_tomorrow(dt.datetime(2026, 11, 29, 22, 0)) == 7200
    assert seconds_to_tomorrow(dt.datetime(2026, 11, 29, 23, 59, 30)) == 60


def test_the_chime_is_a_short_soft_wav_scaled_by_the_volume() -> None:
    import io
    import wave

    from posture_watch.desktop.chime import FULL_SCALE, NOTE_S, RATE, chime_wav

    def samples(volume: float) -> np.ndarray:
        with wave.open(io.BytesIO(chime_wav(volume))) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
            return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")

    loud, soft = samples(1.0), samples(0.4)
    assert len(loud) == 2 * round(NOTE_S * RATE)  # two notes, under a second
    assert 0.8 * FULL_SCALE < np.abs(loud).max() / 32767 <= FULL_SCALE
    assert np.abs(soft).max() == pytest.approx(0.4 * np.abs(loud).max(), rel=0.01)
    assert abs(int(loud[0])) < 100 and abs(int(loud[-1])) < 0.05 * 32767  # no click
    assert not samples(0.0).any()


def _fake_player(folder: Path, name: str = "pw-play") -> tuple[Path, Path]:
    """A stand-in sound player on PATH: waits for a go file, then keeps what it was given."""
    go, out = folder / "go", folder / "played.wav"
    player = folder / name
    player.write_text(f'#!/bin/sh\nwhile [ ! -e "{go}" ]; do sleep 0.05; done\n'
                      f'cp "$1" "{out}"\n')
    player.chmod(0o755)
    return go, out


def _wait_for_file(path: Path) -> None:
    import time

    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline, f"nothing at {path}"
        time.sleep(0.05)


def test_the_chime_plays_without_waiting_for_the_player(tmp_path: Path, monkeypatch) -> None:
    from posture_watch.desktop.chime import Chime, chime_wav

    go, out = _fake_player(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    chime = Chime(0.5, tmp_path / "sounds")
    assert chime.play()  # returns while the player still waits for `go`
    go.touch()
    _wait_for_file(out)
    assert out.read_bytes() == chime_wav(0.5)
    chime.close()
    assert not list((tmp_path / "sounds").iterdir())  # its file is removed


def _reminder(kind: ReminderKind):
    from posture_watch.core.types import Reminder

    return Reminder(0.0, kind, "Title", "Message", "why")


def test_reminders_chime_only_with_sound_on_and_outside_quiet_hours(
        tmp_path: Path, monkeypatch) -> None:
    from posture_watch.core.settings import DesktopConfig, NotificationsConfig
    from posture_watch.desktop.notices import DesktopNotices

    go, out = _fake_player(tmp_path)
    go.touch()
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    now = dt.datetime.now()
    quiet = f"{now - dt.timedelta(hours=1):%H:%M}-{now + dt.timedelta(hours=1):%H:%M}"
    silent = DesktopNotices(Config(notifications=NotificationsConfig(backend="none",
                                                                     quiet_hours=quiet),
                                   desktop=DesktopConfig(sound=True)))
    assert silent.quiet()
    silent(_reminder(ReminderKind.BREAK))
    assert DesktopNotices(Config(notifications=NotificationsConfig(backend="none"))).chime is None
    loud = DesktopNotices(Config(notifications=NotificationsConfig(backend="none"),
                                 desktop=DesktopConfig(sound=True, sound_volume=0.2)))
    loud(_reminder(ReminderKind.EYES))  # eye breaks stay silent
    assert silent.chime.plays == 0 and loud.chime.plays == 0
    loud(_reminder(ReminderKind.POSTURE), shown=True)  # shown on a screen: still chimes
    assert loud.chime.plays == 1
    _wait_for_file(out)
    loud.close()


def test_a_setting_is_changed_in_place(tmp_path: Path) -> None:
    from posture_watch.config import load_config
    from posture_watch.errors import UserError
    from posture_watch.monitor.desktop_hooks import config_file, set_setting

    written = config_file(tmp_path / "new.toml", Config())  # given: not created
    assert not written.exists()
    set_setting(written, "desktop", "nudge", True)  # a new file, a new table
    assert load_config(written).desktop.nudge
    own = tmp_path / "own" / "config.toml"
    own.parent.mkdir()
    own.write_text("# mine\n[history]\nrecord = false\n[desktop]\n# nudge = false\n"
                   "sound = true\n")
    set_setting(own, "desktop", "nudge", True)  # the commented line, replaced
    text = own.read_text()
    assert text.startswith("# mine\n") and "# nudge" not in text and "nudge = true" in text
    config = load_config(own)
    assert config.desktop.nudge and config.desktop.sound and not config.history.record
    set_setting(own, "desktop", "nudge", False)
    assert not load_config(own).desktop.nudge
    broken = tmp_path / "broken.toml"
    broken.write_text("[desktop]\nnudge = 3\n")
    with pytest.raises(UserError):
        set_setting(broken, "history", "record", True)  # the file did not load anyway
    assert broken.read_text() == "[desktop]\nnudge = 3\n"  # left as it was


def _qt_loaded_by_desktop_shell(options: str, env: dict[str, str]) -> str:
    """In a fresh process: what `run` decides about the desktop shell, and whether Qt got
    imported for it."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from posture_watch.core.settings import Config\n"
            "from posture_watch.monitor.run import RunOptions, _desktop_shell\n"
            f"shell = _desktop_shell(Config(), RunOptions({options}))\n"
            "print(shell is None, 'PySide6' in sys.modules)\n")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=True).stdout.strip()


def test_run_leaves_qt_alone_when_asked_or_headless() -> None:
    base = {k: v for k, v in os.environ.items()
            if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    display = dict(base, DISPLAY=":99")  # named; nothing would answer there
    headless = base
    assert _qt_loaded_by_desktop_shell("tray=False", display) == "True False"  # --no-tray
    assert _qt_loaded_by_desktop_shell("json_lines=True", display) == "True False"
    assert _qt_loaded_by_desktop_shell("", headless) == "True False"
    # The same call with a display named does load Qt (and finds no X server there).
    assert _qt_loaded_by_desktop_shell("", display) == "True True"
