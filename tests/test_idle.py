"""Keyboard and mouse idle time from each real source: the X11 screen saver extension of a
fresh Xvfb moved by xdotool, and stand-ins for GNOME Mutter's idle monitor and for logind on
private session and system buses."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest
from jeepney import HeaderFields, new_method_return

from posture_watch.core.context import Condition, Kind
from posture_watch.sensors.idle import IdleTime
from tests.support.dbus import (
    HANG_GUARD_S,
    BusService,
    LogindService,
    private_bus,
    session_found_by,
)
from tests.support.desktop import start_xvfb

NO_BUS = "unix:path=/nonexistent/bus"
X11 = "X11 screen saver extension"


def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + HANG_GUARD_S
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def idle_s(sensor: IdleTime) -> float:
    (condition,) = sensor.read()
    assert condition.kind is Kind.IDLE
    return condition.value


def monotonic_us() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


class MutterIdle:
    """GNOME Mutter's idle monitor as the session bus shows it, idle for `idle_ms`."""

    def __init__(self, address: str, idle_ms: int) -> None:
        self.idle_ms = idle_ms
        self.service = BusService(address, "org.gnome.Mutter.IdleMonitor", self._answer)

    def _answer(self, msg: Any) -> Any:
        fields = msg.header.fields
        if (fields.get(HeaderFields.path) == "/org/gnome/Mutter/IdleMonitor/Core"
                and fields.get(HeaderFields.interface) == "org.gnome.Mutter.IdleMonitor"
                and fields.get(HeaderFields.member) == "GetIdletime"):
            return new_method_return(msg, "t", (self.idle_ms,))
        return None


def test_x11_idle_grows_and_input_resets_it() -> None:
    server, display = start_xvfb(320, 240)
    try:
        sensor = IdleTime("", "", display)
        sensor.start()
        assert sensor.source == X11
        first = idle_s(sensor)
        until(lambda: idle_s(sensor) > first, "the idle time to grow")
        # Idle time never falls without input, so a reading after the move below one
        # before it shows the reset. A machine slower than the idle time read before
        # the move only makes the next round wait for a longer one.
        at_least_s, x = 0.25, 10
        while True:
            until(lambda least=at_least_s: idle_s(sensor) >= least,
                  f"{at_least_s} s without input")
            before = idle_s(sensor)
            subprocess.run(["xdotool", "mousemove", str(x), "10"], check=True,
                           env=dict(os.environ, DISPLAY=display), timeout=HANG_GUARD_S)
            after = idle_s(sensor)
            if after < before:
                break
            assert at_least_s < HANG_GUARD_S, f"the move left idle at {after} s"
            at_least_s, x = 2 * at_least_s, x + 10
        server.terminate()
        server.wait(timeout=HANG_GUARD_S)
        assert sensor.read() == ()  # the display went away: nothing else can tell here
        assert sensor.source is None
        sensor.close()
    finally:
        server.terminate()
        server.wait(timeout=HANG_GUARD_S)


def test_mutter_comes_first_and_logind_takes_over_when_it_goes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_SESSION_ID", raising=False)
    with private_bus() as session, private_bus() as system:
        mutter = MutterIdle(session.address, 4321)
        since_us = monotonic_us() - 90_000_000
        logind = LogindService(system.address, pid=os.getpid(), IdleHint=("b", True),
                               IdleSinceHintMonotonic=("t", since_us))
        sensor = IdleTime(session.address, system.address, "")
        try:
            sensor.start()
            assert sensor.source == "GNOME Mutter"
            assert sensor.read() == (Condition(Kind.IDLE, "4 s", 4.321),)
            mutter.idle_ms = 0  # the user touched the mouse
            assert sensor.read() == (Condition(Kind.IDLE, "0 s", 0.0),)
            mutter.service.close()  # GNOME Shell restarts
            idle = idle_s(sensor)
            assert sensor.source == "logind"
            assert 90.0 <= idle <= (monotonic_us() - since_us) / 1e6
        finally:
            sensor.close()
            mutter.service.close()
            logind.close()


@pytest.mark.parametrize("found_by", ["session id", "pid"])
def test_logind_idle_hint_counts_from_when_the_session_went_idle(
        found_by: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pid = session_found_by(found_by, monkeypatch)
    with private_bus() as system:
        logind = LogindService(system.address, session_id="c7", pid=pid)
        sensor = IdleTime(NO_BUS, system.address, "")
        try:
            sensor.start()
            assert sensor.source == "logind"
            assert logind.calls[0] == ("GetSession" if found_by == "session id"
                                       else "GetSessionByPID")
            assert sensor.read() == (Condition(Kind.IDLE, "0 s", 0.0),)  # not idle yet
            since_us = monotonic_us() - 90_000_000
            logind.set(IdleHint=("b", True), IdleSinceHintMonotonic=("t", since_us))
            idle = idle_s(sensor)
            assert 90.0 <= idle <= (monotonic_us() - since_us) / 1e6
            logind.set(IdleHint=("b", False))
            assert idle_s(sensor) == 0.0
        finally:
            sensor.close()
            logind.close()


def test_a_source_that_comes_later_is_found() -> None:
    with private_bus() as session:
        sensor = IdleTime(session.address, "", "", retry_s=0.0)
        sensor.start()
        assert sensor.read() == ()  # GNOME Shell not up yet
        mutter = MutterIdle(session.address, 1500)
        try:
            assert sensor.read() == (Condition(Kind.IDLE, "1 s", 1.5),)
        finally:
            sensor.close()
            mutter.service.close()


def test_no_bus_and_no_display_reads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_SESSION_ID", raising=False)
    with private_bus() as system:  # a system bus with no logind on it
        for sensor in (IdleTime(NO_BUS, NO_BUS, ""), IdleTime("", system.address, ""),
                       IdleTime("", "", "")):
            sensor.start()
            assert sensor.read() == ()
            assert sensor.source is None
            sensor.close()
