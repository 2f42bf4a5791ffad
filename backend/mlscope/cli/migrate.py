"""`mlscope migrate SRC DST`: copy an mlruns folder into MLflow's SQL schema (SQLite file or PostgreSQL), or back.

Into a database the copy is one transaction (a failure leaves DST as it was)
and its row counts are verified once committed; into a folder it is built
under a temporary name and renamed into place. Progress is printed as it goes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ..store.paths import NotLocalError, is_mlruns_root, local_path


class MigrateError(Exception):
    """Printed as one line, exit code 2."""


def _tree(uri: str) -> Path:
    try:
        root = local_path(uri)
    except NotLocalError:
        raise MigrateError(f"SRC '{uri}' is not a local mlruns folder") from None
    if not root.is_dir() or not is_mlruns_root(root):
        raise MigrateError(f"SRC {root} is not an mlruns folder (no experiment folders with meta.yaml)")
    return root.resolve()


def migrate(args: argparse.Namespace) -> int:
    from ..store.sql.engine import is_sql_uri

    source, destination = args.source, args.destination
    if is_sql_uri(source):
        return _database_to_folder(source, destination)
    if not is_sql_uri(destination):
        raise MigrateError(
            f"DST '{destination}' is not a database URI: mlscope migrate copies an mlruns folder into "
            "sqlite:///path/mlflow.db or postgresql://user:password@host:port/database"
        )
    root = _tree(source)
    try:
        from ..store.errors import StoreError
        from ..store.sql.from_tree import tree_to_sql
        from ..store.sql.store import SqlStore
    except ImportError:
        raise MigrateError("SQL stores need SQLAlchemy: pip install 'mlscope[sql]' (or 'mlscope[postgres]')") from None
    started = time.perf_counter()
    try:
        store = SqlStore(destination, os.path.abspath("mlruns"))
        try:
            report = tree_to_sql(root, store, progress=lambda message: print(message, flush=True))
        finally:
            store.close()
    except StoreError as exc:
        raise MigrateError(exc.message) from None
    except Exception as exc:  # the database refused a row: nothing was written (one transaction)
        raise MigrateError(f"the copy failed and nothing was written: {str(exc).splitlines()[0]}") from None
    counts = report.counts
    print(
        f"copied {counts['experiments']:,} experiments, {counts['runs']:,} runs, {counts['params']:,} params, "
        f"{counts['tags']:,} tags, {counts['metrics']:,} metric points, {counts['datasets']:,} datasets, "
        f"{counts['logged_models']:,} logged models, {counts['registered_models']:,} registered models "
        f"({counts['model_versions']:,} versions) in {time.perf_counter() - started:.1f} s; row counts verified"
    )
    if report.duplicate_metric_points:
        print(f"dropped {report.duplicate_metric_points:,} exact duplicate metric points (MLflow's schema keeps one of each)")
    for old, new in report.renumbered_experiments.items():
        print(f"experiment {old} is {new} in the database (PostgreSQL's experiment ids are 32-bit)")
    for old, name in report.renamed_experiments.items():
        print(f"experiment {old} is named {name!r} (its name was taken: names are unique in the database)")
    for problem in report.skipped:
        print(f"skipped {problem}", file=sys.stderr)
    return 0


def _database_to_folder(source: str, destination: str) -> int:
    try:
        target = local_path(destination)
    except NotLocalError:
        raise MigrateError(f"DST '{destination}' is not a local folder: a database is copied into a new mlruns folder") from None
    try:
        from ..store.errors import StoreError
        from ..store.sql.store import SqlStore
        from ..store.sql.to_tree import sql_to_tree
    except ImportError:
        raise MigrateError("SQL stores need SQLAlchemy: pip install 'mlscope[sql]' (or 'mlscope[postgres]')") from None
    started = time.perf_counter()
    try:
        store = SqlStore(source, os.path.abspath("mlruns"), read_only=True)
        try:
            counts = sql_to_tree(store, target, progress=lambda message: print(message, flush=True))
        finally:
            store.close()
    except StoreError as exc:
        raise MigrateError(exc.message) from None
    except OSError as exc:
        raise MigrateError(f"cannot write {target}: {exc.strerror}; nothing was written") from None
    print(
        f"copied {counts['experiments']:,} experiments, {counts['runs']:,} runs, {counts['params']:,} params, "
        f"{counts['tags']:,} tags, {counts['metrics']:,} metric points, {counts['logged_models']:,} logged models, "
        f"{counts['registered_models']:,} registered models ({counts['model_versions']:,} versions) into {Path(target).resolve()} in {time.perf_counter() - started:.1f} s (artifacts stay where their URIs point)"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("migrate", help="copy an mlruns folder into a database (MLflow's SQL schema), or a database into a new folder")
    p.add_argument("source", metavar="SRC", help="an mlruns folder, or sqlite:///path/mlflow.db / postgresql://user:password@host:port/db")
    p.add_argument("destination", metavar="DST", help="a database URI (for a folder SRC), or a new mlruns folder (for a database SRC)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        return migrate(args)
    except MigrateError as exc:
        print(f"mlscope: {exc}", file=sys.stderr)
        return 2
