"""/api/mlscope/metrics/histories and /api/mlscope/events, against trees written by MLflow."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reference_trees import T0, mlflow_client

URL = "/api/mlscope/metrics/histories"


@pytest.fixture(scope="module")
def long_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A run with a 20,000-point history holding one spike, and a running run to append to."""
    from mlflow.entities import Metric

    root = tmp_path_factory.mktemp("history-api") / "mlruns"
    client = mlflow_client(root)
    exp = client.create_experiment("long")
    long_run = client.create_run(exp, run_name="long", start_time=T0).info.run_id
    points = [Metric("loss", 1.0 + (s % 7) / 100, T0 + s * 10, s) for s in range(20_000)]
    points[12_345] = Metric("loss", 500.0, T0 + 123_450, 12_345)
    for i in range(0, len(points), 1000):
        client.log_batch(long_run, metrics=points[i : i + 1000])
    client.set_terminated(long_run, "FINISHED")
    live = client.create_run(exp, run_name="live", start_time=T0).info.run_id
    client.log_metric(live, "loss", 1.0, timestamp=T0, step=0)
    return root, {"long": long_run, "live": live, "exp": exp}


@pytest.fixture(scope="module")
def long_server(long_tree, serve):
    return serve(long_tree[0])


def histories(server: Any, **params: Any) -> httpx.Response:
    return httpx.get(server.url + URL, params=params, timeout=10)


def only_series(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    (series,) = response.json()["series"]
    return series


def test_returns_a_full_history_when_it_fits(reference_server, reference_tree):
    _, ids = reference_tree
    series = only_series(histories(reference_server, run_ids=ids["runs"]["parent"], keys="loss"))
    assert series["total"] == series["shown"] == 20
    assert series["steps"] == list(range(20))
    assert series["values"][0] == 1.0 and len(series["timestamps"]) == 20


def test_non_finite_values_are_strings(reference_server, reference_tree):
    _, ids = reference_tree
    child = ids["runs"]["child"]
    body = histories(reference_server, run_ids=child, keys=["loss", "peak", "trough"]).json()
    values = {s["key"]: s["values"] for s in body["series"]}
    assert values == {"loss": [0.8, "NaN", 0.4], "peak": ["Infinity"], "trough": ["-Infinity"]}


def test_several_runs_and_keys_come_back_as_one_series_each(reference_server, reference_tree):
    _, ids = reference_tree
    runs = [ids["runs"]["parent"], ids["runs"]["child"]]
    body = httpx.post(reference_server.url + URL, json={"run_ids": runs, "keys": ["loss", "acc"]}).json()
    assert [(s["run_id"], s["key"]) for s in body["series"]] == [(r, k) for r in runs for k in ("loss", "acc")]


def test_a_run_without_the_metric_gets_an_empty_series(reference_server, reference_tree):
    _, ids = reference_tree
    series = only_series(histories(reference_server, run_ids=ids["runs"]["killed"], keys="loss"))
    assert series["total"] == series["shown"] == 0 and series["values"] == []


def test_nested_keys_are_served(reference_server, reference_tree):
    _, ids = reference_tree
    series = only_series(histories(reference_server, run_ids=ids["runs"]["parent"], keys="train/loss"))
    assert series["total"] == 10


def test_long_histories_are_reduced_to_the_requested_points(long_server, long_tree):
    series = only_series(histories(long_server, run_ids=long_tree[1]["long"], keys="loss", points=800))
    assert series["total"] == 20_000 and series["shown"] <= 800
    assert series["steps"][0] == 0 and series["steps"][-1] == 19_999


def test_a_spike_survives_downsampling(long_server, long_tree):
    series = only_series(histories(long_server, run_ids=long_tree[1]["long"], keys="loss", points=200))
    assert 500.0 in series["values"]
    assert series["steps"][series["values"].index(500.0)] == 12_345


def test_a_zoomed_range_comes_back_in_full_detail(long_server, long_tree):
    series = only_series(
        histories(long_server, run_ids=long_tree[1]["long"], keys="loss", points=1000, start_step=12_000, end_step=12_499)
    )
    assert series["total"] == series["shown"] == 500
    assert series["steps"] == list(range(12_000, 12_500))


def test_time_axis_ranges_are_in_epoch_milliseconds(long_server, long_tree):
    series = only_series(
        histories(long_server, run_ids=long_tree[1]["long"], keys="loss", x="time", x_min=T0 + 1000, x_max=T0 + 1090)
    )
    assert series["timestamps"] == [T0 + 1000 + 10 * i for i in range(10)]


def test_relative_time_ranges_count_from_the_first_point(long_server, long_tree):
    series = only_series(
        histories(long_server, run_ids=long_tree[1]["long"], keys="loss", x="relative", x_min=0, x_max=40)
    )
    assert series["start_timestamp"] == T0 and series["steps"] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"keys": "loss"}, "run_ids"),
        ({"run_ids": "x"}, "keys"),
        ({"run_ids": [f"r{i}" for i in range(101)], "keys": "loss"}, "at most 100"),
        ({"run_ids": "x", "keys": "loss", "points": 10_000}, "points"),
        ({"run_ids": "x", "keys": "loss", "points": "many"}, "points"),
        ({"run_ids": "x", "keys": "loss", "x": "epoch"}, "'x'"),
        ({"run_ids": "x", "keys": "loss", "start_step": "ten"}, "start_step"),
        ({"run_ids": "x", "keys": "loss", "start_step": 10, "end_step": 5}, "after the end"),
        ({"run_ids": "x", "keys": "loss", "x": "time", "start_step": 1}, "x=step only"),
    ],
)
def test_bad_requests_are_400_with_a_message(reference_server, params, message):
    response = histories(reference_server, **params)
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE" and message in response.json()["message"]


