"""MLflow's search grammar for runs and experiments, with ordering and paging.

A stdlib-only reimplementation of ``SearchUtils`` / ``SearchExperimentsUtils``
and the FileStore search paths: same results, same order, same page tokens,
and SearchError (HTTP 400) with a position for anything MLflow rejects.
"""

from .errors import SearchError
from .experiments import parse_experiment_filter, search_experiments
from .order import RunOrder, parse_order_by
from .paging import (
    SEARCH_MAX_RESULTS_DEFAULT,
    SEARCH_MAX_RESULTS_THRESHOLD,
    check_max_results,
    make_page_token,
    parse_page_token,
    view_type_name,
)
from .run_filter import RunFilter, parse_run_filter
from .runs import matching_runs, search_runs

__all__ = [
    "SEARCH_MAX_RESULTS_DEFAULT",
    "SEARCH_MAX_RESULTS_THRESHOLD",
    "RunFilter",
    "RunOrder",
    "SearchError",
    "check_max_results",
    "make_page_token",
    "matching_runs",
    "parse_experiment_filter",
    "parse_order_by",
    "parse_page_token",
    "parse_run_filter",
    "search_experiments",
    "search_runs",
    "view_type_name",
]
