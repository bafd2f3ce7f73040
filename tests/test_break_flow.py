"""The break screen's decisions (core.break_flow) and the nudge's (core.nudge), on a
given clock."""

from __future__ import annotations

from posture_watch.core.break_flow import BreakFlow, Outcome, Phase, countdown_text
from posture_watch.core.messages import STRETCHES
from posture_watch.core.nudge import NudgeWatch
from posture_watch.core.types import State


def flow(**kw) -> BreakFlow:
    args = {"length_s": 300.0, "postpone_s": 300.0, "postpone_max": 2, "strict": False}
    return BreakFlow(**{**args, **kw})


def test_a_due_break_shows_only_to_someone_at_the_desk() -> None:
    f = flow()
    assert f.due(0.0, present=False) is None and f.phase is Phase.IDLE
    step = f.due(0.0, present=True)
    assert step is not None and step.outcome is Outcome.SHOW and step.command is None
    assert f.remaining(100.0) == 200.0
    assert f.due(50.0, present=True) is None  # one screen at a time


def test_the_countdown_running_out_at_the_desk_counts_as_the_break() -> None:
    f = flow()
    f.due(0.0, True)
    assert f.tick(299.0) is None
    step = f.tick(300.0)
    assert step is not None and (step.outcome, step.command) == (Outcome.FINISHED, "break_done")
    assert f.phase is Phase.IDLE


def test_leaving_closes_the_screen_and_a_long_absence_is_the_break() -> None:
    f = flow()
    f.due(0.0, True)
    assert f.presence(60.0, present=False).outcome is Outcome.CLOSE
    step = f.presence(400.0, present=True)  # away 340 s, longer than the break
    assert step.outcome is Outcome.WELCOME and step.command is None  # the engine saw it
    assert step.note == "You were away 6 min: break taken."


def test_an_absence_that_finishes_the_break_is_told_to_the_engine() -> None:
    f = flow()
    f.due(0.0, True)
    f.presence(100.0, False)  # 200 s left
    step = f.presence(320.0, True)  # away 220 s: the break is over, the engine did not see 300
    assert (step.outcome, step.command) == (Outcome.WELCOME, "break_done")


def test_back_too_soon_reopens_the_screen_for_what_is_left() -> None:
    f = flow()
    f.due(0.0, True)
    f.presence(100.0, False)
    step = f.presence(160.0, True)
    assert step.outcome is Outcome.SHOW and "2 min" in step.note
    assert f.remaining(160.0) == 140.0


def test_postpone_is_limited_and_skip_can_be_switched_off() -> None:
    f = flow(postpone_max=1)
    f.due(0.0, True)
    step = f.postpone(1.0)
    assert (step.command, step.args) == ("postpone", (("duration", "300s"),))
    f.due(400.0, True)
    assert not f.can_postpone and f.postpone(401.0) is None
    assert f.skip(402.0).command == "skip"
    f.due(900.0, True)
    assert f.can_postpone  # a skipped or taken break gives the postpones back
    strict = flow(strict=True)
    strict.due(0.0, True)
    assert not strict.can_skip and strict.skip(1.0) is None


def test_each_break_shows_the_next_stretch() -> None:
    f = flow()
    names = []
    for i in range(len(STRETCHES) + 1):
        f.due(i * 1000.0, True)
        names.append(f.stretch.key)
        f.skip(i * 1000.0 + 1)
    assert names[:-1] == [s.key for s in STRETCHES] and names[-1] == names[0]


def test_countdown_text_rounds_up() -> None:
    assert countdown_text(300) == "5:00"
    assert countdown_text(299.2) == "5:00"
    assert countdown_text(61) == "1:01"
    assert countdown_text(0.1) == "0:01"
    assert countdown_text(0) == "0:00"


def test_the_nudge_waits_for_the_hold_and_leaves_at_once() -> None:
    watch = NudgeWatch(hold_s=60.0)
    assert not watch.update(0.0, State.POOR)
    assert not watch.update(59.0, State.CAUTION)  # half-corrected: the hold goes on
    assert watch.update(60.0, State.POOR)
    assert watch.update(61.0, State.UNKNOWN)  # an unjudged sample changes nothing
    assert not watch.update(62.0, State.GOOD)
    assert not watch.update(63.0, State.CAUTION)  # caution never starts a hold
    assert not watch.update(200.0, State.CAUTION)


def test_the_nudge_never_shows_on_a_break_or_after_leaving() -> None:
    watch = NudgeWatch(hold_s=10.0)
    watch.update(0.0, State.POOR)
    assert not watch.update(20.0, State.POOR, on_break=True)
    watch.update(21.0, State.POOR)
    assert not watch.update(40.0, State.AWAY)
    assert not watch.update(41.0, State.POOR)
