"""The runs table's search and CSV export, on top of MLflow's runs/search semantics.

Filtering and ordering are ``RunQueries`` (the same grammar, errors, order
and per-version cache as MLflow's endpoint). On top of that this module adds
what the table needs: the total match count, nesting of child runs under
parents that are in the result, pages of compact rows, and a streamed CSV of
every match.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import BaseRoute, Route

from ...search import make_page_token
from ...search.queries import RunQueries, RunQuery
from ...store.interface import RunSource
from ...store.model import Run
from ...store.registry_model import ModelVersion
from ..args import int_arg, list_arg, page_offset, request_args, string_arg
from ..errors import invalid
from ..mlflow.proto import float_json
from ..mlflow.registry import registry_of
from ..state import queries_of
from .rows import COMMIT_TAG, PARENT_TAG, Columns, models_for, row_json

VersionsOf = Callable[[str], Sequence[ModelVersion]]

DEFAULT_PAGE = 200
MAX_PAGE = 1000
VIEW_TYPES = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")


@dataclass(slots=True)
class Matches:
    """One search's result, ordered, with the nesting the table uses."""

    runs: list[Run]
    top: list[Run] = field(default_factory=list)  # runs whose parent is not in the result
    child_counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        ids = {r.info.run_id for r in self.runs}
        for run in self.runs:
            parent = run.tags.get(PARENT_TAG)
            if parent and parent in ids and parent != run.info.run_id:
                self.child_counts[parent] += 1
            else:
                self.top.append(run)

    def children_of(self, run_id: str) -> list[Run]:
        return [r for r in self.runs if r.tags.get(PARENT_TAG) == run_id and r.info.run_id != run_id]


def _bool_arg(args: dict[str, Any], name: str) -> bool:
    value = args.get(name)
    if isinstance(value, list):
        value = value[-1]
    if value is None or value == "" or value is False:
        return False
    if value is True or str(value).lower() in ("true", "1", "yes"):
        return True
    if str(value).lower() in ("false", "0", "no"):
        return False
    raise invalid(f"Invalid value {value!r} for parameter '{name}': expected true or false.")


def parse_query(args: dict[str, Any]) -> RunQuery:
    experiment_ids = list_arg(args, "experiment_ids")
    if not experiment_ids:
        raise invalid("Missing value for required parameter 'experiment_ids'.")
    view_type = (string_arg(args, "run_view_type") or "ACTIVE_ONLY").upper()
    if view_type not in VIEW_TYPES:
        raise invalid(f"Invalid value {view_type!r} for parameter 'run_view_type': expected one of {', '.join(VIEW_TYPES)}.")
    return RunQuery(
        experiment_ids=tuple(experiment_ids),
        filter=string_arg(args, "filter") or "",
        order_by=tuple(list_arg(args, "order_by")),
        view_type=view_type,
        extended=_bool_arg(args, "extended"),
    )


def parse_columns(args: dict[str, Any]) -> Columns:
    return Columns(tuple(list_arg(args, "params")), tuple(list_arg(args, "metrics")), tuple(list_arg(args, "tags")))


def _experiment_dirs(index: RunSource, runs: list[Run]) -> dict[str, Any]:
    dirs = {}
    for exp_id in {r.info.experiment_id for r in runs}:
        exp = index.experiment(exp_id)
        if exp is not None:
            dirs[exp_id] = exp.path
    return dirs


def _model_versions_arg(args: dict[str, Any]) -> str | None:
    """MLflow's modelVersionFilter as the table sends it: "with" or "without" registered versions (None: all runs)."""
    value = (string_arg(args, "model_versions") or "all").lower()
    if value not in ("all", "with", "without"):
        raise invalid(f"Invalid value {value!r} for parameter 'model_versions': expected all, with or without.")
    return None if value == "all" else value


def _with_versions(runs: list[Run], model_versions: str | None, versions_of: VersionsOf | None) -> list[Run]:
    if not model_versions or versions_of is None:
        return runs
    return [r for r in runs if bool(versions_of(r.info.run_id)) == (model_versions == "with")]


