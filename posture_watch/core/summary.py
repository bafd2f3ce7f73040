"""Summaries of a stream of PostureStates (pure): time per state, episodes, main issue."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from posture_watch.core.episodes import MAX_SAMPLE_GAP_S, breaks_the_run, is_episode
from posture_watch.core.messages import suggestion_for_rule
from posture_watch.core.rules import POSTURE_RULES
from posture_watch.core.screen_distance import (
    DistanceFigures,
    SetupFinding,
    figures_from_samples,
    setup_finding,
)
from posture_watch.core.settings import ThresholdsConfig
from posture_watch.core.types import Level, PostureState, Reminder, State

Run = list[tuple[PostureState, float]]  # consecutive caution/poor samples with their spans


@dataclass(frozen=True)
class Episode:
    start_s: float
    end_s: float
    worst: str  # "caution" or "poor"
    main_rule: str

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Summary:
    duration_s: float
    present_s: float
    away_s: float
    unknown_s: float
    seconds_by_state: dict[str, float]
    percent_of_measured: dict[str, float]  # good / caution / poor, of measured present time
    episodes: list[Episode] = field(default_factory=list)
    rule_seconds: dict[str, float] = field(default_factory=dict)  # time each rule was not good
    # The posture rule most often not good inside the episodes (poor time weighs double):
    # advice only for what held, never for a blip.
    main_issue: str | None = None
    suggestion: str | None = None
    main_issue_s: float = 0.0  # time the main issue was not good inside episodes
    main_issue_episodes: int = 0  # episodes it was part of
    setup_issue: str | None = None  # e.g. screen_too_close, only when it held
    setup_suggestion: str | None = None
    setup: SetupFinding | None = None  # how long the set-up finding held
    distance: DistanceFigures | None = None  # median, time outside the band
    mean_distance_cm: float | None = None
    mean_score: float | None = None
    reminders_by_kind: dict[str, int] = field(default_factory=dict)
    mean_quality: float | None = None  # over the samples with a person in view
    unknown_by_reason: dict[str, float] = field(default_factory=dict)  # seconds per note

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["episodes"] = [dict(asdict(e), duration_s=round(e.duration_s, 2))
                           for e in self.episodes]
        return out


def for_summary(state: PostureState) -> PostureState:
    """The parts of a state `summarize` reads: what a monitor keeps for a whole day.

    A full state carries every rule and every measure (about 1.7 kB); a day of them at
    the live rates would be tens of megabytes held only for the exit summary. The summary
    reads the rules that were not good and the screen distance, so only those stay.
    """
    distance = state.metrics.get("distance_cm")
    return replace(state, rules=tuple(r for r in state.rules if r.level is not Level.GOOD),
                   metrics={} if distance is None else {"distance_cm": distance})


def sample_spans(states: list[PostureState]) -> list[float]:
    """How long each sample stands for: the gap to the next one (the last gets the median)."""
    if not states:
        return []
    gaps = [min(b.t_s - a.t_s, MAX_SAMPLE_GAP_S) for a, b in itertools.pairwise(states)]
    last = statistics.median(gaps) if gaps else 0.0
    return [*gaps, last]


def _episode_runs(states: list[PostureState], spans: list[float]) -> list[Run]:
    """Runs of caution or poor samples long enough to be episodes (core.episodes)."""
    runs: list[Run] = []
    run: Run = []

    def close_run() -> None:
        if run and is_episode(run[-1][0].t_s + run[-1][1] - run[0][0].t_s):
            runs.append(list(run))
        run.clear()

    for state, span in zip(states, spans, strict=True):
        if run and breaks_the_run(state.t_s - run[-1][0].t_s):
            close_run()  # a stall in the samples ends an episode
        if state.state in (State.CAUTION, State.POOR):
            run.append((state, span))
        else:
            close_run()
    close_run()
    return runs


def _not_good_posture(state: PostureState) -> list[tuple[str, Level]]:
    return [(r.rule, r.level) for r in state.rules
            if r.level is not Level.GOOD and r.rule in POSTURE_RULES]


def _episode(run: Run) -> Episode:
    start, end = run[0][0].t_s, run[-1][0].t_s + run[-1][1]
    worst = "poor" if any(s.state is State.POOR for s, _ in run) else "caution"
    rules = Counter(rule for s, _ in run for rule, _ in _not_good_posture(s))
    main = rules.most_common(1)[0][0] if rules else ""
    return Episode(round(start, 2), round(end, 2), worst, main)


def _main_issue(runs: list[Run]) -> tuple[str | None, float, int]:
    """The posture rule with the most time not good inside episodes, poor time weighing
    double; with its plain time there and the number of episodes it was part of."""
    weighted: Counter[str] = Counter()
    plain: Counter[str] = Counter()
    episodes: Counter[str] = Counter()
    for run in runs:
        for rule in {rule for s, _ in run for rule, _ in _not_good_posture(s)}:
            episodes[rule] += 1
        for state, span in run:
            for rule, level in _not_good_posture(state):
                weighted[rule] += span * (2.0 if level is Level.POOR else 1.0)
                plain[rule] += span
    if not weighted:
        return None, 0.0, 0
    main = weighted.most_common(1)[0][0]
    return main, round(plain[main], 2), episodes[main]


def summarize(states: list[PostureState], reminders: list[Reminder],
              thresholds: ThresholdsConfig | None = None) -> Summary:
    """`thresholds` give the distance band of the set-up findings (the defaults if None)."""
    spans = sample_spans(states)
    by_state: Counter[str] = Counter()
    rule_seconds: Counter[str] = Counter()
    distances, scores, qualities = [], [], []
    unknown_by_reason: Counter[str] = Counter()
    for state, span in zip(states, spans, strict=True):
        if state.state is State.UNKNOWN:
            unknown_by_reason[state.note or "not measurable"] += span
        if state.quality_detail:
            qualities.append(state.quality)
        by_state[state.state.value] += span
        for r in state.rules:
            if r.level is not Level.GOOD:
                # Poor time weighs double when choosing the main issue.
                rule_seconds[r.rule] += span * (2.0 if r.level is Level.POOR else 1.0)
        if "distance_cm" in state.metrics:
            distances.append(state.metrics["distance_cm"])
        if state.score is not None:
            scores.append(state.score)
    measured = sum(by_state[s.value] for s in (State.GOOD, State.CAUTION, State.POOR))
    percent = {s.value: round(100.0 * by_state[s.value] / measured, 1) if measured else 0.0
               for s in (State.GOOD, State.CAUTION, State.POOR)}
    runs = _episode_runs(states, spans)
    main, main_s, main_episodes = _main_issue(runs)
    by_time = [(state.t_s, span, state.metrics.get("distance_cm"))
               for state, span in zip(states, spans, strict=True)]
    distance = figures_from_samples(by_time, thresholds or ThresholdsConfig())
    setup = setup_finding(distance)
    duration = sum(spans)
    away = by_state[State.AWAY.value]
    return Summary(
        duration_s=round(duration, 2),
        present_s=round(duration - away, 2),
        away_s=round(away, 2),
        unknown_s=round(by_state[State.UNKNOWN.value], 2),
        seconds_by_state={k: round(v, 2) for k, v in by_state.items()},
        percent_of_measured=percent,
        episodes=[_episode(run) for run in runs],
        rule_seconds={k: round(v, 2) for k, v in rule_seconds.most_common()},
        main_issue=main,
        suggestion=suggestion_for_rule(main) if main else None,
        main_issue_s=main_s,
        main_issue_episodes=main_episodes,
        setup_issue=setup.rule if setup else None,
        setup_suggestion=suggestion_for_rule(setup.rule) if setup else None,
        setup=setup,
        distance=distance,
        mean_distance_cm=round(statistics.fmean(distances), 1) if distances else None,
        mean_score=round(statistics.fmean(scores), 1) if scores else None,
        reminders_by_kind=dict(Counter(r.kind.value for r in reminders)),
        mean_quality=round(statistics.fmean(qualities), 3) if qualities else None,
        unknown_by_reason={k: round(v, 2) for k, v in unknown_by_reason.most_common()},
    )
