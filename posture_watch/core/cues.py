"""Slump cues, and how several of them are weighed into one judgment (pure).

A slump shows in more than one way, and each way can be missed or faked by landmark noise:

- front: the nose-to-shoulder gap closes (less what rising shoulders explain: a shrug); the
  head sinks in the frame; the shoulders sink with it (when the whole trunk sinks the gap
  holds, and these two carry the judgment); the head grows in the frame as it comes toward
  the screen;
- side: the ear-over-shoulder angle drops; the head moves ahead of the shoulder; the head
  sinks in the frame; the trunk leans forward or back from the calibrated one.

Each cue's deviation from the user's neutral is divided by its band: the larger of the cue's
unit (the smallest change that matters, stated beside it) and NOISE_BANDS times the spread
the cue showed while the user sat still for calibration, so jitter alone cannot cross it.
That gives the cue's evidence (1 = one band toward a slump). The judgment is the mean of the
two strongest pieces of evidence, so one cue past its band needs a second one leaning the
same way; a cue alone decides only at two bands or more (see `combine`).

Two-pose calibration replaces the unit by what the user showed: each cue that separated the
upright pose from the user's own slump by MIN_SEPARATION pooled spreads gets its band at
the midpoint between them (so the midpoint is one band, caution, and the slump two bands,
poor); the cues that did not keep their unit, and no band comes within NOISE_BANDS spreads
of the calibrated jitter.

Heights in the frame assume the camera did not move since calibration; the stale-calibration
notice warns when the head's place in the frame drifts far from the calibrated one.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

Values = Mapping[str, float]
Deviation = Callable[[Values, Values], float | None]

# A cue's band is at least this many of its calibration spreads (a standard deviation
# estimated as 1.4826 times the median absolute deviation): about 1 in 300 still samples
# of Gaussian jitter crosses 3 of them.
NOISE_BANDS = 3.0
MAD_TO_SD = 1.4826
MAX_EVIDENCE = 3.0
# What one cue alone can make of the judgment: caution (from 1 band), never poor (2).
LONE_CUE_MAX = 1.5
MIN_EVIDENCE = -1.0
# Two-pose calibration: cues that separated the poses by less than this many pooled
# spreads are left out; a slump no cue separates is refused.
MIN_SEPARATION = 1.5
MAX_WEIGHT = 4.0


@dataclass(frozen=True)
class Cue:
    name: str
    view: str  # "front" or "side"
    unit: float
    deviation: Deviation  # (sample, neutral) -> deviation toward a slump


def _closure(key: str) -> Deviation:
    """How much of the neutral's gap closed, as a fraction of it."""

    def deviation(values: Values, neutral: Values) -> float | None:
        value, ref = values.get(key), neutral.get(key)
        if value is None or ref is None or ref <= 1e-6:
            return None
        return (ref - value) / ref

    return deviation


def shoulder_rise(values: Values, neutral: Values) -> float | None:
    """How far the shoulder line rose in the image since the neutral, in shoulder widths."""
    line, ref, width = (values.get("shoulder_line_y"), neutral.get("shoulder_line_y"),
                        values.get("shoulder_width_h"))
    if line is None or ref is None or not width:
        return None
    return (ref - line) / width


def gap_closure(values: Values, neutral: Values,
                key: str) -> tuple[float, float | None] | None:
    """How much a head-above-shoulders gap (`key`) closed since the neutral, in its own
    units, and how much of that the shoulders rising in the frame explain (None when there
    is nothing to split: no position data, or the gap did not close). The gap closes when
    the shoulders rise (a shrug) or when the head drops (a slump); with the camera still,
    the rise tells the two apart."""
    value, ref = values.get(key), neutral.get(key)
    if value is None or ref is None or ref <= 1e-6:
        return None
    closure = ref - value
    rise = shoulder_rise(values, neutral)
    if rise is None or closure <= 0:
        return closure, None
    return closure, min(max(rise, 0.0), closure)


def _gap_closure_by_the_head(values: Values, neutral: Values) -> float | None:
    """How much of the nose-to-shoulder gap closed (fraction of the neutral gap), less the
    part explained by the shoulders rising in the frame: that part is a shrug, not a slump."""
    split = gap_closure(values, neutral, "slouch_ratio")
    if split is None:
        return None
    closure, from_shoulders = split
    return (closure - (from_shoulders or 0.0)) / neutral["slouch_ratio"]


def _growth(key: str) -> Deviation:
    def deviation(values: Values, neutral: Values) -> float | None:
        value, ref = values.get(key), neutral.get(key)
        if value is None or ref is None or ref <= 1e-6:
            return None
        return value / ref - 1.0

    return deviation


def _sink(key: str, scale_key: str) -> Deviation:
    """How far a landmark (`key`) sank in the frame, in neutral body lengths (`scale_key`)."""

    def deviation(values: Values, neutral: Values) -> float | None:
        value, ref = values.get(key), neutral.get(key)
        scale = neutral.get(scale_key)
        if value is None or ref is None or not scale or scale <= 1e-6:
            return None
        return (value - ref) / scale

    return deviation


def _rise(key: str, absolute: bool = False, sign: float = 1.0) -> Deviation:
    def deviation(values: Values, neutral: Values) -> float | None:
        value, ref = values.get(key), neutral.get(key)
        if value is None or ref is None:
            return None
        diff = sign * (value - ref)
        return abs(diff) if absolute else diff

    return deviation


