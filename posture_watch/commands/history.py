"""The commands on the recorded history: `summary`, `history`, `report`, `export`,
`forget` and `log-discomfort`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time

from posture_watch.commands import EXIT_OK, live_config_path
from posture_watch.errors import UserError


def _since(text: str | None, default_days: int) -> float:
    """A local date (YYYY-MM-DD) as a timestamp at its midnight; default N days ago."""
    if text is None:
        day = dt.date.today() - dt.timedelta(days=default_days)
    else:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise UserError(f"date {text!r}: expected YYYY-MM-DD") from None
    return dt.datetime.combine(day, dt.time()).timestamp()


def report(args: argparse.Namespace) -> int:
    from posture_watch.history.report import write_report
    from posture_watch.history.store import Store

    since = _since(args.since, 6)
    with Store() as store:
        path = write_report(store, since, time.time(), args.out)
    print(f"wrote {path}")
    return EXIT_OK


def summary(args: argparse.Namespace) -> int:
    from rich.console import Console

    from posture_watch.config import load_config
    from posture_watch.history import queries
    from posture_watch.history.store import Store

    config = load_config(live_config_path(None))
    after_presence_s = config.reminders.breaks.after_presence_s
    with Store() as store:
        if args.session:
            kind, value = "session", args.session
        elif args.week:
            kind, value = "week", None
        elif args.since:
            kind, value = "since", args.since
        else:
            kind, value = "today", None
        since, until, label = queries.period(kind, value, dt.datetime.now(), store)
        result = queries.load_summary(store, since, until, label, after_presence_s,
                                      thresholds=config.thresholds)
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        queries.print_summary(result, Console())
    return EXIT_OK


def history(args: argparse.Namespace) -> int:
    from rich.console import Console

    from posture_watch.history import queries
    from posture_watch.history.store import Store

    with Store() as store:
        rows = queries.history_rows(store, args.by, _since(args.since, 30))
    queries.print_history(rows, Console())
    return EXIT_OK


def export(args: argparse.Namespace) -> int:
    from posture_watch.history import queries
    from posture_watch.history.store import Store

    since = _since(args.since, 0) if args.since else 0.0
    with Store() as store:
        queries.export(store, args.format, since, sys.stdout)
    return EXIT_OK


def forget(args: argparse.Namespace) -> int:
    from posture_watch.history import queries
    from posture_watch.history.store import Store

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
        counts = queries.forget(store, before)
    print(f"deleted {counts.get('total', 0)} rows ({counts.get('sessions', 0)} sessions)")
    return EXIT_OK


def log_discomfort(args: argparse.Namespace) -> int:
    from posture_watch.history.store import Store

    with Store() as store:
        store.add_discomfort(time.time(), args.area, args.level, args.note)
    print(f"noted: {args.area.replace('_', ' ')} {args.level}/10. 'posture-watch summary "
          "--week' shows it beside your posture.")
    return EXIT_OK
