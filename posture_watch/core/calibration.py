"""The user's neutral posture: a robust baseline from an upright stretch of samples (pure)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from posture_watch.core.metrics import RawMetrics
from posture_watch.errors import UserError

PROFILE_VERSION = 1

# Head angles that a person sitting upright and facing the screen stays within; the
# automatic baseline only learns from samples inside them (ergonomics.md "good" bands).
_UPRIGHT_LIMITS_DEG = {"head_pitch_deg": 15.0, "head_roll_deg": 10.0, "head_yaw_deg": 15.0,
                       "shoulder_tilt_deg": 6.0}


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

    def get(self, key: str) -> float | None:
        return self.metrics.get(key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": PROFILE_VERSION,
            "metrics": dict(self.metrics),
            "spread": dict(self.spread),
            "position": list(self.position) if self.position else None,
            "samples": self.samples,
            "source": self.source,
            "side_view": self.side_view,
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
            return cls(metrics, spread, position, int(data.get("samples", 0)),
                       str(data.get("source", "")), bool(data.get("side_view", False)))
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
    side_votes = sum(o.metrics.side_view for o in obs)
    return Baseline(metrics, spread, position, len(obs), source, side_votes * 2 > len(obs))


def looks_upright(metrics: RawMetrics) -> bool:
    """Whether absolute head and shoulder angles are inside the good bands."""
    values = metrics.as_dict()
    return all(abs(values.get(key, 0.0)) <= limit for key, limit in _UPRIGHT_LIMITS_DEG.items())


class AutoCalibrator:
    """Learns a baseline from the first upright-looking seconds when none was given."""

    def __init__(self, seconds: float, min_samples: int) -> None:
        self._seconds = seconds
        self._min_samples = min_samples
        self._observations: list[Observation] = []
        self._first_t: float | None = None

    def offer(self, t_s: float, observation: Observation) -> Baseline | None:
        """Feed one present sample; returns the baseline once enough has been seen."""
        if not looks_upright(observation.metrics):
            return None
        if self._first_t is None:
            self._first_t = t_s
        self._observations.append(observation)
        enough_time = t_s - self._first_t >= self._seconds
        if enough_time and len(self._observations) >= self._min_samples:
            return build_baseline(self._observations, min_samples=self._min_samples,
                                  source="automatic (first upright seconds)")
        return None
