"""The commands at the desk: `run`, talking to the running monitor (`status`, `pause`,
`resume`, `snooze`, `stop`) and `autostart`."""

from __future__ import annotations

import argparse
import json
import sys

from posture_watch.commands import EXIT_OK, live_config_path
from posture_watch.errors import UserError


def run(args: argparse.Namespace) -> int:
    from posture_watch.config import load_config
    from posture_watch.history.profiles import load_profile
    from posture_watch.monitor.run import RunOptions, run_monitor
    from posture_watch.vision.landmarkers import resolve_models

    config_path = live_config_path(args.config)
    config = load_config(config_path)
    baseline = load_profile(args.profile) if args.profile else None
    if args.rate is not None and not 0.05 <= args.rate <= 30:
        raise UserError("--rate must be between 0.05 and 30 samples per second")
    models = resolve_models(config, args.pose_model, args.face_model)
    options = RunOptions(camera=args.camera, json_lines=args.json, fixed_rate_hz=args.rate,
                         preview=args.preview, fault=args.inject_camera_fault,
                         profile=args.profile, config_path=config_path,
                         tray=config.desktop.tray and not args.no_tray)
    return run_monitor(config, baseline, models, options)


def control(args: argparse.Namespace) -> int:
    from posture_watch.monitor.control.client import send_command

    request_args = {"duration": args.duration} if getattr(args, "duration", None) else {}
    # The monitor applies commands between samples; give it longer than its own 5 s wait.
    reply = send_command(args.command, args=request_args, timeout_s=7.0)
    if not reply.get("ok", False):
        raise UserError(str(reply.get("error", "the monitor refused the command")))
    if args.command == "status" and getattr(args, "json", False):
        json.dump(reply, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return EXIT_OK
    print(_describe_status(reply))
    return EXIT_OK


def _describe_status(status: dict) -> str:
    camera = status.get("camera", {})
    timers = status.get("timers", {})
    lines = [f"state: {status.get('state')}"
             + (f" (score {status['score']})" if status.get("score") is not None else "")
             + f", running {status.get('running_s', 0):.0f} s"]
    if status.get("paused_until_s") is not None:
        lines.append(f"paused until {status['paused_until_s']:.0f} s")
    open_text = "open" if camera.get("opened") else "released"
    mode = f", gives {camera['mode']}" if camera.get("mode") else ""
    lines.append(f"camera: {camera.get('source')} ({open_text}, "
                 f"{camera.get('rate_hz', 0):g} samples/s{mode})")
    if camera.get("in_use_by"):
        lines.append("camera in use by " + ", ".join(camera["in_use_by"])
                     + ": waiting for it to be closed")
    context = status.get("context") or {}
    if status.get("state") == "off hours" and context.get("camera_off"):
        lines.append(f"{context['camera_off']}: the camera stays closed until then")
    if context.get("quiet"):
        held = context.get("held_reminders", 0)
        lines.append(f"reminders wait: {context['quiet']}"
                     + (f" ({held} held)" if held else ""))
    gaps = camera.get("gaps", [])
    if gaps:
        last = gaps[-1]
        lost = "lost now, retrying" if last.get("end_s") is None else "recovered"
        lines.append(f"camera gaps: {len(gaps)}, last at {last['start_s']:.0f} s ({lost})")
    if timers:
        lines.append(f"next break in {timers.get('next_break_in_s', 0):.0f} s, "
                     f"snoozed for {timers.get('snoozed_s', 0):.0f} s")
    calibration = status.get("calibration") or {}
    if calibration.get("source"):
        name = calibration.get("profile")
        lines.append(f"calibration: {f'profile {name!r}, ' if name else ''}"
                     f"{calibration['source']} ({calibration.get('view')} view)")
    else:
        lines.append("calibration: automatic, still learning your neutral")
    lines.append(f"reminders so far: {status.get('reminders', 0)}")
    return "\n".join(lines)


def autostart(args: argparse.Namespace) -> int:
    from posture_watch.monitor import autostart

    if args.action == "install":
        for path in autostart.install(args.kind):
            print(f"wrote {path}")
        hint = autostart.activation_hint(autostart.resolve_kind(args.kind))
        if hint:
            print(f"then: {hint}")
    else:
        removed = autostart.remove(args.kind)
        for path in removed:
            print(f"removed {path}")
        if not removed:
            print("no autostart entry was installed")
    return EXIT_OK
