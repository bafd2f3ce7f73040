"""A self-contained HTML report of the stored history: one file to open or mail.

Why it looks the way it does:
- Everything is inline (CSS in a <style>, charts as base64 PNG data URIs) so the page works
  offline, from an attachment or a file:// URL, and leaks nothing to the network.
- Charts are drawn on matplotlib Figure objects with the Agg canvas, never pyplot: no
  global figure state, no GUI backend, safe to call from the monitor's threads.
- Times are shown in local wall-clock time, like the rest of the history (days are local
  calendar days, as in Store.state_seconds_by_day).
"""

from __future__ import annotations

import base64
import html
import io
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from posture_watch.core.types import State
from posture_watch.history.rows import ReminderRow, SampleRow, SessionRow
from posture_watch.history.store import Store

STATE_ORDER = (State.GOOD, State.CAUTION, State.POOR, State.AWAY, State.UNKNOWN)
STATE_COLOURS = {State.GOOD: "#2e9e4f", State.CAUTION: "#e8b321", State.POOR: "#d1433b",
                 State.AWAY: "#b9c2cc", State.UNKNOWN: "#6f6f8f"}
JUDGED = (State.GOOD, State.CAUTION, State.POOR)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DPI = 100  # with the sizes below each PNG stays well under 150 KB
WEEK_DAYS = 7

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 980px;
       color: #222; background: #fff; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin: 1.6em 0 0.4em; }