def table_page(queries: RunQueries, args: dict[str, Any], versions_of: VersionsOf | None = None) -> dict[str, Any]:
    """One page of rows (top-level, children of one parent, or chosen run ids) and the counts.

    `versions_of(run_id)` gives the model versions registered from a run: each row lists them (MLflow's
    Models column), and `model_versions` keeps only the runs with or without any.
    """
    query = parse_query(args)
    model_versions = _model_versions_arg(args)
    columns = parse_columns(args)
    max_results = int_arg(args, "max_results", default=DEFAULT_PAGE, low=1, high=MAX_PAGE) or DEFAULT_PAGE
    offset = page_offset(args)
    parent_run_id = string_arg(args, "parent_run_id")
    run_ids = set(list_arg(args, "run_ids"))
    nest = _bool_arg(args, "nest") if "nest" in args else True
    index = queries.index
    matches = Matches(_with_versions(queries.matches(query), model_versions, versions_of))
    if run_ids:
        candidates = [r for r in matches.runs if r.info.run_id in run_ids]
    elif parent_run_id:
        candidates = matches.children_of(parent_run_id)
    else:
        candidates = matches.top if nest else matches.runs
    page = index.with_details(candidates[offset : offset + max_results])
    models = models_for(page, _experiment_dirs(index, page))
    rows = []
    for run in page:
        row = row_json(run, columns, models)
        row["child_count"] = matches.child_counts.get(run.info.run_id, 0) if nest else 0
        if versions_of is not None:
            row["registered_models"] = [
                {"name": v.name, "version": v.version, "model_id": v.model_id} for v in versions_of(run.info.run_id)
            ]
        rows.append(row)
    body: dict[str, Any] = {"runs": rows, "total": len(matches.runs), "count": len(candidates), "version": index.version}
    if offset + max_results < len(candidates):
        body["next_page_token"] = make_page_token(offset + max_results)
    return body


async def search_table(request: Request) -> JSONResponse:
    """POST /api/mlscope/runs/search: compact rows for the runs table."""
    args = await request_args(request)
    registry = registry_of(request)
    return JSONResponse(await run_in_threadpool(table_page, queries_of(request), args, registry.versions_of_run))


# ------------------------------------------------------------------- export

CSV_HEAD = ["Run ID", "Name", "Experiment ID", "Status", "Start Time", "End Time", "Duration (s)", "User",
            "Source Type", "Source Name", "Git Commit", "Parent Run ID", "Models", "Datasets"]


def _iso(ms: int | None) -> str:
    if ms is None:
        return ""
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):  # a damaged meta.yaml's time past year 9999: the number as it is
        return str(ms)


CSV_BATCH = 500  # rows per chunk: the response streams, without a thread hop per row (10,000 hops cost ~1 s)


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula: text starting with = + - @ (not a number) gets a leading '."""
    if isinstance(value, str) and value and value[0] in "=+-@\t\r":
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


class _SafeWriter:
    """csv.writer whose rows are neutralised against formula injection (names and values come from the tree)."""

    def __init__(self, buffer: io.StringIO) -> None:
        self._writer = csv.writer(buffer)

    def writerow(self, row: list[Any]) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])


def csv_lines(runs: list[Run], columns: Columns, models: dict[str, Any]) -> Iterator[str]:
    """The header then the runs' lines, CSV_BATCH at a time, so the response streams."""
    buffer = io.StringIO()
    writer = _SafeWriter(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(
        CSV_HEAD + [f"params.{k}" for k in columns.params] + [f"metrics.{k}" for k in columns.metrics] + [f"tags.{k}" for k in columns.tags]
    )
    yield flush()
    for count, run in enumerate(runs, 1):
        row = row_json(run, columns, models)
        info = run.info
        duration = (info.end_time - info.start_time) / 1000 if info.end_time and info.start_time else ""
        metric_values = [float_json(run.metrics[k].value) if k in run.metrics else "" for k in columns.metrics]
        writer.writerow(
            [info.run_id, info.run_name, info.experiment_id, info.status, _iso(info.start_time), _iso(info.end_time), duration,
             row["user"], row["source_type"], row["source"], run.tags.get(COMMIT_TAG, ""), row["parent_run_id"] or "",
             "; ".join(m["name"] for m in row["models"]),
             "; ".join(f"{d['name']} ({d['digest']})" for d in row["datasets"])]
            + [run.params.get(k, "") for k in columns.params]
            + metric_values
            + [run.tags.get(k, "") for k in columns.tags]
        )
        if count % CSV_BATCH == 0:
            yield flush()
    rest = flush()
    if rest:
        yield rest


def export_plan(queries: RunQueries, args: dict[str, Any], versions_of: VersionsOf | None = None) -> tuple[list[Run], Columns, dict[str, Any]]:
    query = parse_query(args)
    columns = parse_columns(args)
    runs = queries.index.with_details(_with_versions(queries.matches(query), _model_versions_arg(args), versions_of))
    return runs, columns, models_for(runs, _experiment_dirs(queries.index, runs))


async def export_csv(request: Request) -> StreamingResponse:
    """GET /api/mlscope/runs/export.csv: every matching run (not only loaded rows), chosen columns."""
    args = await request_args(request)
    runs, columns, models = await run_in_threadpool(export_plan, queries_of(request), args, registry_of(request).versions_of_run)
    return StreamingResponse(
        csv_lines(runs, columns, models),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="runs.csv"'},
    )


routes: list[BaseRoute] = [
    Route("/api/mlscope/runs/search", search_table, methods=["POST"]),
    Route("/api/mlscope/runs/export.csv", export_csv, methods=["GET"]),
]