def test_an_unknown_run_is_404(reference_server):
    response = histories(reference_server, run_ids="0" * 32, keys="loss")
    assert response.status_code == 404 and "not found" in response.json()["message"]


def test_a_malformed_json_body_is_400(reference_server):
    response = httpx.post(reference_server.url + URL, content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


# --------------------------------------------------------------------- events


def read_events(url: str, count: int, timeout: float = 10, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The first `count` data events of an SSE stream (with their ids)."""
    events: list[dict[str, Any]] = []
    with httpx.stream("GET", url, timeout=timeout, headers=headers or {}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event_id = None
        for line in response.iter_lines():
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                events.append({"id": event_id, **json.loads(line[6:])})
                if len(events) >= count:
                    break
    return events


def test_events_start_with_the_current_version(long_server):
    (first,) = read_events(long_server.url + "/api/mlscope/events", 1)
    index = long_server.app.state.index
    assert first["version"] == first["id"] and first["version"] <= index.version and first["changed"] == []


def test_events_report_an_appended_metric_with_the_run_status(long_server, long_tree):
    live = long_tree[1]["live"]
    client = mlflow_client(long_tree[0])

    def append_soon() -> None:
        time.sleep(0.3)
        client.log_metric(live, "loss", 0.5, timestamp=T0 + 10, step=1)

    writer = threading.Thread(target=append_soon)
    writer.start()
    started = time.monotonic()
    events = read_events(long_server.url + "/api/mlscope/events", 2)
    writer.join()
    assert live in events[1]["changed"] and events[1]["statuses"][live] == "RUNNING"
    assert events[1]["version"] > events[0]["version"]
    assert time.monotonic() - started < 5


def test_a_reconnecting_client_catches_up_from_last_event_id(long_server, long_tree):
    index = long_server.app.state.index
    before = index.version
    client = mlflow_client(long_tree[0])
    client.log_metric(long_tree[1]["live"], "acc", 0.1, timestamp=T0, step=0)
    deadline = time.monotonic() + 5
    while index.version == before and time.monotonic() < deadline:
        time.sleep(0.05)
    (first,) = read_events(long_server.url + "/api/mlscope/events", 1, headers={"Last-Event-ID": str(before)})
    assert long_tree[1]["live"] in first["changed"]


def test_a_version_from_another_server_lifetime_asks_for_a_reset(long_server):
    (first,) = read_events(long_server.url + "/api/mlscope/events?since=999999999", 1)
    assert first["reset"] is True and first["changed"] == []


def test_a_bad_since_is_400(long_server):
    response = httpx.get(long_server.url + "/api/mlscope/events?since=soon")
    assert response.status_code == 400 and "since" in response.json()["message"]
