"""Reading label files for recorded inputs (I/O): which states are right, and when.

Two layouts:

- a clip `X.mp4` (or any file) with `X.labels.csv` beside it (`start_s,end_s,label`),
  optionally `X.reminders.csv` (`t_s,kind,tolerance_s`) and `X.config.toml`; see "Labels
  for recorded clips" in the design notes;
- the shared footage folder: `labels_videos.csv` (`file,start_s,end_s,label,notes`) and
  `labels_stills.csv` (`file,source_repo,path_in_repo,posture_label,camera_view,notes`),
  file names relative to the folder.

Malformed input is a UserError of one line naming the file and line. The scoring itself
lives in the pure `posture_watch.core.evaluation`, which also defines `Segment` and
`ExpectedReminder` (the core must not import this I/O module; they are re-exported here).
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

from posture_watch.core.evaluation import ExpectedReminder, Segment
from posture_watch.core.types import ReminderKind, State
from posture_watch.errors import UserError

__all__ = [
    "ExpectedReminder",
    "LabelledInput",
    "Segment",
    "expected_states",
    "find_labelled_clips",
    "read_clip_labels",
    "read_footage",
    "still_expected_states",
]

_GOOD = frozenset({State.GOOD.value})
_BAD = frozenset({State.CAUTION.value, State.POOR.value})
_AWAY = frozenset({State.AWAY.value})
# Present but not judged for sitting posture (seen from behind, standing at a room camera):
# it must be neither away nor poor.
_PRESENT = frozenset({State.GOOD.value, State.CAUTION.value, State.UNKNOWN.value})

# Labels of X.labels.csv (design notes) and of the footage videos; one vocabulary for both.
LABEL_STATES: dict[str, frozenset[str]] = {
    "upright": _GOOD,
    "away": _AWAY,
    "slouched": _BAD,
    "forward_head": _BAD,
    "head_tilt": _BAD,
    "shoulder_tilt": _BAD,
    "shrug": _BAD,
    "looking_down": _BAD,
    "absent": _AWAY,
    "lateral_head_tilt": _BAD,
    "person_standing": _PRESENT,
}

# Footage stills carry free-text labels ("upright (STANDING at standing desk)",
# "slouched/hunched_forward"); the leading word decides.
_STILL_PREFIXES: tuple[tuple[str, frozenset[str]], ...] = (
    ("upright", _GOOD),
    ("forward_head", _BAD),
    ("slouched", _BAD),
    ("reclined", _BAD),
)
# "kneeling" is a class of the source repository (legs folded under on the chair), not a
# posture this project judges from head and shoulders: such stills are left out.
_STILL_SKIPPED = ("kneeling",)

CLIP_COLUMNS = ("start_s", "end_s", "label")
REMINDER_COLUMNS = ("t_s", "kind", "tolerance_s")
VIDEO_COLUMNS = ("file", "start_s", "end_s", "label")
STILL_COLUMNS = ("file", "posture_label", "camera_view")
VIDEOS_CSV = "labels_videos.csv"
STILLS_CSV = "labels_stills.csv"
SIDE_STILLS_CSV = "labels_side_stills.csv"
# The rooms of the s05 side-view desk photos, by the day in their file names (footage
# README): stills from one room are calibrated together, as one user's fixed camera.
_ROOM_BY_DAY = {"20241007": "A", "20241008": "A", "20241009": "A", "20241010": "A",
                "20241013": "C"}


@dataclass(frozen=True)
class LabelledInput:
    """One recorded input with what a run on it should produce."""

    path: Path
    segments: tuple[Segment, ...]
    reminders: tuple[ExpectedReminder, ...] | None  # None: no reminder expectations given
    config: Path | None  # X.config.toml beside a clip, if any
    group: str = ""  # stills: the group calibrated together, e.g. "s03-front"
    view: str = "front"  # "front" | "side"


def expected_states(label: str) -> frozenset[str]:
    """The predicted State values that are right for a label; UserError if unknown."""
    try:
        return LABEL_STATES[label]
    except KeyError:
        known = ", ".join(sorted(LABEL_STATES))
        raise UserError(f"unknown label {label!r} (known: {known})") from None


def still_expected_states(posture_label: str) -> frozenset[str] | None:
    """The right states for a footage still's label by its leading word; None for a still
    to leave out (kneeling); UserError if unknown."""
    text = posture_label.strip().lower()
    if text.startswith(_STILL_SKIPPED):
        return None
    for prefix, states in _STILL_PREFIXES:
        if text.startswith(prefix):
            return states
    known = ", ".join(p for p, _ in _STILL_PREFIXES)
    raise UserError(f"unknown still label {posture_label!r} (known prefixes: {known})")


def read_clip_labels(clip: Path) -> LabelledInput:
    """`X.labels.csv` beside `clip`, plus `X.reminders.csv` and `X.config.toml` if there."""
    labels = _beside(clip, ".labels.csv")
    if not labels.is_file():
        raise UserError(f"{_show(clip)}: no labels file {labels.name} beside it")
    rows = _read_rows(labels, CLIP_COLUMNS)
    if not rows:
        raise UserError(f"{_show(labels)}: no labelled segments")
    segments = _checked_segments(labels, [(line, _segment(labels, line, row))
                                          for line, row in rows])
    reminders_path = _beside(clip, ".reminders.csv")
    reminders = _read_reminders(reminders_path) if reminders_path.is_file() else None
    return LabelledInput(clip, segments, reminders, _config_beside(clip))


def find_labelled_clips(paths: list[Path]) -> list[LabelledInput]:
    """Labelled inputs from files (each must have labels) and folders.

    A folder holding `labels_videos.csv` or `labels_stills.csv` is read as the footage
    layout; any other folder is searched (not recursively) for files with `X.labels.csv`
    beside them and must hold at least one.
    """
    found: list[LabelledInput] = []
    for path in paths:
        if path.is_dir():
            found.extend(_labelled_in_folder(path))
        elif path.is_file():
            found.append(read_clip_labels(path))
        else:
            raise UserError(f"{_show(path)}: no such file or folder")
    return found


def read_footage(folder: Path) -> list[LabelledInput]:
    """The shared footage layout: videos (one input per file, rows in file order), then
    stills (one input per still, one endless segment; kneeling stills left out)."""
    videos = folder / VIDEOS_CSV
    stills = [folder / name for name in (STILLS_CSV, SIDE_STILLS_CSV)
              if (folder / name).is_file()]
    if not videos.is_file() and not stills:
        raise UserError(f"{_show(folder)}: neither {VIDEOS_CSV} nor {STILLS_CSV} found")
    inputs = _read_videos(folder, videos) if videos.is_file() else []
    for path in stills:
        inputs.extend(_read_stills(folder, path))
    return inputs


# --- clips -----------------------------------------------------------------------------


def _beside(clip: Path, suffix: str) -> Path:
    return clip.with_name(clip.stem + suffix)


def _config_beside(clip: Path) -> Path | None:
    config = _beside(clip, ".config.toml")
    return config if config.is_file() else None


def _labelled_in_folder(folder: Path) -> list[LabelledInput]:
    if (folder / VIDEOS_CSV).is_file() or (folder / STILLS_CSV).is_file():
        return read_footage(folder)
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as e:
        raise UserError(f"{_show(folder)}: cannot list folder ({e.strerror or e})") from None
    clips = [p for p in entries
             if not p.name.startswith(".") and p.is_file() and _beside(p, ".labels.csv").is_file()]
    if not clips:
        raise UserError(f"{_show(folder)}: no clips with X.labels.csv beside them")
    return [read_clip_labels(p) for p in clips]


def _segment(path: Path, line: int, row: dict[str, str]) -> Segment:
    start = _number(path, line, row, "start_s")
    end = _number(path, line, row, "end_s")
    if start < 0:
        raise _row_error(path, line, f"start_s must not be negative, got {start}")
    if end <= start:
        raise _row_error(path, line, f"end_s ({end}) must be after start_s ({start})")
    label = row["label"]
    return Segment(start, end, label, _label_states(path, line, label))


def _checked_segments(path: Path, rows: list[tuple[int, Segment]]) -> tuple[Segment, ...]:
    """Segments in time order; overlapping ones would judge a sample twice."""
    rows = sorted(rows, key=lambda r: (r[1].start_s, r[1].end_s))
    for (_, before), (line, seg) in itertools.pairwise(rows):
        if seg.start_s < before.end_s:
            raise _row_error(path, line, f"segment {seg.start_s}-{seg.end_s} overlaps "
                                         f"{before.start_s}-{before.end_s}")
    return tuple(seg for _, seg in rows)


def _read_reminders(path: Path) -> tuple[ExpectedReminder, ...]:
    """Expected reminders; a file with only its header expects none at all."""
    kinds = {k.value for k in ReminderKind}
    reminders = []
    for line, row in _read_rows(path, REMINDER_COLUMNS):
        t_s = _number(path, line, row, "t_s")
        tolerance = _number(path, line, row, "tolerance_s")
        if t_s < 0 or tolerance < 0:
            raise _row_error(path, line, "t_s and tolerance_s must not be negative")
        if row["kind"] not in kinds:
            raise _row_error(path, line, f"unknown reminder kind {row['kind']!r} "
                                         f"(known: {', '.join(sorted(kinds))})")
        reminders.append(ExpectedReminder(t_s, row["kind"], tolerance))
    return tuple(sorted(reminders, key=lambda r: r.t_s))


def _label_states(path: Path, line: int, label: str) -> frozenset[str]:
    try:
        return expected_states(label)
    except UserError as e:
        raise _row_error(path, line, str(e)) from None


# --- footage ---------------------------------------------------------------------------


def _read_videos(folder: Path, path: Path) -> list[LabelledInput]:
    by_file: dict[str, list[tuple[int, Segment]]] = {}
    for line, row in _read_rows(path, VIDEO_COLUMNS):
        _footage_file(folder, path, line, row)
        by_file.setdefault(row["file"], []).append((line, _segment(path, line, row)))
    return [LabelledInput(folder / name, _checked_segments(path, rows), None,
                          _config_beside(folder / name))
            for name, rows in by_file.items()]


def _read_stills(folder: Path, path: Path) -> list[LabelledInput]:
    inputs: list[LabelledInput] = []
    seen: set[str] = set()
    for line, row in _read_rows(path, STILL_COLUMNS):
        still = _footage_file(folder, path, line, row)
        if row["file"] in seen:
            raise _row_error(path, line, f"{row['file']!r} is listed twice")
        seen.add(row["file"])
        try:
            expected = still_expected_states(row["posture_label"])
        except UserError as e:
            raise _row_error(path, line, str(e)) from None
        if expected is None:
            continue
        view = "side" if row["camera_view"].lower().startswith("side") else "front"
        group = "-".join(filter(None, (_still_prefix(row["file"]), _room(row["file"]), view)))
        segment = Segment(0.0, math.inf, row["posture_label"], expected)
        inputs.append(LabelledInput(still, (segment,), None, None, group, view))
    return inputs


def _footage_file(folder: Path, path: Path, line: int, row: dict[str, str]) -> Path:
    """The row's file, relative to the footage folder; it must exist."""
    name = row["file"]
    if not name:
        raise _row_error(path, line, "file is empty")
    file = folder / name
    if not file.is_file():
        raise _row_error(path, line, f"file {name!r} not found in {_show(folder)}")
    return file


