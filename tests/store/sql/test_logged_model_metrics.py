"""Logged-model metrics (``logged_model_metrics``) and logged-models/search on a SQL store, MLflow's SqlAlchemyStore the oracle.

MLflow's client logs them with ``mlflow.log_metric(..., model_id=...)`` or a log-batch whose metrics name a model;
SqlAlchemyStore keeps every point in ``logged_model_metrics`` and returns them all with the model, filters on any
point and orders by each model's latest point. mlscope reads, writes and searches that table the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mlflow.entities import LoggedModelParameter, LoggedModelTag, Metric

from mlscope.index.tracking_writes import MetricPoint
from mlscope.store.sql.backend import SqlBackend, open_sql_backend

from .conftest import mlflow_store
from .sql_server import SqlServer

T = 1_700_000_000_000


def rows(metrics: Any) -> list[tuple[Any, ...]]:
    """Points as comparable tuples (NaN as the string 'nan'), sorted: SqlAlchemyStore returns them in no set order."""
    found = []
    for m in metrics or []:
        value = m.value if isinstance(m.value, float) and not math.isnan(m.value) else str(m.value)
        found.append((m.key, value, m.timestamp, m.step, m.run_id, m.dataset_name, m.dataset_digest))
    return sorted(found, key=repr)


@pytest.fixture
def backend(db_uri: str, tmp_path: Path) -> Iterator[SqlBackend]:
    opened = open_sql_backend(db_uri, default_artifact_root=str(tmp_path / "artifacts"))
    opened.index.build()
    yield opened
    opened.close()


POINTS = [  # key, value, step, dataset
    ("acc", 0.5, 1, None), ("acc", 0.7, 2, None), ("acc", 0.6, 0, ("eval", "d1")), ("acc", float("nan"), 9, ("test", "d2")),
    ("loss", float("inf"), 3, None), ("loss", 0.25, 4, None),
]  # fmt: skip


def mlflow_metric(key: str, value: float, step: int, dataset: tuple[str, str] | None, model_id: str) -> Metric:
    name, digest = dataset or (None, None)
    return Metric(key, value, T + step, step, model_id=model_id, dataset_name=name, dataset_digest=digest)


def test_model_metrics_written_by_mlflow_read_back_as_sqlalchemystore_returns_them(backend: SqlBackend, db_uri: str, tmp_path: Path) -> None:
    theirs = mlflow_store(db_uri, str(tmp_path / "artifacts"))
    run = theirs.create_run("0", "u", T, [], "r")
    model = theirs.create_logged_model("0", "clf", run.info.run_id, params=[LoggedModelParameter("C", "1")])
    for key, value, step, dataset in POINTS[:3]:
        theirs.log_metric(run.info.run_id, mlflow_metric(key, value, step, dataset, model.model_id))
    theirs.log_batch(run.info.run_id, [mlflow_metric(*p, model.model_id) for p in POINTS[3:]], [], [])
    backend.index.forget_logged_models()
    ours = backend.model_writes.get(model.model_id)
    expected = theirs.get_logged_model(model.model_id)
    assert len(ours.metrics) == len(POINTS)
    assert rows(ours.metrics) == rows(expected.metrics)
    assert ours.params == expected.params


def test_model_metrics_logged_through_mlscope_land_as_mlflow_writes_them(backend: SqlBackend, db_uri: str, tmp_path: Path) -> None:
    theirs = mlflow_store(db_uri, str(tmp_path / "artifacts"))
    run_id = backend.writes.create_run("0", "u", T, "r", []).run_id
    mine = backend.model_writes.create("0", "mine", "", run_id, [], [])
    other = theirs.create_logged_model("0", "theirs", run_id)
    for key, value, step, dataset in POINTS[:3]:
        name, digest = dataset or (None, None)
        backend.writes.log_metric(run_id, MetricPoint(key, value, T + step, step, name, digest, mine.model_id))
        theirs.log_metric(run_id, mlflow_metric(key, value, step, dataset, other.model_id))
    batch = [MetricPoint(k, v, T + s, s, *(d or (None, None)), mine.model_id) for k, v, s, d in POINTS[3:]]
    backend.writes.log_batch(run_id, batch + batch[:1], [], [])  # an exact duplicate point is kept once, as MLflow keeps it
    theirs.log_batch(run_id, [mlflow_metric(*p, other.model_id) for p in POINTS[3:]], [], [])
    assert rows(theirs.get_logged_model(mine.model_id).metrics) == rows(theirs.get_logged_model(other.model_id).metrics)
    assert rows(backend.model_writes.get(mine.model_id).metrics) == rows(theirs.get_logged_model(mine.model_id).metrics)
    assert {k: v for k, v in backend.index.run(run_id).metrics.items()}.keys() == {"acc", "loss"}  # the run's own metrics too


def test_a_metric_naming_an_unknown_model_is_refused_and_nothing_lands(backend: SqlBackend) -> None:
    from mlscope.store.errors import StoreError

    run_id = backend.writes.create_run("0", "u", T, "r", []).run_id
    with pytest.raises(StoreError) as error:
        backend.writes.log_batch(run_id, [MetricPoint("acc", 1.0, T, 0, None, None, "m-absent")], [], [])
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert backend.index.run(run_id).metrics == {}


# ----------------------------------------------------------------- search


def _write_models(uri: str, artifacts: Path) -> tuple[Any, list[str]]:
    """Seven models in two experiments, written by MLflow: metrics on and off datasets, params, tags, a deleted one."""
    store = mlflow_store(uri, str(artifacts))
    second = store.create_experiment("second")
    run = store.create_run("0", "u", T, [], "r")
    other_run = store.create_run(second, "u", T, [], "r2")
    specs = [  # experiment, name, type, params, tags, metrics (key, value, step, dataset, offset)
        ("0", "alpha", "sklearn", {"lr": "0.1"}, {"team": "a"}, [("acc", 0.9, 1, None), ("acc", 0.5, 2, None), ("loss", 0.3, 1, ("eval", "d1"))]),
        ("0", "beta", "torch", {"lr": "0.01"}, {"team": "b"}, [("acc", 0.7, 1, ("eval", "d1")), ("acc", 0.95, 1, ("test", "d2"))]),
        ("0", "gamma", "sklearn", {"lr": "0.1", "depth": "3"}, {}, [("loss", 0.1, 5, None)]),
        ("0", "delta", None, {}, {"team": "Alpha"}, []),
        (second, "epsilon", "sklearn", {"lr": "1"}, {"team": "a"}, [("acc", 0.7, 3, None)]),
        (second, "zeta", None, {}, {}, [("acc", 0.8, 1, ("eval", "d1")), ("acc", 0.6, 1, ("eval", "d3"))]),
        ("0", "gone", "sklearn", {"lr": "0.1"}, {"team": "a"}, [("acc", 0.99, 1, None)]),
    ]  # fmt: skip
    ids = []
    for experiment, name, model_type, params, tags, metrics in specs:
        source = run if experiment == "0" else other_run
        model = store.create_logged_model(
            experiment, name, source.info.run_id, [LoggedModelTag(k, v) for k, v in tags.items()],
            [LoggedModelParameter(k, v) for k, v in params.items()], model_type,
        )  # fmt: skip
        points = [mlflow_metric(k, v, s, d, model.model_id) for k, v, s, d in metrics]
        points = [Metric(p.key, p.value, p.timestamp + 100 * i, p.step, model_id=p.model_id, dataset_name=p.dataset_name,
                         dataset_digest=p.dataset_digest) for i, p in enumerate(points)]  # fmt: skip
        if points:
            store.log_batch(source.info.run_id, points, [], [])
        ids.append(model.model_id)
    store.delete_logged_model(ids[-1])
    return store, ["0", second]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def model_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, list[str], SqlServer]]:
    root = tmp_path_factory.mktemp(f"models-{request.param}")
    uri = f"sqlite:///{root / 'mlflow.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_cluster").database()
    store, experiment_ids = _write_models(uri, root / "artifacts")
    with SqlServer(uri, root / "mlartifacts") as server:
        yield uri, store, experiment_ids, server
    store.engine.dispose()


SEARCHES: list[dict[str, Any]] = [
    {},
    {"filter": "metrics.acc > 0.6"},
    {"filter": "metrics.acc >= 0.7 AND params.lr = '0.1'"},
    {"filter": "metrics.acc < 0.6"},
    {"filter": "metrics.loss != 0.3"},
    {"filter": "metrics.acc > 0.75", "datasets": [{"dataset_name": "eval"}]},
    {"filter": "metrics.acc > 0", "datasets": [{"dataset_name": "eval", "dataset_digest": "d1"}, {"dataset_name": "test"}]},
    {"datasets": [{"dataset_name": "eval"}]},
    {"filter": "params.lr = '0.1'"},
    {"filter": "params.lr LIKE '0.%'"},
    {"filter": "params.lr IN ('1', '0.01')"},
    {"filter": "params.lr NOT IN ('0.1')"},
    {"filter": "tags.team = 'a'"},
    {"filter": "tags.team ILIKE 'a%'"},
    {"filter": "tags.team != 'a'"},
    {"filter": "name = 'beta'"},
    {"filter": "name LIKE '%a'"},
    {"filter": "model_type = 'sklearn' AND tags.team = 'a'"},
    {"filter": "name IN ('alpha', 'zeta')"},
    {"filter": "creation_time > 0"},
    {"order_by": [{"field_name": "metrics.acc"}]},
    {"order_by": [{"field_name": "metrics.acc", "ascending": False}]},
    {"order_by": [{"field_name": "metrics.acc", "ascending": False, "dataset_name": "eval"}]},
    {"order_by": [{"field_name": "metrics.acc", "dataset_name": "eval", "dataset_digest": "d3"}]},
    {"order_by": [{"field_name": "metrics.loss"}, {"field_name": "name", "ascending": False}]},
    {"order_by": [{"field_name": "name"}]},
    {"order_by": [{"field_name": "model_type", "ascending": False}]},
    {"order_by": [{"field_name": "creation_timestamp", "ascending": True}]},
    {"filter": "metrics.acc > 0.5", "order_by": [{"field_name": "metrics.acc", "ascending": False}]},
]


def mlflow_search_ids(store: Any, experiment_ids: list[str], case: dict[str, Any], page_size: int) -> list[str]:
    """Model ids an MLflow store (SqlAlchemyStore or FileStore) returns for a search case, page by page."""
    found, token = [], None
    while True:
        page = store.search_logged_models(
            experiment_ids, filter_string=case.get("filter"), datasets=case.get("datasets"),
            max_results=page_size, order_by=case.get("order_by"), page_token=token,
        )  # fmt: skip
        found += [m.model_id for m in page]
        token = page.token
        if not token:
            return found


def _our_search(server: SqlServer, experiment_ids: list[str], case: dict[str, Any], page_size: int) -> tuple[list[str], list[dict[str, Any]]]:
    found: list[str] = []
    models: list[dict[str, Any]] = []
    body: dict[str, Any] = {"experiment_ids": experiment_ids, "max_results": page_size, **case}
    while True:
        response = httpx.post(f"{server.url}/api/2.0/mlflow/logged-models/search", json=body, timeout=30)
        assert response.status_code == 200, response.text
        answer = response.json()
        models += answer.get("models", [])
        found += [m["info"]["model_id"] for m in answer.get("models", [])]
        if not answer.get("next_page_token"):
            return found, models
        body["page_token"] = answer["next_page_token"]


@pytest.mark.parametrize("case", SEARCHES, ids=lambda c: repr(c)[:60])
def test_search_gives_sqlalchemystores_models_in_its_order(model_db: tuple[str, Any, list[str], SqlServer], case: dict[str, Any]) -> None:
    _, store, experiment_ids, server = model_db
    expected = mlflow_search_ids(store, experiment_ids, case, 100)
    assert _our_search(server, experiment_ids, case, 100)[0] == expected
    assert _our_search(server, experiment_ids, case, 2)[0] == mlflow_search_ids(store, experiment_ids, case, 2) == expected


def test_search_and_get_return_each_models_params_tags_and_metrics_as_sqlalchemystore(model_db: tuple[str, Any, list[str], SqlServer]) -> None:
    from google.protobuf.json_format import ParseDict
    from mlflow.entities import LoggedModel
    from mlflow.protos.service_pb2 import LoggedModel as LoggedModelProto

    _, store, experiment_ids, server = model_db
    _, found = _our_search(server, experiment_ids, {}, 100)
    assert found
    for answer in found:
        ours = LoggedModel.from_proto(ParseDict(answer, LoggedModelProto()))
        got = httpx.get(f"{server.url}/api/2.0/mlflow/logged-models/{ours.model_id}", timeout=30).json()["model"]
        assert got == answer
        theirs = store.get_logged_model(ours.model_id)
        assert (ours.name, ours.experiment_id, ours.model_type or None, ours.source_run_id, ours.status) == (  # proto: '' for unset
            theirs.name, theirs.experiment_id, theirs.model_type, theirs.source_run_id, theirs.status)  # fmt: skip
        assert (ours.params, ours.tags) == (theirs.params, theirs.tags)
        assert rows(ours.metrics) == rows(theirs.metrics)


@pytest.mark.parametrize(
    "body",
    [
        {"filter": "metrics.acc LIKE '0.%'"},
        {"filter": "metrics.acc > 'high'"},
        {"filter": "name = 'a' OR name = 'b'"},
        {"filter": "runs.acc > 1"},
        {"filter": "colour = 'red'"},
        {"filter": "params.lr IN '0.1'"},
        {"order_by": [{"field_name": "params.lr"}]},
        {"order_by": [{"field_name": "colour"}]},
        {"order_by": [{"ascending": True}]},
        {"datasets": [{"dataset_digest": "d1"}]},
    ],
    ids=lambda b: repr(b)[:60],
)
def test_a_search_mlflow_cannot_answer_gets_a_clear_400(model_db: tuple[str, Any, list[str], SqlServer], body: dict[str, Any]) -> None:
    _, _, experiment_ids, server = model_db
    response = httpx.post(f"{server.url}/api/2.0/mlflow/logged-models/search", json={"experiment_ids": experiment_ids, **body}, timeout=30)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_the_dashboards_logged_models_page_shows_each_models_latest_metrics(model_db: tuple[str, Any, list[str], SqlServer], page: Any) -> None:
    from playwright.sync_api import expect

    _, _, _, server = model_db
    page.goto(f"{server.url}/#/experiments/0/models")
    table = page.locator("[data-table=logged-models]")
    expect(table.locator("thead")).to_contain_text("acc")
    expect(table.locator("thead")).to_contain_text("loss")
    expect(table.locator("tbody tr").filter(has_text="alpha")).to_contain_text("0.5")  # step 2's value, not step 1's 0.9
    expect(table.locator("tbody tr").filter(has_text="gamma")).to_contain_text("0.1")
    expect(table.locator("tbody tr")).to_have_count(4)  # the deleted model is not listed


@pytest.fixture
def served_fresh(db_uri: str, tmp_path: Path) -> Iterator[SqlServer]:
    import mlflow

    with SqlServer(db_uri, tmp_path / "mlartifacts") as server:
        mlflow.set_tracking_uri(server.url)  # MLflow's fluent API logs through mlscope
        try:
            yield server
        finally:
            mlflow.set_tracking_uri(None)


def test_mlflows_client_links_metrics_to_models_through_mlscope_as_sqlalchemystore_stores_them(
    served_fresh: SqlServer, db_uri: str, tmp_path: Path
) -> None:
    """MLflow's fluent log_metric names a model explicitly (model_id=...) or by the run's model outputs at that step."""
    import mlflow
    from mlflow.entities import LoggedModelOutput

    client = mlflow.MlflowClient(served_fresh.url)
    run_id = client.create_run("0").info.run_id
    explicit = client.create_logged_model("0", source_run_id=run_id, name="explicit")
    linked = client.create_logged_model("0", source_run_id=run_id, name="linked")
    client.log_outputs(run_id, [LoggedModelOutput(linked.model_id, step=3)])
    mlflow.log_metric("acc", 0.8, step=1, run_id=run_id, model_id=explicit.model_id)
    mlflow.log_metrics({"acc": 0.9, "f1": 0.7}, step=3, run_id=run_id)  # the run's output at step 3 gets them
    mlflow.log_metric("loss", 0.2, step=4, run_id=run_id)  # no model at step 4: the run's metric only
    oracle = mlflow_store(db_uri, str(tmp_path))
    assert [(m.key, m.value, m.step, m.run_id) for m in oracle.get_logged_model(explicit.model_id).metrics] == [("acc", 0.8, 1, run_id)]
    assert sorted((m.key, m.value, m.step) for m in oracle.get_logged_model(linked.model_id).metrics) == [("acc", 0.9, 3), ("f1", 0.7, 3)]
    ours = client.get_logged_model(linked.model_id)  # read back through mlscope at once
    assert rows(ours.metrics) == rows(oracle.get_logged_model(linked.model_id).metrics)
    assert client.get_run(run_id).data.metrics == {"acc": 0.9, "f1": 0.7, "loss": 0.2}
