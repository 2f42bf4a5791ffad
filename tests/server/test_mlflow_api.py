"""MLflow's own client, pointed at mlscope, gets what MLflow's FileStore returns on the same tree."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import httpx
import mlflow
import pytest

from tests.reference_trees import file_store


@pytest.fixture(scope="module")
def clients(reference_tree: tuple[Path, dict[str, Any]], reference_server: Any) -> tuple[Any, Any, dict[str, Any]]:
    from mlflow import MlflowClient

    root, ids = reference_tree
    return MlflowClient(tracking_uri=reference_server.url), file_store(root), ids


def run_tuple(run: Any) -> tuple:
    info = run.info
    metrics = {k: ("nan" if isinstance(v, float) and math.isnan(v) else v) for k, v in run.data.metrics.items()}
    return (
        info.run_id, info.run_name, info.experiment_id, info.user_id, info.status, info.start_time, info.end_time,
        info.lifecycle_stage, info.artifact_uri, run.data.params, run.data.tags, metrics,
    )


def test_experiments_listed_like_file_store(clients):
    client, store, _ = clients
    for view in (1, 2, 3):
        ours = client.search_experiments(view_type=view, max_results=1000)
        theirs = store.search_experiments(view_type=view, max_results=1000)
        assert [(e.experiment_id, e.name, e.lifecycle_stage, e.tags) for e in ours] == [
            (e.experiment_id, e.name, e.lifecycle_stage, e.tags) for e in theirs
        ]


def test_experiment_by_id_and_name(clients):
    client, store, ids = clients
    ours = client.get_experiment(ids["experiment"])
    assert ours.name == "demo-exp" == store.get_experiment(ids["experiment"]).name
    assert client.get_experiment_by_name("demo-exp").experiment_id == ids["experiment"]
    assert client.get_experiment_by_name("no-such-experiment") is None


def test_search_runs_matches_file_store(clients):
    client, store, ids = clients
    exps = [ids["experiment"], ids["other"]]
    for view in (1, 2, 3):
        ours = client.search_runs(exps, run_view_type=view, max_results=1000)
        theirs = store.search_runs(exps, None, view, max_results=1000)
        assert [run_tuple(r) for r in ours] == [run_tuple(r) for r in theirs]


def test_search_runs_pages_like_file_store(clients):
    client, store, ids = clients
    ours = client.search_runs([ids["experiment"]], max_results=2)
    theirs = store.search_runs([ids["experiment"]], None, 1, max_results=2)
    pages_ours, pages_theirs = [[r.info.run_id for r in ours]], [[r.info.run_id for r in theirs]]
    while ours.token:
        ours = client.search_runs([ids["experiment"]], max_results=2, page_token=ours.token)
        pages_ours.append([r.info.run_id for r in ours])
    while theirs.token:
        theirs = store.search_runs([ids["experiment"]], None, 1, max_results=2, page_token=theirs.token)
        pages_theirs.append([r.info.run_id for r in theirs])
    assert pages_ours == pages_theirs


def test_get_run_matches_file_store(clients):
    client, store, ids = clients
    for run_id in ids["runs"].values():
        assert run_tuple(client.get_run(run_id)) == run_tuple(store.get_run(run_id))


def test_get_run_includes_dataset_inputs(clients):
    client, _, ids = clients
    inputs = client.get_run(ids["runs"]["parent"]).inputs.dataset_inputs
    assert [(d.dataset.name, d.dataset.digest) for d in inputs] == [("toy data", "cd5cd803")]


def test_metric_histories_match_file_store(clients):
    client, store, ids = clients
    for role in ("parent", "child"):
        run_id = ids["runs"][role]
        for key in store.get_run(run_id).data.metrics:
            ours = [(m.timestamp, str(m.value), m.step) for m in client.get_metric_history(run_id, key)]
            theirs = [(m.timestamp, str(m.value), m.step) for m in store.get_metric_history(run_id, key)]
            assert ours == theirs, key


def test_unknown_run_is_a_404_with_mlflow_error_body(reference_server):
    response = httpx.get(reference_server.url + "/api/2.0/mlflow/runs/get", params={"run_id": "f" * 32})
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_bad_filter_is_a_400_pointing_at_the_token(reference_server, reference_tree):
    _, ids = reference_tree
    response = httpx.post(
        reference_server.url + "/api/2.0/mlflow/runs/search",
        json={"experiment_ids": [ids["experiment"]], "filter": "metrics.acc > 1 OR params.lr = '1'"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE" and "OR" in body["message"]


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/api/2.0/mlflow/runs/get", {}),
        ("GET", "/api/2.0/mlflow/metrics/get-history", {"run_id": "x"}),
        ("POST", "/api/2.0/mlflow/runs/search", {"max_results": "many"}),
        ("POST", "/api/2.0/mlflow/runs/search", {"max_results": 50001}),
        ("GET", "/api/2.0/mlflow/experiments/get", {}),
        ("GET", "/api/2.0/mlflow/metrics/get-history-bulk-interval", {"run_ids": "x", "metric_key": "k", "start_step": 1}),
        ("GET", "/api/2.0/mlflow/experiments/search", {"max_results": -1}),
    ],
)
def test_invalid_parameters_are_400(reference_server, method, path, params):
    if method == "GET":
        response = httpx.get(reference_server.url + path, params=params)
    else:
        response = httpx.post(reference_server.url + path, json=params)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_malformed_json_body_is_400(reference_server):
    response = httpx.post(reference_server.url + "/api/2.0/mlflow/runs/search", content=b"{not json")
    assert response.status_code == 400


def test_ajax_prefix_mirrors_api(reference_server, reference_tree):
    _, ids = reference_tree
    a = httpx.get(reference_server.url + "/api/2.0/mlflow/experiments/get", params={"experiment_id": ids["experiment"]})
    b = httpx.get(reference_server.url + "/ajax-api/2.0/mlflow/experiments/get", params={"experiment_id": ids["experiment"]})
    assert a.json() == b.json()


def test_nan_is_sent_as_proto_json_string(reference_server, reference_tree):
    _, ids = reference_tree
    body = httpx.get(reference_server.url + "/api/2.0/mlflow/runs/get", params={"run_id": ids["runs"]["child"]}).json()
    values = {m["key"]: m["value"] for m in body["run"]["data"]["metrics"]}
    assert values["peak"] == "Infinity" and values["trough"] == "-Infinity"


def test_bulk_interval_matches_mlflow_sampling(clients, reference_server):
    client, store, ids = clients
    run_ids = [ids["runs"]["parent"], ids["runs"]["child"]]
    response = httpx.get(
        reference_server.url + "/api/2.0/mlflow/metrics/get-history-bulk-interval",
        params={"run_ids": run_ids, "metric_key": "loss", "max_results": 5},
    )
    ours = [(m["run_id"], m["step"]) for m in response.json()["metrics"]]
    theirs = [(m.run_id, m.step) for m in store.get_metric_history_bulk_interval(run_ids, "loss", 5, None, None)]
    assert ours == theirs


def test_health_and_version(reference_server):
    assert httpx.get(reference_server.url + "/health").text == "OK"
    from mlscope import __version__

    version = httpx.get(reference_server.url + "/version")
    assert version.text == mlflow.__version__  # the MLflow API it speaks, as mlflow server answers
    assert version.headers["X-Mlscope-Version"] == __version__


def test_foreign_host_header_is_refused(reference_server):
    response = httpx.get(reference_server.url + "/health", headers={"Host": "evil.example"})
    assert response.status_code == 400


def test_no_cors_headers_by_default(reference_server):
    response = httpx.get(reference_server.url + "/health", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in response.headers


def test_logged_models_match_file_store(clients):
    client, store, ids = clients
    ours = client.search_logged_models(experiment_ids=[ids["experiment"]], filter_string="name = 'mymodel'")
    theirs = store.search_logged_models(experiment_ids=[ids["experiment"]], filter_string="name = 'mymodel'")
    assert [(m.model_id, m.name, m.source_run_id, m.params) for m in ours] == [
        (m.model_id, m.name, m.source_run_id, m.params) for m in theirs
    ]
    model = client.get_logged_model(ids["logged_model"])
    assert (model.name, model.experiment_id) == ("mymodel", ids["experiment"])


def test_unknown_logged_model_is_404(reference_server):
    response = httpx.get(reference_server.url + "/api/2.0/mlflow/logged-models/m-" + "0" * 32)
    assert response.status_code == 404


def test_mlflow_experiments_csv_is_byte_identical_through_mlscope(reference_tree, reference_server) -> None:
    """``mlflow experiments csv`` builds its columns from Python sets, so their order follows the process's hash
    seed: with one seed, the CSV through mlscope equals the CSV from FileStore byte for byte."""
    import os
    import subprocess
    import sys

    root, ids = reference_tree
    outputs = []
    for uri in (reference_server.url, root.resolve().as_uri()):
        env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_ALLOW_FILE_STORE": "true", "PYTHONHASHSEED": "7"}
        result = subprocess.run([sys.executable, "-m", "mlflow", "experiments", "csv", "-x", ids["experiment"]],
                                capture_output=True, text=True, env=env, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        outputs.append(result.stdout)
    ours, theirs = outputs
    assert ours == theirs and ours.count("\n") > 2


def test_each_runs_keys_come_in_file_store_order(clients) -> None:
    ours_client, store, _ = clients
    for experiment in store.search_experiments():
        for theirs in store.search_runs([experiment.experiment_id], "", 1, max_results=1000):
            ours = ours_client.get_run(theirs.info.run_id)
            for part in ("params", "metrics", "tags"):
                assert list(getattr(ours.data, part)) == list(getattr(theirs.data, part)), (theirs.info.run_name, part)
