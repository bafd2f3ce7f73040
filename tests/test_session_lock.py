"""Pausing on the screen lock and on sleep (issue 11, part 2), with real D-Bus: two
private dbus-daemons stand in for the session and the system bus, and the test emits the
screen saver's and logind's signals on them, as a desktop would; a stand-in logind serves
the session's LockedHint."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from jeepney import DBusAddress, new_signal
from jeepney.io.blocking import open_dbus_connection

from posture_watch.core.context import Condition, Kind
from posture_watch.sensors.session_lock import LockReading, SessionLock
from tests.support.dbus import HANG_GUARD_S, LogindService, private_bus, session_found_by
from tests.support.live import (
    RunProcess,
    control,
    run_env,
    wait_for_status,
    wait_until_running,
)

SAVERS = {"org.freedesktop.ScreenSaver": "/org/freedesktop/ScreenSaver",
          "org.gnome.ScreenSaver": "/org/gnome/ScreenSaver"}


def emit(address: str, path: str, interface: str, member: str, value: bool) -> None:
    with open_dbus_connection(address) as conn:
        conn.send(new_signal(DBusAddress(path, interface=interface), member, "b", (value,)))


def screen_saver(address: str, name: str, active: bool) -> None:
    emit(address, SAVERS[name], name, "ActiveChanged", active)


def sleep_signal(address: str, going: bool) -> None:
    emit(address, "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
         "PrepareForSleep", going)


def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + HANG_GUARD_S
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_the_sensor_follows_both_screen_savers_and_sleep() -> None:
    with private_bus() as session, private_bus() as system:
        lock = SessionLock(session.address, system.address)
        lock.start()
        try:
            assert lock.reading() == LockReading()
            screen_saver(session.address, "org.freedesktop.ScreenSaver", True)
            until(lambda: lock.reading().locked, "the lock")
            screen_saver(session.address, "org.gnome.ScreenSaver", False)
            screen_saver(session.address, "org.gnome.ScreenSaver", True)
            screen_saver(session.address, "org.freedesktop.ScreenSaver", False)
            time.sleep(0.3)  # give a wrong unlock the chance to arrive: GNOME still says so
            assert lock.reading().locked
            screen_saver(session.address, "org.gnome.ScreenSaver", False)
            until(lambda: not lock.reading().locked, "the unlock")
            sleep_signal(system.address, True)
            until(lambda: lock.reading().asleep, "sleep")
            sleep_signal(system.address, False)
            until(lambda: not lock.reading().away, "the wake-up")
        finally:
            lock.close()


def test_no_bus_means_never_locked() -> None:
    lock = SessionLock("unix:path=/nonexistent/bus", "unix:path=/nonexistent/system")
    lock.start()
    assert lock.reading() == LockReading()
    assert lock.read() == ()
    lock.close()


@pytest.mark.parametrize("found_by", ["session id", "pid"])
def test_the_sensor_follows_loginds_locked_hint(found_by: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    pid = session_found_by(found_by, monkeypatch)
    with private_bus() as system:
        logind = LogindService(system.address, session_id="c7", pid=pid,
                               LockedHint=("b", True))
        lock = SessionLock("unix:path=/nonexistent/bus", system.address)
        try:
            lock.start()
            assert lock.read() == (Condition(Kind.LOCKED),)  # locked before we started
            logind.set(LockedHint=("b", False))
            until(lambda: not lock.reading().locked, "the unlock")
            logind.set(IdleHint=("b", True))  # another property: no word on the lock
            logind.set(LockedHint=("b", True))
            until(lambda: lock.reading().locked, "the lock")
            sleep_signal(system.address, True)  # sleep is still heard beside it
            until(lambda: lock.reading().asleep, "sleep")
            assert lock.read() == (Condition(Kind.ASLEEP), Condition(Kind.LOCKED))
            logind.set(LockedHint=("b", False))
            sleep_signal(system.address, False)
            until(lambda: not lock.reading().away, "the unlock and the wake-up")
        finally:
            lock.close()
            logind.close()


@pytest.mark.model
def test_run_lets_go_of_the_camera_while_locked(tmp_path: Path,
                                                endless_upright_clip: Path) -> None:
    config = tmp_path / "short_break.toml"
    config.write_text('[notifications]\nbackend = "none"\n'
                      "[reminders.break]\nnatural_break_s = 2\n")
    with private_bus() as session, private_bus() as system:
        env = dict(run_env(tmp_path), DBUS_SESSION_BUS_ADDRESS=session.address,
                   DBUS_SYSTEM_BUS_ADDRESS=system.address)
        proc = RunProcess([sys.executable, "-m", "posture_watch", "run", "--camera",
                           str(endless_upright_clip), "--json", "--no-tray", "--config",
                           str(config)], env, tmp_path)
        try:
            wait_until_running(tmp_path, proc)
            screen_saver(session.address, "org.freedesktop.ScreenSaver", True)
            locked = wait_for_status(tmp_path, proc, lambda s: s["state"] == "locked"
                                     and not s["camera"]["opened"], "the lock to pause it")
            # Locked for longer than a natural break, on the monitor's own clock.
            wait_for_status(tmp_path, proc,
                            lambda s: s["running_s"] >= locked["running_s"] + 2.5,
                            "the lock to outlast a natural break")
            screen_saver(session.address, "org.freedesktop.ScreenSaver", False)
            back = wait_for_status(tmp_path, proc, lambda s: s["camera"]["opened"]
                                   and s["state"] not in ("locked", "paused"),
                                   "the unlock to resume it")
            assert back["timers"]["natural_breaks"] >= 1
            sleep_signal(system.address, True)
            wait_for_status(tmp_path, proc, lambda s: s["state"] == "asleep"
                            and not s["camera"]["opened"], "sleep to pause it")
            sleep_signal(system.address, False)
            wait_for_status(tmp_path, proc, lambda s: s["camera"]["opened"]
                            and s["state"] != "asleep", "the wake-up to resume it")
            assert control(tmp_path, "stop").returncode == 0
            out, err = proc.communicate(timeout=120)
        finally:
            proc.stop_if_running()
    assert proc.returncode == 0, err
    docs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    events = [(doc["kind"], doc["event"]) for doc in docs if doc["type"] == "context"
              and doc["kind"] in ("locked", "asleep")]
    assert events == [("locked", "began"), ("locked", "ended"), ("asleep", "began"),
                      ("asleep", "ended")]
