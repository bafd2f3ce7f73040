"""The context decisions (pure), working hours on an injected clock, the context watch
over real sensor objects, held reminders and time the camera could not see."""

from __future__ import annotations

import datetime as dt

import pytest

from posture_watch.config import config_from_dict
from posture_watch.core.context import Condition, Context, Kind, changes, unseen_presence
from posture_watch.core.held_reminders import HeldReminders
from posture_watch.core.reminders import ReminderEngine
from posture_watch.core.settings import RemindersConfig
from posture_watch.core.types import PostureState, Reminder, ReminderKind, State
from posture_watch.core.working_hours import WorkingHours, parse_ranges
from posture_watch.errors import UserError
from posture_watch.monitor.context_watch import ContextWatch
from posture_watch.sensors.sensor import PolledSensor
from posture_watch.sensors.working_hours import WorkingHoursSensor, week_seconds

CALL = Condition(Kind.CALL, "zoom (pid 7)")
LOCKED = Condition(Kind.LOCKED)
DND = Condition(Kind.DO_NOT_DISTURB, "notifications inhibited")


def test_the_strongest_reason_lets_go_of_the_camera() -> None:
    assert Context().camera_off() is None and Context().quiet() is None
    both = Context.of([CALL, LOCKED])
    assert both.camera_off() == LOCKED  # the lock names the state, not the call
    assert both.quiet() == CALL  # a call holds reminders too
    assert Context.of([DND]).camera_off() is None  # do-not-disturb keeps measuring
    assert Context.of([DND]).quiet() == DND


def test_every_program_on_the_camera_is_named() -> None:
    context = Context.of([CALL, Condition(Kind.CALL, "obs (pid 9)")])
    assert context.describe(Kind.CALL) == "camera in use by zoom (pid 7), obs (pid 9)"
    assert Context.of([DND]).describe(Kind.DO_NOT_DISTURB) == \
        "do not disturb (notifications inhibited)"
    assert Context().describe(Kind.LOCKED) == "locked"


def test_changes_say_what_began_and_how_long_what_ended_lasted() -> None:
    since: dict[Kind, float] = {}
    began = changes(Context(), Context.of([CALL, Condition(Kind.IDLE, value=3)]), 10.0, since)
    assert [(c.kind, c.began, c.detail) for c in began] == [(Kind.CALL, True, "zoom (pid 7)")]
    assert changes(Context.of([CALL]), Context.of([CALL]), 11.0, since) == []
    [ended] = changes(Context.of([CALL]), Context(), 25.0, since)
    assert (ended.kind, ended.began, ended.lasted_s) == (Kind.CALL, False, 15.0)
    assert since == {}


def test_input_decides_presence_only_when_a_sensor_can_tell() -> None:
    assert unseen_presence(None, 300.0) is None
    assert unseen_presence(4.0, 300.0) is True
    assert unseen_presence(300.0, 300.0) is False


def test_working_hours_several_ranges_and_past_midnight() -> None:
    hours = WorkingHours.parse({"monday": "09:00-12:30, 13:30-18:00", "friday": "22:00-02:00"})

    def at(day: int, hour: int, minute: int = 0) -> float:  # seconds into the week
        return day * 86400 + hour * 3600 + minute * 60

    assert not hours.open_at(at(0, 8, 59))
    assert hours.open_at(at(0, 9)) and hours.until_open_s(at(0, 9)) == 0
    assert not hours.open_at(at(0, 12, 45))  # lunch
    assert hours.until_open_s(at(0, 12, 45)) == 45 * 60
    assert not hours.open_at(at(0, 18))  # the end is not inside
    # After Monday evening the next start is Friday night, and it runs into Saturday.
    assert hours.until_open_s(at(0, 19)) == at(4, 22) - at(0, 19)
    assert hours.open_at(at(5, 1, 59)) and not hours.open_at(at(5, 2))
    # Sunday night's wait wraps round the week to Monday morning.
    assert hours.until_open_s(at(6, 23)) == 10 * 3600
    assert WorkingHours.parse({}).until_open_s(at(0, 9)) is None


def test_the_week_starts_on_monday_at_midnight_local_time() -> None:
    assert week_seconds(dt.datetime(2026, 11, 30, 0, 0)) == 0  # a Monday
    assert week_seconds(dt.datetime(2026, 12, 6, 23, 59, 30)) == 7 * 86400 - 30


@pytest.mark.parametrize("text", ["9-17", "09:00", "09:00-25:00", "09:60-10:00", "x"])
def test_a_range_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ranges(text)


