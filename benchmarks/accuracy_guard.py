"""Accuracy guard for performance work: record the accuracy figures now, compare them later.

`record` runs what the README's Accuracy section runs on all real footage, once with one
pose and once with `--two-pose` (`posture-watch evaluate --baseline peer --footage DIR`,
here with `--json`), and `posture-watch analyze --json` on every clip in recordings/ (with
its `X.config.toml` when there is one), and saves the evaluate documents, the figures taken
from them and each clip's reminders (t, kind, reason) to one JSON file.

`compare` prints every figure before, after and the change, flags a change of more than
0.5 points (or any change in the number of judged samples), lists the clips whose
reminders differ, and exits 1 when anything is out of bounds.

Reminder tolerance: analyze samples a file at `sampling.file_rate_hz` (5 Hz), so reminder
times fall on the sample grid. A pure speed-up should give the same times; allowing one
sample interval absorbs a debounce moved by one sample (MediaPipe's results can differ in
the last bits between builds or threads) and nothing more. Kinds must be identical, and so
must the reasons once their numbers are masked (a different rule named is a different
reminder; "poor posture for 5 s" against "for 4 s" is the same one, a sample later).

    python benchmarks/accuracy_guard.py record OUT.json [--footage DIR]
    python benchmarks/accuracy_guard.py compare BEFORE.json AFTER.json [--points 0.5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RECORDINGS = REPO / "recordings"
FOOTAGE = REPO.parent / "shared" / "footage"
# The two evaluate runs the README's real-footage table comes from.
RUNS: dict[str, list[str]] = {"one pose": [], "two poses": ["--two-pose"]}
POINTS = 0.5
# The confusion rows balanced accuracy averages over, and the predictions right for each
# (as in posture_watch/core/evaluation.py; kept here so a later change there cannot move
# the yardstick).
RIGHT_FOR = {"good": ("good",), "bad": ("caution", "poor"), "away": ("away",)}
# Figure names as the README's table heads them, and the class each recall is of.
CLASS_FIGURES = {"upright ok": "good", "slouched ok": "bad", "away ok": "away"}
# Rows the README adds by pooling two of evaluate's sets (samples pooled, not averaged).
POOLED = {"stills s05 both rooms": ("stills s05-C-side", "stills s05-A-side")}
# What the figures depend on: the package, and the clips with their labels and configs.
CODE_PATHS = ("posture_watch", "recordings")
NICE = 10  # a shared 2-core machine: let interactive work and benchmarks go first


# ---------------------------------------------------------------- running posture-watch


def posture_watch(*args: str) -> str:
    """Run `python -m posture_watch ARGS` from the repo (niced) and return its stdout."""
    done = subprocess.run([sys.executable, "-m", "posture_watch", *args], cwd=REPO,
                          capture_output=True, text=True, check=False,
                          preexec_fn=lambda: os.nice(NICE))
    if done.returncode != 0:
        raise SystemExit(f"posture-watch {' '.join(args)} failed ({done.returncode}):\n"
                         f"{done.stderr.strip()}")
    return done.stdout


def evaluate(footage: Path, extra: list[str]) -> dict[str, Any]:
    """The `evaluate --json --baseline peer` document for the footage folder."""
    return json.loads(posture_watch("evaluate", "--json", "--no-progress", "--baseline",
                                    "peer", "--footage", str(footage), *extra))


def clip_config(clip: Path) -> Path | None:
    """A clip's own config (`X.config.toml` beside `X.mp4`), if it has one."""
    candidate = clip.with_name(clip.stem + ".config.toml")
    return candidate if candidate.exists() else None


