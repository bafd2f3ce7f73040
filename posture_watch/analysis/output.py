"""Rendering an analysis: the human summary (rich) and the JSON document."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from posture_watch.analysis.analyze import Analysis
from posture_watch.config import config_to_dict
from posture_watch.core.messages import rule_label
from posture_watch.core.settings import Config
from posture_watch.core.types import Level, PostureState


def clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


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
    if s.mean_distance_cm is not None:
        console.print(f"Average eye-to-camera distance: about {s.mean_distance_cm:.0f} cm")
    if s.main_issue:
        console.print(f"Main issue: [bold]{rule_label(s.main_issue)}[/bold]. "
                      f"{s.suggestion}")
    else:
        console.print("Main issue: none found.")
    if s.setup_issue:
        console.print(f"Set-up: [bold]{rule_label(s.setup_issue)}[/bold]. "
                      f"{s.setup_suggestion}")
    console.print(f"[dim]Calibration: {analysis.calibration}[/dim]")
