"""From PoseSample to PostureState: choose the user, judge quality, smooth, score (pure)."""

from __future__ import annotations

import math
import statistics
from collections import deque

from posture_watch.core.calibration import AutoCalibrator, Baseline, Observation
from posture_watch.core.metrics import RawMetrics, is_back_view, measure, visible
from posture_watch.core.rules import POSTURE_RULES, RuleBook, penalty, worst_level
from posture_watch.core.settings import Config
from posture_watch.core.types import Body, Level, Person, PoseSample, PostureState, State

_LEVEL_TO_STATE = {Level.GOOD: State.GOOD, Level.CAUTION: State.CAUTION, Level.POOR: State.POOR}
_STATE_RANK = {State.GOOD: 0, State.CAUTION: 1, State.POOR: 2}
# Once the user's neutral position is known, a head farther than this (a fraction of the
# image) from it belongs to someone else.
_MAX_DISTANCE_FROM_NEUTRAL = 0.35


def head_position(person: Person, width: int, height: int) -> tuple[float, float] | None:
    """The head's position normalized to the image, from the face or the pose nose."""
    if person.face is not None:
        point = person.face.center
    elif person.body is not None and person.body.nose is not None:
        point = person.body.nose
    else:
        return None
    return point.x / max(width, 1), point.y / max(height, 1)


def _size(person: Person) -> float:
    """A rough apparent size, to prefer the person nearest the camera."""
    if person.face is not None:
        return person.face.width_px
    body = person.body
    if body and body.left_shoulder and body.right_shoulder:
        return 0.4 * math.dist((body.left_shoulder.x, body.left_shoulder.y),
                               (body.right_shoulder.x, body.right_shoulder.y))
    return 0.0


def select_person(
    people: tuple[Person, ...], width: int, height: int, anchor: tuple[float, float] | None,
    max_distance: float | None = None,
) -> Person | None:
    """The user: nearest the anchor (calibrated or last tracked position), else the largest.

    With `max_distance` (a fraction of the image), someone farther from the anchor is not
    the user: a colleague passing behind an empty chair must not be scored.
    """
    candidates = _without_stray_faces(
        [p for p in people if head_position(p, width, height) is not None])
    if not candidates:
        return None
    if anchor is None:
        return max(candidates, key=_size)

    def distance(person: Person) -> float:
        pos = head_position(person, width, height)
        assert pos is not None
        return math.dist(pos, anchor)

    nearest = min(candidates, key=distance)
    if max_distance is not None and distance(nearest) > max_distance:
        return None
    return nearest


def _without_stray_faces(people: list[Person]) -> list[Person]:
    """Drop a face the estimator could not pair with a body when it sits on a body's head.

    In profile the face mesh's centre lies well off the pose model's nose, so the same
    head comes back twice: a body without its face and a face without a body. The body is
    the one to measure.
    """
    heads = [(p.body.nose, _head_size(p.body)) for p in people
             if p.body is not None and p.body.nose is not None]

    def stray(person: Person) -> bool:
        face = person.face
        if person.body is not None or face is None:
            return False
        return any(math.dist((face.center.x, face.center.y), (nose.x, nose.y))
                   <= 2.0 * max(face.width_px, size) for nose, size in heads)

    return [p for p in people if not stray(p)]


def _head_size(body: Body) -> float:
    """The distance from the nose to the farther ear: about half a head's width."""
    nose = body.nose
    assert nose is not None
    ears = [e for e in (body.left_ear, body.right_ear) if e is not None]
    return max((math.dist((nose.x, nose.y), (e.x, e.y)) for e in ears), default=1.0)


