"""The sensors that tell the monitor to keep reminders off the screen, with the real things
they read: a private session bus with a notification server whose `Inhibited` flips, the
real `gsettings` on a keyfile in the test's directory, an X server with a window manager
(openbox) making real windows full-screen, and real processes under /proc.

Waits poll what the sensor reads until it says the expected thing; their deadline only
guards against a hang.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from Xlib import X, Xatom
from Xlib.display import Display
from Xlib.protocol import event

from posture_watch.core.context import Condition, Kind
from posture_watch.sensors.busy_apps import BusyApps
from posture_watch.sensors.do_not_disturb import (
    GNOME_DETAIL,
    GNOME_KEY,
    GNOME_SCHEMA,
    INHIBITED_DETAIL,
    DoNotDisturb,
)
from posture_watch.sensors.fullscreen import Fullscreen
from tests.support.dbus import HANG_GUARD_S, NotificationServer, private_bus
from tests.support.desktop import desktop, start_xvfb

INHIBITED = (Condition(Kind.DO_NOT_DISTURB, INHIBITED_DETAIL),)
BANNERS_OFF = (Condition(Kind.DO_NOT_DISTURB, GNOME_DETAIL),)
HOUR_S = 3600.0  # an interval no test run reaches


def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + HANG_GUARD_S
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


# --- do-not-disturb: the notification server's Inhibited ---------------------------------


@pytest.fixture
def no_gnome(monkeypatch: pytest.MonkeyPatch) -> None:
    """GNOME's switch at its default (banners on), whatever this machine's settings say."""
    monkeypatch.setenv("GSETTINGS_BACKEND", "memory")


@pytest.mark.usefixtures("no_gnome")
def test_do_not_disturb_follows_the_notification_servers_inhibited() -> None:
    with private_bus() as bus:
        server = NotificationServer(bus.address, inhibited=False)
        # Announcements only: the hourly re-ask never comes within the test.
        sensor = DoNotDisturb(bus.address, refresh_s=HOUR_S)
        try:
            sensor.start(wait_s=HANG_GUARD_S)
            assert sensor.read() == ()
            server.set_inhibited(True)
            until(lambda: sensor.read() == INHIBITED, "do-not-disturb on")
            server.set_inhibited(False)
            until(lambda: sensor.read() == (), "do-not-disturb off")
            server.set_inhibited(True)
            until(lambda: sensor.read() == INHIBITED, "do-not-disturb on again")
            server.close()  # the server leaves: nobody holds notifications back now
            until(lambda: sensor.read() == (), "the server to leave")
            server = NotificationServer(bus.address, inhibited=True)
            until(lambda: sensor.read() == INHIBITED, "the new server to be asked")
        finally:
            sensor.close()
            server.close()


@pytest.mark.usefixtures("no_gnome")
def test_do_not_disturb_is_asked_at_start_and_again_after_the_bus_restarts() -> None:
    with private_bus() as bus:
        server = NotificationServer(bus.address, inhibited=True)
        sensor = DoNotDisturb(bus.address, refresh_s=HOUR_S, retry_s=0.05)
        try:
            sensor.start(wait_s=HANG_GUARD_S)
            assert sensor.read() == INHIBITED  # start() returns once the server answered
            bus.stop()  # the server is still there, but the bus under it is gone
            until(lambda: sensor.read() == (), "the lost bus to clear it")
            server.close()
            bus.start()  # the same socket, a new daemon
            server = NotificationServer(bus.address, inhibited=True)
            until(lambda: sensor.read() == INHIBITED, "the sensor to reconnect")
        finally:
            sensor.close()
            server.close()


@pytest.mark.usefixtures("no_gnome")
def test_a_server_that_never_announces_is_asked_again() -> None:
    with private_bus() as bus:
        server = NotificationServer(bus.address, inhibited=False)
        sensor = DoNotDisturb(bus.address, refresh_s=0.05)
        try:
            sensor.start(wait_s=HANG_GUARD_S)
            assert sensor.read() == ()
            server.set_inhibited(True, announce=False)
            until(lambda: sensor.read() == INHIBITED, "the next ask to see it")
        finally:
            sensor.close()
            server.close()


@pytest.mark.usefixtures("no_gnome")
def test_no_notification_server_or_no_bus_reads_as_nothing() -> None:
    with private_bus() as bus:
        server = NotificationServer(bus.address)  # a server without the property
        sensor = DoNotDisturb(bus.address)
        try:
            sensor.start(wait_s=HANG_GUARD_S)
            assert sensor.read() == ()
        finally:
            sensor.close()
            server.close()
        sensor = DoNotDisturb(bus.address)  # nobody owns the name now
        sensor.start(wait_s=HANG_GUARD_S)
        assert sensor.read() == ()
        sensor.close()
    for address in ("unix:path=/nonexistent/bus", ""):
        sensor = DoNotDisturb(address)
        sensor.start(wait_s=HANG_GUARD_S)
        assert sensor.read() == ()
        sensor.close()


# --- do-not-disturb: GNOME's show-banners -------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def gsettings(*args: str) -> None:
    """The real tool, with the test's environment (the keyfile backend in tmp_path)."""
    tool = shutil.which("gsettings")
    assert tool, "needs gsettings (Debian: libglib2.0-bin, gsettings-desktop-schemas)"
    subprocess.run([tool, *args], check=True, timeout=HANG_GUARD_S, capture_output=True)


