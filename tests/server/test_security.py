"""Writes are safe: --read-only refuses them all, pages on other sites cannot make them, and MLflow's client still can."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator

import httpx
import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from tests.conftest import LiveServer

API = "/api/2.0/mlflow"


def create(server: LiveServer, name: str, **kwargs: object) -> httpx.Response:
    return httpx.post(server.url + API + "/experiments/create", json={"name": name}, timeout=10, **kwargs)  # type: ignore[arg-type]


def experiment_names(server: LiveServer) -> list[str]:
    body = httpx.get(server.url + API + "/experiments/search", params={"max_results": 1000}, timeout=10).json()
    return [e["name"] for e in body.get("experiments", [])]


# ------------------------------------------------------------------- read-only


@pytest.fixture
def read_only(fresh_tracking_server: Callable[..., LiveServer]) -> LiveServer:
    return fresh_tracking_server(read_only=True)


def test_read_only_server_refuses_a_write_with_mlflows_permission_error(read_only: LiveServer) -> None:
    response = create(read_only, "nope")
    assert response.status_code == 403
    assert response.json() == {
        "error_code": "PERMISSION_DENIED",
        "message": "This mlscope server is read-only (started with --read-only): it refuses every write.",
        "sqlstate": "KAM00",
        "error_class": "PERMISSION_DENIED",
    }
    assert "nope" not in experiment_names(read_only)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", API + "/runs/log-metric"),
        ("POST", API + "/runs/delete"),
        ("PATCH", API + "/logged-models/m-1"),
        ("DELETE", API + "/logged-models/m-1"),
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/a.txt"),
        ("DELETE", "/ajax-api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/a.txt"),
    ],
)
def test_read_only_server_refuses_every_kind_of_write(read_only: LiveServer, method: str, path: str) -> None:
    response = httpx.request(method, read_only.url + path, json={}, timeout=10)
    assert (response.status_code, response.json()["error_code"]) == (403, "PERMISSION_DENIED")


def test_read_only_server_still_answers_searches_and_reads(read_only: LiveServer) -> None:
    assert httpx.post(read_only.url + API + "/runs/search", json={"experiment_ids": ["0"]}, timeout=10).status_code == 200
    assert httpx.get(read_only.url + API + "/experiments/get", params={"experiment_id": "0"}, timeout=10).status_code == 200
    assert httpx.post(read_only.url + "/api/mlscope/runs/search", json={"experiment_ids": ["0"]}, timeout=10).status_code == 200


def test_the_dashboard_learns_the_server_is_read_only(read_only: LiveServer, tracking_server: LiveServer) -> None:
    assert httpx.get(read_only.url + "/api/mlscope/status", timeout=10).json()["read_only"] is True
    assert httpx.get(tracking_server.url + "/api/mlscope/status", timeout=10).json()["read_only"] is False


def test_mlflows_client_gets_a_permission_error_from_a_read_only_server(read_only: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with pytest.raises(MlflowException) as refused:
        MlflowClient(read_only.url).create_experiment("nope")
    assert refused.value.error_code == "PERMISSION_DENIED"


# ------------------------------------------------------------- cross-site writes


def test_a_write_from_another_origin_is_refused(tracking_server: LiveServer) -> None:
    response = create(tracking_server, "from-evil", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert response.json()["message"].startswith("Cross-site request refused: http://evil.example may not change data")
    assert "from-evil" not in experiment_names(tracking_server)


def test_a_cross_site_fetch_without_origin_is_refused_by_its_fetch_metadata(tracking_server: LiveServer) -> None:
    response = create(tracking_server, "from-sec-fetch", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


def test_a_write_from_the_dashboards_own_origin_is_allowed(tracking_server: LiveServer) -> None:
    headers = {"Origin": tracking_server.url, "Sec-Fetch-Site": "same-origin"}
    assert create(tracking_server, "same-origin", headers=headers).status_code == 200


def test_the_dashboards_own_write_passes_a_proxy_that_rewrites_host(tracking_server: LiveServer) -> None:
    """Behind a reverse proxy Origin and Host differ; the browser's Sec-Fetch-Site still says same-origin."""
    headers = {"Origin": "https://mlscope.example.org", "Sec-Fetch-Site": "same-origin"}
    assert create(tracking_server, "behind-proxy", headers=headers).status_code == 200


