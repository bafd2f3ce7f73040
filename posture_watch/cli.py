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

    calibrate = sub.add_parser("calibrate", parents=[models_args, config_args],
                               help="learn your upright neutral from a recording")
    calibrate.add_argument("path", type=Path, metavar="PATH")
    calibrate.add_argument("--from", dest="range", required=True, metavar="START:END",
                           help="the stretch (seconds) where you sit upright")
    calibrate.add_argument("--save", required=True, metavar="NAME", help="profile name")

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


_COMMANDS = {"analyze": _cmd_analyze, "calibrate": _cmd_calibrate, "evaluate": _cmd_evaluate,
             "models": _cmd_models}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="posture-watch: %(levelname)s: %(message)s")
    if args.command in ("analyze", "calibrate", "evaluate") and not args.verbose:
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