def _still_prefix(name: str) -> str:
    """The source prefix of a still: the first `_`-separated word of the first path part
    that has one ("stills/s04_nvinayvarma_side/straight.jpg" -> "s04")."""
    for part in Path(name).parts:
        if "_" in part:
            return part.split("_", 1)[0]
    return Path(name).stem


def _room(name: str) -> str:
    """The room a still was taken in, from the day in its name, if the footage says."""
    for part in Path(name).stem.split("_"):
        if part in _ROOM_BY_DAY:
            return _ROOM_BY_DAY[part]
    return ""


# --- CSV -------------------------------------------------------------------------------


def _read_rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line number, stripped values by column) per non-empty row; the header must name
    every required column and a row may not have more fields than the header."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None:
                raise UserError(f"{_show(path)}: empty file, expected a header "
                                f"{','.join(required)}")
            header = [name.strip() for name in reader.fieldnames]
            missing = [c for c in required if c not in header]
            if missing:
                raise UserError(f"{_show(path)}: missing column {', '.join(missing)} "
                                f"(header: {','.join(header)})")
            reader.fieldnames = header
            rows = []
            for row in reader:
                if None in row:
                    raise _row_error(path, reader.line_num, "more fields than the header")
                values = {k: (v or "").strip() for k, v in row.items()}
                if any(values.values()):
                    rows.append((reader.line_num, values))
            return rows
    except csv.Error as e:
        raise UserError(f"{_show(path)}: not valid CSV ({e})") from None
    except UnicodeDecodeError:
        raise UserError(f"{_show(path)}: not UTF-8 text") from None
    except OSError as e:
        raise UserError(f"{_show(path)}: cannot read file ({e.strerror or e})") from None


def _number(path: Path, line: int, row: dict[str, str], column: str) -> float:
    text = row[column]
    try:
        value = float(text)
    except ValueError:
        raise _row_error(path, line, f"{column} must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise _row_error(path, line, f"{column} must be a finite number, not {text!r}")
    return value


def _row_error(path: Path, line: int, message: str) -> UserError:
    return UserError(f"{_show(path)}, line {line}: {message}")


def _show(path: Path) -> str:
    """The path on one line."""
    return str(path).replace("\n", "\\n").replace("\r", "\\r")
