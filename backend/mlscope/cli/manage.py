"""``mlscope experiments|runs|models|gc|doctor|demo``: manage an mlruns tree from the shell.

``register(subparsers)`` adds the commands to the main parser; each handler
returns the exit code. Failures print one line on stderr and exit 2.
Option names follow MLflow's CLI (``--experiment-id``, ``--run-id``, ...).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ..store import reader
from ..store.model import Experiment
from . import gc

Handler = Callable[[argparse.Namespace], int]
VIEWS = {"active": "ACTIVE_ONLY", "deleted": "DELETED_ONLY", "all": "ALL"}


def register(subparsers: Any) -> None:
    """Add experiments, runs, doctor and demo to an argparse subparsers object."""
    exp = subparsers.add_parser("experiments", help="create, list, rename, delete or restore experiments")
    exp_sub = exp.add_subparsers(dest="experiments_command", metavar="COMMAND", required=True)
    p = _command(exp_sub, "create", "create an experiment", _experiments_create)
    p.add_argument("--experiment-name", "-n", required=True)
    p.add_argument("--artifact-location", "-l", default=None)
    p = _command(exp_sub, "list", "list experiments", _experiments_list)
    p.add_argument("--view", "-v", choices=sorted(VIEWS), default="active")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p = _command(exp_sub, "rename", "rename an experiment", _experiments_rename)
    p.add_argument("--experiment-id", "-x", required=True)
    p.add_argument("--new-name", required=True)
    for name, handler, what in (("delete", _experiments_delete, "soft-delete an experiment (moved to .trash/)"), ("restore", _experiments_restore, "restore a deleted experiment")):
        _command(exp_sub, name, what, handler).add_argument("--experiment-id", "-x", required=True)

    runs = subparsers.add_parser("runs", help="list, describe, delete or restore runs")
    runs_sub = runs.add_subparsers(dest="runs_command", metavar="COMMAND", required=True)
    p = _command(runs_sub, "list", "list the runs of an experiment", _runs_list)
    p.add_argument("--experiment-id", "-x", required=True)
    p.add_argument("--view", "-v", choices=sorted(VIEWS), default="active")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p = _command(runs_sub, "describe", "show a run's info, params, metrics and tags", _runs_describe)
    p.add_argument("--run-id", required=True)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    for name, handler, what in (("delete", _runs_delete, "soft-delete a run"), ("restore", _runs_restore, "restore a deleted run")):
        _command(runs_sub, name, what, handler).add_argument("--run-id", required=True)

    gc.register(subparsers)
    from . import registry  # models list|describe (imports this module's helpers)

    registry.register(subparsers)
    _command(subparsers, "doctor", "print versions, URIs and problems with the tracking tree", _doctor)
    p = _command(subparsers, "demo", "write a realistic demo mlruns tree (~50 runs)", _demo, uri=False)
    p.add_argument("directory", nargs="?", default="./mlruns", help="where to write it (default ./mlruns)")
    p.add_argument("--seed", type=int, default=7)


def _command(subparsers: Any, name: str, help_text: str, handler: Handler, uri: bool = True) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    if uri:
        parser.add_argument(
            "--tracking-uri", "--backend-store-uri", dest="tracking_uri", default=None,
            help="mlruns folder or file: URI (default: $MLFLOW_TRACKING_URI or ./mlruns)",
        )  # fmt: skip
    parser.set_defaults(func=_guarded(handler))
    return parser


def _guarded(handler: Handler) -> Handler:
    """Turn expected failures into one stderr line and exit code 2."""

    def run(args: argparse.Namespace) -> int:
        from ..tracking.validation import MlscopeException

        try:
            return handler(args)
        except (MlscopeException, reader.MalformedError, OSError, ValueError) as exc:
            print(f"mlscope: error: {exc}", file=sys.stderr)
            return 2

    return run


def _client(args: argparse.Namespace) -> Any:
    from ..tracking.client import MlscopeClient

    return MlscopeClient(args.tracking_uri)


def _ms(value: int | None) -> str:
    if value is None:
        return ""
    return datetime.datetime.fromtimestamp(value / 1000).strftime("%Y-%m-%d %H:%M:%S")


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def _experiment_dict(e: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": e.experiment_id, "name": e.name, "artifact_location": e.artifact_location,
        "lifecycle_stage": e.lifecycle_stage, "creation_time": e.creation_time, "last_update_time": e.last_update_time, "tags": e.tags,
    }  # fmt: skip


# ------------------------------------------------------------ experiments


def _experiments_create(args: argparse.Namespace) -> int:
    experiment_id = _client(args).create_experiment(args.experiment_name, args.artifact_location)
    print(f"Created experiment '{args.experiment_name}' with id {experiment_id}")
    return 0


def _experiments_list(args: argparse.Namespace) -> int:
    experiments = _client(args).search_experiments(VIEWS[args.view])
    if args.json:
        print(json.dumps([_experiment_dict(e) for e in experiments], indent=2))
    else:
        print(_table(["Experiment Id", "Name", "Lifecycle", "Created", "Artifact Location"], [(e.experiment_id, e.name, e.lifecycle_stage, _ms(e.creation_time), e.artifact_location) for e in experiments]))
    return 0


def _experiments_rename(args: argparse.Namespace) -> int:
    _client(args).rename_experiment(args.experiment_id, args.new_name)
    print(f"Experiment with id {args.experiment_id} has been renamed to '{args.new_name}'.")
    return 0


def _experiments_delete(args: argparse.Namespace) -> int:
    _client(args).delete_experiment(args.experiment_id)
    print(f"Experiment with id {args.experiment_id} has been deleted.")
    return 0


def _experiments_restore(args: argparse.Namespace) -> int:
    _client(args).restore_experiment(args.experiment_id)
    print(f"Experiment with id {args.experiment_id} has been restored.")
    return 0


# ------------------------------------------------------------------- runs


def _runs_list(args: argparse.Namespace) -> int:
    """Runs of one experiment via the lenient reader: unreadable runs are reported, not fatal."""
    client = _client(args)
    experiment = client.get_experiment(args.experiment_id)
    runs, problems = [], []
    for run_dir in reader.run_dirs(experiment.path):
        try:
            run = reader.read_run(run_dir, experiment)
        except reader.MalformedError as exc:
            problems.append((run_dir.name, str(exc)))
            continue
        if VIEWS[args.view] == "ALL" or (run.info.lifecycle_stage == "deleted") == (args.view == "deleted"):
            runs.append(run)
    runs.sort(key=lambda r: (-(r.info.start_time or 0), r.info.run_id))
    if args.json:
        print(json.dumps([_run_dict(r) for r in runs], indent=2))
    else:
        rows = [(r.info.run_id, r.info.run_name, r.info.status, r.info.lifecycle_stage, _ms(r.info.start_time), _duration(r), r.tags.get("mlflow.parentRunId", "")[:8]) for r in runs]
        print(_table(["Run Id", "Name", "Status", "Lifecycle", "Started", "Duration", "Parent"], rows))
    for name, reason in problems:
        print(f"warning: run {name} is malformed: {reason}", file=sys.stderr)
    return 0


def _duration(run: Any) -> str:
    if run.info.start_time is None or run.info.end_time is None:
        return ""
    seconds = max(0, run.info.end_time - run.info.start_time) // 1000
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def _run_dict(run: Any) -> dict[str, Any]:
    info = run.info
    return {
        "info": {
            "run_id": info.run_id, "run_name": info.run_name, "experiment_id": info.experiment_id, "user_id": info.user_id,
            "status": info.status, "start_time": info.start_time, "end_time": info.end_time,
            "lifecycle_stage": info.lifecycle_stage, "artifact_uri": info.artifact_uri,
        },
        "data": {
            "metrics": {k: {"value": _json_float(m.value), "step": m.step, "timestamp": m.timestamp} for k, m in sorted(run.metrics.items())},
            "params": dict(sorted(run.params.items())),
            "tags": dict(sorted(run.tags.items())),
        },
    }  # fmt: skip


def _json_float(value: float) -> float | str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _runs_describe(args: argparse.Namespace) -> int:
    data = _run_dict(_client(args).get_run(args.run_id).record)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for key, value in data["info"].items():
        shown = _ms(value) if key.endswith("_time") else value
        print(f"{key + ':':<17} {shown}")
    for section in ("params", "metrics", "tags"):
        items = data["data"][section]
        print(f"\n{section} ({len(items)}):")
        for key, value in items.items():
            shown = f"{value['value']} (step {value['step']})" if section == "metrics" else str(value).replace("\n", "\\n")
            print(f"  {key}: {shown}")
    return 0


def _runs_delete(args: argparse.Namespace) -> int:
    _client(args).delete_run(args.run_id)
    print(f"Run with id {args.run_id} has been deleted.")
    return 0


def _runs_restore(args: argparse.Namespace) -> int:
    _client(args).restore_run(args.run_id)
    print(f"Run with id {args.run_id} has been restored.")
    return 0


# ---------------------------------------------------------- doctor, demo


def _doctor(args: argparse.Namespace) -> int:
    from ..doctor import doctor
    from ..tracking import fluent

    if args.tracking_uri:
        fluent.set_tracking_uri(args.tracking_uri)
    doctor()
    return 0


def _demo(args: argparse.Namespace) -> int:
    from ..demo import write_demo

    summary = write_demo(args.directory, seed=args.seed)
    print(f"Wrote {summary.runs} runs in {summary.experiments} experiments to {summary.root} in {summary.seconds:.1f}s")
    return 0
