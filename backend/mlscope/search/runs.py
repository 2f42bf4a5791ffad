"""search_runs: MLflow's FileStore._search_runs over runs already in memory."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..store.model import Run
from .columns import RunColumns, longer_than
from .order import parse_order_by
from .paging import (
    SEARCH_MAX_RESULTS_DEFAULT,
    check_max_results,
    make_page_token,
    paginate,
    parse_page_token,
    stages_for,
)
from .run_filter import parse_run_filter


def search_runs(runs: Iterable[Run], filter_string: str | None = "", order_by: Sequence[str] | None = None,
                max_results: int = SEARCH_MAX_RESULTS_DEFAULT, page_token: str | None = None,
                run_view_type: str | int = "ACTIVE_ONLY", extended: bool = False) -> tuple[list[Run], str | None]:
    """Filter, sort and page runs exactly as MLflow's FileStore does; errors are SearchError (HTTP 400).

    ``runs`` may span several experiments. ``extended`` enables OR, parentheses and RLIKE.
    """
    limit = check_max_results(max_results)
    offset = parse_page_token(page_token)
    return paginate(matching_runs(runs, filter_string, order_by, run_view_type, extended), offset, limit)


def matching_runs(runs: Iterable[Run], filter_string: str | None = "", order_by: Sequence[str] | None = None,
                  run_view_type: str | int = "ACTIVE_ONLY", extended: bool = False) -> list[Run]:
    """Every run that matches, in MLflow's order (what search_runs pages through)."""
    stages = stages_for(run_view_type)
    run_filter = parse_run_filter(filter_string or "", extended)
    return parse_order_by(order_by).sort(_select(runs, stages, run_filter.predicate))


def indexed_search_runs(columns: RunColumns, filter_string: str | None = "", order_by: Sequence[str] | None = None,
                        max_results: int = SEARCH_MAX_RESULTS_DEFAULT, page_token: str | None = None,
                        run_view_type: str | int = "ACTIVE_ONLY", extended: bool = False) -> tuple[list[Run], str | None]:
    """``search_runs`` over ``columns.runs``: one page, finding matches in order only as far as the page reaches."""
    limit = check_max_results(max_results)
    offset = parse_page_token(page_token)
    stages = stages_for(run_view_type)
    run_filter = parse_run_filter(filter_string or "", extended)
    found = columns.ordered(run_filter, parse_order_by(order_by), stages)
    end = offset + limit
    return list(found[offset:end]), (make_page_token(end) if longer_than(found, end) else None)


def indexed_matching_runs(columns: RunColumns, filter_string: str | None = "", order_by: Sequence[str] | None = None,
                          run_view_type: str | int = "ACTIVE_ONLY", extended: bool = False) -> list[Run]:
    """``matching_runs`` over ``columns.runs``, answered from the columns' lookup structures (same runs, same order)."""
    stages = stages_for(run_view_type)
    run_filter = parse_run_filter(filter_string or "", extended)
    return columns.matching(run_filter, parse_order_by(order_by), stages)


def _select(runs: Iterable[Run], stages: frozenset[str], predicate: Any) -> list[Run]:
    if len(stages) == 2:
        return list(runs) if predicate is None else [run for run in runs if predicate(run)]
    (stage,) = stages
    if predicate is None:
        return [run for run in runs if run.info.lifecycle_stage == stage]
    return [run for run in runs if run.info.lifecycle_stage == stage and predicate(run)]
