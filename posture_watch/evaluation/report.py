"""Rendering `evaluate` results: terminal tables, Markdown (for the README) and JSON."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.table import Table

from posture_watch.core.evaluation import (
    ClipScore,
    Overall,
    PrecisionRecall,
    class_counts,
    combine,
)
from posture_watch.evaluation.evaluate import Evaluated, by_set, peer_by_set

# input, samples judged, share agreeing with the labels, balanced accuracy (mean recall of
# the labelled categories), upright and slouched samples judged right, precision / recall
# of bad posture and of away, reminders matched / expected, posture reminders on upright
# footage, and the longest delay before an empty stretch was seen as away.
COLUMNS = ("input", "n", "agree", "balanced", "upright ok", "slouched ok", "bad P/R",
           "away P/R", "reminders", "false alarms", "away in")
# Ours beside the peers' plain rule, per set.
COMPARISON = ("set", "n", "agree", "balanced", "upright ok", "slouched ok", "peer agree",
              "peer balanced", "peer upright ok", "peer slouched ok")
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


def _counts(score: ClipScore | Overall, category: str) -> str:
    counts = class_counts(score.confusion).get(category)
    return "-" if counts is None else f"{counts[0]}/{counts[1]}"


def _classes(score: ClipScore | Overall) -> list[str]:
    return [_pct(score.agreement), _pct(score.balanced_accuracy), _counts(score, "good"),
            _counts(score, "bad")]


def clip_row(result: Evaluated) -> list[str]:
    s = result.score
    return [result.labelled.path.stem, str(s.samples_judged), *_classes(s), _pr(s.bad_posture),
            _pr(s.away), _reminders(s), str(s.false_posture_reminders),
            _latency(s.away_latencies_s)]


def total_row(label: str, o: Overall) -> list[str]:
    per_hour = "-" if o.false_posture_reminders_per_hour is None \
        else f"{o.false_posture_reminders} ({o.false_posture_reminders_per_hour:.1f}/h)"
    latency = "-" if not o.away_segments else _latency(o.away_latency_max_s)
    return [label, str(o.samples_judged), *_classes(o), _pr(o.bad_posture), _pr(o.away),
            _reminders(o), per_hour, latency]


def comparison_rows(results: list[Evaluated]) -> list[list[str]]:
    """Per set, and over all: ours and the peer rule's figures on the same samples."""
    ours, peers = by_set(results), peer_by_set(results)
    rows = [[name, str(o.samples_judged), *_classes(o), *_classes(peers[name])]
            for name, o in ours.items()]
    if len(ours) > 1:
        everything = combine([r.score for r in results])
        peer_all = combine([r.peer for r in results if r.peer])
        rows.append(["all", str(everything.samples_judged), *_classes(everything),
                     *_classes(peer_all)])
    return rows


def confusion_rows(o: Overall) -> list[list[str]]:
    return [[category, *(str(counts.get(state, 0)) for state in STATES)]
            for category, counts in o.confusion.items()]


def sections(results: list[Evaluated]) -> list[tuple[str, list[list[str]], list[list[str]]]]:
    """Per clip set: its name, one row per input (not for stills) plus its total, and its
    confusion rows."""
    out = []
    for name, overall in by_set(results).items():
        rows = [clip_row(r) for r in results if r.set_name == name and not r.labelled.group]
        rows.append(total_row("all", overall))
        out.append((name, rows, confusion_rows(overall)))
    return out


def print_tables(results: list[Evaluated], console: Console, peer: bool = False) -> None:
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
    if peer:
        table = Table(title="ours beside the peers' plain rule (same samples)",
                      title_justify="left", header_style="bold")
        for column in COMPARISON:
            table.add_column(column, justify="left" if column == "set" else "right")
        for row in comparison_rows(results):
            table.add_row(*row)
        console.print(table)


def markdown(results: list[Evaluated], peer: bool = False) -> str:
    lines: list[str] = []
    if peer:
        lines += ["**ours beside the peers' plain rule (same samples)**", "",
                  "| " + " | ".join(COMPARISON) + " |", "|" + "---|" * len(COMPARISON)]
        lines += ["| " + " | ".join(row) + " |" for row in comparison_rows(results)]
        lines.append("")
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
    sets, peers = by_set(results), peer_by_set(results)
    return {
        "inputs": [{"set": r.set_name, "path": str(r.labelled.path),
                    "calibration": r.analysis.calibration, **r.score.to_dict(),
                    "peer": r.peer.to_dict() if r.peer else None}
                   for r in results],
        "sets": {name: o.to_dict() for name, o in sets.items()},
        "peer_sets": {name: o.to_dict() for name, o in peers.items()},
        "overall": combine([r.score for r in results]).to_dict(),
        "peer_overall": combine([r.peer for r in results if r.peer]).to_dict(),
    }
