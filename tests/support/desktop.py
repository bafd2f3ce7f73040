"""A real desktop for the shell's tests: Xvfb split into two monitors, a window manager
(openbox), a compositor (xcompmgr, for translucency) and a tray host (trayer), all from
Debian; screenshots and window lookups from outside the monitor's process."""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

HANG_GUARD_S = 120.0  # each step takes seconds; this only catches a hang
MONITOR = (1280, 800)  # each of the two monitors, side by side
TOOLS = ("Xvfb", "openbox", "trayer", "xcompmgr", "xdotool", "xrandr", "xwininfo")


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"needs {name} from Debian (.ci/run installs it)"
    return path


def start_xvfb(width: int, height: int,
               number: int | None = None) -> tuple[subprocess.Popen, str]:
    """A fresh Xvfb on a display number it picks itself (-displayfd), or on `number` (to
    start one again on the same display), once it accepts clients: it writes the number
    to the pipe only when it is ready."""
    ready_r, ready_w = os.pipe()
    chosen = [f":{number}"] if number is not None else []
    server = subprocess.Popen([_tool("Xvfb"), *chosen, "-displayfd", str(ready_w), "-screen", "0",
                               f"{width}x{height}x24", "-nolisten", "tcp", "-noreset"],
                              pass_fds=(ready_w,), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    os.close(ready_w)
    number = b""
    with selectors.DefaultSelector() as sel:
        sel.register(ready_r, selectors.EVENT_READ)
        while not number.endswith(b"\n") and sel.select(timeout=HANG_GUARD_S):
            chunk = os.read(ready_r, 16)
            if not chunk:
                break
            number += chunk
    os.close(ready_r)
    assert number.strip().isdigit(), f"Xvfb did not start (exit {server.poll()})"
    return server, f":{number.decode().strip()}"


@dataclass
class Desktop:
    display: str
    env: dict[str, str]
    shots: Path

    def run(self, *args: str, check: bool = True) -> str:
        return subprocess.run([_tool(args[0]), *args[1:]], env=self.env, capture_output=True,
                              text=True, check=check, timeout=HANG_GUARD_S).stdout

    def windows(self, name: str, visible: bool = True) -> list[str]:
        """Ids of the windows whose title matches `name` (a regular expression)."""
        args = ["xdotool", "search", *(["--onlyvisible"] if visible else []), "--name", name]
        return self.run(*args, check=False).split()

    def title(self, window: str) -> str:
        return self.run("xdotool", "getwindowname", window, check=False).strip()

    def geometry(self, window: str) -> tuple[int, int, int, int]:
        """x, y, width, height of a window on the root."""
        info = self.run("xwininfo", "-id", window)
        fields = dict(line.strip().split(":", 1) for line in info.splitlines()
                      if ":" in line and line.strip().startswith(("Absolute", "Width", "Height")))
        return (int(fields["Absolute upper-left X"]), int(fields["Absolute upper-left Y"]),
                int(fields["Width"]), int(fields["Height"]))

    def pointer(self) -> tuple[int, int]:
        """Where the pointer is on the root."""
        fields = dict(line.split("=", 1) for line in
                      self.run("xdotool", "getmouselocation", "--shell").split())
        return int(fields["X"]), int(fields["Y"])

    def move_pointer(self, x: int, y: int) -> None:
        """Move the pointer and see it there. Not `mousemove --sync`: that waits for the
        pointer to move, and when it is already there nothing moves, so it sits out
        xdotool's 15 s timeout."""
        self.run("xdotool", "mousemove", str(x), str(y))
        wait_for(f"the pointer at {x},{y}", lambda: self.pointer() == (x, y))

    def click(self, x: int, y: int, button: int = 1) -> None:
        """A press and release at x, y: once the pointer is there, so the press is too."""
        self.move_pointer(x, y)
        self.run("xdotool", "click", str(button))

    def screenshot(self, name: str) -> np.ndarray:
        """The whole screen, saved as a test artefact (grabbed by a separate process)."""
        path = self.shots / f"{name}.png"
        subprocess.run([sys.executable, str(Path(__file__).with_name("grab_screen.py")),
                        str(path)], env=self.env, check=True, timeout=HANG_GUARD_S,
                       capture_output=True)
        image = cv2.imread(str(path))
        assert image is not None, f"no screenshot at {path}"
        return image


def wait_for(what: str, check, proc: subprocess.Popen | None = None,
             timeout_s: float = HANG_GUARD_S):
    """Poll `check` until it returns something true; fail at once if `proc` exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=0.2)
                raise AssertionError(f"the run exited {code} while waiting for {what}")
        else:
            time.sleep(0.2)


@contextlib.contextmanager
def desktop(shots: Path) -> Iterator[Desktop]:
    for tool in TOOLS:
        _tool(tool)
    width, height = MONITOR
    server, display = start_xvfb(2 * width, height)
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
    env.pop("WAYLAND_DISPLAY", None)
    helpers: list[subprocess.Popen] = []
    shots.mkdir(parents=True, exist_ok=True)
    desk = Desktop(display, env, shots)
    try:
        for index, name in enumerate(("left", "right")):
            desk.run("xrandr", "--setmonitor", name,
                     f"{width}/340x{height}/210+{index * width}+0", "none")
        for command in (["openbox", "--sm-disable"], ["xcompmgr"],
                        ["trayer", "--edge", "top", "--align", "right", "--widthtype",
                         "request", "--height", "32", "--SetDockType", "true",
                         "--transparent", "false", "--tint", "0x202830"]):
            helpers.append(subprocess.Popen([_tool(command[0]), *command[1:]], env=env,
                                            stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL))
        wait_for("the tray host", lambda: desk.windows("^panel$", visible=True)
                 or desk.run("xwininfo", "-root", "-tree").count("trayer"))
        yield desk
    finally:
        for helper in helpers:
            helper.terminate()
        for helper in helpers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                helper.wait(timeout=10)
        server.terminate()
        server.wait(timeout=HANG_GUARD_S)