def analyze_clip(clip: Path) -> dict[str, Any]:
    """One clip's reminders (t, kind, reason), its sample rate and its config file."""
    config = clip_config(clip)
    extra = ["--config", str(config.relative_to(REPO))] if config else []
    doc = json.loads(posture_watch("analyze", "--json", "--no-progress",
                                   str(clip.relative_to(REPO)), *extra))
    return {"config": str(config.relative_to(REPO)) if config else None,
            "rate_hz": doc["source"]["rate_hz"], "samples": len(doc["samples"]),
            "reminders": [{"t": r["t"], "kind": r["kind"], "reason": r["reason"]}
                          for r in doc["reminders"]]}


def git(*args: str) -> str:
    """A git command's output in the repo ("" when git fails)."""
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                          check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def provenance() -> dict[str, Any]:
    """Which code was measured: the commit, and the files of CODE_PATHS changed beside it
    with a hash of their diff (equal hashes: the same uncommitted code)."""
    diff = subprocess.run(["git", "diff", "HEAD", "--", *CODE_PATHS], cwd=REPO,
                          capture_output=True, check=False).stdout
    digest = hashlib.sha1(diff).hexdigest()[:12] if diff else None
    return {"commit": git("rev-parse", "HEAD"),
            "changed": git("status", "--porcelain", "--", *CODE_PATHS).splitlines(),
            "diff_sha1": digest}


# ---------------------------------------------------------------- figures


def recall(confusion: dict[str, dict[str, int]], category: str) -> tuple[int, int] | None:
    """(samples judged right, samples judged) of one labelled class, or None if absent."""
    row = confusion.get(category) or {}
    judged = sum(row.values())
    if not judged:
        return None
    return sum(row.get(state, 0) for state in RIGHT_FOR[category]), judged


def score_figures(score: dict[str, Any]) -> dict[str, Any]:
    """n, agreement, balanced accuracy and per-class counts of one set's score."""
    out: dict[str, Any] = {"n": score["samples_judged"], "agree": score["agreement"],
                           "balanced": score["balanced_accuracy"]}
    for name, category in CLASS_FIGURES.items():
        out[name] = recall(score["confusion"], category)
    return out


def pool(scores: list[dict[str, Any]]) -> dict[str, Any]:
    """Several sets' scores as one: judged samples and confusion counts added up."""
    judged = sum(s["samples_judged"] for s in scores)
    confusion: dict[str, dict[str, int]] = {}
    for score in scores:
        for category, row in score["confusion"].items():
            for state, count in row.items():
                confusion.setdefault(category, {})
                confusion[category][state] = confusion[category].get(state, 0) + count
    counts = [found for category in RIGHT_FOR if (found := recall(confusion, category))]
    recalls = [right / n for right, n in counts]
    return {"samples_judged": judged, "confusion": confusion,
            "agreement": sum(s["samples_agreeing"] for s in scores) / judged if judged
            else None,
            "balanced_accuracy": sum(recalls) / len(recalls) if recalls else None}


def with_pooled(sets: dict[str, Any]) -> dict[str, Any]:
    """The sets, plus the POOLED rows whose parts are all there."""
    extra = {name: pool([sets[p] for p in parts]) for name, parts in POOLED.items()
             if all(p in sets for p in parts)}
    return {**sets, **extra}


