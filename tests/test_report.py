"""The HTML report: built from a real Store with two synthetic days, checked as text, as
decoded PNGs, and as a page rendered by headless Chromium (Debian package `chromium`)."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from posture_watch.core.types import PostureState, Reminder, ReminderKind, State
from posture_watch.history import report
from posture_watch.history.rows import SampleRow
from posture_watch.history.store import Store

CHROMIUM_TIMEOUT_S = 90
SESSION_S = 1800
REMINDERS = ((300, ReminderKind.POSTURE), (900, ReminderKind.BREAK), (1500, ReminderKind.EYES))
IMG_RE = re.compile(r'<img\b[^>]*\bsrc="data:image/png;base64,([A-Za-z0-9+/=]+)"')
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> float:
    """An explicit local wall time (the report shows local time)."""
    return time.mktime((year, month, day, hour, minute, 0, 0, 0, -1))


# Monday 4 and Tuesday 5 March 2024, two half-hour sessions a day.
SESSION_STARTS = (local(2024, 3, 4, 9), local(2024, 3, 4, 14),
                  local(2024, 3, 5, 10), local(2024, 3, 5, 15))
SINCE, UNTIL = local(2024, 3, 1, 0), local(2024, 3, 8, 0)


def state_at(offset: int) -> State:
    """The known pattern, per minute: 25 s good, 15 caution, 10 poor, 5 unknown, 5 away."""
    s = offset % 60
    if s < 25:
        return State.GOOD
    if s < 40:
        return State.CAUTION
    if s < 50:
        return State.POOR
    return State.UNKNOWN if s < 55 else State.AWAY


SCORES = {State.GOOD: 90, State.CAUTION: 60, State.POOR: 30}


def fill(store: Store) -> None:
    """Write the sessions through the Store API at 1 Hz with explicit wall times."""
    for start in SESSION_STARTS:
        sid = store.start_session(started_at=start, source="synthetic", kind="live",
                                  profile=None, config_fingerprint="test")
        for offset in range(SESSION_S):
            state = state_at(offset)
            store.add_sample(sid, PostureState(t_s=float(offset), state=state,
                                               score=SCORES.get(state)), start + offset)
        for at, kind in REMINDERS:
            store.add_reminder(sid, Reminder(float(at), kind, kind.value, "msg"), start + at)
        store.end_session(sid, start + SESSION_S)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = Store(tmp_path_factory.mktemp("report") / "history.sqlite3")
    fill(s)
    yield s
    s.close()


@pytest.fixture(scope="module")
def page(store: Store) -> str:
    return report.build_report(store, SINCE, UNTIL)


@pytest.fixture(scope="module")
def report_file(store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return report.write_report(store, SINCE, UNTIL, tmp_path_factory.mktemp("out") / "r.html")


# --- the page as text and PNGs -------------------------------------------------------------


def test_page_has_four_valid_pngs(page: str) -> None:
    images = IMG_RE.findall(page)
    assert len(images) == 4
    assert page.count("<img") == 4
    for encoded in images:
        data = base64.b64decode(encoded, validate=True)
        assert data.startswith(PNG_SIGNATURE)
        assert 5_000 < len(data) < 150_000
        pixels = mpimg.imread(io.BytesIO(data), format="png")
        height, width = pixels.shape[:2]
        assert 600 <= width <= 1600 and 200 <= height <= 600
        assert pixels[..., :3].std() > 0.05  # something was drawn


def test_page_is_self_contained(page: str) -> None:
    assert not re.search(r"https?://", page)
    assert "<link" not in page and "<script" not in page and "url(" not in page
    for src in re.findall(r'\bsrc="([^"]*)"', page):
        assert src.startswith("data:image/png;base64,")


def test_header_numbers(page: str) -> None:
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    # 4 sessions x 1800 s, away 5 s a minute: 6600 s at the desk; judged 50 s a minute.
    assert "Time at the desk 1 h 50 min" in text
    assert "Good 50%" in text and "Caution 30%" in text and "Poor 20%" in text
    assert "Reminders 12" in text
    assert "2024-03-01 00:00 to 2024-03-08 00:00" in text


def test_title_is_escaped(store: Store) -> None:
    page = report.build_report(store, SINCE, UNTIL, title='<b>"me" & you</b>')
    assert "<b>" not in page
    assert "&lt;b&gt;&quot;me&quot; &amp; you&lt;/b&gt;" in page


def test_empty_period_says_no_data(store: Store) -> None:
    page = report.build_report(store, local(2020, 1, 1, 0), local(2020, 1, 8, 0))
    assert "No data" in page
    assert "<img" not in page
    assert page.startswith("<!DOCTYPE html>")


def test_write_report(report_file: Path) -> None:
    assert report_file.read_text(encoding="utf-8").count("data:image/png;base64,") == 4


def test_poor_share_grid_by_weekday_and_hour(store: Store) -> None:
    grid = report._poor_share_grid(store.samples(SINCE, UNTIL))
    monday, tuesday = 0, 1
    for day, hour in ((monday, 9), (monday, 14), (tuesday, 10), (tuesday, 15)):
        assert grid[day, hour] == pytest.approx(0.2)
    assert np.isnan(grid).sum() == 7 * 24 - 4


def test_runs_split_on_state_and_gap() -> None:
    def row(t: int, state: State) -> SampleRow:
        return SampleRow(t, 1, state, 1, None, None, None, None, None, None, None)

    rows = [row(0, State.GOOD), row(1, State.GOOD), row(2, State.POOR), row(5, State.POOR)]
    assert report._runs(rows) == [(State.GOOD, 0, 2), (State.POOR, 2, 3), (State.POOR, 5, 6)]


# --- the page in a real browser -----------------------------------------------------------

BROKEN_PROBE = """
<img id="probe-control" src="data:image/png;base64,AAAA" alt="">
<script>
window.addEventListener("load", function () {
  var broken = 0, count = 0;
  for (var i = 0; i < document.images.length; i++) {
    var img = document.images[i];
    if (img.id === "probe-control") continue;
    count++;
    if (!img.complete || img.naturalWidth === 0) broken++;
  }
  var control = document.getElementById("probe-control");
  document.body.dataset.images = String(count);
  document.body.dataset.broken = String(broken);
  document.body.dataset.control = control.naturalWidth === 0 ? "broken" : "loaded";
});
</script>
"""


def chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("headless Chromium is required for the report render tests: install the "
                    "Debian package `chromium` (apt-get install -y chromium)")
    return path


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S,
                          check=False)


def test_chromium_screenshot_is_not_blank(report_file: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    done = run_chromium(tmp_path, "--window-size=1280,2400", f"--screenshot={shot}",
                        report_file.resolve().as_uri())
    assert shot.exists(), f"no screenshot (rc {done.returncode}): {done.stderr[-2000:]}"
    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (2400, 1280)
    assert pixels[..., :3].std() > 0.1
    # The charts reach down the page: the lower half is not empty either.
    assert pixels[1200:, :, :3].std() > 0.05


def test_chromium_loads_every_image(report_file: Path, tmp_path: Path) -> None:
    probed = tmp_path / "probed.html"
    text = report_file.read_text(encoding="utf-8")
    probed.write_text(text.replace("</body>", BROKEN_PROBE + "</body>"), encoding="utf-8")
    done = run_chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom",
                        probed.resolve().as_uri())
    dom = done.stdout
    assert 'data-control="broken"' in dom, f"probe did not run: {done.stderr[-2000:]}"
    assert 'data-images="4"' in dom
    assert 'data-broken="0"' in dom
