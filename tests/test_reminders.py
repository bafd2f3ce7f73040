"""Unit tests for the pure reminder engine on synthetic PostureState streams.

Samples come at 2 Hz (0.5 s is exact in binary, so sums of sample gaps are exact). A
sample stands for the time since the previous one, so `Sim.run(state, 60)` adds exactly
60 s of `state`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import pytest

from posture_watch.core import messages
from posture_watch.core.messages import STRETCHES, suggestion_for_rule
from posture_watch.core.reminders import ReminderEngine
from posture_watch.core.rules import RULE_NAMES
from posture_watch.core.settings import RemindersConfig
from posture_watch.core.types import (
    Level,
    PostureState,
    Reminder,
    ReminderKind,
    RuleResult,
    State,
)

GOOD, CAUTION, POOR, AWAY, UNKNOWN = (
    State.GOOD,
    State.CAUTION,
    State.POOR,
    State.AWAY,
    State.UNKNOWN,
)
SECTIONS = ("posture", "breaks", "stretch", "eyes", "hydration")
MIN = 60.0


def only(*enabled: str, **overrides: object) -> RemindersConfig:
    """Config with only the named reminder sections on; `section={...}` or top-level overrides."""
    base = RemindersConfig()
    changes: dict[str, object] = {}
    for section in SECTIONS:
        extra = overrides.pop(section, {})
        assert isinstance(extra, dict)
        changes[section] = replace(getattr(base, section), enabled=section in enabled, **extra)
    return replace(base, **changes, **overrides)


def poor(rule: str) -> RuleResult:
    return RuleResult(rule, Level.POOR, 0.0, "deg")


def caution(rule: str) -> RuleResult:
    return RuleResult(rule, Level.CAUTION, 0.0, "deg")


class Sim:
    """Feeds an engine 2 Hz samples of given states and records what fires."""

    def __init__(self, config: RemindersConfig, hz: int = 2) -> None:
        self.engine = ReminderEngine(config)
        self.hz = hz
        self.k = -1  # index of the last sample sent
        self.fired: list[Reminder] = []
        self.away_times: set[float] = set()

    @property
    def t(self) -> float:
        return max(self.k, 0) / self.hz

    def run(
        self, state: State, seconds: float, rules: tuple[RuleResult, ...] | str = ()
    ) -> list[Reminder]:
        """Send `seconds` of `state`: samples up to and including now + seconds."""
        if isinstance(rules, str):
            level = Level.CAUTION if state is CAUTION else Level.POOR
            rules = (RuleResult(rules, level, 0.0, "deg"),)
        out: list[Reminder] = []
        if self.k < 0:
            out += self._send(0, state, rules)
        for _ in range(round(seconds * self.hz)):
            out += self._send(self.k + 1, state, rules)
        self.fired += out
        return out

    def _send(self, k: int, state: State, rules: tuple[RuleResult, ...]) -> list[Reminder]:
        self.k = k
        t = k / self.hz
        if state is AWAY:
            self.away_times.add(t)
        return self.engine.update(PostureState(t, state, 50, rules))

    def snooze(self, duration_s: float | None = None) -> None:
        self.engine.snooze(self.t, duration_s)

    def times(self, kind: ReminderKind | None = None) -> list[float]:
        return [r.t_s for r in self.fired if kind is None or r.kind is kind]


# ----- posture --------------------------------------------------------------------------


def test_poor_held_59_s_is_silent_and_60_s_fires() -> None:
    sim = Sim(only("posture"))
    assert sim.run(POOR, 59, "neck_flexion") == []
    assert sim.run(POOR, 0.5, "neck_flexion") == []
    fired = sim.run(POOR, 0.5, "neck_flexion")
    assert [(r.t_s, r.kind) for r in fired] == [(60.0, ReminderKind.POSTURE)]
    assert fired[0].reason == "poor posture for 60 s (neck_flexion)"
    assert suggestion_for_rule("neck_flexion") in fired[0].message


def test_good_blip_shorter_than_clear_time_keeps_the_hold() -> None:
    sim = Sim(only("posture"))  # clear_after_good_s = 10
    sim.run(POOR, 40)
    sim.run(GOOD, 9.5)
    sim.run(POOR, 20)
    assert sim.times() == [69.5]  # 40 + 20 s of poor; the blip neither counts nor clears


def test_good_for_clear_time_resets_the_hold() -> None:
    sim = Sim(only("posture"))
    sim.run(POOR, 40)
    sim.run(GOOD, 10)
    sim.run(POOR, 59.5)
    assert sim.times() == []
    sim.run(POOR, 0.5)
    assert sim.times() == [110.0]


def test_cooldown_between_posture_reminders() -> None:
    sim = Sim(only("posture"))  # hold 60 s, cooldown 600 s
    sim.run(POOR, 1300)
    assert sim.times() == [60.0, 660.0, 1260.0]


def test_hold_must_build_again_after_firing() -> None:
    sim = Sim(only("posture", posture={"cooldown_s": 0.0}, min_gap_s=0.0))
    sim.run(POOR, 200)
    assert sim.times() == [60.0, 120.0, 180.0]


def test_caution_hold_fires_after_caution_hold_s() -> None:
    sim = Sim(only("posture"))  # caution_hold_s = 300
    sim.run(CAUTION, 299.5, "slouch")
    assert sim.times() == []
    fired = sim.run(CAUTION, 0.5, "slouch")
    assert [r.t_s for r in fired] == [300.0]
    assert fired[0].reason == "posture not good for 5 min (slouch)"
    assert suggestion_for_rule("slouch") in fired[0].message


def test_caution_and_poor_both_build_the_caution_hold() -> None:
    sim = Sim(only("posture", posture={"poor_hold_s": 600.0}))
    for _ in range(8):  # 20 s caution, 20 s poor: 300 s not good at t = 300
        sim.run(CAUTION, 20)
        sim.run(POOR, 20)
    assert sim.times() == [300.0]
    assert sim.fired[0].reason.startswith("posture not good for 5 min")


def test_unknown_samples_fire_nothing_but_count_as_presence() -> None:
    """An hour nobody could judge (too dark, say) raises no reminder of any kind; the
    presence still counted, so the break that came due fires on the first judged sample."""
    sim = Sim(only("posture", "breaks"))
    sim.run(UNKNOWN, 3600, (poor("neck_flexion"),))
    assert sim.times() == []
    sim.run(GOOD, 1)
    assert sim.times(ReminderKind.POSTURE) == []
    assert len(sim.times(ReminderKind.BREAK)) == 1
    assert 3600.0 <= sim.times(ReminderKind.BREAK)[0] <= 3601.0


def test_unknown_pauses_but_does_not_clear_a_posture_hold() -> None:
    sim = Sim(only("posture"))
    sim.run(POOR, 40)
    sim.run(UNKNOWN, 30)
    sim.run(POOR, 20)
    assert sim.times() == [90.0]


def test_unknown_neither_builds_caution_nor_breaks_a_good_run() -> None:
    sim = Sim(only("posture"))
    sim.run(CAUTION, 200)
    sim.run(UNKNOWN, 200)
    sim.run(CAUTION, 99.5)
    assert sim.times() == []
    sim.run(CAUTION, 0.5)
    assert sim.times() == [500.0]  # 300 s of caution; the unknown 200 s did not count

    sim = Sim(only("posture"))
    sim.run(POOR, 40)
    sim.run(GOOD, 5)
    sim.run(UNKNOWN, 10)
    sim.run(GOOD, 5)  # 10 s of good in all: the hold clears
    sim.run(POOR, 59.5)
    assert sim.times() == []


def test_away_resets_posture_hold() -> None:
    sim = Sim(only("posture"))
    sim.run(POOR, 50)
    sim.run(AWAY, 2)
    sim.run(POOR, 59.5)
    assert sim.times() == []
    sim.run(POOR, 0.5)
    assert sim.times() == [112.0]


def test_message_names_the_most_frequent_poor_rule() -> None:
    sim = Sim(only("posture"))
    sim.run(POOR, 20, (poor("neck_flexion"),))
    # neck_flexion only at caution level here: it must not count toward the poor rule.
    sim.run(POOR, 40, (poor("shrug"), caution("neck_flexion")))
    [reminder] = sim.fired
    assert reminder.reason == "poor posture for 60 s (shrug)"
    assert suggestion_for_rule("shrug") in reminder.message
    assert "Shoulders raised".lower() in reminder.title.lower()


def test_posture_reminder_without_rules_uses_general_advice() -> None:
    sim = Sim(only("posture"))
    sim.run(POOR, 60)
    [reminder] = sim.fired
    assert reminder.reason == "poor posture for 60 s"
    assert messages.GENERIC_ADVICE.suggestion in reminder.message


def test_rule_suggestions_are_specific() -> None:
    rules = list(RULE_NAMES)  # every rule the scorer can fire has its own advice
    texts = [suggestion_for_rule(r) for r in rules]
    assert len(set(texts)) == len(rules)
    assert messages.GENERIC_ADVICE.suggestion not in texts
    assert "too low" in suggestion_for_rule("neck_flexion")
    assert "too high" in suggestion_for_rule("neck_extension")
    assert "stress" in suggestion_for_rule("shrug") and "breath" in suggestion_for_rule("shrug")
    assert "arm's length" in suggestion_for_rule("screen_too_close")
    assert suggestion_for_rule("no_such_rule") == messages.GENERIC_ADVICE.suggestion


# ----- breaks, absences -----------------------------------------------------------------


def test_break_after_continuous_presence_then_repeats() -> None:
    sim = Sim(only("breaks"))  # after 3000 s, repeat 600 s
    sim.run(GOOD, 4200)
    assert sim.times() == [3000.0, 3600.0, 4200.0]
    assert sim.fired[0].reason == "present for 50 min without a break"


@pytest.mark.parametrize(
    ("away_s", "expected"),
    [
        (120.0, 2400 + 120 + 600),  # pause: 2400 + 600 s present
        (299.5, 2400 + 299.5 + 600),  # just short of natural_break_s: still a pause
        (300.0, 2400 + 300 + 3000),  # natural break: the timer starts again
    ],
)
def test_absence_pauses_or_resets_the_break_timer(away_s: float, expected: float) -> None:
    sim = Sim(only("breaks"))
    sim.run(GOOD, 2400)
    sim.run(AWAY, away_s)
    sim.run(GOOD, 3000)
    assert sim.times()[0] == expected  # the first break after the absence


def test_natural_break_resets_eye_timer() -> None:
    sim = Sim(only("eyes"))  # every 1200 s
    sim.run(GOOD, 1000)
    sim.run(AWAY, 300)
    sim.run(GOOD, 1200)
    assert sim.times() == [2500.0]  # not at 1500 (which a paused timer would give)


def test_no_reminder_while_away_and_due_ones_wait_for_return() -> None:
    sim = Sim(only("eyes"))
    sim.run(GOOD, 1100)
    sim.snooze()  # until 2000; eyes came due at 1200
    sim.run(GOOD, 800)  # t = 1900
    sim.run(AWAY, 200)  # the snooze ends at 2000 while away
    assert sim.times() == []
    sim.run(GOOD, 10)
    assert sim.times() == [2100.5]  # first present sample


def test_natural_break_drops_a_pending_reminder() -> None:
    sim = Sim(only("eyes"))
    sim.run(GOOD, 1100)
    sim.snooze(200.0)  # until 1300; eyes came due at 1200
    sim.run(GOOD, 150)
    sim.run(AWAY, 300)
    sim.run(GOOD, 1200)
    assert sim.times() == [1250.0 + 300 + 1200]


def test_sample_gap_is_capped() -> None:
    engine = ReminderEngine(only("breaks"))
    engine.update(PostureState(0.0, GOOD, 90))
    engine.update(PostureState(3600.0, GOOD, 90))
    assert engine.snapshot()["presence_s"] == 5.0
    engine.update(PostureState(3000.0, GOOD, 90))  # backwards: adds nothing
    engine.update(PostureState(3601.0, GOOD, 90))
    assert engine.snapshot()["presence_s"] == 6.0

    wide = ReminderEngine(only("breaks", max_sample_gap_s=20.0))
    wide.update(PostureState(0.0, GOOD, 90))
    wide.update(PostureState(10.0, GOOD, 90))
    assert wide.snapshot()["presence_s"] == 10.0


# ----- snooze ---------------------------------------------------------------------------


def test_snooze_silences_and_due_reminder_fires_once_at_its_end() -> None:
    sim = Sim(only("eyes"))  # every 1200 s of presence
    sim.run(GOOD, 1100)
    sim.snooze()  # default 900 s
    assert sim.engine.snapshot()["snoozed_s"] == 900.0
    sim.run(GOOD, 1400)
    assert sim.times() == [2000.0, 2400.0]


def test_snooze_over_two_due_points_gives_one_reminder() -> None:
    sim = Sim(only("eyes"))
    sim.run(GOOD, 1100)
    sim.snooze(2000.0)  # until 3100: 1200 and 2400 both missed
    sim.run(GOOD, 2600)
    assert sim.times() == [3100.0, 3600.0]


def test_snooze_silences_posture_and_hold_must_be_reconfirmed() -> None:
    sim = Sim(only("posture"))
    sim.run(POOR, 30)
    sim.snooze(120.0)  # until 150
    sim.run(POOR, 300)
    assert sim.times() == [210.0]  # a full 60 s hold after the snooze, not at 150


def test_snooze_zero_ends_a_snooze_and_negative_is_refused() -> None:
    sim = Sim(only("breaks"))
    sim.run(GOOD, 2900)
    sim.snooze()
    sim.run(GOOD, 200)
    assert sim.times() == []
    sim.snooze(0.0)
    sim.run(GOOD, 0.5)
    assert sim.times() == [3100.5]
    with pytest.raises(ValueError):
        sim.engine.snooze(sim.t, -1.0)


# ----- stretches ------------------------------------------------------------------------


def test_stretches_rotate_through_the_catalogue() -> None:
    sim = Sim(only("stretch", stretch={"every_presence_s": 600.0, "static_posture_s": 28800.0}))
    sim.run(GOOD, 2 * len(STRETCHES) * 600)
    assert sim.times() == [600.0 * i for i in range(1, 2 * len(STRETCHES) + 1)]
    for i, reminder in enumerate(sim.fired):
        stretch = STRETCHES[i % len(STRETCHES)]
        assert reminder.title == f"Stretch: {stretch.name}"
        assert stretch.dose[1:] in reminder.message
        assert "stop if it hurts" in reminder.message.lower()


def test_stretch_catalogue_matches_the_published_holds() -> None:
    table = {s.key: (s.hold_s, s.reps, s.per_side) for s in STRETCHES}
    assert table == {
        "chin_tuck": ((5, 5), 10, False),
        "upper_trapezius": ((15, 30), 1, True),
        "shrug_release": ((3, 5), 3, False),
        "shoulder_blade_squeeze": ((5, 5), 5, False),
        "neck_rotation": ((5, 5), 3, True),
        "cross_body_shoulder": ((15, 30), 1, True),
    }
    assert STRETCHES[0].dose == "hold 5 s, 10 times"
    assert STRETCHES[1].dose == "hold 15-30 s on each side"
    assert STRETCHES[4].dose == "hold 5 s, 3 times on each side"


def test_static_posture_triggers_a_stretch() -> None:
    sim = Sim(only("stretch", stretch={"every_presence_s": 28800.0}))  # static 1800 s
    sim.run(GOOD, 1799.5)
    assert sim.times() == []
    sim.run(GOOD, 0.5)
    assert sim.times() == [1800.0]
    assert sim.fired[0].reason == "same posture (good) for 30 min"


def test_changing_posture_class_restarts_static_timer_and_unknown_pauses_it() -> None:
    sim = Sim(only("stretch", stretch={"every_presence_s": 28800.0}))
    for _ in range(3):
        sim.run(GOOD, 1000)
        sim.run(CAUTION, 1000)
    assert sim.times() == []
    sim.run(GOOD, 1000)
    sim.run(UNKNOWN, 500)
    sim.run(GOOD, 800)
    assert sim.times() == [6000 + 1000 + 500 + 800]


# ----- spacing and priority -------------------------------------------------------------


def _all_due_at_600(min_gap_s: float) -> RemindersConfig:
    return only(
        *SECTIONS,
        min_gap_s=min_gap_s,
        posture={"poor_hold_s": 600.0, "caution_hold_s": 14400.0, "cooldown_s": 3600.0},
        breaks={"after_presence_s": 600.0, "repeat_s": 3600.0},
        stretch={"every_presence_s": 600.0, "static_posture_s": 28800.0},
        eyes={"every_presence_s": 600.0},
        hydration={"every_s": 600.0},
    )


def test_min_gap_fires_most_important_first_and_defers_the_rest() -> None:
    sim = Sim(_all_due_at_600(min_gap_s=60.0))
    sim.run(POOR, 900, "shrug")
    assert [(r.t_s, r.kind) for r in sim.fired] == [
        (600.0, ReminderKind.POSTURE),
        (660.0, ReminderKind.BREAK),
        (720.0, ReminderKind.STRETCH),
        (780.0, ReminderKind.EYES),
        (840.0, ReminderKind.HYDRATION),
    ]


def test_at_most_one_reminder_per_sample() -> None:
    sim = Sim(_all_due_at_600(min_gap_s=0.0))
    sim.run(POOR, 610, "shrug")
    assert sim.times() == [600.0, 600.5, 601.0, 601.5, 602.0]


def test_disabled_reminders_never_fire() -> None:
    sim = Sim(only())
    sim.run(POOR, 4 * 3600, "neck_flexion")
    sim.run(GOOD, 4 * 3600)
    assert sim.fired == []


# ----- a working day --------------------------------------------------------------------

# (state, minutes): four presence blocks of 95, 42 + 83 = 125 (a 3-min pause inside),
# 105 and 85 minutes, split by absences of 12, 47 and 8 minutes (natural breaks).
DAY = [
    (GOOD, 60), (POOR, 10), (GOOD, 25),
    (AWAY, 12),
    (GOOD, 42), (AWAY, 3), (GOOD, 30), (UNKNOWN, 20), (CAUTION, 33),
    (AWAY, 47),
    (GOOD, 105),
    (AWAY, 8),
    (GOOD, 85),
]  # fmt: skip


def _presence_blocks(day: list[tuple[State, int]], natural_break_s: float) -> list[float]:
    """Continuous presence (seconds) between natural breaks, from the pattern alone."""
    blocks, current = [], 0.0
    for state, minutes in day:
        if state is AWAY and minutes * MIN >= natural_break_s:
            blocks.append(current)
            current = 0.0
        elif state is not AWAY:
            current += minutes * MIN
    return [*blocks, current]


def test_eight_hour_day_gives_the_expected_break_and_eye_counts() -> None:
    cfg = RemindersConfig()
    assert sum(m for _, m in DAY) == 8 * 60
    blocks = _presence_blocks(DAY, cfg.breaks.natural_break_s)
    assert blocks == [95 * MIN, 125 * MIN, 105 * MIN, 85 * MIN]

    b = cfg.breaks
    want_breaks = sum(
        0 if p < b.after_presence_s else 1 + math.floor((p - b.after_presence_s) / b.repeat_s)
        for p in blocks
    )
    want_eyes = sum(math.floor(p / cfg.eyes.every_presence_s) for p in blocks)
    assert (want_breaks, want_eyes) == (5 + 8 + 6 + 4, 4 + 6 + 5 + 4)  # by hand, defaults
    # Block 2's 20 unjudged minutes run from 72 to 92 min of its presence: the break points
    # at 80 and 90 min fall inside, wait for the next judged sample and fire there once.
    # (Its eye point at 80 min waits too, but stays a single reminder.)
    want_breaks -= 1

    sim = Sim(cfg)
    for state, minutes in DAY:
        sim.run(state, minutes * MIN, "neck_flexion" if state in (POOR, CAUTION) else ())
    assert len(sim.times(ReminderKind.BREAK)) == want_breaks
    assert len(sim.times(ReminderKind.EYES)) == want_eyes
    assert sim.times(ReminderKind.POSTURE)  # the poor and caution stretches were noticed
    assert sim.times(ReminderKind.HYDRATION) == []  # off by default
    times = sim.times()
    assert not sim.away_times.intersection(times)
    assert all(b - a >= cfg.min_gap_s for a, b in itertools.pairwise(times))


# ----- snapshot, texts, purity ----------------------------------------------------------


def test_snapshot_reports_the_timers() -> None:
    sim = Sim(only("posture", "breaks", "eyes"))
    sim.run(GOOD, 100)
    sim.run(POOR, 30)
    sim.run(AWAY, 20)
    snap = sim.engine.snapshot()
    assert snap["presence_s"] == 130.0
    assert snap["since_break_s"] == 130.0
    assert snap["away_s"] == 20.0
    assert snap["poor_held_s"] == 0.0  # away cleared it
    assert snap["next_break_in_s"] == 3000.0 - 130.0
    assert snap["next_eyes_in_s"] == 1200.0 - 130.0
    sim.run(POOR, 30)
    assert sim.engine.snapshot()["poor_held_s"] == 30.0
    assert all(isinstance(v, float) for v in sim.engine.snapshot().values())


def test_format_duration() -> None:
    fmt = messages.format_duration
    assert [fmt(45), fmt(61), fmt(300), fmt(3000), fmt(7200), fmt(7500)] == [
        "45 s", "61 s", "5 min", "50 min", "2 h", "2 h 5 min",
    ]  # fmt: skip


def test_every_text_is_filled_in() -> None:
    texts = [
        *(messages.stretch_text(s) for s in STRETCHES),
        *(messages.break_text(i, 3000) for i in range(len(messages.BREAK_TIPS))),
        messages.eyes_text(),
        messages.hydration_text(),
        *(messages.posture_text(r, p) for r in [*messages.RULE_ADVICE, None] for p in (1, 0)),
    ]
    for title, message in texts:
        assert title and message and "{" not in title + message
    assert "6 metres" in messages.eyes_text()[1] and "20 seconds" in messages.eyes_text()[1]
    assert "magnesium" in messages.hydration_text()[1]
    assert "two weeks" in messages.CARE_NOTE and "tingling" in messages.CARE_NOTE


def test_glances_never_build_a_posture_hold() -> None:
    """An hour of 2 s glances down at the keyboard every 10 s: no posture reminder, though
    the 8 s between them are too short to clear a hold (clear_after_good_s = 10)."""
    sim = Sim(only("posture"))
    for _ in range(360):
        sim.run(GOOD, 8)
        sim.run(POOR, 2, "neck_flexion")
    assert sim.times() == []
    assert sim.engine.snapshot()["poor_held_s"] == 0.0


def test_stretches_longer_than_a_glance_count_in_full() -> None:
    """6 s of poor (over glance_s = 5) then 4 s good, repeated: 6 s count each time, so a
    60 s poor hold fills on the tenth stretch, at 9 * 10 + 6 = 96 s."""
    sim = Sim(only("posture"))
    sim.run(GOOD, 0)
    for _ in range(12):
        sim.run(POOR, 6, "neck_flexion")
        sim.run(GOOD, 4)
    assert sim.times(ReminderKind.POSTURE) == [96.0]


# ----- a calibration that no longer fits ------------------------------------------------

def _slouch_state(t: float, bands: float, rule: str = "slouch") -> PostureState:
    """A state judged only on the combined slump (core.cues), `bands` past the neutral."""
    level = Level.POOR if bands > 2.0 else Level.CAUTION if bands > 1.0 else Level.GOOD
    state = {Level.POOR: POOR, Level.CAUTION: CAUTION, Level.GOOD: GOOD}[level]
    return PostureState(t, state, 50, (RuleResult(rule, level, bands, "bands"),), 1.0)


@pytest.mark.parametrize("rule", ["slouch", "side_slouch"])
def test_a_steady_offset_for_half_an_hour_says_once_that_the_calibration_looks_stale(
    rule: str,
) -> None:
    from posture_watch.core.staleness import StaleCalibrationWatch

    watch = StaleCalibrationWatch(window_s=1800.0)
    # 40 min at 2 Hz, 2.6-3.0 bands past the neutral (median 2.8 >= 2.5, IQR 0.4 <= 1).
    notes = [(t / 2, watch.update(_slouch_state(t / 2, 2.6 + 0.2 * (t % 3), rule)))
             for t in range(2 * 2400)]
    said = [(t, n) for t, n in notes if n]
    assert len(said) == 1
    assert 1760 <= said[0][0] <= 1801 and "calibrate again" in said[0][1]  # 98 % of 30 min
    assert rule.replace("_", " ") in said[0][1]


@pytest.mark.parametrize("rule", ["slouch", "side_slouch"])
def test_a_steady_poor_slump_short_of_the_stale_offset_is_a_posture_not_a_stale_neutral(
    rule: str,
) -> None:
    from posture_watch.core.staleness import StaleCalibrationWatch

    watch = StaleCalibrationWatch(window_s=1800.0)
    # An hour steadily poor at 2.1-2.3 bands: median 2.2 < 2.5 bands.
    for k in range(2 * 3600):
        assert watch.update(_slouch_state(k / 2, 2.1 + 0.1 * (k % 3), rule)) is None


def test_moving_posture_or_a_good_one_never_calls_the_calibration_stale() -> None:
    from posture_watch.core.staleness import StaleCalibrationWatch

    moving, good, upright = (StaleCalibrationWatch(), StaleCalibrationWatch(),
                             StaleCalibrationWatch())
    for k in range(2 * 3600):
        t = k / 2
        # Slumps and recovers every minute: a real posture problem, not a stale neutral.
        assert moving.update(_slouch_state(t, 3.0 if (k // 120) % 2 else 0.0)) is None
        # Steady and good, near the neutral (a reading of 0 bands is the neutral itself).
        assert good.update(_slouch_state(t, 0.2)) is None
        # Sitting steadily a little more upright than calibrated (negative evidence).
        assert upright.update(_slouch_state(t, -1.0, "side_slouch")) is None
