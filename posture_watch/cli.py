"""Command line: parses arguments, runs the command (posture_watch.commands), turns errors
into one line and an exit code.

Exit codes: 0 ok, 2 bad input or usage, 1 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from posture_watch import __version__
from posture_watch.commands import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    analysis,
    history,
    live,
)
from posture_watch.errors import UserError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posture-watch",
        description="Watches head, neck and shoulder posture through a webcam or a recording.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more on stderr")
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help="where history and profiles live (default: the user data "
                             "directory; also POSTURE_WATCH_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    models_args = argparse.ArgumentParser(add_help=False)
    models_args.add_argument("--pose-model", metavar="FILE", help="pose_landmarker .task file")
    models_args.add_argument("--face-model", metavar="FILE", help="face_landmarker .task file")
    config_args = argparse.ArgumentParser(add_help=False)
    config_args.add_argument("--config", type=Path, metavar="FILE",
                             help="TOML config (keys you set override the defaults)")

    analyze = sub.add_parser("analyze", parents=[models_args, config_args],
                             help="analyse recorded video, GIFs or folders of stills")
    analyze.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    analyze.add_argument("--json", action="store_true",
                         help="print the JSON document instead of the summary")
    group = analyze.add_mutually_exclusive_group()
    group.add_argument("--calibrate-from", metavar="START:END",
                       help="learn the upright neutral from this stretch (seconds) of each input")
    group.add_argument("--calibration", type=Path, metavar="FILE",
                       help="calibration JSON file (as saved by 'calibrate')")
    group.add_argument("--profile", metavar="NAME", help="saved calibration profile")
    analyze.add_argument("--slouch-from", metavar="START:END",
                         help="with --calibrate-from: a stretch where you slump as when tired "
                              "(two-pose calibration: your own boundary)")
    analyze.add_argument("--no-progress", action="store_true", help="no progress bar")
    analyze.add_argument("--save", action="store_true",
                         help="record each input as a session in the history")

    calibrate = sub.add_parser("calibrate", parents=[models_args, config_args],
                               help="learn your upright neutral from a recording or the camera")
    calibrate.add_argument("path", type=Path, nargs="?", metavar="PATH",
                           help="a recording (with --from); without it, the camera")
    calibrate.add_argument("--from", dest="range", metavar="START:END",
                           help="the stretch (seconds) of PATH where you sit upright")
    calibrate.add_argument("--slouch-from", metavar="START:END",
                           help="a stretch of PATH where you slump as when tired (two-pose)")
    calibrate.add_argument("--one-pose", action="store_true",
                           help="camera: capture only the upright pose, not the slump")
    calibrate.add_argument("--camera", metavar="SOURCE", default="0",
                           help="camera index, device path or video file (default 0)")
    calibrate.add_argument("--seconds", type=float,
                           help="how long to hold each pose for the camera (default "
                                "calibration.capture_s, 10)")
    calibrate.add_argument("--countdown", type=int, default=3, help=argparse.SUPPRESS)
    calibrate.add_argument("--window", action="store_true",
                           help="camera: a window with the live picture and the landmarks "
                                "guides you (needs a display)")
    calibrate.add_argument("--save", required=True, metavar="NAME",
                           help="profile name (e.g. laptop, desk, standing)")

    evaluate = sub.add_parser("evaluate", parents=[models_args, config_args],
                              help="score the pipeline on labelled recordings")
    evaluate.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                          help="labelled clips (X.mp4 with X.labels.csv) or folders of them")
    evaluate.add_argument("--footage", type=Path, metavar="DIR", action="append", default=[],
                          help="a folder in the shared footage layout (labels_videos.csv, "
                               "labels_stills.csv); may be repeated")
    out = evaluate.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the JSON document")
    out.add_argument("--markdown", action="store_true", help="print Markdown tables")
    evaluate.add_argument("--margin", type=float, default=2.0, metavar="SECONDS",
                          help="samples this close to a label's edges are not judged "
                               "(default 2)")
    evaluate.add_argument("--no-progress", action="store_true", help="no progress bar")
    evaluate.add_argument("--baseline", choices=("peer",),
                          help="also print the peers' plain rule (nose-to-shoulder ratio "
                               "below 90 %% of its calibrated median), scored on the same "
                               "samples")
    evaluate.add_argument("--two-pose", action="store_true",
                          help="calibrate still groups on upright and slumped stills")

    run = sub.add_parser("run", parents=[models_args, config_args],
                         help="watch your posture through the camera")
    run.add_argument("--camera", metavar="SOURCE", default="0",
                     help="camera index (default 0), device path, or a video file played "
                          "at real-time pacing")
    run.add_argument("--profile", metavar="NAME", help="saved calibration profile")
    run.add_argument("--json", action="store_true",
                     help="print one JSON object per sample and reminder (JSON Lines)")
    run.add_argument("--preview", action="store_true",
                     help="show a window with the landmarks, state and score")
    run.add_argument("--rate", type=float, metavar="HZ",
                     help="a fixed sampling rate instead of the adaptive one")
    run.add_argument("--no-tray", action="store_true",
                     help="no tray icon, break screen or nudge (as [desktop] tray = false)")
    run.add_argument("--inject-camera-fault", metavar="AFTER_S:DOWN_S",
                     help=argparse.SUPPRESS)  # test aid: the camera fails, then comes back

    sub.add_parser("status", help="what the running monitor is doing").add_argument(
        "--json", action="store_true", help="print the status as JSON")
    pause = sub.add_parser("pause", help="pause the monitor (the camera is released)")
    pause.add_argument("duration", nargs="?", metavar="DURATION",
                       help="e.g. 30m or 2h; without it, until 'resume'")
    sub.add_parser("resume", help="resume a paused monitor")
    snooze = sub.add_parser("snooze", help="silence reminders for a while")
    snooze.add_argument("duration", nargs="?", metavar="DURATION",
                        help="e.g. 15m (default: reminders.snooze_default_s)")
    sub.add_parser("stop", help="stop the running monitor")
    sub.add_parser("break", help="take a movement break now (opens the break screen)")
    postpone = sub.add_parser("postpone", help="put the next movement break off")
    postpone.add_argument("duration", nargs="?", metavar="DURATION",
                          help="e.g. 10m (default: desktop.postpone_s)")
    sub.add_parser("skip", help="skip the movement break that is due (not counted)")
    autostart = sub.add_parser("autostart", help="start the monitor when you log in")
    autostart.add_argument("action", choices=("install", "remove"))
    autostart.add_argument("--kind", choices=("auto", "xdg", "systemd", "launchd"),
                           default="auto")

    summary = sub.add_parser("summary", help="how a day, a week or a session went")
    which = summary.add_mutually_exclusive_group()
    which.add_argument("--session", metavar="ID", help="one session (see 'history --by session')")
    which.add_argument("--today", action="store_true", help="today (the default)")
    which.add_argument("--week", action="store_true", help="the last 7 days")
    which.add_argument("--since", metavar="DATE", help="from this day (YYYY-MM-DD) until now")
    summary.add_argument("--json", action="store_true", help="print the summary as JSON")
    history = sub.add_parser("history", help="one row per day or per session")
    history.add_argument("--by", choices=("day", "session"), default="day")
    history.add_argument("--since", metavar="DATE", help="from this day (default: 30 days ago)")
    export = sub.add_parser("export", help="your history as CSV or JSON on stdout")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--since", metavar="DATE", help="from this day (default: everything)")
    forget = sub.add_parser("forget", help="delete recorded history")
    span = forget.add_mutually_exclusive_group(required=True)
    span.add_argument("--before", metavar="DATE", help="everything before this day")
    span.add_argument("--all", action="store_true", help="everything")
    forget.add_argument("--yes", action="store_true", help="do not ask first")
    discomfort = sub.add_parser("log-discomfort", help="note how your back feels (0-10)")
    discomfort.add_argument("area", choices=("neck", "shoulders", "upper_back", "lower_back"))
    discomfort.add_argument("level", type=int, choices=range(11), metavar="LEVEL",
                            help="0 (none) to 10 (worst)")
    discomfort.add_argument("--note", default="", help="anything worth remembering")

    report = sub.add_parser("report", help="an HTML page with plots of your history")
    report.add_argument("--since", metavar="DATE",
                        help="first day (YYYY-MM-DD, local time; default: 7 days ago)")
    report.add_argument("--out", type=Path, metavar="FILE", default=Path("posture-report.html"),
                        help="where to write the page (default posture-report.html)")

    models_cmd = sub.add_parser("models", parents=[models_args, config_args],
                                help="show where the model files are; --fetch gets them")
    models_cmd.add_argument("--fetch", action="store_true",
                            help="download or extract missing models now")
    return parser


def _silence_native_stderr() -> None:
    """Send C++ log lines (MediaPipe, TFLite) to /dev/null; Python keeps the real stderr.

    The native libraries write to file descriptor 2 directly, so the descriptor is
    swapped underneath while sys.stderr moves to a duplicate of the original.
    """
    try:
        sys.stderr.flush()
        original = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        sys.stderr = os.fdopen(original, "w", buffering=1, encoding="utf-8",
                               errors="backslashreplace")
    except OSError:
        pass  # stderr is odd (closed, not a descriptor): leave it as it is


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "analyze": analysis.analyze, "calibrate": analysis.calibrate,
    "evaluate": analysis.evaluate, "models": analysis.models,
    "run": live.run, "status": live.control, "pause": live.control, "resume": live.control,
    "snooze": live.control, "stop": live.control, "break": live.control,
    "postpone": live.control, "skip": live.control, "autostart": live.autostart,
    "summary": history.summary, "history": history.history, "report": history.report,
    "export": history.export, "forget": history.forget,
    "log-discomfort": history.log_discomfort,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="posture-watch: %(levelname)s: %(message)s")
    if args.data_dir is not None:
        os.environ["POSTURE_WATCH_DATA_DIR"] = str(args.data_dir)
    if args.command in ("analyze", "calibrate", "evaluate", "run") and not args.verbose:
        _silence_native_stderr()
    try:
        return _COMMANDS[args.command](args)
    except UserError as exc:
        print(f"posture-watch: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("posture-watch: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing more to say.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # the last line of defence: never a traceback
        if os.environ.get("POSTURE_WATCH_DEBUG"):
            raise
        print(f"posture-watch: internal error: {type(exc).__name__}: {exc} "
              "(set POSTURE_WATCH_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
