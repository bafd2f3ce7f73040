"""What counts as a posture episode (pure): one definition for the summary of a run and
for the summaries of the stored history, so the two always agree."""

from __future__ import annotations

# A stretch of caution or poor shorter than this is a blip (a glance, a reach), not an
# episode.
MIN_EPISODE_S = 5
# A gap between samples longer than this (a stalled camera, a seek, a pause) is not
# counted as time, and it ends a stretch of caution or poor.
MAX_SAMPLE_GAP_S = 5


def is_episode(duration_s: float) -> bool:
    """Whether a stretch of caution or poor lasted long enough to count."""
    return duration_s >= MIN_EPISODE_S


def breaks_the_run(gap_s: float) -> bool:
    """Whether a gap between two samples ends a stretch (and is not counted as time)."""
    return gap_s > MAX_SAMPLE_GAP_S
