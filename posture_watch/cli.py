"""Command line: parses arguments, calls the app, turns errors into one line and an exit code.

Exit codes: 0 ok, 2 bad input or usage, 1 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from posture_watch import __version__
from posture_watch.errors import UserError

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


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
    analyze.add_argument("--no-progress", action="store_true", help="no progress bar")
    analyze.add_argument("--save", action="store_true",
                         help="record each input as a session in the history")

    calibrate = sub.add_parser("calibrate", parents=[models_args, config_args],
                               help="learn your upright neutral from a recording or the camera")
    calibrate.add_argument("path", type=Path, nargs="?", metavar="PATH",
                           help="a recording (with --from); without it, the camera")
    calibrate.add_argument("--from", dest="range", metavar="START:END",
                           help="the stretch (seconds) of PATH where you sit upright")
    calibrate.add_argument("--camera", metavar="SOURCE", default="0",
                           help="camera index, device path or video file (default 0)")
    calibrate.add_argument("--seconds", type=float, default=10.0,
                           help="how long to capture from the camera (default 10)")
    calibrate.add_argument("--countdown", type=int, default=3, help=argparse.SUPPRESS)
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


def _cmd_analyze(args: argparse.Namespace) -> int:
    from rich.console import Console

    from posture_watch import app, output
    from posture_watch.config import load_config

    config = load_config(args.config)
    choice = app.CalibrationChoice(
        range_s=app.parse_range(args.calibrate_from) if args.calibrate_from else None,
        file=args.calibration, profile=args.profile)
    for path in args.paths:
        app.check_input(path, config)
    model_paths = app.resolve_models(config, args.pose_model, args.face_model)
    if choice.describe() == "automatic":
        print(f"note: no calibration given; until your neutral is learned from the first "
              f"{config.calibration.auto_seconds:g} s of upright sitting, only absolute bands "
              "(head angles, shoulder tilt, screen distance) are scored. Use --calibrate-from, "
              "--calibration or --profile for your own neutral.", file=sys.stderr)
    results = [app.analyze_path(p, config, choice, model_paths,
                                progress=not args.no_progress) for p in args.paths]
    if args.save:
        from posture_watch.recording import save_analysis

        for result in results:
            save_analysis(result, config, args.profile)
    if args.json:
        docs = [output.analysis_to_dict(r, config) for r in results]
        json.dump(docs[0] if len(docs) == 1 else docs, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        console = Console()
        for i, result in enumerate(results):
            if i:
                console.print()
            output.print_human(result, console)
    return EXIT_OK


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from posture_watch import app
    from posture_watch.config import load_config
    from posture_watch.profiles import save_profile

    config = load_config(args.config)
    if args.path is None:
        from posture_watch.run_app import calibrate_from_camera

        model_paths = app.resolve_models(config, args.pose_model, args.face_model)
        baseline = calibrate_from_camera(args.camera, config, model_paths, args.seconds,
                                         args.countdown)
    else:
        if not args.range:
            raise UserError("calibrate PATH needs --from START:END (the upright stretch)")
        app.check_input(args.path, config)
        choice = app.CalibrationChoice(range_s=app.parse_range(args.range))
        model_paths = app.resolve_models(config, args.pose_model, args.face_model)
        baseline = app.baseline_for(choice, args.path, config, model_paths)
    assert baseline is not None
    saved = save_profile(args.save, baseline)
    print(f"saved profile {args.save!r} to {saved} ({baseline.samples} samples, "
          f"{'side' if baseline.side_view else 'front'} view)")
    return EXIT_OK


def _cmd_models(args: argparse.Namespace) -> int:
    from posture_watch import models
    from posture_watch.config import load_config

    config = load_config(args.config)
    explicit = {"pose": args.pose_model or config.models.pose or None,
                "face": args.face_model or config.models.face or None}
    fetched = models.resolve_all(explicit, fetch=True, progress=True) if args.fetch else {}
    missing = 0
    for name in models.MODEL_NAMES:
        found = fetched.get(name) or models.locate(name, explicit[name])
        if found is None:
            missing += 1
            print(f"{name}: missing (run 'posture-watch models --fetch', or put the file in "
                  f"{models.cache_dir()})")
        else:
            print(f"{name}: {found.path} ({found.origin})")
    return EXIT_OK if missing == 0 else EXIT_USAGE


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


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from posture_watch import app, evaluate, evaluation_report
    from posture_watch.config import Config, load_config
    from posture_watch.labels import find_labelled_clips, read_footage

    if not args.paths and not args.footage:
        raise UserError("evaluate: name labelled clips or folders, or --footage DIR")
    if args.margin < 0:
        raise UserError("evaluate: --margin must not be negative")
    override = load_config(args.config) if args.config else None
    inputs = find_labelled_clips(list(args.paths))
    for folder in args.footage:
        inputs.extend(read_footage(folder))
    models = app.resolve_models(override or Config(), args.pose_model, args.face_model)
    with Progress(console=Console(stderr=True), transient=True,
                  disable=args.no_progress) as bar:
        task = bar.add_task("evaluating", total=len(inputs))
        results = evaluate.evaluate(inputs, models, override=override, margin_s=args.margin,
                                    on_done=lambda result: bar.advance(task))
    if args.json:
        json.dump(evaluation_report.to_dict(results), sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.markdown:
        sys.stdout.write(evaluation_report.markdown(results))
    else:
        evaluation_report.print_tables(results, Console())
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from posture_watch import app
    from posture_watch.config import load_config
    from posture_watch.profiles import load_profile
    from posture_watch.run_app import RunOptions, run

    config = load_config(args.config)
    baseline = load_profile(args.profile) if args.profile else None
    if args.rate is not None and not 0.05 <= args.rate <= 30:
        raise UserError("--rate must be between 0.05 and 30 samples per second")
    models = app.resolve_models(config, args.pose_model, args.face_model)
    options = RunOptions(camera=args.camera, json_lines=args.json, fixed_rate_hz=args.rate,
                         preview=args.preview, fault=args.inject_camera_fault,
                         profile=args.profile)
    return run(config, baseline, models, options)


def _cmd_control(args: argparse.Namespace) -> int:
    from posture_watch.control import send_command

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
    lines.append(f"camera: {camera.get('source')} ({open_text}, "
                 f"{camera.get('rate_hz', 0):g} samples/s)")
    gaps = camera.get("gaps", [])
    if gaps:
        last = gaps[-1]
        lost = "lost now, retrying" if last.get("end_s") is None else "recovered"
        lines.append(f"camera gaps: {len(gaps)}, last at {last['start_s']:.0f} s ({lost})")
    if timers:
        lines.append(f"next break in {timers.get('next_break_in_s', 0):.0f} s, "
                     f"snoozed for {timers.get('snoozed_s', 0):.0f} s")
    lines.append(f"reminders so far: {status.get('reminders', 0)}")
    return "\n".join(lines)


def _cmd_autostart(args: argparse.Namespace) -> int:
    from posture_watch import autostart

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


def _since(text: str | None, default_days: int) -> float:
    """A local date (YYYY-MM-DD) as a timestamp at its midnight; default N days ago."""
    import datetime as dt

    if text is None:
        day = dt.date.today() - dt.timedelta(days=default_days)
    else:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise UserError(f"date {text!r}: expected YYYY-MM-DD") from None
    return dt.datetime.combine(day, dt.time()).timestamp()


def _cmd_report(args: argparse.Namespace) -> int:
    import time

    from posture_watch.report import write_report
    from posture_watch.store import Store

    since = _since(args.since, 6)
    with Store() as store:
        path = write_report(store, since, time.time(), args.out)
    print(f"wrote {path}")
    return EXIT_OK


def _cmd_summary(args: argparse.Namespace) -> int:
    import datetime as dt

    from rich.console import Console

    from posture_watch import history
    from posture_watch.config import load_config
    from posture_watch.store import Store

    after_presence_s = load_config(None).reminders.breaks.after_presence_s
    with Store() as store:
        if args.session:
            kind, value = "session", args.session
        elif args.week:
            kind, value = "week", None
        elif args.since:
            kind, value = "since", args.since
        else:
            kind, value = "today", None
        since, until, label = history.period(kind, value, dt.datetime.now(), store)
        summary = history.load_summary(store, since, until, label, after_presence_s)
    if args.json:
        json.dump(summary.to_dict(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        history.print_summary(summary, Console())
    return EXIT_OK


def _cmd_history(args: argparse.Namespace) -> int:
    from rich.console import Console

    from posture_watch import history
    from posture_watch.store import Store

    with Store() as store:
        rows = history.history_rows(store, args.by, _since(args.since, 30))
    history.print_history(rows, Console())
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from posture_watch import history
    from posture_watch.store import Store

    since = _since(args.since, 0) if args.since else 0.0
    with Store() as store:
        history.export(store, args.format, since, sys.stdout)
    return EXIT_OK


def _cmd_forget(args: argparse.Namespace) -> int:
    from posture_watch import history
    from posture_watch.store import Store

    before = None if args.all else _since(args.before, 0)
    what = "all recorded history" if args.all else f"everything recorded before {args.before}"
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserError(f"forget: this deletes {what}; add --yes to confirm")
        answer = input(f"Delete {what}? This cannot be undone. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return EXIT_OK
    with Store() as store:
        counts = history.forget(store, before)
    print(f"deleted {counts.get('total', 0)} rows ({counts.get('sessions', 0)} sessions)")
    return EXIT_OK


def _cmd_log_discomfort(args: argparse.Namespace) -> int:
    import time

    from posture_watch.store import Store

    with Store() as store:
        store.add_discomfort(time.time(), args.area, args.level, args.note)
    print(f"noted: {args.area.replace('_', ' ')} {args.level}/10. 'posture-watch summary "
          "--week' shows it beside your posture.")
    return EXIT_OK


_COMMANDS = {"run": _cmd_run, "report": _cmd_report, "summary": _cmd_summary,
             "history": _cmd_history, "export": _cmd_export, "forget": _cmd_forget,
             "log-discomfort": _cmd_log_discomfort, "status": _cmd_control, "pause": _cmd_control,
             "resume": _cmd_control, "snooze": _cmd_control, "stop": _cmd_control,
             "autostart": _cmd_autostart, "analyze": _cmd_analyze,
             "calibrate": _cmd_calibrate, "evaluate": _cmd_evaluate, "models": _cmd_models}


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
