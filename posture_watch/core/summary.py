"""Summaries of a stream of PostureStates (pure): time per state, episodes, main issue."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from posture_watch.core.episodes import MAX_SAMPLE_GAP_S, breaks_the_run, is_episode
from posture_watch.core.messages import suggestion_for_rule
from posture_watch.core.rules import POSTURE_RULES
from posture_watch.core.types import Level, PostureState, Reminder, State


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
    main_issue: str | None = None
    suggestion: str | None = None
    setup_issue: str | None = None  # e.g. screen_too_close
    setup_suggestion: str | None = None
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


def sample_spans(states: list[PostureState]) -> list[float]:
    """How long each sample stands for: the gap to the next one (the last gets the median)."""
    if not states:
        return []
    gaps = [min(b.t_s - a.t_s, MAX_SAMPLE_GAP_S) for a, b in itertools.pairwise(states)]
    last = statistics.median(gaps) if gaps else 0.0
    return [*gaps, last]


def _episodes(states: list[PostureState], spans: list[float]) -> list[Episode]:
    """Runs of caution or poor samples long enough to be episodes (core.episodes)."""
    episodes: list[Episode] = []
    run: list[tuple[PostureState, float]] = []

    def close_run() -> None:
        if not run:
            return
        start, end = run[0][0].t_s, run[-1][0].t_s + run[-1][1]
        if is_episode(end - start):
            worst = "poor" if any(s.state is State.POOR for s, _ in run) else "caution"
            rules = Counter(r.rule for s, _ in run for r in s.rules
                            if r.level is not Level.GOOD and r.rule in POSTURE_RULES)
            main = rules.most_common(1)[0][0] if rules else ""
            episodes.append(Episode(round(start, 2), round(end, 2), worst, main))
        run.clear()

    for state, span in zip(states, spans, strict=True):
        if run and breaks_the_run(state.t_s - run[-1][0].t_s):
            close_run()  # a stall in the samples ends an episode
        if state.state in (State.CAUTION, State.POOR):
            run.append((state, span))
        else:
            close_run()
    close_run()
    return episodes


def summarize(states: list[PostureState], reminders: list[Reminder]) -> Summary:
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
    posture = [r for r, _ in rule_seconds.most_common() if r in POSTURE_RULES]
    setup = [r for r, _ in rule_seconds.most_common() if r not in POSTURE_RULES]
    main = posture[0] if posture else None
    setup_issue = setup[0] if setup and rule_seconds[setup[0]] >= 0.5 * measured else None
    duration = sum(spans)
    away = by_state[State.AWAY.value]
    return Summary(
        duration_s=round(duration, 2),
        present_s=round(duration - away, 2),
        away_s=round(away, 2),
        unknown_s=round(by_state[State.UNKNOWN.value], 2),
        seconds_by_state={k: round(v, 2) for k, v in by_state.items()},
        percent_of_measured=percent,
        episodes=_episodes(states, spans),
        rule_seconds={k: round(v, 2) for k, v in rule_seconds.most_common()},
        main_issue=main,
        suggestion=suggestion_for_rule(main) if main else None,
        setup_issue=setup_issue,
        setup_suggestion=suggestion_for_rule(setup_issue) if setup_issue else None,
        mean_distance_cm=round(statistics.fmean(distances), 1) if distances else None,
        mean_score=round(statistics.fmean(scores), 1) if scores else None,
        reminders_by_kind=dict(Counter(r.kind.value for r in reminders)),
        mean_quality=round(statistics.fmean(qualities), 3) if qualities else None,
        unknown_by_reason={k: round(v, 2) for k, v in unknown_by_reason.most_common()},
    )
