"""RunColumns (per-key lookup structures) gives exactly the scan's runs in the scan's order, on every path."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlscope.search import matching_runs, parse_order_by, parse_run_filter, search_runs
from mlscope.search.columns import RunColumns
from mlscope.search.paging import stages_for
from mlscope.search.runs import indexed_matching_runs, indexed_search_runs
from mlscope.store.model import Run

from .test_run_filter import make_run

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)

METRIC_VALUES = [0.0, -0.0, 1.0, 2.5, -3.0, math.nan, math.inf, -math.inf, 7]  # 7: an int, as a client may log it
CLAUSES = [
    "metrics.a > 1", "metrics.a >= 1", "metrics.a < 1", "metrics.a <= 2.5", "metrics.a = 0", "metrics.a != 1",
    "metrics.a != 0", "metrics.a > -1e999", "metrics.a < 1e999", "metrics.b = 7", "metrics.b > 0.5",
    "params.p = 'x'", "params.p != 'x'", "params.p = 'X'", "params.p IS NULL", "params.p IS NOT NULL",
    "params.p LIKE 'x%'", "params.p ILIKE 'Y'", "params.q = ''", "tags.t = 'on'", "tags.t != 'on'",
    "tags.t IS NULL", "tags.t IS NOT NULL", "run_id = 'r3'", "run_id != 'r3'", "run_id IN ('r1', 'r4', 'zz')",
    "run_id NOT IN ('r2')", "status = 'FINISHED'", "start_time > 1", "run_name LIKE 'n%'",
]
ORDERS = [[], ["metrics.a"], ["metrics.a DESC"], ["params.p DESC", "metrics.b"], ["tags.t", "start_time DESC"],
          ["run_name"], ["metrics.b DESC", "metrics.a"]]


@st.composite
def _runs(draw: st.DrawFn) -> list[Run]:
    runs = []
    for i in range(draw(st.integers(0, 24))):
        metrics = {key: value for key in ("a", "b")
                   if (value := draw(st.sampled_from([*METRIC_VALUES, None]))) is not None}
        params = {key: value for key in ("p", "q")
                  if (value := draw(st.sampled_from(["x", "X", "y", "", None]))) is not None}
        tag = draw(st.sampled_from(["on", "off", None]))
        runs.append(make_run(f"r{i}", params=params, tags={} if tag is None else {"t": tag},
                             metrics=metrics, start_time=draw(st.sampled_from([None, 1, 2, 3])),
                             status=draw(st.sampled_from(["FINISHED", "FAILED"])),
                             run_name=draw(st.sampled_from(["n1", "m2"])),
                             stage=draw(st.sampled_from(["active", "active", "deleted"]))))
    return runs


FILTERS = st.builds(lambda joiner, items: joiner.join(items), st.sampled_from([" AND ", " OR "]),
                    st.lists(st.sampled_from(CLAUSES), min_size=0, max_size=3))
# (very_few, walk_step, eager, walk_limit): the defaults, then settings that force each path.
SETTINGS = st.sampled_from([(64, 512, False, 8192), (64, 512, True, 8192), (1, 1, True, 0), (10**9, 1, True, 10**9),
                            (10**9, 2, True, 3), (1, 3, True, 1), (4, 2, False, 2), (2, 1, True, 2)])


def _ids(runs: list[Run]) -> list[str]:
    return [run.info.run_id for run in runs]


@FAST
@given(_runs(), FILTERS, st.sampled_from(ORDERS), st.sampled_from(["ACTIVE_ONLY", "DELETED_ONLY", "ALL"]), SETTINGS,
       st.booleans())
def test_columns_give_the_scans_runs_in_the_scans_order(runs: list[Run], filter_string: str, order_by: list[str],
                                                        view: str, thresholds: tuple[int, int, bool, int],
                                                        order_cached: bool) -> None:
    columns = RunColumns(runs, *thresholds)
    if order_cached:
        columns.ordered(parse_run_filter(""), parse_order_by(order_by), stages_for(view))
    expected = _ids(matching_runs(runs, filter_string, order_by, view, extended=True))
    assert _ids(indexed_matching_runs(columns, filter_string, order_by, view, extended=True)) == expected
    assert _ids(indexed_matching_runs(columns, filter_string, order_by, view, extended=True)) == expected  # asked again


@FAST
@given(_runs(), FILTERS, st.sampled_from(ORDERS), st.integers(1, 5), SETTINGS)
def test_columns_pages_and_tokens_are_the_scans(runs: list[Run], filter_string: str, order_by: list[str],
                                                max_results: int, thresholds: tuple[int, int, bool, int]) -> None:
    columns = RunColumns(runs, *thresholds)
    token: str | None = None
    while True:
        expected, expected_token = search_runs(runs, filter_string, order_by, max_results, token, "ALL", True)
        page, next_token = indexed_search_runs(columns, filter_string, order_by, max_results, token, "ALL", True)
        assert (_ids(page), next_token) == (_ids(expected), expected_token)
        if next_token is None:
            break
        token = next_token


def _indexed(runs: list[Run], filter_string: str) -> list[str]:
    return _ids(indexed_matching_runs(RunColumns(runs, eager=True), filter_string))


def test_metric_not_equal_matches_nan_but_not_a_missing_metric() -> None:
    runs = [make_run("nan", metrics={"a": math.nan}), make_run("one", metrics={"a": 1.0}), make_run("none")]
    assert _indexed(runs, "metrics.a != 1") == ["nan"]


def test_metric_range_never_matches_nan() -> None:
    runs = [make_run("nan", metrics={"a": math.nan}), make_run("two", metrics={"a": 2.0})]
    assert _indexed(runs, "metrics.a > -1e999") == ["two"]
    assert _indexed(runs, "metrics.a < 1e999") == ["two"]


def test_param_not_equal_leaves_out_runs_without_the_param() -> None:
    runs = [make_run("x", params={"p": "x"}), make_run("y", params={"p": "y"}), make_run("none")]
    assert _indexed(runs, "params.p != 'x'") == ["y"]


def test_param_equality_is_case_sensitive() -> None:
    runs = [make_run("lower", params={"p": "adam"}), make_run("upper", params={"p": "Adam"})]
    assert _indexed(runs, "params.p = 'Adam'") == ["upper"]


def test_is_null_matches_runs_without_the_tag() -> None:
    runs = [make_run("on", tags={"t": "on"}), make_run("none")]
    assert _indexed(runs, "tags.t IS NULL") == ["none"]


def test_run_id_in_takes_only_known_ids() -> None:
    runs = [make_run("r1"), make_run("r2"), make_run("r3")]
    assert sorted(_indexed(runs, "run_id IN ('r1', 'r3', 'gone')")) == ["r1", "r3"]


def test_deleted_runs_are_neither_listed_nor_counted_in_active_only() -> None:
    runs = [make_run(f"r{i}", params={"p": "x"}, start_time=i, stage="deleted" if i % 2 else "active")
            for i in range(10)]
    columns = RunColumns(runs, very_few=10**9, walk_step=1, eager=True)
    columns.ordered(parse_run_filter(""), parse_order_by([]), stages_for("ACTIVE_ONLY"))
    found = columns.ordered(parse_run_filter("params.p = 'x'"), parse_order_by([]), stages_for("ACTIVE_ONLY"))
    assert len(found) == 5
    assert _ids(list(found)) == ["r8", "r6", "r4", "r2", "r0"]


def test_a_partly_walked_answer_reads_the_same_whole() -> None:
    runs = [make_run(f"r{i}", metrics={"a": float(i % 7)}, start_time=i) for i in range(50)]
    columns = RunColumns(runs, very_few=10**9, walk_step=1, eager=True)
    columns.ordered(parse_run_filter(""), parse_order_by(["metrics.a"]), stages_for("ALL"))
    found = columns.ordered(parse_run_filter("metrics.a > 2"), parse_order_by(["metrics.a"]), stages_for("ALL"))
    first = _ids(found[:3])
    assert _ids(list(found))[:3] == first
    assert _ids(list(found)) == _ids(matching_runs(runs, "metrics.a > 2", ["metrics.a"], "ALL"))
    assert found[-1] is list(found)[-1]


@pytest.mark.parametrize("filter_string", ["metrics.a > 1 OR params.p LIKE 'x%'", "params.p LIKE 'x%'"])
def test_a_clause_no_lookup_answers_is_checked_run_by_run(filter_string: str) -> None:
    runs = [make_run("x", params={"p": "xy"}, metrics={"a": 0.0}), make_run("big", metrics={"a": 5.0}),
            make_run("no", params={"p": "y"})]
    assert sorted(_ids(indexed_matching_runs(RunColumns(runs, eager=True), filter_string, extended=True))) == sorted(
        _ids(matching_runs(runs, filter_string, extended=True)))
