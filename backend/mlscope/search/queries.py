"""Which runs, in what order: the one path every run search takes (MLflow's API and the UI's).

The full ordered match list of a query is cached per index version, so
paging, scrolling and repeating a search cost a slice, not a re-filter of
10,000 runs; any change to the tree bumps the version and retires the entry.
A query not seen yet at this version is answered from ``RunColumns`` (per-key
value sets, sorted metric values and cached orders, built once per index
version and experiment set), not by a scan of every run.
Before the index has loaded params and metrics, queries that only touch run
attributes are answered from the run infos at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..store.interface import RunSource
from ..store.model import Run
from .columns import RunColumns, longer_than
from .order import parse_order_by
from .paging import check_max_results, make_page_token, parse_page_token, stages_for, view_type_name
from .run_filter import parse_run_filter
from .runs import matching_runs

COLUMNS_KEPT = 4  # experiment sets whose lookup structures are kept (current index version only)


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
        self._items: OrderedDict[tuple[RunQuery, int], Sequence[Run]] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size
        self._columns: OrderedDict[tuple[tuple[str, ...], int], RunColumns] = OrderedDict()

    def matches(self, query: RunQuery) -> list[Run]:
        """Every matching run in MLflow's order (blocking: call from a worker thread); SearchError on a bad query.

        Before the index has loaded details, runs of attribute-only queries
        come without params/metrics/tags: use ``page`` or ``index.with_details``.
        """
        found = self._found(query, whole=True)
        return found if isinstance(found, list) else list(found)

    def _found(self, query: RunQuery, whole: bool) -> Sequence[Run]:
        """The ordered matches; unless ``whole``, a sequence that finds them only as far as it is sliced."""
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
        version = index.version
        key = (query, version) if index.ready else None
        kept: Sequence[Run] | None = None
        with self._lock:
            if key is not None and key in self._items:
                self._items.move_to_end(key)
                kept = self._items[key]
                if not whole or isinstance(kept, list):
                    return kept
        found: Sequence[Run]
        if kept is not None:
            found = list(kept)  # a page's partial walk, now wanted whole
        elif key is None:
            runs = index.runs(list(query.experiment_ids), details=needs_details)
            found = matching_runs(runs, query.filter, list(query.order_by), view_type, query.extended)
        else:
            columns = self._columns_of(query.experiment_ids, version)
            found = columns.ordered(parse_run_filter(query.filter, extended=query.extended),
                                    parse_order_by(list(query.order_by)), stages_for(view_type))
            if whole:
                found = list(found)
        if key is not None:
            with self._lock:
                self._items[key] = found
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return found

    def _columns_of(self, experiment_ids: tuple[str, ...], version: int) -> RunColumns:
        """The lookup structures of these experiments' runs at this index version (the last few kept)."""
        key = (experiment_ids, version)
        with self._lock:
            columns = self._columns.get(key)
            if columns is not None:
                self._columns.move_to_end(key)
                return columns
        columns = RunColumns(self.index.runs(list(experiment_ids), details=True))
        with self._lock:
            self._columns = OrderedDict((k, v) for k, v in self._columns.items() if k[1] == version)
            columns = self._columns.setdefault(key, columns)
            while len(self._columns) > COLUMNS_KEPT:
                self._columns.popitem(last=False)
        return columns

    def page(self, query: RunQuery, max_results: Any, page_token: str | None) -> tuple[list[Run], str | None]:
        """One page of a query (runs with details) and the token for the next, validated as MLflow does."""
        limit = check_max_results(1000 if max_results is None else max_results)
        offset = parse_page_token(page_token)
        found = self._found(query, whole=False)
        end = offset + limit
        return self.index.with_details(list(found[offset:end])), (make_page_token(end) if longer_than(found, end) else None)
