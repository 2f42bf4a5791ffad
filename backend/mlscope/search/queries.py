"""Which runs, in what order: the one path every run search takes (MLflow's API and the UI's).

The full ordered match list of a query is cached per index version, so
paging, scrolling and repeating a search cost a slice, not a re-filter of
10,000 runs; any change to the tree bumps the version and retires the entry.
Before the index has loaded params and metrics, queries that only touch run
attributes are answered from the run infos at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..store.interface import RunSource
from ..store.model import Run
from .order import parse_order_by
from .paging import check_max_results, make_page_token, parse_page_token, view_type_name
from .run_filter import parse_run_filter
from .runs import matching_runs


@dataclass(frozen=True, slots=True)
class RunQuery:
    experiment_ids: tuple[str, ...]
    filter: str = ""
    order_by: tuple[str, ...] = ()
    view_type: str = "ACTIVE_ONLY"
    extended: bool = False


class RunQueries:
    """Answers run queries over one index, keeping the last few queries' ordered matches."""

    def __init__(self, index: RunSource, size: int = 16) -> None:
        self.index = index
        self._items: OrderedDict[tuple[RunQuery, int], list[Run]] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def matches(self, query: RunQuery) -> list[Run]:
        """Every matching run in MLflow's order (blocking: call from a worker thread); SearchError on a bad query.

        Before the index has loaded details, runs of attribute-only queries
        come without params/metrics/tags: use ``page`` or ``index.with_details``.
        """
        index = self.index
        view_type = view_type_name(query.view_type)
        needs_details = (
            parse_run_filter(query.filter, extended=query.extended).needs_details
            or parse_order_by(list(query.order_by)).needs_details
        )
        if needs_details:
            index.wait_ready()
        else:
            index.wait_listed()
        key = (query, index.version) if index.ready else None
        with self._lock:
            if key is not None and key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        runs = index.runs(list(query.experiment_ids), details=needs_details)
        found = matching_runs(runs, query.filter, list(query.order_by), view_type, query.extended)
        if key is not None:
            with self._lock:
                self._items[key] = found
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return found

    def page(self, query: RunQuery, max_results: Any, page_token: str | None) -> tuple[list[Run], str | None]:
        """One page of a query (runs with details) and the token for the next, validated as MLflow does."""
        limit = check_max_results(1000 if max_results is None else max_results)
        offset = parse_page_token(page_token)
        found = self.matches(query)
        end = offset + limit
        return self.index.with_details(found[offset:end]), (make_page_token(end) if end < len(found) else None)