CUES: tuple[Cue, ...] = (
    # The frontal slouch ratio's caution band (90 % of neutral) as a closure.
    Cue("gap", "front", 0.10, _gap_closure_by_the_head),
    # About 2.5 cm for 40 cm shoulders. In the real sinking slouches issue 9 measured at a
    # laptop the head dropped 4-5 % of the frame height with shoulders about 0.5-0.6 frame
    # heights wide: 0.07-0.09 shoulder widths, which must reach a band.
    Cue("head_sink", "front", 0.06, _sink("head_height", "shoulder_width_h")),
    # When the whole trunk sinks, the shoulders drop with the head and the gap holds: the
    # shoulder line sinking by as much is the second piece of evidence.
    Cue("shoulder_sink", "front", 0.06, _sink("shoulder_line_y", "shoulder_width_h")),
    # The forward-head band of peer monitors (face 7 % larger than at neutral).
    Cue("head_growth", "front", 0.07, _growth("face_size_h")),
    # Side view. About the pain-free vs neck-pain difference in the craniovertebral angle
    # (Lau 2009, 7 degrees).
    Cue("ear_angle_drop", "side", 7.0, _rise("side_ear_shoulder_deg", sign=-1.0)),
    # About 5 cm for a 50 cm shoulder-to-hip length: the head ahead of the shoulder.
    Cue("head_ahead", "side", 0.10, _rise("head_forward_torso")),
    # About 4 cm, as in front.
    Cue("head_sink_side", "side", 0.08, _sink("head_height", "torso_h")),
    # RULA's first trunk band (0-20 degrees), either way: hunching or sinking back.
    Cue("trunk_lean", "side", 20.0, _rise("trunk_flexion_deg", absolute=True)),
)
CUE_NAMES = tuple(c.name for c in CUES)


def cues_for(view: str) -> tuple[Cue, ...]:
    return tuple(c for c in CUES if c.view == view)


def deviations(values: Values, neutral: Values, view: str) -> dict[str, float]:
    out = {}
    for cue in cues_for(view):
        value = cue.deviation(values, neutral)
        if value is not None:
            out[cue.name] = value
    return out


def _columns(samples: Iterable[Values], neutral: Values, view: str) -> dict[str, list[float]]:
    """Each cue's deviations over the samples that measured it."""
    columns: dict[str, list[float]] = {}
    for values in samples:
        for name, value in deviations(values, neutral, view).items():
            columns.setdefault(name, []).append(value)
    return columns


def spread(samples: Iterable[Values], neutral: Values, view: str) -> dict[str, float]:
    """Each cue's spread (a standard deviation, from the MAD) over calibration samples."""
    out = {}
    for name, column in _columns(samples, neutral, view).items():
        centre = statistics.median(column)
        out[name] = MAD_TO_SD * statistics.median(abs(v - centre) for v in column)
    return out


def medians(samples: Iterable[Values], neutral: Values, view: str) -> dict[str, float]:
    return {name: statistics.median(column)
            for name, column in _columns(samples, neutral, view).items()}


def band(cue: Cue, noise: Mapping[str, float],
         slump: Mapping[str, float] | None = None) -> float:
    """The cue's band: its unit, or with a two-pose calibration that separated the poses
    on this cue, half the way to the user's own slump; never within NOISE_BANDS spreads."""
    floor = NOISE_BANDS * noise.get(cue.name, 0.0)
    toward = (slump or {}).get(cue.name)
    scale = abs(toward) / 2 if toward else cue.unit
    return max(scale, floor, 1e-9)


def evidence(values: Values, neutral: Values, noise: Mapping[str, float], view: str,
             slump: Mapping[str, float] | None = None) -> dict[str, float]:
    """Each cue's deviation in bands, clipped to [MIN_EVIDENCE, MAX_EVIDENCE]."""
    out = {}
    by_name = {c.name: c for c in CUES}
    for name, value in deviations(values, neutral, view).items():
        scaled = value / band(by_name[name], noise, slump)
        out[name] = min(MAX_EVIDENCE, max(MIN_EVIDENCE, scaled))
    return out


def combine(evidences: Iterable[float]) -> float | None:
    """The mean of the two strongest pieces of evidence, or the strongest less one band if
    that is more: a cue alone reaches caution only at two bands (six spreads of its jitter
    at least), where it is no longer noise, and never poor. With one cue measured, that
    cue."""
    ordered = sorted(evidences, reverse=True)
    if not ordered:
        return None
    if len(ordered) == 1:
        return ordered[0]
    return max((ordered[0] + ordered[1]) / 2, min(ordered[0] - 1.0, LONE_CUE_MAX))


def separations(upright: Mapping[str, float], slumped_median: Mapping[str, float],
                upright_noise: Mapping[str, float],
                slumped_noise: Mapping[str, float]) -> dict[str, float]:
    """How far apart each cue put the two poses, in pooled spreads (a d-prime).

    The floor on each spread is a tenth of the cue's unit, so two perfectly still poses do
    not make an infinitely sure cue.
    """
    out = {}
    by_name = {c.name: c for c in CUES}
    for name, slumped in slumped_median.items():
        if name not in by_name:
            continue
        floor = 0.1 * by_name[name].unit
        pooled = max(floor, ((upright_noise.get(name, 0.0) ** 2
                              + slumped_noise.get(name, 0.0) ** 2) / 2) ** 0.5)
        out[name] = (slumped - upright.get(name, 0.0)) / pooled
    return out


def usable_weights(separation: Mapping[str, float]) -> dict[str, float]:
    """Cues that told the poses apart (in the slump's direction), capped in weight."""
    return {name: min(MAX_WEIGHT, d) for name, d in separation.items() if d >= MIN_SEPARATION}
