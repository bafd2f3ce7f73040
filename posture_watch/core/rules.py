"""The ergonomic rules: each compares one measurement with its caution and poor bands.

Relative rules compare with the user's calibrated neutral (ergonomics.md: "score relative
to that neutral"); absolute ones use the published bands directly. Each rule keeps a
band of hysteresis around its thresholds so landmark jitter does not flap its level.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from posture_watch.core import cues
from posture_watch.core.calibration import Baseline
from posture_watch.core.settings import SmoothingConfig, ThresholdsConfig
from posture_watch.core.types import Level, RuleResult

_ORDER = {Level.GOOD: 0, Level.CAUTION: 1, Level.POOR: 2}
_BY_RANK = {rank: level for level, rank in _ORDER.items()}

Values = Mapping[str, float]
Extract = Callable[[Values, Baseline | None], float | None]


# Without a baseline the head pitch is measured against the camera's axis, and where the
# camera sits (under a laptop screen, on top of a monitor) tilts an upright head by up to
# about this much; the pitch rules allow for it until the user's neutral is known.
NO_BASELINE_PITCH_SLACK_DEG = 15.0
# The combined slump judgment, in cue bands (core.cues); its hysteresis in the same unit.
SLUMP_CAUTION_BANDS = 1.0
SLUMP_POOR_BANDS = 2.0
SLUMP_HYSTERESIS_BANDS = 0.25


def _delta(key: str, sign: float = 1.0, absolute: bool = False, slack: float = 0.0) -> Extract:
    """Change from the neutral; without one, from 0 less `slack` (never below 0)."""

    def extract(values: Values, baseline: Baseline | None) -> float | None:
        value = values.get(key)
        if value is None:
            return None
        ref = baseline.get(key) if baseline else None
        if ref is None:
            diff = sign * value
            diff = max(0.0, diff - slack) if diff >= 0 else min(0.0, diff + slack)
        else:
            diff = sign * (value - ref)
        return abs(diff) if absolute else diff

    return extract


def _percent_of_baseline(*keys: str) -> Extract:
    """The first measurement available in both sample and baseline, as % of its neutral."""

    def extract(values: Values, baseline: Baseline | None) -> float | None:
        if baseline is None:
            return None
        for key in keys:
            value, ref = values.get(key), baseline.get(key)
            if value is not None and ref is not None and ref > 1e-6:
                return 100.0 * value / ref
        return None

    return extract


def _shrug_percent(key: str) -> Extract:
    """A head-above-shoulders gap as % of neutral, closed only by as much as the shoulders
    rising explains (the rest is the head dropping: the slump cues' business). Without
    position data the whole closing counts."""

    def extract(values: Values, baseline: Baseline | None) -> float | None:
        if baseline is None:
            return None
        split = cues.gap_closure(values, baseline.metrics, key)
        if split is None:
            return None
        closure, from_shoulders = split
        ref = baseline.metrics[key]
        return 100.0 * (ref - (closure if from_shoulders is None else from_shoulders)) / ref

    return extract


def _unless_baseline(key: str, extract: Extract) -> Extract:
    """An absolute rule that stands aside once the baseline has a neutral for `key`."""

    def guarded(values: Values, baseline: Baseline | None) -> float | None:
        if baseline is not None and baseline.get(key) is not None:
            return None
        return extract(values, baseline)

    return guarded


def _slump(view: str) -> Extract:
    """The slump cues of one view weighed together (core.cues), in bands: 1 is caution.

    Needs a baseline from that view; with a two-pose calibration, the user's own boundary.
    """

    def extract(values: Values, baseline: Baseline | None) -> float | None:
        if baseline is None or baseline.view != view:
            return None
        return cues.combine(cues.evidence(values, baseline.metrics, baseline.cue_noise, view,
                                          baseline.slump).values())

    return extract


def _absolute(key: str, absolute: bool = False) -> Extract:
    def extract(values: Values, baseline: Baseline | None) -> float | None:
        value = values.get(key)
        if value is None:
            return None
        return abs(value) if absolute else value

    return extract


@dataclass(frozen=True)
class Rule:
    name: str
    extract: Extract
    caution: Callable[[ThresholdsConfig], float]
    poor: Callable[[ThresholdsConfig], float]
    higher_is_worse: bool
    unit: str
    worst: Level = Level.POOR  # the highest level this rule may reach
    posture: bool = True  # False: a workstation set-up finding that leaves state and score alone
    # How long the rule must be past its caution threshold before it counts: a movement
    # (turning to look at someone) is not a posture.
    hold: Callable[[ThresholdsConfig], float] = lambda t: 0.0
    # The calibrated metric whose spread widens the caution band of a relative rule, so
    # that the user's own landmark jitter cannot cross it.
    noise_key: str | None = None


def _rules() -> tuple[Rule, ...]:
    return (
        Rule("neck_flexion", _delta("head_pitch_deg", slack=NO_BASELINE_PITCH_SLACK_DEG),
             lambda t: t.neck_flexion_caution_deg, lambda t: t.neck_flexion_poor_deg, True, "deg",
             noise_key="head_pitch_deg"),
        Rule("neck_extension",
             _delta("head_pitch_deg", sign=-1.0, slack=NO_BASELINE_PITCH_SLACK_DEG),
             lambda t: t.neck_extension_caution_deg, lambda t: t.neck_extension_poor_deg,
             True, "deg", noise_key="head_pitch_deg"),
        Rule("head_roll", _delta("head_roll_deg", absolute=True),
             lambda t: t.head_roll_caution_deg, lambda t: t.head_roll_poor_deg, True, "deg",
             noise_key="head_roll_deg"),
        Rule("head_yaw", _delta("head_yaw_deg", absolute=True),
             lambda t: t.head_yaw_caution_deg, lambda t: t.head_yaw_poor_deg, True, "deg",
             hold=lambda t: t.head_yaw_hold_s, noise_key="head_yaw_deg"),
        Rule("shoulder_tilt", _delta("shoulder_tilt_deg", absolute=True),
             lambda t: t.shoulder_tilt_caution_deg, lambda t: t.shoulder_tilt_poor_deg,
             True, "deg", noise_key="shoulder_tilt_deg"),
        Rule("shrug", _shrug_percent("shrug_ratio"),
             lambda t: t.shrug_caution_pct, lambda t: t.shrug_poor_pct, False, "%"),
        # The slump cues of the view, weighed together (core.cues): 1 band is caution, 2
        # poor; with a two-pose calibration 1 is the midpoint to the user's slump, 2 the slump.
        Rule("slouch", _slump("front"), lambda t: SLUMP_CAUTION_BANDS,
             lambda t: SLUMP_POOR_BANDS, True, "bands"),
        Rule("forward_head", _percent_of_baseline("face_width_ratio", "ear_width_ratio"),
             lambda t: t.forward_head_caution_pct, lambda t: t.forward_head_poor_pct, True, "%"),
        # Side view. Our ear-over-shoulder angle uses the shoulder joint, not C7, so it reads
        # higher than a clinical craniovertebral angle: the published absolute bands are used
        # only until a side-view neutral is known; then the side slump cues take over.
        Rule("side_ear_shoulder",
             _unless_baseline("side_ear_shoulder_deg", _absolute("side_ear_shoulder_deg")),
             lambda t: t.side_ear_shoulder_caution_deg, lambda t: t.side_ear_shoulder_poor_deg,
             False, "deg"),
        Rule("side_slouch", _slump("side"), lambda t: SLUMP_CAUTION_BANDS,
             lambda t: SLUMP_POOR_BANDS, True, "bands"),
        Rule("trunk_flexion",
             _unless_baseline("trunk_flexion_deg", _absolute("trunk_flexion_deg", absolute=True)),
             lambda t: t.trunk_flexion_caution_deg, lambda t: t.trunk_flexion_poor_deg,
             True, "deg"),
        # Screen distance is a workstation set-up matter, not a posture: it is reported
        # (caution at most) but leaves the posture state and score alone.
        Rule("screen_too_close", _absolute("distance_cm"),
             lambda t: t.distance_near_caution_cm, lambda t: 0.0, False, "cm", Level.CAUTION,
             posture=False),
        Rule("screen_too_far", _absolute("distance_cm"),
             lambda t: t.distance_far_caution_cm, lambda t: 1e9, True, "cm", Level.CAUTION,
             posture=False),
    )


RULES = _rules()
RULE_NAMES = tuple(rule.name for rule in RULES)
_BY_NAME = {rule.name: rule for rule in RULES}
POSTURE_RULES = frozenset(rule.name for rule in RULES if rule.posture)


def _level_with_hysteresis(
    value: float, caution: float, poor: float, current: Level, margin: float,
    inclusive: bool = False,
) -> Level:
    """Level for a higher-is-worse value; leaving a level needs `margin` past its threshold.

    With `inclusive`, a value on a threshold is past it: the slump's bands are positions
    (the midpoint to the user's own slump is 1, the slump itself 2), and the slump the user
    showed is poor, not caution.
    """
    def past(threshold: float) -> bool:
        return value >= threshold if inclusive else value > threshold

    entering = Level.POOR if past(poor) else Level.CAUTION if past(caution) else Level.GOOD
    if _ORDER[entering] >= _ORDER[current]:
        return entering
    if current is Level.POOR and value > poor - margin:
        return Level.POOR
    if value > caution - margin:
        return Level.CAUTION
    return Level.GOOD


def severity(value: float, caution: float, poor: float, higher_is_worse: bool) -> float:
    """0 at the caution threshold, 1 at the poor threshold (negative when good)."""
    if not higher_is_worse:
        value, caution, poor = -value, -caution, -poor
    span = poor - caution
    return (value - caution) / span if span > 1e-9 else (1.0 if value > caution else 0.0)


class RuleBook:
    """Evaluates every rule on smoothed values, remembering each rule's level."""

    def __init__(self, thresholds: ThresholdsConfig, smoothing: SmoothingConfig) -> None:
        self._thresholds = thresholds
        self._smoothing = smoothing
        self._levels: dict[str, Level] = {}
        self._since: dict[str, float] = {}  # when each held rule last left GOOD

    def reset(self) -> None:
        self._levels.clear()
        self._since.clear()

    def evaluate(self, values: Values, baseline: Baseline | None,
                 t_s: float | None = None) -> list[RuleResult]:
        """Each rule's level; with `t_s`, rules with a hold count only once it has passed."""
        results = []
        for rule in RULES:
            value = rule.extract(values, baseline)
            if value is None:
                self._levels.pop(rule.name, None)
                self._since.pop(rule.name, None)
                continue
            caution, poor = _noise_aware(rule, self._thresholds, baseline)
            margin = self._margin(rule.unit)
            current = self._levels.get(rule.name, Level.GOOD)
            if rule.higher_is_worse:
                level = _level_with_hysteresis(value, caution, poor, current, margin,
                                               inclusive=rule.unit == "bands")
            else:
                level = _level_with_hysteresis(-value, -caution, -poor, current, margin)
            if _ORDER[level] > _ORDER[rule.worst]:
                level = rule.worst
            self._levels[rule.name] = level
            results.append(RuleResult(rule.name, self._held(rule, level, t_s), round(value, 2),
                                      rule.unit))
        return results

    def _margin(self, unit: str) -> float:
        if unit == "bands":
            return SLUMP_HYSTERESIS_BANDS
        return self._smoothing.hysteresis_pct if unit in ("%", "cm") \
            else self._smoothing.hysteresis_deg

    def _held(self, rule: Rule, level: Level, t_s: float | None) -> Level:
        """GOOD until a rule with a hold has been past its threshold for the hold time."""
        if level is Level.GOOD:
            self._since.pop(rule.name, None)
            return level
        hold = rule.hold(self._thresholds)
        if t_s is None or hold <= 0:
            return level
        since = self._since.setdefault(rule.name, t_s)
        return level if t_s - since >= hold else Level.GOOD


def _noise_aware(rule: Rule, thresholds: ThresholdsConfig,
                 baseline: Baseline | None) -> tuple[float, float]:
    """The rule's caution and poor thresholds, moved out past the user's calibrated jitter.

    A relative rule's caution band starts no nearer the neutral than NOISE_BANDS spreads of
    its metric in calibration; the poor band keeps its distance from the caution band.
    """
    caution, poor = rule.caution(thresholds), rule.poor(thresholds)
    if rule.noise_key is None or baseline is None or baseline.get(rule.noise_key) is None:
        return caution, poor
    jitter = cues.NOISE_BANDS * cues.MAD_TO_SD * baseline.spread.get(rule.noise_key, 0.0)
    if jitter <= caution:
        return caution, poor
    return jitter, poor + (jitter - caution)


def worst_level(results: list[RuleResult]) -> Level:
    """The worst level among the posture rules (set-up findings do not count)."""
    return _BY_RANK[max((_ORDER[r.level] for r in results if r.rule in POSTURE_RULES),
                        default=0)]


def penalty(result: RuleResult, thresholds: ThresholdsConfig) -> float:
    """Points a rule takes off the 0-100 score: more the further past its thresholds."""
    if result.level is Level.GOOD or result.rule not in POSTURE_RULES:
        return 0.0
    rule = _BY_NAME[result.rule]
    sev = severity(result.value, rule.caution(thresholds), rule.poor(thresholds),
                   rule.higher_is_worse)
    if result.level is Level.CAUTION:
        return 10.0 + 15.0 * min(max(sev, 0.0), 1.0)
    return 30.0 + 10.0 * min(max(sev - 1.0, 0.0), 2.0)
