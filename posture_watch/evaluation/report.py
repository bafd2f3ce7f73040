"""Rendering `evaluate` results: terminal tables, Markdown (for the README) and JSON."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.table import Table

from posture_watch.core.evaluation import ClipScore, Overall, PrecisionRecall, combine
from posture_watch.evaluation.evaluate import Evaluated, by_set

# input, samples judged, share agreeing with the labels, precision / recall of bad posture
# and of away, reminders matched / expected, posture reminders on upright footage, and the
# longest delay before an empty stretch was seen as away.
COLUMNS = ("input", "n", "agree", "bad P/R", "away P/R", "reminders", "false alarms",
           "away in")
STATES = ("good", "caution", "poor", "away", "unknown")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _pr(pr: PrecisionRecall) -> str:
    if pr.precision is None and pr.recall is None:
        return "-"
    return f"{_pct(pr.precision)} / {_pct(pr.recall)}"


def _reminders(score: ClipScore | Overall) -> str:
    check = score.reminders
    if check is None:
        return "-"
    text = f"{check.matched}/{check.expected}"
    if check.fired > check.matched:
        text += f" +{check.fired - check.matched} extra"
    worst = check.max_abs_timing_error_s
    return text + (f" (max {worst:.1f} s off)" if worst is not None else "")


def _latency(latencies: list[float] | float | None) -> str:
    if latencies is None or latencies == []:
        return "-"
    worst = max(latencies) if isinstance(latencies, list) else latencies
    return "never" if math.isinf(worst) else f"{worst:.1f} s"


def clip_row(result: Evaluated) -> list[str]:
    s = result.score
    return [result.labelled.path.stem, str(s.samples_judged), _pct(s.agreement), _pr(s.bad_posture),
            _pr(s.away), _reminders(s), str(s.false_posture_reminders),
            _latency(s.away_latencies_s)]


def total_row(label: str, o: Overall) -> list[str]:
    per_hour = "-" if o.false_posture_reminders_per_hour is None \
        else f"{o.false_posture_reminders} ({o.false_posture_reminders_per_hour:.1f}/h)"
    latency = "-" if not o.away_segments else _latency(o.away_latency_max_s)
    return [label, str(o.samples_judged), _pct(o.agreement), _pr(o.bad_posture), _pr(o.away),
            _reminders(o), per_hour, latency]


def confusion_rows(o: Overall) -> list[list[str]]:
    return [[category, *(str(counts.get(state, 0)) for state in STATES)]
            for category, counts in o.confusion.items()]


def sections(results: list[Evaluated]) -> list[tuple[str, list[list[str]], list[list[str]]]]:
    """Per clip set: its name, one row per input plus its total, and its confusion rows."""
    out = []
    for name, overall in by_set(results).items():
        rows = [clip_row(r) for r in results if r.set_name == name]
        rows.append(total_row("all", overall))
        out.append((name, rows, confusion_rows(overall)))
    return out


def print_tables(results: list[Evaluated], console: Console) -> None:
    for name, rows, confusion in sections(results):
        table = Table(title=name, title_justify="left", header_style="bold")
        for column in COLUMNS:
            table.add_column(column, justify="left" if column == "input" else "right")
        for i, row in enumerate(rows):
            table.add_row(*row, style="bold" if i == len(rows) - 1 else None)
        console.print(table)
        matrix = Table(title=f"{name}: expected (rows) vs predicted", title_justify="left",
                       header_style="bold")
        matrix.add_column("expected")
        for state in STATES:
            matrix.add_column(state, justify="right")
        for row in confusion:
            matrix.add_row(*row)
        console.print(matrix)


def markdown(results: list[Evaluated]) -> str:
    lines: list[str] = []
    for name, rows, confusion in sections(results):
        lines += [f"**{name}**", "", "| " + " | ".join(COLUMNS) + " |",
                  "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines += ["", "| expected \\ predicted | " + " | ".join(STATES) + " |",
                  "|" + "---|" * (len(STATES) + 1)]
        lines += ["| " + " | ".join(row) + " |" for row in confusion]
        lines.append("")
    return "\n".join(lines)


def to_dict(results: list[Evaluated]) -> dict[str, Any]:
    sets = by_set(results)
    return {
        "inputs": [{"set": r.set_name, "path": str(r.labelled.path),
                    "calibration": r.analysis.calibration, **r.score.to_dict()}
                   for r in results],
        "sets": {name: o.to_dict() for name, o in sets.items()},
        "overall": combine([r.score for r in results]).to_dict(),
    }