def test_working_hours_config_is_checked_and_names_the_key() -> None:
    with pytest.raises(UserError, match=r"working_hours\.monday"):
        config_from_dict({"working_hours": {"monday": "9-5"}})
    with pytest.raises(UserError, match="no day has hours"):
        config_from_dict({"working_hours": {"enabled": True, **{
            day: "" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}}})
    with pytest.raises(UserError, match="list of names"):
        config_from_dict({"context": {"apps": "zoom"}})
    config = config_from_dict({"context": {"apps": ["zoom", " obs "]}})
    assert config.context.apps == ("zoom", "obs")


class _Clock:
    """The wall clock a test sets by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def test_working_hours_sensor_says_when_the_camera_may_open_again() -> None:
    clock = _Clock(dt.datetime(2026, 11, 29, 23, 0))  # a Sunday night
    sensor = WorkingHoursSensor(WorkingHours.parse({"monday": "08:00-18:00"}), clock)
    [off] = sensor.read()
    assert off.kind is Kind.OFF_HOURS and off.detail == "Mon 08:00"
    assert off.value == 9 * 3600
    assert off.describe() == "outside working hours, back Mon 08:00"
    clock.now = dt.datetime(2026, 11, 30, 8, 0)
    assert sensor.read() == ()


class _Switch(PolledSensor):
    """An outside signal a test turns on and off (a sensor, not project code)."""

    def __init__(self, name: str, every_s: float, condition: Condition) -> None:
        self.name, self.every_s, self.condition = name, every_s, condition
        self.on = False
        self.reads = 0

    def read(self) -> tuple[Condition, ...]:
        self.reads += 1
        return (self.condition,) if self.on else ()


class _Broken(PolledSensor):
    name = "broken"

    def read(self) -> tuple[Condition, ...]:
        raise OSError("gone")


def test_the_watch_reads_each_sensor_on_its_interval_and_adds_up_spells() -> None:
    call = _Switch("call", 1.0, CALL)
    hours = _Switch("hours", 5.0, Condition(Kind.OFF_HOURS, "Mon 08:00", 60))
    watch = ContextWatch([call, hours, _Broken()])
    watch.start()
    assert watch.check(0.0) == []
    assert watch.check(0.5) == [] and call.reads == 1  # not due yet
    call.on = hours.on = True
    [began] = watch.check(1.0)
    assert began.kind is Kind.CALL and hours.reads == 1  # hours are read every 5 s
    assert watch.check(2.0) == []
    assert [c.kind for c in watch.check(5.0)] == [Kind.OFF_HOURS]
    assert watch.total_s(Kind.CALL, 6.0) == 5.0
    call.on = False
    [ended] = watch.check(7.0)
    assert (ended.kind, ended.lasted_s) == (Kind.CALL, 6.0)
    assert watch.total_s(Kind.CALL, 100.0) == 6.0
    [still] = watch.open_spells(8.0)
    assert (still.kind, still.lasted_s, still.detail) == (Kind.OFF_HOURS, 3.0, "Mon 08:00")


def _reminder(kind: ReminderKind, t: float = 1.0) -> Reminder:
    return Reminder(t, kind, kind.value, "", "due")


def test_a_held_break_is_never_dropped_and_stands_for_stretch_and_eyes() -> None:
    held = HeldReminders()
    for kind in (ReminderKind.POSTURE, ReminderKind.EYES, ReminderKind.BREAK,
                 ReminderKind.STRETCH, ReminderKind.HYDRATION, ReminderKind.BREAK):
        held.hold(_reminder(kind))
    assert held.posture_dropped == 1 and len(held) == 4
    out = held.release(50.0, "a presentation")
    assert [r.kind for r in out] == [ReminderKind.BREAK, ReminderKind.HYDRATION]
    assert out[0].t_s == 50.0 and out[0].reason == "due; held during a presentation"
    assert held.release(60.0, "x") == []
    held.hold(_reminder(ReminderKind.EYES))
    assert [r.kind for r in held.release(70.0, "x")] == [ReminderKind.EYES]


def test_time_in_a_call_counts_as_sitting_only_while_input_says_so() -> None:
    engine = ReminderEngine(RemindersConfig())
    engine.update(PostureState(0.0, State.GOOD, 90))
    for second in range(1, 601):  # ten minutes in a call, typing
        engine.unseen(float(second), True)
    assert engine.snapshot()["since_break_s"] == pytest.approx(600.0)
    for second in range(601, 1801):  # twenty minutes listening, hands off
        engine.unseen(float(second), False)
    snap = engine.snapshot()
    assert snap["since_break_s"] == pytest.approx(600.0)  # not sitting, as far as we know
    assert snap["natural_breaks"] == 0  # and idle alone is never a break
    for second in range(1801, 1811):
        engine.unseen(float(second), None)  # no sensor: nothing counted either way
    assert engine.snapshot()["presence_s"] == pytest.approx(600.0)

