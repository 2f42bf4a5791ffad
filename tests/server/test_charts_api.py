"""/api/mlscope/charts/*: runs in view, groups, group histories and param importance on a 12-run sweep."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.chart_trees import STEPS, values_at, write_chart_tree
from tests.conftest import LiveServer


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("charts-api") / "mlruns"
    return root, write_chart_tree(root)


@pytest.fixture(scope="module")
def server(sweep, serve) -> LiveServer:
    return serve(sweep[0])


@pytest.fixture(scope="module")
def ids(sweep) -> dict[str, Any]:
    return sweep[1]


def post(server: LiveServer, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.url}/api/mlscope/charts/{path}", json=body, timeout=30)


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def error_of(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    return body["message"]


# ------------------------------------------------------------------ runs in view


def test_runs_in_view_are_the_first_rows_of_the_tables_query_in_its_order(server, ids) -> None:
    body = ok(post(server, "runs", {"experiment_ids": [ids["experiment"]], "limit": 5}))
    assert [r["run_id"] for r in body["runs"]] == ids["run_ids"][:5]
    assert (body["total"], body["count"], body["limit"]) == (12, 12, 5)


def test_runs_in_view_follow_the_tables_filter_and_sort(server, ids) -> None:
    query = {"experiment_ids": [ids["experiment"]], "filter": "params.lr = '0.1'", "order_by": ["params.seed DESC"]}
    body = ok(post(server, "runs", query))
    assert [r["params"]["seed"] for r in body["runs"]] == ["3", "2", "1", "0"]
    assert body["total"] == 4


def test_pinned_runs_come_after_the_first_rows_marked_pinned(server, ids) -> None:
    oldest = ids["run_ids"][-1]
    body = ok(post(server, "runs", {"experiment_ids": [ids["experiment"]], "limit": 2, "pinned": [oldest, "nope"]}))
    assert [r["run_id"] for r in body["runs"]] == [*ids["run_ids"][:2], oldest]
    assert [r["pinned"] for r in body["runs"]] == [False, False, True]
    assert body["unknown_pinned"] == ["nope"]


def test_runs_in_view_carry_params_latest_metrics_and_the_union_of_metric_keys(server, ids) -> None:
    body = ok(post(server, "runs", {"experiment_ids": [ids["experiment"]], "limit": 12}))
    assert body["metric_keys"] == ["final_score", "system/cpu", "train/acc", "train/loss", "val/loss"]
    spiky = next(r for r in body["runs"] if r["info"]["run_name"] == "spiky")
    assert spiky["params"]["lr"] == "0.1"
    assert spiky["metrics"]["final_score"]["latest"] == pytest.approx(1.001)


@pytest.mark.parametrize(("limit", "word"), [(0, "limit"), (101, "limit"), ("x", "limit")])
def test_a_limit_outside_1_to_100_is_a_clear_400(server, ids, limit, word) -> None:
    assert word in error_of(post(server, "runs", {"experiment_ids": [ids["experiment"]], "limit": limit}))


def test_a_bad_filter_is_the_searchs_own_400(server, ids) -> None:
    response = post(server, "runs", {"experiment_ids": [ids["experiment"]], "filter": "params.lr = "})
    assert response.status_code == 400


# ------------------------------------------------------------------ groups


def groups_of(server, ids, **extra) -> dict[str, Any]:
    return ok(post(server, "groups", {"experiment_ids": [ids["experiment"]], "group_by": ["params.lr"], **extra}))


def test_groups_partition_every_matching_run_by_the_fields_values(server, ids) -> None:
    body = groups_of(server, ids)
    assert [g["values"] for g in body["groups"]] == [["0.001"], ["0.01"], ["0.1"]]
    assert [len(g["runs"]) for g in body["groups"]] == [4, 4, 4]
    assert (body["total"], body["grouped"], body["truncated"]) == (12, 12, False)
    assert body["metric_keys"] == ["final_score", "system/cpu", "train/acc", "train/loss", "val/loss"]


def test_groups_carry_mean_min_max_of_latest_metric_values(server, ids) -> None:
    body = groups_of(server, ids, metrics=["final_score"])
    by_lr = {g["values"][0]: g["metrics"]["final_score"] for g in body["groups"]}
    assert by_lr["0.01"]["count"] == 3  # the "no-score" run has none
    assert by_lr["0.1"]["mean"] == pytest.approx(statistics.fmean([1.0, 1.001, 1.002, 1.003]))
    assert (by_lr["0.1"]["min"], by_lr["0.1"]["max"]) == (pytest.approx(1.0), pytest.approx(1.003))


def test_hidden_runs_stay_listed_but_leave_the_groups_statistics(server, ids) -> None:
    spiky = ids["runs"]["spiky"]
    body = groups_of(server, ids, metrics=["final_score"], hidden=[spiky])
    group = next(g for g in body["groups"] if g["values"] == ["0.1"])
    assert any(r["run_id"] == spiky and r["hidden"] for r in group["runs"])
    assert group["metrics"]["final_score"]["count"] == 3


def test_grouping_by_a_param_and_a_tag_makes_a_group_per_pair(server, ids) -> None:
    body = groups_of(server, ids, group_by=["params.lr", "tags.model"])
    assert len(body["groups"]) == 6 and body["group_by"] == ["params.lr", "tags.model"]


def test_a_limit_groups_only_the_first_matching_runs_and_says_so(server, ids) -> None:
    body = groups_of(server, ids, limit=5)
    assert (body["grouped"], body["truncated"]) == (5, True)


@pytest.mark.parametrize("group_by", [[], ["lr"], ["metrics.loss"]])
def test_a_bad_group_by_is_a_clear_400(server, ids, group_by) -> None:
    message = error_of(post(server, "groups", {"experiment_ids": [ids["experiment"]], "group_by": group_by}))
    assert "group" in message.lower()


# ------------------------------------------------------------------ group histories


def group_histories(server, ids, lrs=("0.1", "0.01"), **extra) -> dict[str, Any]:
    groups = [{"id": lr, "run_ids": [r for r in ids["run_ids"] if ids["params"][r]["lr"] == lr]} for lr in lrs]
    return ok(post(server, "group-histories", {"groups": groups, "keys": ["train/loss"], **extra}))


def test_group_lines_are_the_mean_and_std_per_step_of_the_groups_runs(server, ids) -> None:
    body = group_histories(server, ids)
    for series in body["series"]:
        members = [r for r in ids["run_ids"] if ids["params"][r]["lr"] == series["group"]]
        assert series["x"] == list(range(STEPS)) and series["runs"] == 4
        for step in (0, 30, 59):
            values = values_at(ids["histories"], members, "train/loss", step)
            assert series["center"][step] == pytest.approx(statistics.fmean(values))
            assert series["std"][step] == pytest.approx(statistics.pstdev(values))
            assert series["min"][step] == pytest.approx(min(values))
            assert series["max"][step] == pytest.approx(max(values))


def test_the_median_is_the_center_when_asked(server, ids) -> None:
    body = group_histories(server, ids, lrs=("0.1",), aggregate="median")
    members = [r for r in ids["run_ids"] if ids["params"][r]["lr"] == "0.1"]
    (series,) = body["series"]
    assert series["center"][3] == pytest.approx(statistics.median(values_at(ids["histories"], members, "train/loss", 3)))


def test_fewer_buckets_than_steps_keep_the_spike_in_the_max_band(server, ids) -> None:
    (series,) = group_histories(server, ids, lrs=("0.1",), buckets=10)["series"]
    assert len(series["x"]) == 8 and max(series["max"]) == 50.0  # 60 steps in buckets of 8


def test_unknown_runs_in_a_group_are_reported_not_fatal(server, ids) -> None:
    body = ok(post(server, "group-histories", {"groups": [{"id": "g", "run_ids": ["nope", ids["runs"]["spiky"]]}],
                                                "keys": ["val/loss"]}))
    assert body["unknown_runs"] == ["nope"] and body["series"][0]["runs"] == 1


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ({"keys": ["train/loss"]}, "groups"),
        ({"groups": [{"id": 1}], "keys": ["train/loss"]}, "groups"),
        ({"groups": [{"id": "g", "run_ids": []}]}, "keys"),
        ({"groups": [{"id": "g", "run_ids": []}], "keys": ["k"], "x": "epoch"}, "'x'"),
        ({"groups": [{"id": "g", "run_ids": []}], "keys": ["k"], "aggregate": "mode"}, "aggregate"),
        ({"groups": [{"id": "g", "run_ids": []}], "keys": ["k"], "buckets": 0}, "buckets"),
        ({"groups": [{"id": "g", "run_ids": []}], "keys": ["k"], "x_min": 5, "x_max": 1}, "range"),
    ],
)
def test_a_bad_group_histories_request_is_a_clear_400(server, body, word) -> None:
    assert word in error_of(post(server, "group-histories", body))


# ------------------------------------------------------------------ importance


def test_importance_ranks_the_param_that_determines_the_metric_first(server, ids) -> None:
    body = ok(post(server, "importance", {"run_ids": ids["run_ids"], "metric": "final_score"}))
    assert body["params"][0]["key"] == "lr"
    noise = next(p for p in body["params"] if p["key"] == "noise")
    assert noise["importance"] < 0.2 and noise["kind"] == "numeric" and noise["correlation"] is not None


def test_importance_counts_runs_left_out_for_lacking_the_metric(server, ids) -> None:
    body = ok(post(server, "importance", {"run_ids": [*ids["run_ids"], "nope"], "metric": "final_score"}))
    assert (body["used"], body["missing"]) == (11, 2)


def test_importance_needs_a_metric_and_runs(server, ids) -> None:
    assert "metric" in error_of(post(server, "importance", {"run_ids": ids["run_ids"]}))
    assert "run_ids" in error_of(post(server, "importance", {"metric": "final_score"}))
