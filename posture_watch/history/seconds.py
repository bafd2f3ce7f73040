"""The per-second fold: how the samples of one session-second become one stored row, and
how those rows are written and read back.

Samples are folded into one row per session-second (worst state, mean score, main rule, a
few metrics) in a WITHOUT ROWID table keyed by (second, session): an 8-hour day at 2 Hz
stays around a megabyte or two and time-range reads are one index walk. No images.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from posture_watch.core.rules import POSTURE_RULES
from posture_watch.core.types import Level, PostureState
from posture_watch.history.rows import CODE_STATE, STATE_CODE, SampleRow

_LEVEL_RANK = {Level.GOOD: 0, Level.CAUTION: 1, Level.POOR: 2}


@dataclass(slots=True)
class SecondFold:
    """Running aggregate of the samples of one session-second."""

    state: int = -1
    n: int = 0
    rules: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # rank, count, order
    sums: dict[str, list[float]] = field(default_factory=dict)  # column -> [sum, count]
    note: str | None = None

    def add(self, state: PostureState) -> None:
        code = STATE_CODE[state.state]
        if code > self.state:
            self.state, self.note = code, None
        if code == self.state and self.note is None and state.note:
            self.note = state.note
        self.n += 1
        self._add("score", state.score)
        for r in state.rules:
            if r.level is not Level.GOOD:
                rank = _LEVEL_RANK[r.level] + (10 if _is_posture_rule(r.rule) else 0)
                old = self.rules.get(r.rule, (rank, 0, len(self.rules)))
                self.rules[r.rule] = (max(old[0], rank), old[1] + 1, old[2])
        if state.quality_detail:
            self._add("quality", state.quality)
        self._add("distance_cm", state.metrics.get("distance_cm"))
        self._add("head_pitch_deg", state.metrics.get("head_pitch_deg"))
        neck = next((r.value for r in state.rules if r.rule == "neck_flexion"), None)
        self._add("neck_deg", neck)

    def _add(self, column: str, value: float | None) -> None:
        if value is None or not math.isfinite(value):
            return
        acc = self.sums.setdefault(column, [0.0, 0])
        acc[0] += value
        acc[1] += 1

    def scaled_mean(self, column: str, scale: int) -> int | None:
        acc = self.sums.get(column)
        return round(acc[0] / acc[1] * scale) if acc else None

    def main_rule(self) -> str | None:
        """Worst level first (posture before set-up), then the most frequent, then first."""
        if not self.rules:
            return None
        return max(self.rules.items(), key=lambda kv: (kv[1][0], kv[1][1], -kv[1][2]))[0]


# (session id, second) and the fold of that second: the unit a flush writes.
FoldedSeconds = list[tuple[tuple[int, int], SecondFold]]


def _is_posture_rule(name: str) -> bool:
    return name in POSTURE_RULES


# Means are stored as scaled integers (1-2 bytes each instead of an 8-byte REAL): this
# halves the file and speeds up scans. Stored column -> (SampleRow field, scale).
_SCALED = {"score_x10": ("score", 10), "distance_mm": ("distance_cm", 10),
           "head_pitch_ddeg": ("head_pitch_deg", 10), "neck_ddeg": ("neck_deg", 10),
           "quality_pm": ("quality", 1000)}
_SAMPLE_COLUMNS = ("t", "session_id", "state", "n", "score_x10", "rule", "distance_mm",
                   "head_pitch_ddeg", "neck_ddeg", "quality_pm", "note")
# Unscaled in SQL (NULL stays NULL): cheaper than doing it per value in Python.
_SELECT_SAMPLES = (
    "SELECT " + ", ".join(f"{c} / {_SCALED[c][1]}.0" if c in _SCALED else c
                          for c in _SAMPLE_COLUMNS)
    + " FROM samples WHERE t >= ? AND t < ? ORDER BY t, session_id"
)


def _weighted(column: str) -> str:
    return (f"{column} = CASE WHEN {column} IS NULL THEN excluded.{column} "
            f"WHEN excluded.{column} IS NULL THEN {column} "
            f"ELSE CAST(ROUND(({column} * n + excluded.{column} * excluded.n) * 1.0 "
            f"/ (n + excluded.n)) AS INTEGER) END")


def _worst_wins(column: str) -> str:
    return (f"{column} = CASE WHEN excluded.state > state THEN excluded.{column} "
            f"ELSE COALESCE({column}, excluded.{column}) END")


# A second that is already stored (a late sample, the wall clock stepping back) is merged:
# the worst state wins, counts add up and means are weighted by sample count.
_INSERT_SAMPLE = (
    f"INSERT INTO samples ({', '.join(_SAMPLE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_SAMPLE_COLUMNS))}) "
    "ON CONFLICT (t, session_id) DO UPDATE SET "
    + ", ".join([
        "state = MAX(state, excluded.state)", "n = n + excluded.n",
        *(_weighted(c) for c in _SCALED),
        _worst_wins("rule"), _worst_wins("note"),
    ])
)


def write_seconds(conn: sqlite3.Connection, seconds: FoldedSeconds, string_ids: dict[str, int],
                  session_ids: dict[int, int]) -> None:
    """Insert (or merge) folded seconds, inside the caller's transaction.

    `string_ids` must hold every main rule and note of `seconds`; `session_ids` maps
    provisional session ids to the database's (an id not in it is already real).
    """
    rows: list[tuple[Any, ...]] = []
    for (sid, second), acc in seconds:
        rule = acc.main_rule()
        means = [acc.scaled_mean(name, scale) for name, scale in _SCALED.values()]
        score, distance, pitch, neck, quality = means
        rows.append((second, session_ids.get(sid, sid), acc.state, acc.n, score,
                     string_ids.get(rule) if rule else None, distance, pitch, neck, quality,
                     string_ids.get(acc.note) if acc.note else None))
    conn.executemany(_INSERT_SAMPLE, rows)


def read_seconds(conn: sqlite3.Connection, since: float, until: float) -> list[SampleRow]:
    """Per-second rows with since <= t < until, in time order."""
    names = _string_names(conn)
    rows = conn.execute(_SELECT_SAMPLES, (math.ceil(since), math.ceil(until))).fetchall()
    states = CODE_STATE
    return [SampleRow(t, sid, states[st], n, score, names.get(rule), dist, pitch, neck,
                      quality, names.get(note))
            for t, sid, st, n, score, rule, dist, pitch, neck, quality, note in rows]


def _string_names(conn: sqlite3.Connection) -> dict[int | None, str]:
    return dict(conn.execute("SELECT id, name FROM strings").fetchall())