def test_gnome_banners_off_reads_as_do_not_disturb(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GSETTINGS_BACKEND", "keyfile")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    clock = Clock()
    sensor = DoNotDisturb("", clock=clock)
    sensor.start()
    assert sensor.read() == ()  # the schema's default: banners on
    gsettings("set", GNOME_SCHEMA, GNOME_KEY, "false")
    assert (tmp_path / "config" / "glib-2.0" / "settings" / "keyfile").exists()
    clock.now_s += 4.9
    assert sensor.read() == ()  # looked less than 5 s ago: not looked again
    clock.now_s += 0.1
    assert sensor.read() == BANNERS_OFF
    gsettings("set", GNOME_SCHEMA, GNOME_KEY, "true")
    clock.now_s += 5.0
    assert sensor.read() == ()
    sensor.close()


def test_gnome_banners_are_not_asked_for_without_the_schema(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GSETTINGS_BACKEND", "keyfile")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    gsettings("set", GNOME_SCHEMA, GNOME_KEY, "false")
    monkeypatch.setenv("XDG_DATA_DIRS", str(tmp_path / "no-schemas"))  # no schema found
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "no-schemas"))
    sensor = DoNotDisturb("")
    sensor.start()
    assert sensor.read() == ()
    sensor.close()


# --- full-screen windows ------------------------------------------------------------------

# A real X client of its own: a window with a title, a class and the pid it claims
# (argv[2], "self" for its own), mapped; prints its id and lives until stdin closes.
WINDOW = """
import os, sys
from Xlib import X, Xatom, display
d = display.Display()
screen = d.screen()
title, pid = sys.argv[1], sys.argv[2]
w = screen.root.create_window(20, 20, 320, 240, 0, screen.root_depth, X.InputOutput,
                              X.CopyFromParent, background_pixel=screen.white_pixel)
w.set_wm_name(title.encode("latin-1", "replace").decode("latin-1"))  # the old name
w.change_property(d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"), 8,
                  title.encode())
w.set_wm_class("slides", "Slides")
w.change_property(d.intern_atom("_NET_WM_PID"), Xatom.CARDINAL, 32,
                  [os.getpid() if pid == "self" else int(pid)])
w.map()
d.sync()
print(w.id, flush=True)
sys.stdin.read()
"""

TITLE = "Quarterly review — slides ✓"


