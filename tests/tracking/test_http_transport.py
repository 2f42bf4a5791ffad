"""The REST client's HTTP behaviour is MLflow's: auth headers, retried statuses, error wording, request shapes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import mlscope
from mlscope.tracking.rest import HttpClient
from mlscope.tracking.rest_store import RestStore


class Recorder:
    """A stub server: answers queued (status, body) pairs in order (then 200 {}), and records every request."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, bytes, str]] = []
        self.requests: list[dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
                status, payload, kind = recorder.answers.pop(0) if recorder.answers else (200, b"{}", "application/json")
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, status: int, body: Any, kind: str = "application/json") -> None:
        self.answers.append((status, body if isinstance(body, bytes) else json.dumps(body).encode(), kind))


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")
    recorder = Recorder()
    yield recorder
    recorder.server.shutdown()
    recorder.server.server_close()


def test_transient_statuses_are_retried_until_an_answer(stub: Recorder) -> None:
    stub.answer(503, b"busy", "text/plain")
    stub.answer(429, b"slow down", "text/plain")
    stub.answer(200, {"experiment_id": "7"})
    assert RestStore(stub.url).create_experiment("e", None, {}) == "7"
    assert len(stub.requests) == 3


def test_retries_stop_at_mlflow_http_request_max_retries(stub: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    for _ in range(3):
        stub.answer(502, b"<html>bad gateway</html>", "text/html")
    with pytest.raises(mlscope.exceptions.MlflowException, match="failed with error code 502 != 200") as caught:
        RestStore(stub.url).get_run("a" * 32)
    assert caught.value.error_code == "INTERNAL_ERROR" and len(stub.requests) == 2


def test_client_errors_are_not_retried_and_keep_the_servers_words(stub: Recorder) -> None:
    stub.answer(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid value for key"})
    with pytest.raises(mlscope.exceptions.RestException) as caught:
        RestStore(stub.url).log_param("a" * 32, "k", "v")
    assert str(caught.value) == "INVALID_PARAMETER_VALUE: Invalid value for key" and len(stub.requests) == 1


def test_a_non_mlflow_404_is_endpoint_not_found(stub: Recorder) -> None:
    stub.answer(404, b"<html>not here</html>", "text/html")
    with pytest.raises(mlscope.exceptions.MlflowException) as caught:
        RestStore(stub.url).get_experiment("1")
    assert caught.value.error_code == "ENDPOINT_NOT_FOUND"


def test_basic_auth_comes_from_the_tracking_username_and_password(stub: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ann")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret")
    HttpClient(stub.url).call("GET", "experiments/get", {"experiment_id": "1"})
    assert stub.requests[0]["headers"]["Authorization"] == "Basic YW5uOnMzY3JldA=="


def test_a_bearer_token_comes_from_the_tracking_token(stub: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok")
    HttpClient(stub.url).call("GET", "experiments/get", {"experiment_id": "1"})
    assert stub.requests[0]["headers"]["Authorization"] == "Bearer tok"


def test_bodies_are_protobuf_json_as_mlflows_client_sends_them(stub: Recorder) -> None:
    RestStore(stub.url).log_batch("r" * 32, [("m", float("nan"), 5, 2, None, None), ("m", float("-inf"), 6, 3, "train", "abc")], [("p", "1")], [])
    body = json.loads(stub.requests[0]["body"])
    assert stub.requests[0]["path"] == "/api/2.0/mlflow/runs/log-batch"
    assert stub.requests[0]["headers"]["Content-Type"] == "application/json"
    assert body["metrics"] == [{"key": "m", "value": "NaN", "timestamp": 5, "step": 2},
                               {"key": "m", "value": "-Infinity", "timestamp": 6, "step": 3, "dataset_name": "train", "dataset_digest": "abc"}]  # fmt: skip
    assert body["params"] == [{"key": "p", "value": "1"}] and body["tags"] == []


def test_gets_send_their_arguments_as_query_parameters(stub: Recorder) -> None:
    stub.answer(200, {"metrics": [{"key": "m", "value": "NaN", "timestamp": 1, "step": 0}], "next_page_token": "t2"})
    stub.answer(200, {"metrics": [{"key": "m", "value": 2.0, "timestamp": 2, "step": 1}]})
    history = RestStore(stub.url).get_metric_history("r" * 32, "a key")
    assert [(m.step, str(m.value)) for m in history] == [(0, "nan"), (1, "2.0")]
    assert stub.requests[0]["path"].startswith("/api/2.0/mlflow/metrics/get-history?") and "metric_key=a+key" in stub.requests[0]["path"]
    assert "page_token=t2" in stub.requests[1]["path"]


def test_a_server_url_with_a_path_prefix_is_kept(stub: Recorder) -> None:
    stub.answer(200, {"experiment": {"experiment_id": "1", "name": "e"}})
    RestStore(stub.url + "/mlflow").get_experiment("1")
    assert stub.requests[0]["path"] == "/mlflow/api/2.0/mlflow/experiments/get?experiment_id=1"
