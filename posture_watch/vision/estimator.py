"""MediaPipe Tasks at the boundary: frames in, the project's own PoseSample out.

PoseLandmarker (VIDEO mode) gives the body landmarks; FaceLandmarker with the facial
transformation matrix gives the head angles and the iris positions. The pose model runs on
every sample; the face model, after it, only when a head the pose model sees has moved
(FacePolicy): a head that stays put keeps its angles, and the face model's work goes. The
two once ran side by side in two threads, which spread the same work over both cores
instead of doing less of it. Nothing past this module sees a MediaPipe object.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from posture_watch.core.types import Body, Face, Frame, Person, Point, PoseSample

# Quiet MediaPipe's C++ logging before it is imported (model-load chatter on stderr).
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import mediapipe as mp
from mediapipe.tasks.python import BaseOptions, vision

# PoseLandmarker indices (BlazePose 33-point topology)
_BODY_INDEX = {
    "nose": 0,
    "left_eye": 2,
    "right_eye": 5,
    "left_ear": 7,
    "right_ear": 8,
    "left_shoulder": 11,
    "right_shoulder": 12,
    "left_hip": 23,
    "right_hip": 24,
}
# FaceLandmarker indices (478-point mesh with irises)
_LEFT_IRIS, _RIGHT_IRIS = 468, 473
_FACE_LEFT_EDGE, _FACE_RIGHT_EDGE = 234, 454
_NOSE_TIP = 1

# Frames are shrunk to this width before inference: both models work on small inputs
# (256 px for pose, 192 px for the face mesh), so larger frames only cost conversion time.
_MAX_INFERENCE_WIDTH = 640
# The head's points from the pose model, which runs on every sample: when none of them has
# moved much since the face model last ran, its answer still stands.
_HEAD_POINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")


@dataclass(frozen=True)
class FacePolicy:
    """When the face model runs: on every sample (`every_s` 0), or when a head the pose
    model sees moved by more than `moved` of the face's width since the face model last
    ran, when the number of bodies changed, while a face is seen without a body, and at
    least every `every_s` seconds."""

    every_s: float = 0.0
    moved: float = 0.05


def head_angles(matrix: np.ndarray) -> tuple[float, float, float]:
    """Pitch (down +), yaw (towards image right +), roll (towards image right +) in degrees.

    MediaPipe's face geometry uses a right-handed frame with y up and the face's
    forward axis pointing at the camera (+z), so the rotated forward vector tilts to
    -y when the person looks down.
    """
    rot = np.asarray(matrix, dtype=float)[:3, :3]
    forward = rot @ np.array([0.0, 0.0, 1.0])
    up = rot @ np.array([0.0, 1.0, 0.0])
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, -forward[1]))))
    yaw = math.degrees(math.atan2(forward[0], forward[2]))
    roll = math.degrees(math.atan2(up[0], up[1]))
    return pitch, yaw, roll


class PoseEstimator:
    """Runs pose and face landmarkers on frames; converts results to PoseSample."""

    def __init__(
        self,
        pose_model: Path,
        face_model: Path | None,
        *,
        max_faces: int = 2,
        max_bodies: int = 1,
        face_policy: FacePolicy | None = None,
    ) -> None:
        self._pose = vision.PoseLandmarker.create_from_options(
            vision.PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(pose_model)),
                running_mode=vision.RunningMode.VIDEO,
                num_poses=max_bodies,
                min_pose_detection_confidence=0.5,
                min_pose_presence_confidence=0.5,
                min_tracking_confidence=0.5,
            )
        )
        self._face = None
        if face_model is not None:
            self._face = vision.FaceLandmarker.create_from_options(
                vision.FaceLandmarkerOptions(
                    base_options=BaseOptions(model_asset_path=str(face_model)),
                    running_mode=vision.RunningMode.VIDEO,
                    num_faces=max_faces,
                    output_facial_transformation_matrixes=True,
                )
            )
        self.face_policy = face_policy or FacePolicy()
        self.face_runs = 0
        self._faces: list[Face] = []
        self._face_t: float | None = None  # when the face model last ran
        self._face_bodies: list[Body] = []  # the bodies the pose model saw then
        self._last_ms = -1

    def close(self) -> None:
        for task in (self._pose, self._face):
            if task is not None:
                task.close()
        self._face = None

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _timestamp_ms(self, t_s: float) -> int:
        # VIDEO mode needs strictly increasing timestamps; duplicates are pushed forward.
        ms = max(round(t_s * 1000.0), self._last_ms + 1)
        self._last_ms = ms
        return ms

    def estimate(self, frame: Frame) -> PoseSample:
        image = np.asarray(frame.image)
        height, width = image.shape[:2]
        small = _shrink(image)
        rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        mp_image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        ms = self._timestamp_ms(frame.t_s)

        pose_result = self._pose.detect_for_video(mp_image, ms)
        bodies = [_to_body(lms, width, height) for lms in pose_result.pose_landmarks]
        if self._face is not None and self._face_due(frame.t_s, bodies):
            face_result = self._face.detect_for_video(mp_image, ms)
            self._faces = [
                _to_face(lms, matrix, width, height)
                for lms, matrix in zip(face_result.face_landmarks,
                                       face_result.facial_transformation_matrixes, strict=False)]
            self._face_t, self._face_bodies = frame.t_s, bodies
            self.face_runs += 1
        faces = self._faces
        gray = cv2.cvtColor(cv2.resize(small, (64, 48), interpolation=cv2.INTER_AREA),
                            cv2.COLOR_BGR2GRAY)
        return PoseSample(
            t_s=frame.t_s,
            width=width,
            height=height,
            people=_pair_faces_with_bodies(bodies, faces),
            brightness=float(gray.mean()),
            contrast=float(gray.std()),
        )

    def _face_due(self, t_s: float, bodies: list[Body]) -> bool:
        """Whether the face model must run on this sample (see FacePolicy)."""
        policy = self.face_policy
        if (policy.every_s <= 0 or self._face_t is None or t_s - self._face_t >= policy.every_s
                or t_s < self._face_t or len(bodies) != len(self._face_bodies)):
            return True
        if not bodies and self._faces:
            return True  # a face the pose model does not see (a close-up): no cue to wait on
        return any(_head_moved(then, now, self._faces, policy.moved)
                   for then, now in zip(self._face_bodies, bodies, strict=True))


def _head_moved(then: Body, now: Body, faces: list[Face], moved: float) -> bool:
    """Whether a head point seen both times moved by more than `moved` face widths (the
    face nearest the head then, else half the shoulder width then), or was seen only once."""
    points = [(getattr(then, name), getattr(now, name)) for name in _HEAD_POINTS]
    seen = [(a, b) for a, b in points if a is not None and b is not None]
    if not seen:
        return True
    ax, ay = seen[0][0].x, seen[0][0].y
    near = [f for f in faces if math.hypot(f.center.x - ax, f.center.y - ay) <= f.width_px]
    if near:
        scale = near[0].width_px
    elif then.left_shoulder is not None and then.right_shoulder is not None:
        scale = 0.5 * math.hypot(then.left_shoulder.x - then.right_shoulder.x,
                                 then.left_shoulder.y - then.right_shoulder.y)
    else:
        return True
    limit = moved * max(scale, 1.0)
    return any(math.hypot(a.x - b.x, a.y - b.y) > limit for a, b in seen)


def _shrink(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    if width <= _MAX_INFERENCE_WIDTH:
        return image
    scale = _MAX_INFERENCE_WIDTH / width
    return cv2.resize(image, (_MAX_INFERENCE_WIDTH, round(height * scale)),
                      interpolation=cv2.INTER_AREA)


def _to_body(landmarks: list, width: int, height: int) -> Body:
    points: dict[str, Point | None] = {}
    for name, index in _BODY_INDEX.items():
        lm = landmarks[index]
        visibility = min(lm.visibility or 0.0, lm.presence or 0.0)
        # A landmark the model places outside the frame is a guess, not a measurement.
        if not (-0.02 <= lm.x <= 1.02 and -0.02 <= lm.y <= 1.02):
            visibility = 0.0
        points[name] = Point(lm.x * width, lm.y * height, visibility)
    return Body(**points)


def _to_face(landmarks: list, matrix: np.ndarray, width: int, height: int) -> Face:
    def px(index: int) -> tuple[float, float]:
        lm = landmarks[index]
        return lm.x * width, lm.y * height

    pitch, yaw, roll = head_angles(matrix)
    (lx, ly), (rx, ry) = px(_LEFT_IRIS), px(_RIGHT_IRIS)
    (ex1, ey1), (ex2, ey2) = px(_FACE_LEFT_EDGE), px(_FACE_RIGHT_EDGE)
    nx, ny = px(_NOSE_TIP)
    return Face(
        pitch_deg=pitch,
        yaw_deg=yaw,
        roll_deg=roll,
        interpupillary_px=math.hypot(lx - rx, ly - ry),
        width_px=math.hypot(ex1 - ex2, ey1 - ey2),
        center=Point(nx, ny),
    )


def _pair_faces_with_bodies(bodies: list[Body], faces: list[Face]) -> tuple[Person, ...]:
    """Match each face to the body whose nose is nearest (within a face width)."""
    people: list[Person] = []
    unused = list(range(len(faces)))
    for body in bodies:
        match = None
        if body.nose is not None and unused:
            def dist(i: int, nose: Point = body.nose) -> float:
                c = faces[i].center
                return math.hypot(c.x - nose.x, c.y - nose.y)

            best = min(unused, key=dist)
            if dist(best) <= max(faces[best].width_px, 1.0):
                match = best
                unused.remove(best)
        people.append(Person(body=body, face=faces[match] if match is not None else None))
    people.extend(Person(body=None, face=faces[i]) for i in unused)
    return tuple(people)