class WindowManagerClient:
    """What a pager or the app itself asks the window manager (EWMH client messages), and
    what the test reads back, on the test's own X connection."""

    def __init__(self, name: str) -> None:
        self.display = Display(name)
        self.root = self.display.screen().root

    def atom(self, name: str) -> int:
        return self.display.intern_atom(name)

    def ask(self, window: int, message: str, data: list[int]) -> None:
        target = self.display.create_resource_object("window", window)
        request = event.ClientMessage(window=target, client_type=self.atom(message),
                                      data=(32, [*data, 0, 0, 0, 0, 0][:5]))
        self.root.send_event(request, event_mask=X.SubstructureRedirectMask
                             | X.SubstructureNotifyMask)
        self.display.flush()

    def activate(self, window: int) -> None:
        self.ask(window, "_NET_ACTIVE_WINDOW", [2, X.CurrentTime])  # 2: from a pager

    def fullscreen(self, window: int, on: bool) -> None:
        self.ask(window, "_NET_WM_STATE", [int(on), self.atom("_NET_WM_STATE_FULLSCREEN"),
                                           0, 1])

    def root_windows(self, name: str) -> list[int]:
        found = self.root.get_full_property(self.atom(name), X.AnyPropertyType)
        return [int(w) for w in found.value] if found else []

    def is_fullscreen(self, window: int) -> bool:
        target = self.display.create_resource_object("window", window)
        state = target.get_full_property(self.atom("_NET_WM_STATE"), Xatom.ATOM)
        return bool(state) and self.atom("_NET_WM_STATE_FULLSCREEN") in state.value

    def close(self) -> None:
        self.display.close()


@contextmanager
def x_window(env: dict[str, str], title: str, pid: str = "self") -> Iterator[int]:
    proc = subprocess.Popen([sys.executable, "-c", WINDOW, title, pid], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the window is mapped once its id is printed
        assert line.strip().isdigit(), f"the window did not open (exit {proc.poll()})"
        yield int(line)
    finally:
        proc.communicate(timeout=HANG_GUARD_S)  # closes stdin: the client exits


def test_the_active_full_screen_window_is_reported_unless_it_is_ours(tmp_path: Path) -> None:
    with desktop(tmp_path / "shots") as desk:
        wm = WindowManagerClient(desk.display)
        until(lambda: bool(wm.root_windows("_NET_SUPPORTING_WM_CHECK")), "openbox")
        sensor = Fullscreen(desk.display)
        sensor.start()
        try:
            assert sensor.read() == ()
            with x_window(desk.env, TITLE) as slides:
                until(lambda: slides in wm.root_windows("_NET_CLIENT_LIST"), "openbox to "
                      "manage the window")
                wm.activate(slides)
                until(lambda: wm.root_windows("_NET_ACTIVE_WINDOW") == [slides],
                      "the window to be active")
                assert sensor.read() == ()  # active, not full-screen
                shown = (Condition(Kind.FULLSCREEN, TITLE),)
                wm.fullscreen(slides, True)
                until(lambda: sensor.read() == shown, "the full-screen window")
                wm.fullscreen(slides, False)
                until(lambda: sensor.read() == (), "full-screen to end")
                wm.fullscreen(slides, True)
                until(lambda: sensor.read() == shown, "full-screen again")

                # Our own break screen, full-screen and active: not a reason for quiet;
                # nor is the slides window, full-screen behind it.
                with x_window(desk.env, "posture-watch break", str(os.getpid())) as ours:
                    until(lambda: ours in wm.root_windows("_NET_CLIENT_LIST"),
                          "openbox to manage our window")
                    wm.fullscreen(ours, True)
                    wm.activate(ours)
                    until(lambda: wm.root_windows("_NET_ACTIVE_WINDOW") == [ours]
                          and wm.is_fullscreen(ours), "our window full-screen and active")
                    assert wm.is_fullscreen(slides)
                    assert sensor.read() == ()

                    # The active window gone between two requests (BadWindow): nothing,
                    # and the connection still serves the next read.
                    gone = wm.root.create_window(0, 0, 1, 1, 0, X.CopyFromParent)
                    gone.destroy()
                    wm.root.change_property(wm.atom("_NET_ACTIVE_WINDOW"), Xatom.WINDOW,
                                            32, [gone.id])
                    wm.display.sync()
                    assert sensor.read() == ()
                    wm.activate(slides)  # from ours, for openbox: a real change of focus
                    until(lambda: sensor.read() == shown, "the slides active again")
        finally:
            sensor.close()
            wm.close()


def test_no_display_reads_as_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    sensor = Fullscreen()
    sensor.start()
    assert sensor.read() == ()
    sensor.close()


def xvfb_on(number: int) -> subprocess.Popen:
    """Xvfb on a display number of the test's choosing (to start it again on the same
    one), once it accepts clients."""
    server, _ = start_xvfb(320, 240, number)
    return server


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=HANG_GUARD_S)


