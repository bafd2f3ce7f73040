"""The commands on recordings and model files: `analyze`, `calibrate`, `evaluate`, `models`.

Each takes the parsed arguments and returns the exit code; errors are raised as UserError
and turned into one line by the CLI.
"""

from __future__ import annotations

import argparse
import json
import sys

from posture_watch.commands import EXIT_OK, EXIT_USAGE, live_config_path
from posture_watch.errors import UserError


def analyze(args: argparse.Namespace) -> int:
    from rich.console import Console

    from posture_watch.analysis import analyze as app
    from posture_watch.analysis import output
    from posture_watch.config import load_config
    from posture_watch.vision.landmarkers import resolve_models

    config = load_config(args.config)
    if args.slouch_from and not args.calibrate_from:
        raise UserError("analyze: --slouch-from needs --calibrate-from (the upright stretch)")
    choice = app.CalibrationChoice(
        range_s=app.parse_range(args.calibrate_from) if args.calibrate_from else None,
        file=args.calibration, profile=args.profile,
        slump_range_s=app.parse_range(args.slouch_from) if args.slouch_from else None)
    for path in args.paths:
        app.check_input(path, config)
    model_paths = resolve_models(config, args.pose_model, args.face_model)
    if choice.describe() == "automatic":
        print(f"note: no calibration given; until your neutral is learned from the first "
              f"{config.calibration.auto_seconds:g} s of upright sitting, only absolute bands "
              "(head angles, shoulder tilt, screen distance) are scored. Use --calibrate-from, "
              "--calibration or --profile for your own neutral.", file=sys.stderr)
    results = [app.analyze_path(p, config, choice, model_paths,
                                progress=not args.no_progress) for p in args.paths]
    if args.save:
        from posture_watch.analysis.saving import save_analysis

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


def calibrate(args: argparse.Namespace) -> int:
    from posture_watch.analysis import analyze as app
    from posture_watch.config import load_config
    from posture_watch.history.profiles import save_profile
    from posture_watch.vision.landmarkers import resolve_models

    # From the camera, at the desk: the user's own settings file counts, as for `run`.
    config = load_config(args.config if args.path is not None
                         else live_config_path(args.config))
    if args.path is None:
        from posture_watch.monitor.camera_calibration import calibrate_from_camera

        model_paths = resolve_models(config, args.pose_model, args.face_model)
        seconds = args.seconds or config.calibration.capture_s
        two_pose = config.calibration.two_pose and not args.one_pose
        if args.window:
            from posture_watch.monitor.guided_calibration import run_calibration_window

            return run_calibration_window(args.camera, config, model_paths, seconds,
                                          two_pose=two_pose, save=args.save,
                                          config_path=live_config_path(args.config))
        baseline = calibrate_from_camera(args.camera, config, model_paths, seconds,
                                         args.countdown, two_pose=two_pose)
    else:
        if args.window:
            raise UserError("--window is for calibrating from the camera, not from PATH")
        if not args.range:
            raise UserError("calibrate PATH needs --from START:END (the upright stretch)")
        app.check_input(args.path, config)
        choice = app.CalibrationChoice(
            range_s=app.parse_range(args.range),
            slump_range_s=app.parse_range(args.slouch_from) if args.slouch_from else None)
        model_paths = resolve_models(config, args.pose_model, args.face_model)
        baseline = app.baseline_for(choice, args.path, config, model_paths)
    assert baseline is not None
    saved = save_profile(args.save, baseline)
    print(f"saved profile {args.save!r} to {saved} ({baseline.samples} samples, "
          f"{baseline.view} view{_two_pose_note(baseline)})")
    return EXIT_OK


def evaluate(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from posture_watch.config import load_config
    from posture_watch.core.settings import Config
    from posture_watch.evaluation import report
    from posture_watch.evaluation.evaluate import evaluate as evaluate_inputs
    from posture_watch.evaluation.labels import find_labelled_clips, read_footage
    from posture_watch.vision.landmarkers import resolve_models

    if not args.paths and not args.footage:
        raise UserError("evaluate: name labelled clips or folders, or --footage DIR")
    if args.margin < 0:
        raise UserError("evaluate: --margin must not be negative")
    override = load_config(args.config) if args.config else None
    inputs = find_labelled_clips(list(args.paths))
    for folder in args.footage:
        inputs.extend(read_footage(folder))
    models = resolve_models(override or Config(), args.pose_model, args.face_model)
    with Progress(console=Console(stderr=True), transient=True,
                  disable=args.no_progress) as bar:
        task = bar.add_task("evaluating", total=len(inputs))
        results = evaluate_inputs(inputs, models, override=override, margin_s=args.margin,
                                  two_pose=args.two_pose,
                                  on_done=lambda result: bar.advance(task))
    peer = args.baseline == "peer"
    if args.json:
        json.dump(report.to_dict(results), sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.markdown:
        sys.stdout.write(report.markdown(results, peer=peer))
    else:
        report.print_tables(results, Console(), peer=peer)
    return EXIT_OK


def _two_pose_note(baseline: object) -> str:
    """', two-pose: your slump shows in ...' naming the cues that told the poses apart."""
    weights = getattr(baseline, "slump_weights", {})
    if not weights:
        return ", one pose"
    named = ", ".join(f"{name} ({weight:.1f})" for name, weight in
                      sorted(weights.items(), key=lambda kv: -kv[1]))
    return f", two-pose: your slump shows in {named}"


def models(args: argparse.Namespace) -> int:
    from posture_watch.config import load_config
    from posture_watch.vision import models as model_files

    config = load_config(args.config)
    explicit = {"pose": args.pose_model or config.models.pose or None,
                "face": args.face_model or config.models.face or None}
    fetched = model_files.resolve_all(explicit, fetch=True, progress=True) if args.fetch else {}
    missing = 0
    for name in model_files.MODEL_NAMES:
        found = fetched.get(name) or model_files.locate(name, explicit[name])
        if found is None:
            missing += 1
            print(f"{name}: missing (run 'posture-watch models --fetch', or put the file in "
                  f"{model_files.cache_dir()})")
        else:
            print(f"{name}: {found.path} ({found.origin})")
    return EXIT_OK if missing == 0 else EXIT_USAGE
