"""mlscope's own UI endpoints (/api/mlscope/...) against trees written by MLflow and by hand."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.ui.synthetic import write_synthetic_tree

SEARCH = "/api/mlscope/runs/search"


@pytest.fixture(scope="module")
def ref(reference_server: LiveServer, reference_tree: tuple[Path, dict[str, Any]]) -> tuple[httpx.Client, dict[str, Any]]:
    return httpx.Client(base_url=reference_server.url, timeout=10), reference_tree[1]


@pytest.fixture(scope="module")
def broken_server(tmp_path_factory: pytest.TempPathFactory, serve: Any) -> LiveServer:
    """A small synthetic tree plus one run folder whose meta.yaml is not YAML."""
    root = tmp_path_factory.mktemp("broken") / "mlruns"
    write_synthetic_tree(root, 3)
    bad = root / "1" / "0123456789abcdef0123456789abcdef"
    bad.mkdir()
    (bad / "meta.yaml").write_text("run_id: [unclosed\n")
    return serve(root)


def search(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post(SEARCH, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_experiments_carry_run_counts_and_flag_deleted_ones(ref: Any) -> None:
    client, ids = ref
    experiments = {e["experiment_id"]: e for e in client.get("/api/mlscope/experiments").json()["experiments"]}
    demo = experiments[ids["experiment"]]
    assert (demo["name"], demo["runs"], demo["deleted_runs"], demo["deleted"]) == ("demo-exp", 5, 1, False)
    assert demo["description"] == "Demo **experiment**"
    assert experiments[ids["deleted_experiment"]]["deleted"] is True


def test_status_reports_a_finished_build_and_the_index_version(ref: Any) -> None:
    client, _ = ref
    status = client.get("/api/mlscope/status").json()
    assert status["ready"] is True and status["phase"] == "ready"
    assert status["done"] == status["total"] and isinstance(status["version"], int)


def test_problems_list_a_malformed_run_with_its_path_and_reason(broken_server: LiveServer) -> None:
    problems = httpx.get(broken_server.url + "/api/mlscope/problems").json()["problems"]
    bad = [p for p in problems if p["path"].endswith("0123456789abcdef0123456789abcdef")]
    assert len(bad) == 1 and bad[0]["kind"] == "run" and bad[0]["reason"]


def test_search_rows_carry_only_the_requested_keys(ref: Any) -> None:
    client, ids = ref
    body = search(client, experiment_ids=[ids["experiment"]], params=["lr"], metrics=["loss"], tags=["stage"])
    parent = next(r for r in body["runs"] if r["run_id"] == ids["runs"]["parent"])
    assert parent["params"] == {"lr": "0.01"}
    assert parent["metrics"] == {"loss": 0.05}
    assert parent["tags"] == {"stage": "dev"}


def test_search_rows_summarise_user_commit_models_and_dataset(ref: Any) -> None:
    client, ids = ref
    body = search(client, experiment_ids=[ids["experiment"]])
    parent = next(r for r in body["runs"] if r["run_id"] == ids["runs"]["parent"])
    assert parent["user"] == "alice" and parent["commit"] == "abc1234def"
    assert parent["models"] == [{"model_id": ids["logged_model"], "name": "mymodel"}]
    assert parent["datasets"] == [{"name": "toy data", "digest": "cd5cd803", "context": "training"}]


def test_children_are_nested_under_a_parent_in_the_result(ref: Any) -> None:
    client, ids = ref
    body = search(client, experiment_ids=[ids["experiment"]])
    top_ids = [r["run_id"] for r in body["runs"]]
    assert ids["runs"]["child"] not in top_ids
    assert (body["total"], body["count"]) == (5, 4)
    parent = next(r for r in body["runs"] if r["run_id"] == ids["runs"]["parent"])
    assert parent["child_count"] == 1
    children = search(client, experiment_ids=[ids["experiment"]], parent_run_id=ids["runs"]["parent"])["runs"]
    assert [c["run_id"] for c in children] == [ids["runs"]["child"]]


def test_a_child_whose_parent_is_filtered_out_is_shown_at_top_level(ref: Any) -> None:
    client, ids = ref
    body = search(client, experiment_ids=[ids["experiment"]], filter="params.optimizer = 'sgd'")
    assert [r["run_id"] for r in body["runs"]] == [ids["runs"]["child"]]


def test_order_by_is_applied_server_side(ref: Any) -> None:
    client, ids = ref
    body = search(client, experiment_ids=[ids["experiment"]], order_by=["attributes.run_name ASC"], nest=False)
    names = [r["run_name"] for r in body["runs"]]
    assert names == sorted(names)


def test_pages_cover_every_match_once(ref: Any) -> None:
    client, ids = ref
    seen: list[str] = []
    token = None
    while True:
        body = search(client, experiment_ids=[ids["experiment"]], max_results=2, page_token=token, nest=False)
        seen += [r["run_id"] for r in body["runs"]]
        token = body.get("next_page_token")
        if not token:
            break
    assert len(seen) == len(set(seen)) == 5


def test_run_ids_restrict_the_rows_to_those_runs(ref: Any) -> None:
    client, ids = ref
    body = search(client, experiment_ids=[ids["experiment"]], run_ids=[ids["runs"]["failed"]])
    assert [r["run_id"] for r in body["runs"]] == [ids["runs"]["failed"]]


def test_deleted_runs_appear_only_when_asked_for(ref: Any) -> None:
    client, ids = ref
    active = {r["run_id"] for r in search(client, experiment_ids=[ids["experiment"]])["runs"]}
    deleted = search(client, experiment_ids=[ids["experiment"]], run_view_type="DELETED_ONLY")["runs"]
    assert ids["runs"]["deleted"] not in active
    assert [r["run_id"] for r in deleted] == [ids["runs"]["deleted"]]


def test_several_experiments_are_searched_together(ref: Any) -> None:
    client, ids = ref
    body = search(client, experiment_ids=[ids["experiment"], ids["other"]])
    assert body["total"] == 7


def test_extended_syntax_accepts_or(ref: Any) -> None:
    client, ids = ref
    text = "attributes.run_name = 'failed-run' OR attributes.run_name = 'killed-run'"
    strict = client.post(SEARCH, json={"experiment_ids": [ids["experiment"]], "filter": text})
    assert strict.status_code == 400
    body = search(client, experiment_ids=[ids["experiment"]], filter=text, extended=True)
    assert sorted(r["run_name"] for r in body["runs"]) == ["failed-run", "killed-run"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"experiment_ids": ["X"], "filter": "metrics.acc > 'high'"}, "Expected numeric value type for metric"),
        ({}, "experiment_ids"),
        ({"experiment_ids": ["X"], "max_results": 0}, "max_results"),
        ({"experiment_ids": ["X"], "run_view_type": "SOME"}, "run_view_type"),
        ({"experiment_ids": ["X"], "page_token": "not a token"}, "page token"),
        ({"experiment_ids": ["X"], "extended": "maybe"}, "extended"),
    ],
)
def test_bad_search_requests_get_a_400_with_a_message(ref: Any, body: dict[str, Any], fragment: str) -> None:
    client, ids = ref
    if body.get("experiment_ids") == ["X"]:
        body = {**body, "experiment_ids": [ids["experiment"]]}
    response = client.post(SEARCH, json=body)
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert fragment in response.json()["message"]


def test_keys_list_params_metrics_and_tags_of_the_experiments(ref: Any) -> None:
    client, ids = ref
    keys = client.get("/api/mlscope/keys", params={"experiment_ids": ids["experiment"]}).json()
    assert keys["params"] == ["batch_size", "lr", "model/depth", "optimizer"]
    assert "train/loss" in keys["metrics"] and "peak" in keys["metrics"]
    assert "stage" in keys["tags"]


def test_csv_export_has_every_match_and_the_chosen_columns(ref: Any) -> None:
    client, ids = ref
    response = client.get(
        "/api/mlscope/runs/export.csv",
        params={"experiment_ids": ids["experiment"], "params": "lr", "metrics": "loss", "order_by": "attributes.run_name ASC"},
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 5
    assert [r["Name"] for r in rows] == sorted(r["Name"] for r in rows)
    parent = next(r for r in rows if r["Run ID"] == ids["runs"]["parent"])
    assert (parent["params.lr"], parent["metrics.loss"], parent["Git Commit"]) == ("0.01", "0.05", "abc1234def")


def test_csv_export_rejects_a_bad_filter(ref: Any) -> None:
    client, ids = ref
    response = client.get("/api/mlscope/runs/export.csv", params={"experiment_ids": ids["experiment"], "filter": "nope ="})
    assert response.status_code == 400


def test_run_has_parent_children_datasets_and_logged_models(ref: Any) -> None:
    client, ids = ref
    parent = client.get("/api/mlscope/run", params={"run_id": ids["runs"]["parent"]}).json()
    assert parent["experiment"]["name"] == "demo-exp"
    assert [c["run_id"] for c in parent["children"]] == [ids["runs"]["child"]]
    assert parent["run"]["datasets"][0]["name"] == "toy data"
    assert [m["name"] for m in parent["run"]["logged_models"]] == ["mymodel"]
    assert parent["run"]["params"]["model/depth"] == "12"
    child = client.get("/api/mlscope/run", params={"run_id": ids["runs"]["child"]}).json()
    assert child["parent"]["run_id"] == ids["runs"]["parent"] and child["parent"]["run_name"] == "parent-sweep"


def test_run_metrics_keep_non_finite_values_as_strings(ref: Any) -> None:
    client, ids = ref
    child = client.get("/api/mlscope/run", params={"run_id": ids["runs"]["child"]}).json()
    values = {m["key"]: m["value"] for m in child["run"]["metrics"]}
    assert (values["peak"], values["trough"]) == ("Infinity", "-Infinity")


def test_unknown_run_is_a_404_and_a_missing_id_a_400(ref: Any) -> None:
    client, _ = ref
    assert client.get("/api/mlscope/run", params={"run_id": "nope"}).status_code == 404
    assert client.get("/api/mlscope/run").status_code == 400


def test_keys_count_the_active_runs_that_have_each_param_and_metric(ref: Any) -> None:
    client, ids = ref
    counts = client.get("/api/mlscope/keys", params={"experiment_ids": ids["experiment"]}).json()["counts"]
    assert counts["params"]["lr"] == 5  # the deleted run's lr is not counted
    assert counts["metrics"]["loss"] == 4 and counts["metrics"]["peak"] == 1


def test_search_rows_list_registered_versions_and_reject_an_unknown_version_filter(ref: Any) -> None:
    client, ids = ref
    body = client.post(SEARCH, json={"experiment_ids": [ids["experiment"]], "model_versions": "with"}).json()
    assert body["runs"] == [] and body["total"] == 0  # nothing is registered in the reference tree
    rows = client.post(SEARCH, json={"experiment_ids": [ids["experiment"]]}).json()["runs"]
    assert all(row["registered_models"] == [] for row in rows)
    bad = client.post(SEARCH, json={"experiment_ids": [ids["experiment"]], "model_versions": "some"})
    assert bad.status_code == 400 and "model_versions" in bad.json()["message"]