def show_fullscreen(name: str, title: str) -> WindowManagerClient:
    """With no window manager, what one would say: a full-screen window, active."""
    client = WindowManagerClient(name)
    window = client.root.create_window(0, 0, 320, 240, 0, X.CopyFromParent)
    window.set_wm_name(title)
    window.change_property(client.atom("_NET_WM_STATE"), Xatom.ATOM, 32,
                           [client.atom("_NET_WM_STATE_FULLSCREEN")])
    client.root.change_property(client.atom("_NET_ACTIVE_WINDOW"), Xatom.WINDOW, 32,
                                [window.id])
    client.display.sync()
    return client


def test_the_sensor_reconnects_when_the_x_server_comes_back() -> None:
    number = next(n for n in range(700 + os.getpid() % 200, 1000)
                  if not Path(f"/tmp/.X{n}-lock").exists()
                  and not Path(f"/tmp/.X11-unix/X{n}").exists())
    server = xvfb_on(number)
    sensor = Fullscreen(f":{number}", retry_s=0.0)
    try:
        sensor.start()
        assert sensor.read() == ()  # no window manager: no active window
        show_fullscreen(f":{number}", "film")
        assert sensor.read() == (Condition(Kind.FULLSCREEN, "film"),)
        stop(server)
        assert sensor.read() == ()  # gone: nothing, and no error
        server = xvfb_on(number)
        client = show_fullscreen(f":{number}", "film, again")
        until(lambda: sensor.read() == (Condition(Kind.FULLSCREEN, "film, again"),),
              "the sensor to reconnect")
        client.close()
    finally:
        sensor.close()
        stop(server)


# --- listed apps --------------------------------------------------------------------------

# Names of this run's own: other tests on the machine start their own "fakezoom".
TAG = str(os.getpid())


@contextmanager
def running(args: list[str], executable: str | None = None) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(args, executable=executable)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=HANG_GUARD_S)


def test_a_listed_app_is_reported_while_it_runs(tmp_path: Path) -> None:
    sleep = shutil.which("sleep")
    assert sleep
    fake = tmp_path / f"FakeZoom{TAG}"
    fake.symlink_to(sleep)
    # The case differs: names match regardless.
    sensor = BusyApps(("teams", f"fakezoom{TAG}"))
    sensor.start()
    assert sensor.read() == ()
    with running([str(fake), "600"]) as proc:
        expected = (Condition(Kind.APP, f"FakeZoom{TAG} (pid {proc.pid})"),)
        # Until the child has exec'd it is still called python: wait for the new name.
        until(lambda: sensor.read() == expected, "fakezoom to be seen")
    assert sensor.read() == ()  # exited and reaped: gone from /proc
    sensor.close()


def test_apps_are_found_by_argv0_and_by_a_cut_name(tmp_path: Path) -> None:
    sleep = shutil.which("sleep")
    assert sleep
    long_name = f"p{TAG}-presenter-with-a-long-name"
    (tmp_path / long_name).symlink_to(sleep)
    sensor = BusyApps((f"PresenterView{TAG}", long_name))
    # argv[0] says PresenterView, the kernel's name is sleep's.
    with running([f"PresenterView{TAG}", "600"], executable=sleep) as proc:
        seen = (Condition(Kind.APP, f"PresenterView{TAG} (pid {proc.pid})"),)
        until(lambda: sensor.read() == seen, "PresenterView by its argv[0]")
    # argv[0] says nothing; the kernel keeps the first 15 characters of the file's name.
    with running(["x", "600"], executable=str(tmp_path / long_name)) as proc:
        seen = (Condition(Kind.APP, f"{long_name[:15]} (pid {proc.pid})"),)
        until(lambda: sensor.read() == seen, "the long name by its first 15 characters")


def test_our_own_process_is_not_a_listed_app(tmp_path: Path) -> None:
    sleep = shutil.which("sleep")
    assert sleep
    fake = tmp_path / f"fakezoom{TAG}"
    fake.symlink_to(sleep)
    with running([str(fake), "600"]) as proc:
        until(lambda: BusyApps((fake.name,)).read() != (), "fakezoom to start")
        assert BusyApps((fake.name,), own_pids=(proc.pid,)).read() == ()