.summary { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1.2em; }
.summary dt { font-weight: 600; }
.summary dd { margin: 0; }
.empty { padding: 1em; background: #f4f4f4; border-radius: 6px; }
img { max-width: 100%; height: auto; display: block; }
"""


# --- data ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    """The header numbers: seconds per state over the period and the reminder count."""

    seconds: dict[State, int]
    reminders: int

    @property
    def at_desk_s(self) -> int:
        """Present seconds: everything but away (unknown still means someone was there)."""
        return sum(n for s, n in self.seconds.items() if s is not State.AWAY)

    def share(self, state: State) -> float:
        """Share of the judged seconds (good, caution, poor) spent in `state`."""
        judged = sum(self.seconds.get(s, 0) for s in JUDGED)
        return self.seconds.get(state, 0) / judged if judged else 0.0


def _summarise(samples: Sequence[SampleRow], reminders: Sequence[ReminderRow]) -> Summary:
    seconds: dict[State, int] = defaultdict(int)
    for row in samples:
        seconds[row.state] += 1
    return Summary(dict(seconds), len(reminders))


def _local(t: float) -> datetime:
    """Naive local wall-clock time: what matplotlib should print on the axes."""
    return datetime.fromtimestamp(t)


def _day_start(t: float) -> float:
    """The local midnight starting the day of `t` (DST-aware via the C library)."""
    d = time.localtime(t)
    return time.mktime((d.tm_year, d.tm_mon, d.tm_mday, 0, 0, 0, 0, 0, -1))


def _shift_days(midnight: float, days: int) -> float:
    d = time.localtime(midnight)
    return time.mktime((d.tm_year, d.tm_mon, d.tm_mday + days, 0, 0, 0, 0, 0, -1))


def _runs(samples: Sequence[SampleRow]) -> list[tuple[State, int, int]]:
    """Consecutive seconds in one state as (state, start, end); a gap ends a run."""
    out: list[tuple[State, int, int]] = []
    for row in samples:
        if out and out[-1][0] is row.state and out[-1][2] == row.t:
            out[-1] = (row.state, out[-1][1], row.t + 1)
        else:
            out.append((row.state, row.t, row.t + 1))
    return out


def _minute_means(samples: Sequence[SampleRow]) -> tuple[list[int], list[float]]:
    """Per-minute mean score (minutes without a score are left out)."""
    sums: dict[int, list[float]] = {}
    for row in samples:
        if row.score is not None:
            acc = sums.setdefault(row.t // 60 * 60, [0.0, 0])
            acc[0] += row.score
            acc[1] += 1
    minutes = sorted(sums)
    return minutes, [sums[m][0] / sums[m][1] for m in minutes]


def _poor_share_grid(samples: Sequence[SampleRow]) -> np.ndarray:
    """Weekday x hour share of judged seconds that were poor; NaN where nothing was judged."""
    judged = np.zeros((7, 24))
    poor = np.zeros((7, 24))
    for row in samples:
        if row.state in JUDGED:
            d = time.localtime(row.t)
            judged[d.tm_wday, d.tm_hour] += 1
            if row.state is State.POOR:
                poor[d.tm_wday, d.tm_hour] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(judged > 0, poor / np.maximum(judged, 1), np.nan)


# --- charts -------------------------------------------------------------------------------


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png_data_uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _time_axis(ax: Axes) -> None:
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))


def _session_chart(session: SessionRow, samples: Sequence[SampleRow],
                   reminders: Sequence[ReminderRow]) -> Figure:
    """State bands over the session, reminders as labelled vertical lines."""
    fig = _new_figure(9.5, 2.8)
    ax = fig.add_subplot()
    by_state: dict[State, list[tuple[float, float]]] = defaultdict(list)
    for state, start, end in _runs(samples):
        by_state[state].append((mdates.date2num(_local(start)),
                                (end - start) / 86400.0))
    for state in STATE_ORDER:
        if by_state.get(state):
            ax.broken_barh(by_state[state], (0, 1), facecolors=STATE_COLOURS[state],
                           label=state.value)
    for r in reminders:
        x = mdates.date2num(_local(r.t))
        ax.axvline(x, color="#222", linewidth=1.0, linestyle="--")
        ax.text(x, 1.03, r.kind.value, rotation=90, fontsize=8, ha="center", va="bottom",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
    ax.set_ylim(0, 1.35 if reminders else 1)
    ax.set_yticks([])
    lo = samples[0].t if samples else session.started_at
    hi = samples[-1].t + 1 if samples else session.end
    ax.set_xlim(mdates.date2num(_local(lo)), mdates.date2num(_local(hi)))
    _time_axis(ax)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False)
    ax.set_title(f"Session started {_local(session.started_at):%a %d %b %H:%M}", fontsize=11)
    return fig


def _score_chart(day: float, samples: Sequence[SampleRow]) -> Figure:
    """Per-minute mean score; a gap of more than a minute breaks the line."""
    fig = _new_figure(9.5, 3.0)
    ax = fig.add_subplot()
    minutes, means = _minute_means(samples)
    xs: list[datetime] = []
    ys: list[float] = []
    for i, (m, v) in enumerate(zip(minutes, means, strict=True)):
        if i and m - minutes[i - 1] > 60:
            xs.append(_local(m - 30))
            ys.append(float("nan"))
        xs.append(_local(m))
        ys.append(v)
    ax.plot(xs, ys, color="#3366aa", linewidth=1.3)
    ax.set_ylim(0, 100)
    ax.set_ylabel("score")
    ax.grid(True, alpha=0.3)
    _time_axis(ax)
    ax.set_title(f"Score on {_local(day):%a %d %b %Y} (per-minute mean)", fontsize=11)
    return fig


def _week_chart(days: Sequence[str], per_day: dict[str, dict[State, int]]) -> Figure:
    """Hours per state per day, stacked."""
    fig = _new_figure(9.5, 3.2)
    ax = fig.add_subplot()
    bottom = np.zeros(len(days))
    for state in STATE_ORDER:
        hours = np.array([per_day.get(d, {}).get(state, 0) / 3600.0 for d in days])
        ax.bar(range(len(days)), hours, bottom=bottom, color=STATE_COLOURS[state],
               label=state.value, width=0.7)
        bottom += hours
    ax.set_xticks(range(len(days)))
    ax.set_xticklabels([datetime.strptime(d, "%Y-%m-%d").strftime("%a %d %b") for d in days],
                       fontsize=9)
    ax.set_ylabel("hours")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False)
    ax.set_title("Time per state per day", fontsize=11)
    return fig


def _heatmap_chart(grid: np.ndarray) -> Figure:
    """Weekday x hour share of poor posture."""
    fig = _new_figure(9.5, 3.3)
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(grid * 100.0), aspect="auto", cmap="Reds",
                      vmin=0, vmax=100)
    ax.set_facecolor("#eeeeee")  # hours with nothing judged
    ax.set_yticks(range(7))
    ax.set_yticklabels(WEEKDAYS, fontsize=9)
    ax.set_xticks(range(0, 24, 2))
    ax.set_xticklabels([f"{h:02d}" for h in range(0, 24, 2)], fontsize=9)
    ax.set_xlabel("hour of day")
    fig.colorbar(image, ax=ax, label="% of judged time poor")
    ax.set_title("Poor posture by weekday and hour (grey: no judged time)", fontsize=11)
    return fig


# --- page ---------------------------------------------------------------------------------


def _duration(seconds: int) -> str:
    h, rest = divmod(int(seconds), 3600)
    return f"{h} h {rest // 60:02d} min" if h else f"{rest // 60} min"


def _period_text(since: float, until: float) -> str:
    return f"{_local(since):%Y-%m-%d %H:%M} to {_local(until):%Y-%m-%d %H:%M}"


def _header_html(summary: Summary, since: float, until: float) -> str:
    items = [
        ("Period", _period_text(since, until)),
        ("Time at the desk", _duration(summary.at_desk_s)),
        *((f"{s.value.capitalize()}", f"{summary.share(s) * 100:.0f}%") for s in JUDGED),
        ("Reminders", str(summary.reminders)),
    ]
    rows = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in items)
    return f'<dl class="summary">{rows}</dl>'


def _figure_html(heading: str, fig: Figure, alt: str) -> str:
    return (f"<h2>{html.escape(heading)}</h2>\n"
            f'<img src="{_png_data_uri(fig)}" alt="{html.escape(alt)}">')


def _page(title: str, body: str) -> str:
    t = html.escape(title)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{t}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<h1>{t}</h1>\n{body}\n</body>\n</html>\n")


def _charts_html(store: Store, since: float, until: float, samples: Sequence[SampleRow],
                 reminders: Sequence[ReminderRow]) -> list[str]:
    """The four chart sections, each with its own slice of the data."""
    parts: list[str] = []
    with_data = {row.session_id for row in samples}
    sessions = [s for s in store.sessions(since, until) if s.id in with_data]
    if sessions:
        last = sessions[-1]
        own = [r for r in samples if r.session_id == last.id]
        own_rem = [r for r in reminders if r.session_id == last.id]
        parts.append(_figure_html("Most recent session", _session_chart(last, own, own_rem),
                                  "posture state over the most recent session"))
    day = _day_start(samples[-1].t)
    day_end = _shift_days(day, 1)
    day_rows = [r for r in samples if day <= r.t < day_end]
    parts.append(_figure_html("Score over the day", _score_chart(day, day_rows),
                              "score over the last day with data"))
    week_lo = max(since, _shift_days(day, 1 - WEEK_DAYS))
    per_day = store.state_seconds_by_day(week_lo, min(until, day_end))
    days = [f"{_local(_shift_days(day, -i)):%Y-%m-%d}" for i in range(WEEK_DAYS - 1, -1, -1)]
    parts.append(_figure_html("The week", _week_chart(days, per_day),
                              "time per state per day over the last 7 days"))
    parts.append(_figure_html("When posture is poor", _heatmap_chart(_poor_share_grid(samples)),
                              "share of poor posture by weekday and hour"))
    return parts


def build_report(store: Store, since: float, until: float, *,
                 title: str = "posture-watch report") -> str:
    """The report for [since, until) as one self-contained HTML page.

    Reads the period's per-second rows once (Store.samples): fine for days to a few weeks.
    """
    samples = store.samples(since, until)
    reminders = store.reminders(since, until)
    if not samples:
        body = (f"<p>Period: {html.escape(_period_text(since, until))}</p>\n"
                '<p class="empty">No data: nothing was recorded in this period.</p>')
        return _page(title, body)
    summary = _summarise(samples, reminders)
    parts = [_header_html(summary, since, until),
             *_charts_html(store, since, until, samples, reminders)]
    return _page(title, "\n".join(parts))


def write_report(store: Store, since: float, until: float, out: Path, *,
                 title: str = "posture-watch report") -> Path:
    """Write the report to `out` (parent folders created) and return the path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(build_report(store, since, until, title=title), encoding="utf-8")
    return out