def is_person(person: Person, width: int, height: int, min_visibility: float,
              min_extent: float) -> bool:
    """A face, or a body whose head and a shoulder are seen and that is not a speck.

    The pose model sometimes finds a phantom person in an empty room: a tiny, face-less
    body a few pixels across. Real people at any sensible distance span far more.
    """
    if person.face is not None:
        return True
    body = person.body
    if body is None or visible(body.nose, min_visibility) is None:
        return False
    points = [p for p in (body.nose, body.left_ear, body.right_ear, body.left_shoulder,
                          body.right_shoulder, body.left_hip, body.right_hip)
              if visible(p, min_visibility) is not None]
    if not any(p in points for p in (body.left_shoulder, body.right_shoulder)):
        return False
    xs = [p.x / max(width, 1) for p in points]
    ys = [p.y / max(height, 1) for p in points]
    return max(max(xs) - min(xs), max(ys) - min(ys)) >= min_extent


def measure_with_config(person: Person, width: int, height: int, config: Config,
                        baseline: Baseline | None = None) -> RawMetrics:
    """Measure as configured. With a calibration and the view on "auto", the calibrated
    view holds (the camera is assumed fixed): frontal rules are never judged on a side
    view, nor side rules on a frontal one, whatever a single sample looks like."""
    cam = config.camera
    view = cam.view
    if view == "auto" and baseline is not None:
        view = baseline.view
    return measure(person, width, height, min_visibility=config.detection.min_visibility,
                   horizontal_fov_deg=cam.horizontal_fov_deg,
                   interpupillary_mm=cam.interpupillary_mm, view=view)