def set_figures(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per set and over all: ours and the peer rule's figures, the README table's columns."""
    sets = {**with_pooled(doc["sets"]), "all": doc["overall"]}
    peers = {**with_pooled(doc["peer_sets"]), "all": doc["peer_overall"]}
    out = {}
    for name, score in sets.items():
        ours, peer = score_figures(score), score_figures(peers[name])
        out[name] = {**ours, **{f"peer {k}": v for k, v in peer.items() if k != "n"}}
    return out


def all_figures(record: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every (run, set) row of a record."""
    return {(run, name): row for run, doc in record["evaluate"].items()
            for name, row in set_figures(doc).items()}


# ---------------------------------------------------------------- record


def record(out: Path, footage: Path) -> int:
    """Run everything, save it to OUT and print the figures and the time taken."""
    if not (footage / "labels_videos.csv").exists():
        raise SystemExit(f"no footage at {footage} (labels_videos.csv missing)")
    start, before = time.perf_counter(), provenance()
    timings: dict[str, float] = {}
    docs = {}
    for run, extra in RUNS.items():
        t0 = time.perf_counter()
        docs[run] = evaluate(footage, extra)
        timings[f"evaluate, {run}"] = round(time.perf_counter() - t0, 1)
        print(f"evaluate, {run}: {timings[f'evaluate, {run}']} s", file=sys.stderr)
    t0, clips = time.perf_counter(), {}
    for clip in sorted(RECORDINGS.glob("*.mp4")):
        clips[clip.name] = analyze_clip(clip)
    timings["analyze recordings"] = round(time.perf_counter() - t0, 1)
    after = provenance()
    doc = {"recorded": datetime.now(UTC).isoformat(timespec="seconds"),
           "host": platform.node(), "python": sys.executable, "footage": str(footage),
           "code": before, "code_after": after, "code_changed_during_run": before != after,
           "wall_s": round(time.perf_counter() - start, 1), "timings_s": timings,
           "evaluate": docs, "clips": clips}
    doc["figures"] = {f"{run} | {name}": row for (run, name), row in all_figures(doc).items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print_record(doc)
    return 0


def fmt(value: Any) -> str:
    """A figure as the README writes it, one decimal finer: 91.3%, 366/382 (95.8%)."""
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        right, judged = value
        return f"{right}/{judged} ({100 * right / judged:.1f}%)"
    if isinstance(value, float):
        return f"{100 * value:.1f}%"
    return str(value)


def print_record(doc: dict[str, Any]) -> None:
    """The recorded figures as a Markdown table, the reminders and the time taken."""
    rows = all_figures(doc)
    heads = list(next(iter(rows.values())))
    print("| run | set | " + " | ".join(heads) + " |")
    print("|" + "---|" * (len(heads) + 2))
    for (run, name), row in rows.items():
        print(f"| {run} | {name} | " + " | ".join(fmt(row[h]) for h in heads) + " |")
    print()
    for name, clip in doc["clips"].items():
        fired = ", ".join(f"{r['kind']} {r['t']:g} s" for r in clip["reminders"]) or "none"
        print(f"{name}: {fired}")
    changed = f" (CHANGED during the run: {doc['code_after']})" \
        if doc["code_changed_during_run"] else ""
    print(f"\nwall time {doc['wall_s']} s {doc['timings_s']}; code {doc['code']}{changed}")


# ---------------------------------------------------------------- compare


def as_points(value: Any) -> float | None:
    """A figure in percentage points (class counts as their recall), None if absent."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return 100 * value[0] / value[1]
    return 100 * value


@dataclass
class Line:
    """One compared figure."""

    row: str
    figure: str
    before: Any
    after: Any
    delta: str
    bad: bool


def compare_figure(row: str, figure: str, before: Any, after: Any, points: float) -> Line:
    """Before and after of one figure; bad when it moved more than `points` (n: at all)."""
    if figure == "n":
        return Line(row, figure, before, after, f"{(after or 0) - (before or 0):+d}",
                    before != after)
    b, a = as_points(before), as_points(after)
    if b is None or a is None:
        return Line(row, figure, before, after, "-", (b is None) != (a is None))
    delta = a - b
    return Line(row, figure, before, after, f"{delta:+.2f}", abs(delta) > points + 1e-9)


def compare_figures(before: dict[str, Any], after: dict[str, Any],
                    points: float) -> list[Line]:
    """Every figure of every (run, set) row in either record."""
    old, new = all_figures(before), all_figures(after)
    lines = []
    for key in list(old) + [k for k in new if k not in old]:
        row_b, row_a = old.get(key, {}), new.get(key, {})
        for figure in list(row_b) + [f for f in row_a if f not in row_b]:
            lines.append(compare_figure(" | ".join(key), figure, row_b.get(figure),
                                        row_a.get(figure), points))
    return lines


def mask(reason: str) -> str:
    """A reminder's reason with its numbers masked: the rule named, not the seconds."""
    return re.sub(r"\d+(\.\d+)?", "#", reason)


def reminder_changes(before: dict[str, Any], after: dict[str, Any] | None) -> list[str]:
    """What differs between two runs of one clip ([] when the same reminders fired)."""
    if after is None:
        return ["not analysed after"]
    tolerance = 1 / before["rate_hz"] + 1e-6  # one sample interval
    left = list(after["reminders"])
    problems = []
    for old in before["reminders"]:
        match = next((r for r in left if r["kind"] == old["kind"]
                      and abs(r["t"] - old["t"]) <= tolerance), None)
        if match is None:
            problems.append(f"{old['kind']} at {old['t']:g} s is gone")
            continue
        left.remove(match)
        if mask(match["reason"]) != mask(old["reason"]):
            problems.append(f"{old['kind']} at {old['t']:g} s: reason {old['reason']!r} "
                            f"-> {match['reason']!r}")
    problems += [f"new {r['kind']} at {r['t']:g} s ({r['reason']})" for r in left]
    return problems


def compare_clips(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[str]]:
    """Per clip whose reminders differ, what differs."""
    out = {name: reminder_changes(clip, after["clips"].get(name))
           for name, clip in before["clips"].items()}
    out |= {name: ["not analysed before"] for name in after["clips"]
            if name not in before["clips"]}
    return {name: problems for name, problems in out.items() if problems}


def print_comparison(lines: list[Line], clips: dict[str, list[str]], points: float) -> None:
    """The before/after table, then the clips whose reminders differ."""
    print("| run | set | figure | before | after | delta (points) | |")
    print("|---|---|---|---|---|---|---|")
    for line in lines:
        flag = "**OUT**" if line.bad else ""
        print(f"| {line.row} | {line.figure} | {fmt(line.before)} | {fmt(line.after)} | "
              f"{line.delta} | {flag} |")
    bad = [line for line in lines if line.bad]
    print(f"\n{len(bad)} of {len(lines)} figures moved more than {points} points "
          "(or changed n)")
    for line in bad:
        print(f"  {line.row}: {line.figure} {fmt(line.before)} -> {fmt(line.after)}")
    if not clips:
        print("reminders: the same on every clip (kinds, times within one sample, reasons)")
    for name, problems in clips.items():
        print(f"reminders differ on {name}: " + "; ".join(problems))


def compare(before_path: Path, after_path: Path, points: float) -> int:
    """Print the comparison; 1 if any figure or any clip's reminders are out of bounds."""
    before, after = (json.loads(p.read_text()) for p in (before_path, after_path))
    for label, doc in (("before", before), ("after", after)):
        print(f"{label}: {doc['recorded']} on {doc['host']}, code {doc['code']}")
    lines = compare_figures(before, after, points)
    clips = compare_clips(before, after)
    print_comparison(lines, clips, points)
    out_of_bounds = any(line.bad for line in lines) or bool(clips)
    print("\nOUT OF BOUNDS" if out_of_bounds else "\nwithin bounds")
    return 1 if out_of_bounds else 0


# ---------------------------------------------------------------- command line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="run evaluate and analyze, save the figures")
    rec.add_argument("out", type=Path)
    rec.add_argument("--footage", type=Path, default=FOOTAGE)
    cmp = sub.add_parser("compare", help="compare two records; exit 1 if out of bounds")
    cmp.add_argument("before", type=Path)
    cmp.add_argument("after", type=Path)
    cmp.add_argument("--points", type=float, default=POINTS,
                     help=f"largest allowed change of a figure (default {POINTS})")
    args = parser.parse_args()
    if args.command == "record":
        return record(args.out, args.footage.resolve())
    if not math.isfinite(args.points) or args.points < 0:
        parser.error("--points must be a non-negative number")
    return compare(args.before, args.after, args.points)


if __name__ == "__main__":
    sys.exit(main())
