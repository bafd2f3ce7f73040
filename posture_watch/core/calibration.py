"""The user's neutral posture: a robust baseline from an upright stretch of samples (pure)."""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from posture_watch.core import cues
from posture_watch.core.metrics import RawMetrics
from posture_watch.errors import UserError

PROFILE_VERSION = 1

# Head angles that a person sitting upright and facing the screen stays within; the
# automatic baseline only learns from samples inside them (ergonomics.md "good" bands for
# roll, yaw and shoulder tilt). Pitch is measured against the camera's axis, so it gets
# room for where the camera sits (a laptop camera looks up at an upright face).
_UPRIGHT_LIMITS_DEG = {"head_pitch_deg": 25.0, "head_roll_deg": 10.0, "head_yaw_deg": 15.0,
                       "shoulder_tilt_deg": 6.0}
# A stretch is steady when the medians of its first and second halves differ by no more
# than this many degrees (angles) or this fraction (ratios): posture did not drift while
# learning, though landmark jitter within each half is allowed.
_STEADY_DEG = 3.0
_STEADY_FRACTION = 0.05


class CalibrationError(UserError):
    """Not enough usable samples to learn a baseline from."""


@dataclass(frozen=True)
class Observation:
    """What calibration learns from one sample: its metrics and where the head was."""

    metrics: RawMetrics
    position: tuple[float, float]  # head position, normalized to the image (0-1)


@dataclass(frozen=True)
class Baseline:
    """Medians of each metric over the calibration stretch, with their spread."""

    metrics: Mapping[str, float]
    spread: Mapping[str, float] = field(default_factory=dict)  # median absolute deviation
    position: tuple[float, float] | None = None
    samples: int = 0
    source: str = ""
    side_view: bool = False
    # Each slump cue's spread over the calibration samples (core.cues), and with a two-pose
    # calibration the user's own slump: each cue's deviation in it, and how far apart the
    # two poses were on it (in pooled spreads, capped; the cues that told them apart).
    cue_noise: Mapping[str, float] = field(default_factory=dict)
    slump: Mapping[str, float] = field(default_factory=dict)
    slump_weights: Mapping[str, float] = field(default_factory=dict)

    def get(self, key: str) -> float | None:
        return self.metrics.get(key)

    @property
    def view(self) -> str:
        return "side" if self.side_view else "front"

    @property
    def two_pose(self) -> bool:
        return bool(self.slump_weights)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": PROFILE_VERSION,
            "metrics": dict(self.metrics),
            "spread": dict(self.spread),
            "position": list(self.position) if self.position else None,
            "samples": self.samples,
            "source": self.source,
            "side_view": self.side_view,
            "cue_noise": dict(self.cue_noise),
            "slump": dict(self.slump),
            "slump_weights": dict(self.slump_weights),
        }

    @classmethod
    def from_dict(cls, data: Any, origin: str = "calibration") -> Baseline:
        """Rebuild from to_dict() output; anything malformed is a one-line UserError."""
        try:
            if data.get("version") != PROFILE_VERSION:
                raise ValueError(f"unsupported version {data.get('version')!r}")
            metrics = {str(k): float(v) for k, v in data["metrics"].items()}
            spread = {str(k): float(v) for k, v in data.get("spread", {}).items()}
            pos = data.get("position")
            position = (float(pos[0]), float(pos[1])) if pos else None
            if not metrics:
                raise ValueError("no metrics")
            noise, slump, weights = (
                {str(k): float(v) for k, v in data.get(name, {}).items()}
                for name in ("cue_noise", "slump", "slump_weights"))
            numbers = [*metrics.values(), *spread.values(), *(position or ()),
                       *noise.values(), *slump.values(), *weights.values()]
            if not all(math.isfinite(v) for v in numbers):
                raise ValueError("a value is not a finite number")
            return cls(metrics, spread, position, int(data.get("samples", 0)),
                       str(data.get("source", "")), bool(data.get("side_view", False)),
                       noise, slump, weights)
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise UserError(f"{origin}: not a valid calibration ({exc})") from None


def _robust_center(values: list[float]) -> tuple[float, float]:
    """Median after dropping values more than 3 MADs away; returns (median, MAD)."""
    med = statistics.median(values)
    mad = statistics.median(abs(v - med) for v in values)
    limit = 3.0 * max(mad, 1e-6 * max(1.0, abs(med)))
    kept = [v for v in values if abs(v - med) <= limit] or values
    med = statistics.median(kept)
    return med, statistics.median(abs(v - med) for v in kept)


