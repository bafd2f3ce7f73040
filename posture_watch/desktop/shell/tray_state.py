"""What the tray shows, from the monitor's status reply (no Qt: tested headless)."""

from __future__ import annotations

from typing import Any

from posture_watch.core.messages import format_duration

_LABELS = {
    "good": "posture good", "caution": "posture could be better", "poor": "poor posture",
    "away": "away from the desk", "paused": "paused", "camera": "camera unavailable",
    "unknown": "posture not measurable", "starting": "starting",
}


def icon_state(status: dict[str, Any]) -> str:
    """One of icons.STATES for a status reply."""
    state = str(status.get("state", "unknown"))
    if state in ("paused", "locked", "asleep", "off hours"):
        return "paused"
    if state == "camera in use":
        return "camera"
    camera = status.get("camera") or {}
    gaps = camera.get("gaps") or []
    if gaps and gaps[-1].get("end_s") is None:
        return "camera"
    return state if state in ("good", "caution", "poor", "away") else "unknown"


def tooltip(status: dict[str, Any], earlier_today_s: float = 0.0) -> str:
    """'posture-watch: posture good / At the desk today: 1 h 5 min / Next break in 12 min'."""
    state = icon_state(status)
    raw = status.get("state")
    label = _LABELS["starting"] if raw == "starting" else (
        "screen locked" if raw == "locked" else "asleep" if raw == "asleep" else _LABELS[state])
    camera = status.get("camera") or {}
    context = status.get("context") or {}
    if raw == "off hours" and context.get("camera_off"):
        label = str(context["camera_off"])
    elif camera.get("in_use_by"):
        label = "camera in use by " + ", ".join(camera["in_use_by"])
    elif state == "camera" and camera.get("source"):
        label += f" ({camera['source']})"
    timers = status.get("timers") or {}
    lines = [f"posture-watch: {label}"]
    desk_s = earlier_today_s + float(timers.get("presence_s", 0.0))
    lines.append(f"At the desk today: {format_duration(desk_s)}")
    if context.get("quiet"):
        lines.append(f"Reminders wait: {context['quiet']}")
    if raw == "off hours":
        pass
    elif state == "paused":
        until = status.get("paused_until_s")
        running = float(status.get("running_s", 0.0))
        lines.append("Paused until you resume" if until is None
                     else f"Resumes in {format_duration(until - running)}")
    elif "next_break_in_s" in timers:
        lines.append(f"Next break in {format_duration(timers['next_break_in_s'])}")
    snoozed = float(timers.get("snoozed_s", 0.0))
    if snoozed > 0:
        lines.append(f"Reminders snoozed for {format_duration(snoozed)}")
    return "\n".join(lines)
