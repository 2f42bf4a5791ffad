"""Ordering, paging, limits and view types."""

from __future__ import annotations

import base64
import json
import math

import pytest

from mlscope.search import SearchError, make_page_token, parse_order_by, parse_page_token, search_runs

from .test_run_filter import make_run


def ids(runs: list) -> list[str]:
    return [run.run_id for run in runs]


def test_natural_order_is_start_time_desc_then_run_id() -> None:
    runs = [make_run("b", start_time=1), make_run("c", start_time=2), make_run("a", start_time=1)]
    assert ids(search_runs(runs)[0]) == ["c", "a", "b"]


def test_run_without_start_time_sorts_last_instead_of_failing() -> None:
    runs = [make_run("a", start_time=None), make_run("b", start_time=1)]
    assert ids(search_runs(runs)[0]) == ["b", "a"]


def test_missing_and_nan_values_sort_last_in_both_directions() -> None:
    runs = [make_run("none"), make_run("nan", metrics={"m": math.nan}), make_run("one", metrics={"m": 1.0}),
            make_run("two", metrics={"m": 2.0})]
    assert ids(search_runs(runs, order_by=["metrics.m"])[0]) == ["one", "two", "nan", "none"]
    assert ids(search_runs(runs, order_by=["metrics.m DESC"])[0]) == ["two", "one", "nan", "none"]


def test_later_order_by_clauses_break_ties() -> None:
    runs = [make_run("a", params={"g": "1"}, metrics={"m": 1.0}), make_run("b", params={"g": "1"}, metrics={"m": 2.0}),
            make_run("c", params={"g": "0"}, metrics={"m": 3.0})]
    assert ids(search_runs(runs, order_by=["params.g", "metrics.m DESC"])[0]) == ["c", "b", "a"]


def test_order_direction_is_case_insensitive() -> None:
    runs = [make_run("a", metrics={"m": 1.0}), make_run("b", metrics={"m": 2.0})]
    assert ids(search_runs(runs, order_by=["metrics.m desc"])[0]) == ["b", "a"]


def test_order_by_attribute_only_does_not_need_details() -> None:
    assert parse_order_by(["start_time DESC", "run_name"]).needs_details is False
    assert parse_order_by(["metrics.acc"]).needs_details is True


def test_order_by_rejects_dataset_keys() -> None:
    with pytest.raises(SearchError):
        parse_order_by(["datasets.name"])


def test_page_token_is_base64_json_offset() -> None:
    token = make_page_token(7)
    assert json.loads(base64.b64decode(token)) == {"offset": 7} and parse_page_token(token) == 7


def test_paging_walks_every_run_once() -> None:
    runs = [make_run(f"r{i:02d}", start_time=i) for i in range(10)]
    seen, token = [], None
    while True:
        page, token = search_runs(runs, max_results=3, page_token=token)
        seen.extend(ids(page))
        if token is None:
            break
    assert seen == [f"r{i:02d}" for i in range(9, -1, -1)]


def test_last_page_has_no_next_token() -> None:
    assert search_runs([make_run()], max_results=1)[1] is None


@pytest.mark.parametrize("token", ["%%%", base64.b64encode(b"not json").decode(), make_page_token(0),
                                   base64.b64encode(b"[1]").decode(), base64.b64encode(b'{"offset": "x"}').decode()])
def test_bad_page_tokens_are_search_errors(token: str) -> None:
    with pytest.raises(SearchError, match="Invalid page token"):
        search_runs([], page_token=token)


@pytest.mark.parametrize("value", [0, -1, 50001, "many", 1.5, True])
def test_max_results_outside_1_to_50000_is_rejected(value: object) -> None:
    with pytest.raises(SearchError, match="max_results"):
        search_runs([], max_results=value)  # type: ignore[arg-type]


def test_max_results_of_50000_is_allowed() -> None:
    assert search_runs([make_run()], max_results=50000)[0]


@pytest.mark.parametrize(("view", "expected"), [("ACTIVE_ONLY", ["a"]), ("DELETED_ONLY", ["d"]), ("ALL", ["a", "d"]),
                                                (1, ["a"]), (2, ["d"]), (3, ["a", "d"]), ("all", ["a", "d"])])
def test_run_view_type_selects_lifecycle_stages(view: object, expected: list[str]) -> None:
    runs = [make_run("a"), make_run("d", stage="deleted")]
    assert ids(search_runs(runs, run_view_type=view)[0]) == expected  # type: ignore[arg-type]


def test_unknown_view_type_is_rejected() -> None:
    with pytest.raises(SearchError, match="view type"):
        search_runs([], run_view_type="SOME")