class PostureScorer:
    """Turns a stream of PoseSamples into PostureStates for one user."""

    def __init__(self, config: Config, baseline: Baseline | None = None) -> None:
        self._config = config
        self.baseline = baseline
        self._auto = None if baseline else AutoCalibrator(
            config.calibration.auto_seconds, config.calibration.min_samples)
        self._rules = RuleBook(config.thresholds, config.smoothing)
        self._history: deque[RawMetrics] = deque(maxlen=config.smoothing.window_samples)
        self._anchor = baseline.position if baseline else None
        self._last_seen_t: float | None = None
        self._first_t: float | None = None
        self._state = State.UNKNOWN
        self._run: list[State] = []  # recent samples pointing away from the current state

    def use_baseline(self, baseline: Baseline) -> None:
        """Judge against a new calibration from the next sample on (a profile saved while
        the monitor ran); the smoothing starts again."""
        self.baseline = baseline
        self._auto = None
        self._anchor = baseline.position
        self._history.clear()
        self._state = State.UNKNOWN
        self._run = []

    # -- quality -----------------------------------------------------------------------
    def _quality(self, sample: PoseSample, person: Person) -> tuple[float, dict[str, float], str]:
        """How far the sample can be trusted (0-1), its parts, and why it is low if it is."""
        det = self._config.detection
        brightness = sample.brightness / max(det.min_brightness, 1e-6)
        contrast = sample.contrast / max(det.min_contrast, 1e-6)
        light = min(1.0, brightness, contrast)
        body = person.body
        key_points = [] if body is None else [
            body.nose, body.left_shoulder, body.right_shoulder, body.left_ear, body.right_ear]
        landmark = statistics.fmean(p.visibility if p else 0.0 for p in key_points) \
            if key_points else 0.0
        face = 1.0 if person.face is not None else 0.0
        tracking = max(landmark, face)
        quality = round(min(light, tracking), 3)
        parts = {"light": round(light, 3), "landmarks": round(landmark, 3), "face": face}
        note = ""
        if quality < det.min_quality:
            if light <= tracking:
                note = "too dark" if brightness <= contrast else "low contrast"
            else:
                note = "landmarks unclear"
        return quality, parts, note

    # -- main --------------------------------------------------------------------------
    def update(self, sample: PoseSample) -> PostureState:
        t = sample.t_s
        if self._first_t is None:
            self._first_t = t
        det = self._config.detection
        people = tuple(p for p in sample.people if is_person(
            p, sample.width, sample.height, det.min_visibility, det.min_body_extent))
        person = select_person(people, sample.width, sample.height, self._anchor,
                               _MAX_DISTANCE_FROM_NEUTRAL if self.baseline else None)
        if person is None:
            return self._absent(t)
        self._last_seen_t = t
        position = head_position(person, sample.width, sample.height)
        if self.baseline is None or position is None:
            self._anchor = position or self._anchor
        quality, parts, note = self._quality(sample, person)
        side = self._config.camera.view == "side" or (
            self._config.camera.view == "auto" and self.baseline is not None
            and self.baseline.side_view)
        if not note and person.face is None and not side \
                and is_back_view(person.body, det.min_visibility, sample.width):
            note = "seen from behind"
        if note:
            # Present, but the posture cannot be judged: never scored, never a reminder.
            return PostureState(t, State.UNKNOWN, None, (), quality, {}, parts, note)
        raw = measure_with_config(person, sample.width, sample.height, self._config,
                                  self.baseline)
        if self._auto is not None and position is not None:
            learned = self._auto.offer(t, Observation(raw, position))
            if learned is not None:
                self.baseline, self._auto = learned, None
                self._anchor = learned.position
        self._history.append(raw)
        values = _median_values(self._history)
        results = self._rules.evaluate(values, self.baseline, t)
        if not any(r.rule in POSTURE_RULES for r in results):
            # Seen, but nothing the rules can judge (the shoulders and ears out of view):
            # calling that good would hide a slump the camera cannot see.
            return PostureState(t, State.UNKNOWN, None, tuple(results), quality, {}, parts,
                                "posture not measurable")
        candidate = _LEVEL_TO_STATE[worst_level(results)]
        state = self._debounce(candidate)
        score = round(max(0.0, 100.0 - sum(penalty(r, self._config.thresholds)
                                            for r in results)))
        metrics = {k: round(v, 3) for k, v in values.items()}
        if position is not None:  # where the tracked user's head is (fractions of the image)
            metrics["head_x"], metrics["head_y"] = round(position[0], 3), round(position[1], 3)
        return PostureState(t, state, score, tuple(results), quality, metrics, parts)

    def _absent(self, t: float) -> PostureState:
        since = self._last_seen_t if self._last_seen_t is not None else self._first_t
        assert since is not None
        if t - since >= self._config.detection.away_after_s:
            self._history.clear()
            self._rules.reset()
            self._state, self._run = State.AWAY, []
            if self.baseline is None:
                self._anchor = None  # whoever sits down next is the user
            return PostureState(t, State.AWAY, None)
        # Lost for a moment (a hand, a glance away): not away yet, and nothing to judge.
        return PostureState(t, State.UNKNOWN, None, note="not seen for a moment")

    def _debounce(self, candidate: State) -> State:
        """Enter a worse state after a few samples in a row; leave it after fewer.

        Samples that keep pointing the same way (all worse, or all better, than the
        current state) count as one run even when they differ among themselves, so a
        caution/good flicker can still leave poor. The run settles on its mildest state
        when getting worse and on its worst when getting better: never past the evidence.
        """
        if self._state not in _STATE_RANK:  # coming back from away or unknown
            self._state, self._run = candidate, []
            return candidate
        if candidate is self._state:
            self._run = []
            return self._state
        worse = _STATE_RANK[candidate] > _STATE_RANK[self._state]
        if self._run and (_STATE_RANK[self._run[0]] > _STATE_RANK[self._state]) != worse:
            self._run = []
        self._run.append(candidate)
        smoothing = self._config.smoothing
        if len(self._run) >= (smoothing.enter_samples if worse else smoothing.leave_samples):
            pick = min if worse else max
            self._state = pick(self._run, key=_STATE_RANK.__getitem__)
            self._run = []
        return self._state


def _median_values(history: deque[RawMetrics]) -> dict[str, float]:
    """Per-metric median over the recent samples that have it."""
    columns: dict[str, list[float]] = {}
    for raw in history:
        for key, value in raw.as_dict().items():
            columns.setdefault(key, []).append(value)
    return {key: statistics.median(vals) for key, vals in columns.items()}