def build_baseline(
    observations: Iterable[Observation], *, min_samples: int, source: str
) -> Baseline:
    """A baseline from observations of the person sitting upright.

    Samples without a person are not passed in; too few observations is a
    CalibrationError that says how many there were.
    """
    obs = list(observations)
    if len(obs) < min_samples:
        raise CalibrationError(
            f"calibration: a person was measured in only {len(obs)} samples of {source}; "
            f"need at least {min_samples} (sit upright, facing the camera)"
        )
    columns: dict[str, list[float]] = {}
    for o in obs:
        for key, value in o.metrics.as_dict().items():
            columns.setdefault(key, []).append(value)
    metrics, spread = {}, {}
    for key, values in columns.items():
        if len(values) >= max(1, min_samples // 2):
            metrics[key], spread[key] = _robust_center(values)
    position = (
        statistics.median(o.position[0] for o in obs),
        statistics.median(o.position[1] for o in obs),
    )
    side = sum(o.metrics.side_view for o in obs) * 2 > len(obs)
    view = "side" if side else "front"
    # Only the samples seen from the view the calibration settled on describe its noise.
    same_view = [o.metrics.as_dict() for o in obs if o.metrics.side_view == side]
    noise = cues.spread(same_view, metrics, view)
    return Baseline(metrics, spread, position, len(obs), source, side, noise)


def add_slump(baseline: Baseline, observations: Iterable[Observation], *,
              min_samples: int) -> Baseline:
    """The baseline with the user's own slump learned from observations of it.

    Refused (CalibrationError) when there are too few samples, when they were seen from the
    other view, or when no cue tells the slump from the upright pose by MIN_SEPARATION
    pooled spreads: a "slump" that looks like sitting upright would teach nothing.
    """
    obs = [o for o in observations if o.metrics.side_view == baseline.side_view]
    if len(obs) < min_samples:
        raise CalibrationError(
            f"calibration: the slumped pose was measured in only {len(obs)} samples from the "
            f"{baseline.view} view; need at least {min_samples}")
    samples = [o.metrics.as_dict() for o in obs]
    slumped = cues.medians(samples, baseline.metrics, baseline.view)
    separation = cues.separations({}, slumped, baseline.cue_noise,
                                  cues.spread(samples, baseline.metrics, baseline.view))
    weights = cues.usable_weights(separation)
    if not weights:
        best = max(separation.values(), default=0.0)
        raise CalibrationError(
            "calibration: the slumped pose looks like the upright one (the clearest cue "
            f"moved {best:.1f} spreads, {cues.MIN_SEPARATION:g} needed); slump the way you "
            "do when tired, and keep the camera where it was")
    return dataclasses.replace(baseline, slump={k: slumped[k] for k in weights},
                               slump_weights=weights)


def looks_upright(metrics: RawMetrics) -> bool:
    """Whether absolute head and shoulder angles are inside the good bands."""
    values = metrics.as_dict()
    return all(abs(values.get(key, 0.0)) <= limit for key, limit in _UPRIGHT_LIMITS_DEG.items())


def is_steady(observations: list[Observation]) -> bool:
    """Whether no measurement drifted between the first and second half of the stretch."""
    half = len(observations) // 2
    if half == 0:
        return True
    columns: dict[str, tuple[list[float], list[float]]] = {}
    for i, o in enumerate(observations):
        for key, value in o.metrics.as_dict().items():
            columns.setdefault(key, ([], []))[i >= half].append(value)
    for key, (first, second) in columns.items():
        if not first or not second or key == "distance_cm":
            continue
        drift = abs(statistics.median(second) - statistics.median(first))
        limit = _STEADY_DEG if key.endswith("_deg") \
            else _STEADY_FRACTION * abs(statistics.median(first + second))
        if drift > limit:
            return False
    return True


class AutoCalibrator:
    """Learns a baseline from the first steady, upright-looking stretch when none was given.

    The stretch must be continuous: a sample that does not look upright starts it again,
    and a stretch whose measurements drifted (the user was still settling) is slid forward
    until it is steady, so a change of posture is never learned as the neutral.
    """

    def __init__(self, seconds: float, min_samples: int) -> None:
        self._seconds = seconds
        self._min_samples = min_samples
        self._window: list[tuple[float, Observation]] = []

    def offer(self, t_s: float, observation: Observation) -> Baseline | None:
        """Feed one present sample; returns the baseline once enough has been seen."""
        if not looks_upright(observation.metrics):
            self._window.clear()
            return None
        self._window.append((t_s, observation))
        while (len(self._window) > self._min_samples
               and t_s - self._window[1][0] >= self._seconds):
            self._window.pop(0)  # keep just over `seconds`, and at least min_samples

        span = t_s - self._window[0][0]
        observations = [o for _, o in self._window]
        if span < self._seconds or len(observations) < self._min_samples:
            return None
        if not is_steady(observations):
            return None
        return build_baseline(observations, min_samples=self._min_samples,
                              source="automatic (first steady upright seconds)")
