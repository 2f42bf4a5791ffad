"""``mlscope gc``: permanently remove deleted runs and experiments, as ``mlflow gc`` does.

The only way data leaves the tree for good: the dashboard and the REST API
only soft-delete. ``--dry-run`` lists what would go and changes nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..store.errors import StoreError
from ..store.garbage import apply_gc, parse_older_than, plan_gc
from ..store.paths import NotLocalError, local_path


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "gc", help="permanently remove deleted runs and experiments (like mlflow gc)",
        description="Permanently remove runs and experiments in the deleted lifecycle stage, with their artifacts. Active ones are never touched.",
    )  # fmt: skip
    p.add_argument("--backend-store-uri", "--tracking-uri", dest="store", default=None, help="mlruns folder or file: URI (default: $MLFLOW_TRACKING_URI or ./mlruns)")
    p.add_argument("--older-than", default=None, help="only what was deleted longer ago than this ('30d', '2d8h5m20s', '1.5h')")
    p.add_argument("--experiment-ids", default=None, help="comma-separated deleted experiments to remove with all their runs")
    p.add_argument("--run-ids", default=None, help="comma-separated deleted runs to remove")
    p.add_argument("--dry-run", action="store_true", help="list what would be removed and change nothing")
    p.set_defaults(func=gc_command)


def _ids(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def gc_command(args: argparse.Namespace) -> int:
    uri = args.store or os.environ.get("MLFLOW_TRACKING_URI") or "./mlruns"
    try:
        root = local_path(uri)
        older = parse_older_than(args.older_than) if args.older_than is not None else None
        plan = plan_gc(root, older_than_ms=older, experiment_ids=_ids(args.experiment_ids), run_ids=_ids(args.run_ids))
    except (StoreError, NotLocalError) as exc:
        print(f"mlscope: error: {exc}", file=sys.stderr)
        return 2
    verb = "Would remove" if args.dry_run else "Removed"
    if not args.dry_run:
        apply_gc(plan)
    for doomed in plan.runs:
        print(f"{verb} run {doomed.info.run_id} ({doomed.info.run_name or 'unnamed'}) of experiment {doomed.info.experiment_id}")
    for experiment in plan.experiments:
        print(f"{verb} experiment {experiment.experiment_id} ({experiment.name})")
    if not plan.runs and not plan.experiments:
        print("Nothing to remove: no deleted runs or experiments match.")
    return 0
