"""Screen distance in a summary (pure): the typical distance, the time spent outside the
comfortable band, and when that was held long enough to be a set-up finding.

One definition for the summary of a run and for the summaries of the stored history, so
the distance a summary prints and the set-up advice beside it never disagree: the advice
fires only when the printed typical (median) distance is itself outside the band.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from posture_watch.core.episodes import MIN_EPISODE_S, breaks_the_run
from posture_watch.core.settings import ThresholdsConfig

TOO_CLOSE, TOO_FAR = "screen_too_close", "screen_too_far"

# Set-up advice is about the desk, so it needs the person to have sat outside the band,
# not leaned in to read a line. "Held" means two things together:
# - the median distance is outside the band, i.e. at least half of the measured time was;
# - one stretch outside it lasted SETUP_HOLD_S (the 60 s a poor posture must hold before
#   a posture reminder, [reminders.posture] poor_hold_s), or, for an input too short for
#   that, half of its measured time; never less than a posture episode (MIN_EPISODE_S).
#   A 10 s clip with three samples under 50 cm gets no advice; 20 minutes at 40 cm does.
SETUP_HOLD_S = 60.0
# Back inside the band for less than this does not end a stretch: a blip, as for episodes.
SETUP_BRIDGE_S = float(MIN_EPISODE_S)


@dataclass(frozen=True)
class DistanceFigures:
    """What a summary says about the eye-to-camera distance; times in seconds."""

    median_cm: float  # time-weighted: half of the measured time was closer, half farther
    measured_s: float  # time with a distance
    near_cm: float  # the comfortable band, from the thresholds
    far_cm: float
    too_close_s: float  # time closer than near_cm
    too_far_s: float  # time farther than far_cm
    # Longest stretch closer than near_cm / farther than far_cm (short returns into the
    # band bridged); None where the summary cannot follow stretches (history rollups).
    longest_close_s: float | None = None
    longest_far_s: float | None = None

    @property
    def side(self) -> str | None:
        """The rule the median distance breaks, if any."""
        if self.median_cm < self.near_cm:
            return TOO_CLOSE
        if self.median_cm > self.far_cm:
            return TOO_FAR
        return None

    def outside_s(self, rule: str) -> float:
        return self.too_close_s if rule == TOO_CLOSE else self.too_far_s

    def longest_s(self, rule: str) -> float | None:
        return self.longest_close_s if rule == TOO_CLOSE else self.longest_far_s


@dataclass(frozen=True)
class SetupFinding:
    """A set-up finding that held: which one, and for how long of the measured time."""

    rule: str
    band: str  # "closer than 50 cm"
    held_s: float  # time outside the band
    of_s: float  # time with a distance
    longest_s: float | None  # longest stretch outside it, where known


def required_stretch_s(measured_s: float) -> float:
    """How long one stretch outside the band must last to count (see SETUP_HOLD_S)."""
    return min(SETUP_HOLD_S, max(float(MIN_EPISODE_S), measured_s / 2.0))


def weighted_median(pairs: Iterable[tuple[float, float]]) -> float | None:
    """The median of values weighted by time (value, seconds); the mean of the two middle
    values when the cumulative weight lands exactly on half, like statistics.median."""
    items = sorted((v, w) for v, w in pairs if w > 0)
    total = math.fsum(w for _, w in items)
    if not items:
        return None
    acc = 0.0
    for i, (value, weight) in enumerate(items):
        acc += weight
        if math.isclose(acc, total / 2.0, rel_tol=1e-9) and i + 1 < len(items):
            return (value + items[i + 1][0]) / 2.0
        if acc > total / 2.0:
            return value
    return items[-1][0]


def longest_stretch(samples: Sequence[tuple[float, float, bool]]) -> float:
    """Longest stretch of (t_s, span_s, outside) samples where `outside` held.

    Back inside (or not measured) for less than SETUP_BRIDGE_S does not end a stretch; a
    gap between samples that ends an episode (core.episodes) does.
    """
    longest = 0.0
    stretch: tuple[float, float] | None = None  # start, end
    previous_t: float | None = None
    for t, span, outside in samples:
        broken = previous_t is not None and breaks_the_run(t - previous_t)
        previous_t = t
        if stretch and (broken or (outside and t - stretch[1] >= SETUP_BRIDGE_S)):
            longest, stretch = max(longest, stretch[1] - stretch[0]), None
        if outside:
            stretch = (t if stretch is None else stretch[0], t + span)
    return max(longest, stretch[1] - stretch[0]) if stretch else longest


def figures_from_counts(seconds_by_distance: Iterable[tuple[float, float]],
                        thresholds: ThresholdsConfig) -> DistanceFigures | None:
    """Figures from (distance_cm, seconds) pairs: no order, so no stretches."""
    near, far = thresholds.distance_near_caution_cm, thresholds.distance_far_caution_cm
    pairs = [(d, s) for d, s in seconds_by_distance if math.isfinite(d) and s > 0]
    median = weighted_median(pairs)
    if median is None:
        return None
    return DistanceFigures(
        median_cm=round(median, 1),
        measured_s=round(math.fsum(s for _, s in pairs), 2),
        near_cm=near, far_cm=far,
        too_close_s=round(math.fsum(s for d, s in pairs if d < near), 2),
        too_far_s=round(math.fsum(s for d, s in pairs if d > far), 2),
    )


def figures_from_samples(samples: Sequence[tuple[float, float, float | None]],
                         thresholds: ThresholdsConfig) -> DistanceFigures | None:
    """Figures from (t_s, span_s, distance_cm or None) samples in time order."""
    counts = figures_from_counts(((d, span) for _, span, d in samples if d is not None),
                                 thresholds)
    if counts is None:
        return None
    near, far = counts.near_cm, counts.far_cm
    close = [(t, span, d is not None and d < near) for t, span, d in samples]
    beyond = [(t, span, d is not None and d > far) for t, span, d in samples]
    return replace(counts, longest_close_s=round(longest_stretch(close), 2),
                   longest_far_s=round(longest_stretch(beyond), 2))


def setup_finding(figures: DistanceFigures | None) -> SetupFinding | None:
    """The set-up finding when the distance was outside the band and that held."""
    if figures is None or (rule := figures.side) is None:
        return None
    required = required_stretch_s(figures.measured_s)
    held, longest = figures.outside_s(rule), figures.longest_s(rule)
    # Without stretches (history rollups) the time outside stands in for the longest one.
    if (longest if longest is not None else held) < required - 1e-6:
        return None
    return SetupFinding(rule, band_text(figures, rule), held, figures.measured_s, longest)


def band_text(figures: DistanceFigures, rule: str) -> str:
    """'closer than 50 cm' / 'farther than 100 cm'."""
    if rule == TOO_CLOSE:
        return f"closer than {figures.near_cm:g} cm"
    return f"farther than {figures.far_cm:g} cm"


def median_text(figures: DistanceFigures) -> str:
    """The median in whole cm, or to 0.1 cm where rounding would put it on the other side
    of a band edge: 49.6 cm shows as '49.6', never '50', beside 'closer than 50 cm'."""
    value, whole = figures.median_cm, float(round(figures.median_cm))
    same_side = ((value < figures.near_cm) == (whole < figures.near_cm)
                 and (value > figures.far_cm) == (whole > figures.far_cm))
    return f"{whole:.0f}" if same_side else f"{value:.1f}"


def held_text(finding: SetupFinding, duration: Callable[[float], str]) -> str:
    """'closer than 50 cm for 12 min of 40 min, 9 min at a stretch'."""
    text = f"{finding.band} for {duration(finding.held_s)} of {duration(finding.of_s)}"
    if finding.longest_s is not None:
        text += f", {duration(finding.longest_s)} at a stretch"
    return text
