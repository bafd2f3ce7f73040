"""Plain value types that flow through the pipeline.

Nothing here knows about OpenCV or MediaPipe: the estimator converts its results into
these types at the boundary, so the pure core can be fed synthetic landmarks in tests.
Image coordinates are in pixels, x to the right and y downwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Point:
    """One landmark in pixel coordinates with the model's visibility (0-1)."""

    x: float
    y: float
    visibility: float = 1.0


@dataclass(frozen=True, slots=True)
class Body:
    """The upper-body pose landmarks we use; a landmark the model does not see is None."""

    nose: Point | None = None
    left_eye: Point | None = None
    right_eye: Point | None = None
    left_ear: Point | None = None
    right_ear: Point | None = None
    left_shoulder: Point | None = None
    right_shoulder: Point | None = None
    left_hip: Point | None = None
    right_hip: Point | None = None


@dataclass(frozen=True, slots=True)
class Face:
    """Head pose from the face landmarker's transformation matrix, in degrees.

    pitch > 0: looking down; yaw > 0: turned to the person's left; roll > 0: the head
    leans towards the person's left shoulder.
    """

    pitch_deg: float
    yaw_deg: float
    roll_deg: float
    interpupillary_px: float
    width_px: float
    center: Point


@dataclass(frozen=True, slots=True)
class Person:
    body: Body | None = None
    face: Face | None = None


@dataclass(frozen=True, slots=True)
class PoseSample:
    """What the estimator saw in one frame."""

    t_s: float
    width: int
    height: int
    people: tuple[Person, ...] = ()
    brightness: float = 128.0  # mean luma, 0-255
    contrast: float = 50.0  # luma standard deviation


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame (BGR numpy array) and its time on the pipeline's timeline."""

    image: object  # numpy.ndarray; typed loosely so the core never imports numpy or cv2
    t_s: float


class State(StrEnum):
    GOOD = "good"
    CAUTION = "caution"
    POOR = "poor"
    AWAY = "away"
    UNKNOWN = "unknown"


class Level(StrEnum):
    GOOD = "good"
    CAUTION = "caution"
    POOR = "poor"


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One ergonomic rule's verdict for a sample."""

    rule: str
    level: Level
    value: float  # the compared value (degrees, percent of baseline, cm)
    unit: str


@dataclass(frozen=True, slots=True)
class PostureState:
    """The scorer's verdict for one sample."""

    t_s: float
    state: State
    score: int | None  # 0-100; None when away or unknown
    rules: tuple[RuleResult, ...] = ()
    quality: float = 0.0  # 0-1, how much the sample can be trusted
    metrics: dict[str, float] = field(default_factory=dict)
    quality_detail: dict[str, float] = field(default_factory=dict)  # light, landmarks, face
    note: str = ""  # why the posture could not be judged ("too dark", "seen from behind")

    @property
    def present(self) -> bool:
        return self.state is not State.AWAY

    @property
    def measured(self) -> bool:
        """Whether the posture was judged (good, caution or poor)."""
        return self.state in (State.GOOD, State.CAUTION, State.POOR)


class ReminderKind(StrEnum):
    POSTURE = "posture"
    BREAK = "break"
    STRETCH = "stretch"
    EYES = "eyes"
    HYDRATION = "hydration"


@dataclass(frozen=True, slots=True)
class Reminder:
    t_s: float
    kind: ReminderKind
    title: str
    message: str
    reason: str = ""  # e.g. "poor posture held 62 s (neck_pitch)"
