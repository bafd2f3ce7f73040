"""Rendering an analysis: the human summary (rich) and the JSON document."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from posture_watch.analysis.analyze import Analysis
from posture_watch.config import config_to_dict
from posture_watch.core.messages import rule_label
from posture_watch.core.screen_distance import (
    TOO_CLOSE,
    TOO_FAR,
    DistanceFigures,
    band_text,
    held_text,
    median_text,
)
from posture_watch.core.settings import Config
from posture_watch.core.summary import Summary
from posture_watch.core.types import Level, PostureState


def clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def short_clock(seconds: float) -> str:
    """clock(), but 'less than a second' rather than a misleading 0:00."""
    return clock(seconds) if seconds >= 0.5 else "less than a second"


def distance_line(figures: DistanceFigures, advised: bool) -> str:
    """The typical (median) distance and the time outside the band; the same figures the
    set-up advice rests on, so the two cannot disagree."""
    line = (f"Eye-to-camera distance: typically {median_text(figures)} cm "
            f"(median of {short_clock(figures.measured_s)} measured)")
    if advised:  # the set-up line gives the time outside the band
        return line
    outside = [rule for rule in (TOO_CLOSE, TOO_FAR) if figures.outside_s(rule) > 0]
    if not outside:
        return f"{line}, always within {figures.near_cm:g}-{figures.far_cm:g} cm"
    parts = []
    for rule in outside:
        part = f"{band_text(figures, rule)} for {short_clock(figures.outside_s(rule))}"
        longest = figures.longest_s(rule)
        if rule == figures.side and longest is not None:
            part += (f", at most {short_clock(longest)} at a stretch: too briefly to call it "
                     "a set-up problem")
        parts.append(part)
    return f"{line}; " + "; ".join(parts)


def issue_lines(s: Summary) -> list[str]:
    """The main posture issue and the set-up finding, each saying how long it held."""
    lines = []
    if s.main_issue:
        episodes = "episode" if s.main_issue_episodes == 1 else "episodes"
        lines.append(f"Main issue: [bold]{rule_label(s.main_issue)}[/bold], for "
                     f"{clock(s.main_issue_s)} in {s.main_issue_episodes} posture {episodes}. "
                     f"{s.suggestion}")
    else:
        lines.append("Main issue: none found.")
    if s.setup:
        lines.append(f"Set-up: [bold]{rule_label(s.setup.rule)}[/bold], "
                     f"{held_text(s.setup, clock)}. {s.setup_suggestion}")
    return lines


def sample_to_dict(state: PostureState) -> dict[str, Any]:
    return {
        "t": round(state.t_s, 3),
        "state": state.state.value,
        "score": state.score,
        "quality": state.quality,
        "quality_detail": state.quality_detail,
        "note": state.note,
        "metrics": state.metrics,
        "rules": [{"rule": r.rule, "level": r.level.value, "value": r.value, "unit": r.unit}
                  for r in state.rules],
        "fired": [r.rule for r in state.rules if r.level is not Level.GOOD],
    }


def analysis_to_dict(analysis: Analysis, config: Config) -> dict[str, Any]:
    """The machine-readable document; keys are documented in the README and kept stable."""
    return {
        "source": {
            "path": str(analysis.path),
            "name": analysis.path.name,
            "duration_s": analysis.duration_s,
            "rate_hz": analysis.rate_hz,
        },
        "config": config_to_dict(config),
        "calibration": {
            "method": analysis.calibration,
            "baseline": analysis.baseline.to_dict() if analysis.baseline else None,
        },
        "samples": [sample_to_dict(s) for s in analysis.states],
        "reminders": [
            {"t": round(r.t_s, 3), "kind": r.kind.value, "title": r.title,
             "message": r.message, "reason": r.reason}
            for r in analysis.reminders
        ],
        "summary": analysis.summary.to_dict(),
    }


def print_human(analysis: Analysis, console: Console) -> None:
    s = analysis.summary
    console.print(f"[bold]{analysis.path.name}[/bold]: {clock(s.duration_s)} analysed, "
                  f"present {clock(s.present_s)}, away {clock(s.away_s)}")
    if s.unknown_s >= 1:
        reasons = ", ".join(f"{reason} {clock(seconds)}"
                            for reason, seconds in s.unknown_by_reason.items())
        console.print(f"Not measurable {clock(s.unknown_s)} ({reasons}): no reminder comes "
                      "from these moments.")
    if s.mean_quality is not None:
        console.print(f"Tracking quality: {100 * s.mean_quality:.0f}% on average")
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("judged", justify="right")
    for name in ("good", "caution", "poor"):
        table.add_column(name, justify="right")
    table.add_column("mean score", justify="right")
    judged = sum(s.seconds_by_state.get(n, 0.0) for n in ("good", "caution", "poor"))
    table.add_row(clock(judged),
                  *(f"{s.percent_of_measured[n]:.0f}%" for n in ("good", "caution", "poor")),
                  f"{s.mean_score:.0f}" if s.mean_score is not None else "-")
    console.print(table)
    if s.episodes:
        longest = max(s.episodes, key=lambda e: e.duration_s)
        total = sum(e.duration_s for e in s.episodes)
        console.print(f"Posture episodes: {len(s.episodes)}, total {clock(total)}, longest "
                      f"{clock(longest.duration_s)} at {clock(longest.start_s)} "
                      f"({rule_label(longest.main_rule)})")
    else:
        console.print("Posture episodes: none")
    if analysis.reminders:
        console.print("Reminders:")
        for r in analysis.reminders:
            console.print(f"  {clock(r.t_s)}  {r.kind.value:<9} {r.title}"
                          + (f"  [dim]({r.reason})[/dim]" if r.reason else ""))
    else:
        console.print("Reminders: none")
    if s.distance is not None:
        console.print(distance_line(s.distance, advised=s.setup is not None))
    for line in issue_lines(s):
        console.print(line)
    console.print(f"[dim]Calibration: {analysis.calibration}[/dim]")