def test_an_origin_allowed_on_the_command_line_may_write(fresh_tracking_server: Callable[..., LiveServer]) -> None:
    server = fresh_tracking_server(cors_allowed_origins=("http://notebook.example",))
    response = create(server, "allowed", headers={"Origin": "http://notebook.example"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://notebook.example"


def test_a_form_encoded_post_is_refused_as_mlflow_refuses_it(tracking_server: LiveServer) -> None:
    for path in (API + "/experiments/create", "/api/mlscope/runs/search"):
        response = httpx.post(tracking_server.url + path, content=b'{"name": "form"}', headers={"Content-Type": "text/plain"}, timeout=10)
        assert (response.status_code, response.json()["message"]) == (400, "Bad Request. Content-Type must be one of ['application/json'].")


def test_a_cross_site_search_post_is_refused(tracking_server: LiveServer) -> None:
    response = httpx.post(tracking_server.url + "/api/mlscope/runs/search", json={}, headers={"Sec-Fetch-Site": "cross-site"}, timeout=10)
    assert response.status_code == 403


def test_a_cross_site_get_that_does_work_is_refused(tracking_server: LiveServer) -> None:
    """An <img> or no-cors fetch on another page must not make the server search or read files."""
    headers = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}
    for path in (API + "/experiments/search", "/get-artifact", "/ajax-api/2.0/mlflow/runs/search"):
        response = httpx.get(tracking_server.url + path, headers=headers, timeout=10)
        assert response.status_code == 403, path


def test_a_link_followed_from_another_site_still_opens(tracking_server: LiveServer) -> None:
    headers = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    assert httpx.get(tracking_server.url + API + "/experiments/search", headers=headers, timeout=10).status_code == 200
    assert httpx.get(tracking_server.url + "/", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}, timeout=10).status_code == 200


def test_a_body_declared_too_large_is_refused_before_it_is_read(tracking_server: LiveServer) -> None:
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(tracking_server.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(b"POST /api/mlscope/runs/search HTTP/1.1\r\nHost: " + url.netloc.encode()
                     + b"\r\nContent-Type: application/json\r\nContent-Length: 300000000\r\n\r\n{")
        answer = b""
        while b"}" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
    assert answer.decode().startswith("HTTP/1.1 400") and "Request body too large" in answer.decode()


def test_mlflows_python_client_which_sends_no_origin_keeps_working(tracking_server: LiveServer) -> None:
    experiment_id = MlflowClient(tracking_server.url).create_experiment("python-client-writes")
    assert MlflowClient(tracking_server.url).get_experiment(experiment_id).name == "python-client-writes"


def test_json_responses_carry_nosniff(tracking_server: LiveServer) -> None:
    ok = httpx.get(tracking_server.url + API + "/experiments/get", params={"experiment_id": "0"}, timeout=10)
    refused = create(tracking_server, "x", headers={"Origin": "http://evil.example"})
    missing = httpx.get(tracking_server.url + API + "/experiments/get", params={"experiment_id": "404404"}, timeout=10)
    assert {r.headers.get("x-content-type-options") for r in (ok, refused, missing)} == {"nosniff"}


# ----------------------------------------------------- a real browser on another site


class OtherSite:
    """A page served from another origin (another port of 127.0.0.1); set ``html`` before loading it."""

    def __init__(self) -> None:
        self.html = ""
        site = self

        class Page(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(site.html.encode())

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def other_site() -> Iterator[OtherSite]:
    site = OtherSite()
    yield site
    site.close()


def attack_page(target: str) -> str:
    """What an attacker's page can send without a CORS grant: a text/plain form post and a no-cors fetch."""
    return f"""<!doctype html><html><body>
<form id="f" method="POST" action="{target}" enctype="text/plain" target="sink">
  <input name='{{"name": "via-form", "x": "' value='"}}'>
</form>
<iframe name="sink"></iframe>
<script>
  fetch("{target}", {{method: "POST", mode: "no-cors", headers: {{"Content-Type": "text/plain"}}, body: JSON.stringify({{name: "via-fetch"}})}})
    .finally(() => {{ document.getElementById("f").submit(); setTimeout(() => document.title = "done", 1500); }});
</script></body></html>"""


def test_a_page_on_another_site_cannot_create_an_experiment(page, other_site: OtherSite, tracking_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    other_site.html = attack_page(tracking_server.url + API + "/experiments/create")
    page.goto(other_site.origin + "/")
    page.wait_for_function("document.title === 'done'", timeout=15000)
    names = experiment_names(tracking_server)
    assert "via-form" not in names and "via-fetch" not in names


def test_a_page_on_an_allowed_origin_can_create_an_experiment(page, other_site: OtherSite, fresh_tracking_server: Callable[..., LiveServer]) -> None:  # type: ignore[no-untyped-def]
    """The control for the test above: the same browser reaches the server when the page's origin is allowed."""
    server = fresh_tracking_server(cors_allowed_origins=(other_site.origin,))
    target = server.url + API + "/experiments/create"
    other_site.html = f"""<!doctype html><script>
fetch("{target}", {{method: "POST", headers: {{"Content-Type": "application/json"}}, body: JSON.stringify({{name: "allowed-page"}})}})
  .then(r => document.title = "status " + r.status, e => document.title = "error " + e);
</script>"""
    page.goto(other_site.origin + "/")
    page.wait_for_function("document.title.length > 0", timeout=15000)
    assert page.title() == "status 200"
    assert "allowed-page" in experiment_names(server)


def test_mlflow_fluent_api_keeps_working_beside_the_guard(tracking_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(tracking_server.url)
    try:
        with mlflow.start_run() as run:
            mlflow.log_metric("m", 1.0)
        assert MlflowClient(tracking_server.url).get_run(run.info.run_id).data.metrics == {"m": 1.0}
    finally:
        mlflow.set_tracking_uri(None)
