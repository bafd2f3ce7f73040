"""The real `run` process for tests: started on a file-backed camera with its own runtime and
data folders, driven with the control commands, and watched through what it reports.

Nothing here sleeps for a set time and then judges: every wait ends on an observable event
(a JSON line the run writes, a `status --json` reply, rows in the history store). The time
limits only guard against a hang and are far beyond what any machine needs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from posture_watch.errors import UserError
from posture_watch.monitor.control.client import send_command
from tests.conftest import run_cli

HANG_GUARD_S = 120.0  # the longest a test waits for something that takes seconds
_POLL_S = 0.05  # how often a wait looks again (not a verdict: only how soon it notices)

T = TypeVar("T")


class RunProcess:
    """A `run` subprocess whose output goes to files, not pipes: `--json` writes a line per
    sample, and a pipe nobody reads until the end would fill up and stall the monitor."""

    def __init__(self, args: list[str], env: dict[str, str], folder: Path) -> None:
        n = len(list(folder.glob("run-*.out")))
        self._out_path, self._err_path = folder / f"run-{n}.out", folder / f"run-{n}.err"
        with self._out_path.open("w") as out, self._err_path.open("w") as err:
            self.proc = subprocess.Popen(args, env=env, stdout=out, stderr=err)
        self.pid = self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def poll(self) -> int | None:
        return self.proc.poll()

    def kill(self) -> None:
        self.proc.kill()

    def send_signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        self.proc.wait(timeout)
        return self._out_path.read_text(), self._err_path.read_text()

    def stderr(self) -> str:
        return self._err_path.read_text()

    def lines(self) -> list[dict[str, Any]]:
        """The JSON lines written so far; a line still being written (or cut short by a kill)
        is left out."""
        text = self._out_path.read_text()
        complete = text[:text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def sample_times(self) -> list[float]:
        """`t` of every sample reported so far (seconds on the run's camera clock)."""
        return [line["t"] for line in self.lines() if line["type"] == "sample"]

    def stop_if_running(self) -> None:
        """Kill a run a failed test left behind."""
        if self.poll() is None:
            self.kill()
            self.proc.wait(HANG_GUARD_S)


def wait_for(condition: Callable[[], T | None], what: str, *, proc: RunProcess | None = None,
             timeout_s: float = HANG_GUARD_S) -> T:
    """Wait until `condition()` returns something truthy and return it; fail with `what` if
    the run exits first or nothing comes within the hang guard."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the run exited with {proc.returncode} while waiting for "
                                 f"{what}:\n{proc.stderr()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout_s:.0f} s for {what}: hung?")
        time.sleep(_POLL_S)


def start_run(tmp_path: Path, clip: Path, *extra: str) -> RunProcess:
    """`posture-watch run` on a file-backed camera, with its own runtime dir."""
    config = tmp_path / "quiet.toml"
    config.write_text('[notifications]\nbackend = "none"\n')
    return RunProcess(
        [sys.executable, "-m", "posture_watch", "run", "--camera", str(clip), "--json",
         "--config", str(config), *extra], run_env(tmp_path), tmp_path)


def run_env(tmp_path: Path) -> dict[str, str]:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return dict(os.environ, POSTURE_WATCH_RUNTIME_DIR=str(runtime),
                POSTURE_WATCH_DATA_DIR=str(tmp_path / "data"))


def control(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=run_env(tmp_path))


def status(tmp_path: Path) -> dict:
    result = control(tmp_path, "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def status_reply(tmp_path: Path) -> dict | None:
    """The monitor's status, asked over the control socket from this process (the CLI's
    own client, without starting a Python process per look: polling stays cheap for a
    busy machine), or None while nothing answers."""
    try:
        reply = send_command("status", directory=tmp_path / "runtime", timeout_s=10.0)
    except UserError:
        return None
    return reply if reply.get("ok") else None


def wait_for_status(tmp_path: Path, proc: RunProcess, condition: Callable[[dict], bool],
                    what: str) -> dict:
    """The first `status --json` reply for which `condition` holds."""

    def matching() -> dict | None:
        reply = status_reply(tmp_path)
        return reply if reply is not None and condition(reply) else None

    return wait_for(matching, what, proc=proc)


def wait_until_running(tmp_path: Path, proc: RunProcess) -> dict:
    """Wait for the run's first sample, then return its first status past "starting".

    Watching the output file costs nothing, unlike asking for the status, which starts a
    Python process each time and would slow a busy machine's start-up further."""
    wait_for(proc.sample_times, "the run's first sample", proc=proc)
    return wait_for_status(tmp_path, proc, lambda reply: reply["state"] != "starting",
                           "the monitor to answer with its first state")


def seconds_apart(times: list[float], count: int) -> bool:
    """Whether `count` of the times lie at least a second apart from each other (so they
    fall in `count` different wall-clock seconds, whatever the second boundaries)."""
    found, last = 0, -float("inf")
    for t in times:
        if t - last >= 1.0:
            found, last = found + 1, t
    return found >= count


def run_until_stopped(tmp_path: Path, clip: Path, *extra: str,
                      until: Callable[[list[float]], bool] = lambda times: True,
                      ) -> tuple[int, str, str, dict]:
    """Start `run` on `clip` (one that outlasts the test: conftest's endless_upright_clip),
    wait until it is running and `until(sample times)` holds, then `stop` it: exit code,
    output, error output, first status."""
    proc = start_run(tmp_path, clip, *extra)
    try:
        first = wait_until_running(tmp_path, proc)
        wait_for(lambda: until(proc.sample_times()), "the run to watch long enough",
                 proc=proc)
        assert control(tmp_path, "stop").returncode == 0
        out, err = proc.communicate(timeout=HANG_GUARD_S)
    finally:
        proc.stop_if_running()
    assert proc.returncode is not None
    return proc.returncode, out, err, first
