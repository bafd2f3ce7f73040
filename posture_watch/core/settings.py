"""The settings the core reads: one frozen dataclass per config table (pure).

Defaults live here; ``config/default.toml`` ships the same values with the source of every
threshold (a test keeps the two equal). Field metadata gives the allowed range or choices,
which ``posture_watch.config`` checks when it loads a TOML file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _num(default: float, lo: float | None = None, hi: float | None = None) -> Any:
    return field(default=default, metadata={"min": lo, "max": hi})


@dataclass(frozen=True)
class SamplingConfig:
    file_rate_hz: float = _num(5.0, 0.1, 60.0)
    still_hold_s: float = _num(2.0, 0.1, 600.0)
    # The face model runs when a head moved by more than face_moved of the face's width
    # since it last ran, when the number of people changed, and at least every
    # face_every_s seconds; 0 runs it on every sample (vision/estimator.py, FacePolicy).
    face_every_s: float = _num(1.0, 0.0, 60.0)
    face_moved: float = _num(0.05, 0.0, 1.0)


@dataclass(frozen=True)
class ModelsConfig:
    pose: str = ""
    face: str = ""


@dataclass(frozen=True)
class CameraConfig:
    horizontal_fov_deg: float = _num(60.0, 20.0, 150.0)
    interpupillary_mm: float = _num(63.0, 45.0, 80.0)
    view: str = field(default="auto", metadata={"choices": ("auto", "front", "side")})
    # Let go of the camera while another program (a video call) has it open (`run`).
    yield_to_others: bool = True
    # Let go of the camera while the screen is locked or the machine sleeps (`run`).
    pause_when_locked: bool = True
    # Privacy mode (`run`): open the camera for one frame every this many seconds and let
    # go of it in between, so its light is off; 0 keeps it open (sampling at [live] rates).
    check_every_s: float = _num(0.0, 0.0, 600.0)
    # Frames read and dropped after each privacy-mode opening of a real camera, while its
    # auto-exposure settles (a file played as a camera skips them).
    check_warmup_frames: int = _num(15, 0, 120)
    # The frame size and rate asked of a real camera (0: the driver's default).
    frame_width: int = _num(640, 0, 7680)
    frame_height: int = _num(480, 0, 4320)
    frame_rate: float = _num(15.0, 0.0, 120.0)


@dataclass(frozen=True)
class DetectionConfig:
    min_visibility: float = _num(0.5, 0.0, 1.0)
    away_after_s: float = _num(1.0, 0.0, 60.0)
    min_brightness: float = _num(35.0, 0.0, 255.0)
    min_contrast: float = _num(12.0, 0.0, 128.0)
    min_quality: float = _num(0.5, 0.0, 1.0)
    min_body_extent: float = _num(0.06, 0.0, 1.0)


@dataclass(frozen=True)
class CalibrationConfig:
    auto_seconds: float = _num(5.0, 1.0, 600.0)
    min_samples: int = _num(5, 1, 10_000)
    # Calibrating from the camera (`calibrate --camera`, the window, the tray): how long
    # each pose is held, and whether the slumped pose is captured after the upright one.
    capture_s: float = _num(10.0, 2.0, 120.0)
    two_pose: bool = True


@dataclass(frozen=True)
class SmoothingConfig:
    window_samples: int = _num(3, 1, 100)
    hysteresis_deg: float = _num(3.0, 0.0, 20.0)
    hysteresis_pct: float = _num(3.0, 0.0, 20.0)
    enter_samples: int = _num(2, 1, 100)
    leave_samples: int = _num(2, 1, 100)


@dataclass(frozen=True)
class ThresholdsConfig:
    neck_flexion_caution_deg: float = _num(10.0, 0.0, 90.0)
    neck_flexion_poor_deg: float = _num(20.0, 0.0, 90.0)
    neck_extension_caution_deg: float = _num(5.0, 0.0, 90.0)
    neck_extension_poor_deg: float = _num(12.0, 0.0, 90.0)
    head_roll_caution_deg: float = _num(10.0, 0.0, 90.0)
    head_roll_poor_deg: float = _num(20.0, 0.0, 90.0)
    head_yaw_caution_deg: float = _num(15.0, 0.0, 90.0)
    head_yaw_poor_deg: float = _num(30.0, 0.0, 90.0)
    head_yaw_hold_s: float = _num(10.0, 0.0, 3600.0)
    shoulder_tilt_caution_deg: float = _num(5.0, 0.0, 45.0)
    shoulder_tilt_poor_deg: float = _num(10.0, 0.0, 45.0)
    shrug_caution_pct: float = _num(90.0, 10.0, 100.0)
    shrug_poor_pct: float = _num(80.0, 10.0, 100.0)
    forward_head_caution_pct: float = _num(107.0, 100.0, 300.0)
    forward_head_poor_pct: float = _num(115.0, 100.0, 300.0)
    side_ear_shoulder_caution_deg: float = _num(50.0, 0.0, 90.0)
    side_ear_shoulder_poor_deg: float = _num(45.0, 0.0, 90.0)
    trunk_flexion_caution_deg: float = _num(20.0, 0.0, 90.0)
    trunk_flexion_poor_deg: float = _num(60.0, 0.0, 90.0)
    distance_near_caution_cm: float = _num(50.0, 10.0, 200.0)
    distance_far_caution_cm: float = _num(100.0, 10.0, 300.0)


@dataclass(frozen=True)
class PostureReminderConfig:
    enabled: bool = True
    poor_hold_s: float = _num(60.0, 1.0, 3600.0)
    caution_hold_s: float = _num(300.0, 1.0, 14400.0)
    clear_after_good_s: float = _num(10.0, 0.0, 600.0)
    glance_s: float = _num(5.0, 0.0, 600.0)
    cooldown_s: float = _num(600.0, 0.0, 14400.0)


@dataclass(frozen=True)
class BreakReminderConfig:
    enabled: bool = True
    after_presence_s: float = _num(3000.0, 10.0, 28800.0)
    natural_break_s: float = _num(300.0, 1.0, 7200.0)
    repeat_s: float = _num(600.0, 10.0, 14400.0)


@dataclass(frozen=True)
class StretchReminderConfig:
    enabled: bool = True
    every_presence_s: float = _num(3600.0, 10.0, 28800.0)
    static_posture_s: float = _num(1800.0, 10.0, 28800.0)


@dataclass(frozen=True)
class EyesReminderConfig:
    enabled: bool = True
    every_presence_s: float = _num(1200.0, 10.0, 14400.0)


@dataclass(frozen=True)
class HydrationReminderConfig:
    enabled: bool = False
    every_s: float = _num(3600.0, 60.0, 28800.0)


@dataclass(frozen=True)
class RemindersConfig:
    snooze_default_s: float = _num(900.0, 10.0, 86400.0)
    min_gap_s: float = _num(60.0, 0.0, 3600.0)
    # Most time one sample gap may add to the reminder timers: a stalled source must not
    # count as hours at the desk. Keep it above the sampling interval.
    max_sample_gap_s: float = _num(5.0, 0.5, 600.0)
    posture: PostureReminderConfig = field(default_factory=PostureReminderConfig)
    breaks: BreakReminderConfig = field(default_factory=BreakReminderConfig)
    stretch: StretchReminderConfig = field(default_factory=StretchReminderConfig)
    eyes: EyesReminderConfig = field(default_factory=EyesReminderConfig)
    hydration: HydrationReminderConfig = field(default_factory=HydrationReminderConfig)


@dataclass(frozen=True)
class LiveConfig:
    rate_hz: float = _num(2.0, 0.1, 30.0)
    poor_rate_hz: float = _num(5.0, 0.1, 30.0)
    away_rate_hz: float = _num(0.5, 0.05, 30.0)
    # Once posture has been good for stable_after_s, sample at stable_rate_hz until it
    # is not (set it to rate_hz to keep one rate).
    stable_rate_hz: float = _num(0.5, 0.05, 30.0)
    stable_after_s: float = _num(30.0, 0.0, 3600.0)


@dataclass(frozen=True)
class NotificationsConfig:
    backend: str = field(default="auto", metadata={
        "choices": ("auto", "dbus", "macos", "windows", "terminal", "none")})
    quiet_hours: str = field(default="", metadata={"pattern": "quiet_hours"})


@dataclass(frozen=True)
class HistoryConfig:
    record: bool = True
    retention_days: int = _num(90, 1, 36500)


@dataclass(frozen=True)
class DesktopConfig:
    """The desktop layer: tray, break screens, posture nudge, chime (desktop/)."""

    tray: bool = True
    # How a due movement break shows: a notification, a window on every screen, or a
    # full-screen window on every screen.
    break_screen: str = field(default="window", metadata={
        "choices": ("notification", "window", "fullscreen")})
    postpone_s: float = _num(300.0, 10.0, 7200.0)
    postpone_max: int = _num(2, 0, 20)
    strict: bool = False  # no skip button (postpone stays, within postpone_max)
    nudge: bool = False
    nudge_style: str = field(default="glow", metadata={"choices": ("glow", "tint")})
    nudge_strength: float = _num(0.25, 0.05, 0.8)
    sound: bool = False
    sound_volume: float = _num(0.4, 0.0, 1.0)


def _hours(default: str) -> Any:
    return field(default=default, metadata={"pattern": "working_hours"})


@dataclass(frozen=True)
class WorkingHoursConfig:
    """When `run` may use the camera (off: always). Several ranges a day, commas between."""

    enabled: bool = False
    monday: str = _hours("08:00-18:00")
    tuesday: str = _hours("08:00-18:00")
    wednesday: str = _hours("08:00-18:00")
    thursday: str = _hours("08:00-18:00")
    friday: str = _hours("08:00-18:00")
    saturday: str = _hours("")
    sunday: str = _hours("")

    def by_day(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in (
            "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}


@dataclass(frozen=True)
class ContextConfig:
    """What else `run` listens to besides the camera (sensors/)."""

    # Hold break screens, nudges and notifications (queued, never dropped) while the
    # desktop's do-not-disturb is on, a full-screen window is active, or a listed app runs.
    do_not_disturb: bool = True
    fullscreen: bool = True
    apps: tuple[str, ...] = ("teams-for-linux", "skypeforlinux", "CiscoCollabHost",
                             "jitsi-meet", "pdfpc", "pympress", "impressive")
    # Keyboard and mouse idle time decides presence while the camera cannot look.
    idle: bool = True
    idle_after_s: float = _num(300.0, 10.0, 3600.0)


@dataclass(frozen=True)
class Config:
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    thresholds: ThresholdsConfig = field(default_factory=ThresholdsConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    live: LiveConfig = field(default_factory=LiveConfig)
    notifications: NotificationsConfig = field(default_factory=NotificationsConfig)
    history: HistoryConfig = field(default_factory=HistoryConfig)
    desktop: DesktopConfig = field(default_factory=DesktopConfig)
    context: ContextConfig = field(default_factory=ContextConfig)
    working_hours: WorkingHoursConfig = field(default_factory=WorkingHoursConfig)
