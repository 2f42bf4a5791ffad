"""POST /api/mlscope/compare: one answer with everything the compare page shows about a set of runs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlscope.history import HistoryCache
from mlscope.history.summaries import HistorySummaries
from mlscope.index import RunIndex
from mlscope.server.ui import compare as compare_api
from mlscope.server.ui.compare import compare_runs
from tests.conftest import LiveServer
from tests.reference_trees import T0, mlflow_client

URL = "/api/mlscope/compare"


@pytest.fixture(scope="module")
def server(reference_server: LiveServer) -> LiveServer:
    return reference_server


@pytest.fixture(scope="module")
def ids(reference_tree: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return reference_tree[1]


def post(server: LiveServer, body: Any) -> httpx.Response:
    return httpx.post(server.url + URL, json=body, timeout=30)


def compared(server: LiveServer, *run_ids: str) -> list[dict[str, Any]]:
    response = post(server, {"run_ids": list(run_ids)})
    assert response.status_code == 200, response.text
    return response.json()["runs"]


def test_runs_come_back_in_request_order(server: LiveServer, ids: dict[str, Any]) -> None:
    runs = ids["runs"]
    order = [runs["failed"], runs["parent"], runs["child"]]
    assert [r["run_id"] for r in compared(server, *order)] == order


def test_info_has_name_status_experiment_times_user_source_and_commit(server: LiveServer, ids: dict[str, Any]) -> None:
    (parent,) = compared(server, ids["runs"]["parent"])
    info = parent["info"]
    assert info["run_name"] == "parent-sweep"
    assert info["status"] == "FINISHED"
    assert info["experiment_id"] == ids["experiment"]
    assert info["experiment_name"] == "demo-exp"
    assert info["start_time"] == T0 + 1000
    assert info["end_time"] == T0 + 9000
    assert info["duration_ms"] == 8000
    assert info["user"] == "alice"
    assert info["commit"] == "abc1234def"
    assert "source" in info and "source_type" in info


def test_running_run_has_no_duration(server: LiveServer, ids: dict[str, Any]) -> None:
    (running,) = compared(server, ids["runs"]["running"])
    assert running["info"]["status"] == "RUNNING"
    assert running["info"]["end_time"] is None
    assert running["info"]["duration_ms"] is None


def test_params_are_all_returned_as_strings(server: LiveServer, ids: dict[str, Any]) -> None:
    (parent,) = compared(server, ids["runs"]["parent"])
    assert parent["params"] == {"batch_size": "32", "lr": "0.01", "model/depth": "12", "optimizer": "adam"}


def test_tags_leave_out_those_shown_as_info_rows(server: LiveServer, ids: dict[str, Any]) -> None:
    (parent,) = compared(server, ids["runs"]["parent"])
    assert parent["tags"]["stage"] == "dev"
    assert not set(parent["tags"]) & compare_api.INFO_TAGS


def test_metric_has_latest_and_history_min_max_last_count(server: LiveServer, ids: dict[str, Any]) -> None:
    (parent,) = compared(server, ids["runs"]["parent"])
    loss = parent["metrics"]["loss"]
    assert loss["latest"] == pytest.approx(1 / 20)
    assert loss["step"] == 19
    assert loss["min"] == pytest.approx(1 / 20)
    assert loss["max"] == pytest.approx(1.0)
    assert loss["last"] == pytest.approx(1 / 20)
    assert loss["count"] == 20


def test_last_is_the_last_logged_point_while_latest_is_the_highest_step(
    server: LiveServer, ids: dict[str, Any]
) -> None:
    (parent,) = compared(server, ids["runs"]["parent"])
    metric = parent["metrics"]["out_of_order"]
    assert (metric["latest"], metric["step"]) == (5.0, 5)
    assert metric["last"] == 2.0
    assert (metric["min"], metric["max"], metric["count"]) == (2.0, 5.0, 2)


def test_nan_is_ignored_by_min_and_max_and_infinities_are_strings(server: LiveServer, ids: dict[str, Any]) -> None:
    (child,) = compared(server, ids["runs"]["child"])
    loss = child["metrics"]["loss"]
    assert (loss["min"], loss["max"], loss["count"]) == (0.4, 0.8, 3)
    assert child["metrics"]["peak"]["latest"] == "Infinity"
    assert child["metrics"]["trough"]["min"] == "-Infinity"


def test_runs_from_two_experiments_compare_together(server: LiveServer, ids: dict[str, Any]) -> None:
    runs = compared(server, ids["runs"]["parent"], ids["runs"]["tie_a"])
    assert [r["info"]["experiment_name"] for r in runs] == ["demo-exp", "other-exp"]


def test_unknown_run_gets_a_not_found_entry_and_the_others_still_come(server: LiveServer, ids: dict[str, Any]) -> None:
    runs = compared(server, "0" * 32, ids["runs"]["parent"])
    assert runs[0] == {
        "run_id": "0" * 32,
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": f"Run '{'0' * 32}' not found",
    }
    assert runs[1]["info"]["run_name"] == "parent-sweep"


def test_repeated_ids_are_compared_once(server: LiveServer, ids: dict[str, Any]) -> None:
    parent = ids["runs"]["parent"]
    assert [r["run_id"] for r in compared(server, parent, parent)] == [parent]


def test_more_than_500_runs_is_a_400(server: LiveServer) -> None:
    response = post(server, {"run_ids": [f"{i:032x}" for i in range(501)]})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "at most 500" in response.json()["message"]


def test_exactly_500_runs_is_accepted(server: LiveServer) -> None:
    response = post(server, {"run_ids": [f"{i:032x}" for i in range(500)]})
    assert response.status_code == 200
    assert len(response.json()["runs"]) == 500


@pytest.mark.parametrize(
    "body",
    [{}, {"run_ids": "abc"}, {"run_ids": [1, 2]}, {"run_ids": [""]}, {"run_ids": None}],
    ids=["missing", "string", "numbers", "empty-id", "null"],
)
def test_run_ids_that_are_not_a_list_of_ids_is_a_400(server: LiveServer, body: dict[str, Any]) -> None:
    response = post(server, body)
    assert response.status_code == 400
    assert "run_ids" in response.json()["message"]


def test_a_body_that_is_not_json_is_a_400(server: LiveServer) -> None:
    response = httpx.post(server.url + URL, content=b"{nope", headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 400
    assert "JSON" in response.json()["message"]


def test_get_is_not_allowed(server: LiveServer) -> None:
    assert httpx.get(server.url + URL, timeout=10).status_code == 405


def test_summary_follows_points_appended_to_a_live_run(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    client = mlflow_client(root)
    exp = client.create_experiment("live")
    run_id = client.create_run(exp).info.run_id
    client.log_metric(run_id, "loss", 3.0, timestamp=T0, step=0)
    index = RunIndex(root)
    index.build()
    summaries = HistorySummaries(HistoryCache())
    assert compare_runs(index, [run_id], summaries)[0]["metrics"]["loss"]["count"] == 1
    time.sleep(0.01)  # a distinct mtime even on coarse clocks; size changes anyway
    client.log_metric(run_id, "loss", 1.0, timestamp=T0 + 1, step=1)
    index.refresh()
    metric = compare_runs(index, [run_id], summaries)[0]["metrics"]["loss"]
    assert (metric["count"], metric["min"], metric["latest"]) == (2, 1.0, 1.0)
