"""Fuzzed request parameters get a 4xx, never a 5xx (issue 18: one typed, bounded request-parsing layer)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mlscope.server.app import create_app
from tests.handmade import write_experiment, write_run

RUN = "a" * 32
API = "/api/2.0/mlflow"
POSTS = {
    API + "/runs/search": ["experiment_ids", "filter", "max_results", "run_view_type", "page_token", "order_by"],
    API + "/experiments/search": ["filter", "max_results", "view_type", "page_token", "order_by"],
    API + "/logged-models/search": ["experiment_ids", "filter", "max_results", "page_token", "order_by"],
    "/api/mlscope/runs/search": ["experiment_ids", "filter", "max_results", "page_token", "order_by", "view_type"],
    "/api/mlscope/metrics/histories": ["run_ids", "metric_key", "keys", "points", "x_min", "x_max", "start_step", "end_step"],
}
GETS = {
    API + "/metrics/get-history": ["run_id", "metric_key", "max_results", "page_token"],
    API + "/runs/get": ["run_id"],
    API + "/experiments/get": ["experiment_id"],
}
# Every other GET that reads: artifact files, listings, previews and zips, the dashboard's pages, MLflow's other reads.
ARTIFACT_NAMES = ["run_id", "run_uuid", "path", "model_id", "offset", "limit", "inline", "models", "key", "scripts"]
MORE_GETS = {
    **{f"/api/mlscope/artifacts/{name}": ARTIFACT_NAMES for name in ("file", "zip", "list", "text", "images", "mlmodel", "table", "parsed")},
    "/get-artifact": ARTIFACT_NAMES,
    API + "/artifacts/list": ["run_id", "run_uuid", "path", "page_token"],
    API + "/metrics/get-history-bulk-interval": ["run_ids", "metric_key", "max_results", "start_step", "end_step"],
    API + "/experiments/get-by-name": ["experiment_name"],
    API + "/registered-models/search": ["filter", "max_results", "order_by", "page_token"],
    API + "/model-versions/search": ["filter", "max_results", "order_by", "page_token"],
    "/api/mlscope/run": ["run_id"],
    "/api/mlscope/keys": ["experiment_ids", "run_ids"],
    "/api/mlscope/metrics/histories": ["run_ids", "metric_key", "keys", "points", "x", "x_min", "x_max"],
    "/api/mlscope/runs/export.csv": ["experiment_ids", "filter", "order_by", "view_type", "columns"],
    "/api/mlscope/registry/model": ["name"],
    "/api/mlscope/registry/version": ["name", "version"],
}


def _token(payload: str) -> str:
    return base64.b64encode(payload.encode()).decode()


# Raw JSON texts: the value classes the attack used (wrong types, overflow, junk tokens, nesting, long keys).
JSON_VALUES = st.sampled_from([
    "[]", "{}", "[[]]", '[{"a": 1}]', "null", "true", "-1", "0", "1e999", "-1e999", "Infinity", "NaN",
    "1" + "0" * 400, "18446744073709551616", "1.5", '"x"', '""', '"' + "k" * 300 + '"',
    "[" * 5000 + "]" * 5000, json.dumps(_token('{"offset": 1e999}')), json.dumps(_token("[" * 3000 + "]" * 3000)),
    json.dumps(_token('{"offset": "x"}')), json.dumps(_token("not json")), json.dumps("(" * 2000 + "x" + ")" * 2000),
    json.dumps("metrics.m > 1e999"), json.dumps(RUN), json.dumps([RUN]),
])
QUERY_VALUES = st.sampled_from([
    "", "-1", "1e999", "Infinity", "NaN", "1" + "0" * 400, "k" * 300, RUN, "[]", "{}",
    _token('{"offset": 1e999}'), _token("[" * 3000 + "]" * 3000), "%%%", "\u00e9" * 10,
])
# Paths and names a client may try: traversal, escaped bytes (\xNN, how undecodable names are served), NUL, huge.
PATH_VALUES = st.sampled_from([
    "../../etc/passwd", "..%2f..%2fetc", "/etc/passwd", "a\\b", "x\x00y", "art\\xfe.txt", "\\xff", "\\xzz",
    "d/" * 1000, "k" * 5000, ".", "./", "loss", "MLmodel", "\ufffd",
])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("fuzz") / "mlruns"
    write_run(write_experiment(root), RUN, name="r", metrics={"loss": "1 0.5 0\n"}, params={"lr": "0.1"})
    with TestClient(create_app(root), base_url="http://localhost") as test_client:
        yield test_client


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(sorted(POSTS)), data=st.data())
def test_fuzzed_json_bodies_never_answer_5xx(client: TestClient, path: str, data: st.DataObject) -> None:
    names = data.draw(st.lists(st.sampled_from(POSTS[path]), min_size=1, max_size=3, unique=True))
    body = "{" + ", ".join(f'"{name}": {data.draw(JSON_VALUES)}' for name in names) + "}"
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code < 500, (body[:300], response.text[:300])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(sorted(GETS)), method=st.sampled_from(["GET", "HEAD"]), data=st.data())
def test_fuzzed_query_strings_never_answer_5xx(client: TestClient, path: str, method: str, data: st.DataObject) -> None:
    names = data.draw(st.lists(st.sampled_from(GETS[path]), min_size=1, max_size=3, unique=True))
    params = {name: data.draw(QUERY_VALUES) for name in names}
    response = client.request(method, path, params=params)
    assert response.status_code < 500, (params, response.text[:300])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(sorted(MORE_GETS)), data=st.data())
def test_fuzzed_reads_of_files_pages_and_previews_never_answer_5xx(client: TestClient, path: str, data: st.DataObject) -> None:
    names = data.draw(st.lists(st.sampled_from(MORE_GETS[path]), min_size=1, max_size=4, unique=True))
    params = {name: data.draw(st.one_of(QUERY_VALUES, PATH_VALUES)) for name in names}
    params.setdefault("run_id", RUN)
    response = client.get(path, params=params)
    assert response.status_code < 500, (path, params, response.text[:300])


def test_a_deeply_nested_body_is_a_400(client: TestClient) -> None:
    response = client.post("/api/mlscope/runs/search", content="[" * 100000 + "]" * 100000, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_head_is_answered_like_get(client: TestClient) -> None:
    params = {"run_id": RUN}
    assert client.head(API + "/runs/get", params=params).status_code == client.get(API + "/runs/get", params=params).status_code == 200
