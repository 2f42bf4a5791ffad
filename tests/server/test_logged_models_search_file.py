"""logged-models/search on an mlruns tree, MLflow 3.17.2's FileStore.search_logged_models the oracle.

The tree is written by MLflow's own client (file store): models with params, tags and metrics on and off
datasets in two experiments, one finalized, one deleted. Every search runs through mlscope's REST endpoint at
page sizes 100 and 2 and must give FileStore's ids in FileStore's order; a filter, order_by or datasets FileStore
refuses gets a 400 with its error code. The cases of the SQL parity test (SqlAlchemyStore the oracle) are
reused, plus the grammar only FileStore has (its string comparisons, entity aliases, status values...).
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mlflow.entities import LoggedModelStatus, Metric
from mlflow.exceptions import MlflowException
from mlflow.store.tracking.file_store import FileStore
from mlflow.tracking import MlflowClient

from tests.conftest import LiveServer
from tests.store.sql.test_logged_model_metrics import SEARCHES as SQL_SEARCHES
from tests.store.sql.test_logged_model_metrics import mlflow_search_ids

T = 1_700_000_000_000
SEARCH = "/api/2.0/mlflow/logged-models/search"


def _write_tree(root: Path) -> list[str]:
    """Eight models in two experiments through MlflowClient on file:// (as the SQL parity test's, plus NaN and a READY one)."""
    client = MlflowClient(tracking_uri=root.as_uri())
    second = client.create_experiment("second")
    run_id = client.create_run("0").info.run_id
    other_run_id = client.create_run(second).info.run_id
    specs = [  # experiment, name, type, params, tags, metrics (key, value, step, dataset)
        ("0", "alpha", "sklearn", {"lr": "0.1"}, {"team": "a"}, [("acc", 0.9, 1, None), ("acc", 0.5, 2, None), ("loss", 0.3, 1, ("eval", "d1"))]),
        ("0", "beta", "torch", {"lr": "0.01"}, {"team": "b"}, [("acc", 0.7, 1, ("eval", "d1")), ("acc", 0.95, 1, ("test", "d2"))]),
        ("0", "gamma", "sklearn", {"lr": "0.1", "depth": "3"}, {}, [("loss", 0.1, 5, None), ("f1", float("nan"), 1, None)]),
        ("0", "delta", None, {}, {"team": "Alpha"}, []),
        (second, "epsilon", "sklearn", {"lr": "1"}, {"team": "a"}, [("acc", 0.7, 3, None), ("f1", 0.4, 1, None)]),
        (second, "zeta", None, {}, {}, [("acc", 0.8, 1, ("eval", "d1")), ("acc", 0.6, 1, ("eval", "d3"))]),
        ("0", "gone", "sklearn", {"lr": "0.1"}, {"team": "a"}, [("acc", 0.99, 1, None)]),
    ]  # fmt: skip
    ids = []
    for experiment, name, model_type, params, tags, metrics in specs:
        source = run_id if experiment == "0" else other_run_id
        model = client.create_logged_model(experiment, name=name, source_run_id=source, tags=tags, params=params, model_type=model_type)
        points = [
            Metric(key, value, T + step + 100 * i, step, model_id=model.model_id, dataset_name=(dataset or (None, None))[0],
                   dataset_digest=(dataset or (None, None))[1])
            for i, (key, value, step, dataset) in enumerate(metrics)
        ]  # fmt: skip
        if points:
            client.log_batch(source, metrics=points)
        ids.append(model.model_id)
    client.finalize_logged_model(ids[1], LoggedModelStatus.READY)  # beta
    client.delete_logged_model(ids[-1])  # gone
    return ["0", second]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FileStore, list[str], LiveServer]]:
    root = tmp_path_factory.mktemp("logged-models") / "mlruns"
    experiment_ids = _write_tree(root)
    server = LiveServer(root).start()
    try:
        yield FileStore(str(root)), experiment_ids, server
    finally:
        server.stop()


# Only FileStore's grammar: comparisons on strings, entity aliases, quoting, status, datasets.name, stray ANDs...
FILE_SEARCHES: list[dict[str, Any]] = [
    {"filter": "status = 'READY'"},
    {"filter": "status = 'PENDING'"},
    {"filter": "status != 'READY'"},
    {"filter": "status LIKE 'READ%'"},
    {"filter": "status IN ('READY', 'FAILED')"},
    {"filter": "status = 'LOGGED_MODEL_READY'"},
    {"filter": "metric.acc > 0.6"},
    {"filter": "metrics.acc = 0.5", "datasets": [{"dataset_name": "eval"}]},
    {"filter": "metrics.acc > -1"},
    {"filter": "metrics.f1 != 1"},
    {"filter": "metrics.f1 > 0"},
    {"filter": "metrics.f1 >= 0", "datasets": [{"dataset_name": "eval", "dataset_digest": "d1"}]},
    {"filter": "attribute.name = 'beta'"},
    {"filter": "run.name = 'beta'"},
    {"filter": 'name = "beta"'},
    {"filter": "`name` = 'beta'"},
    {"filter": "attributes.`name` = 'beta'"},
    {"filter": "tags.`team` = 'a'"},
    {"filter": "params.\"lr\" = '0.1'"},
    {"filter": "name ILIKE 'ALPHA'"},
    {"filter": "name > 'c'"},
    {"filter": "name NOT IN ('alpha')"},
    {"filter": "name = 'beta' and model_type = 'torch'"},
    {"filter": "AND name = 'beta' AND AND model_type = 'torch' AND"},
    {"filter": "model_type != 'sklearn'"},
    {"filter": "model_type < 't'"},
    {"filter": "model_id LIKE 'm-%'"},
    {"filter": "creation_timestamp > 1.5"},
    {"filter": "last_updated_timestamp >= 0"},
    {"filter": "datasets.name = 'alpha'"},
    {"filter": "tags.team LIKE 'A%'"},
    {"datasets": [{"dataset_name": "test", "dataset_digest": "d2"}]},
    {"datasets": [{"dataset_name": "eval", "dataset_digest": "nope"}]},
    {"order_by": [{"field_name": "status"}]},
    {"order_by": [{"field_name": "source_run_id"}]},
    {"order_by": [{"field_name": "model_id", "ascending": False}]},
    {"order_by": [{"field_name": "last_updated_timestamp"}]},
    {"order_by": [{"field_name": "creation_time", "ascending": False}]},
    {"order_by": [{"field_name": " name "}]},
    {"order_by": [{"field_name": "metrics.`acc`"}]},
    {"order_by": [{"field_name": "metrics.acc", "dataset_name": "test"}]},
    {"order_by": [{"field_name": "metrics.loss", "ascending": False}, {"field_name": "metrics.acc"}]},
    {"filter": "tags.team != 'z'", "datasets": [{"dataset_name": "eval"}], "order_by": [{"field_name": "metrics.acc", "ascending": False}]},
]


def _filestore_can_answer(case: dict[str, Any]) -> dict[str, Any]:
    """FileStore fails on MLflow's declared alias creation_time in a filter (AttributeError): ask it for creation_timestamp."""
    if "filter" in case:
        return {**case, "filter": case["filter"].replace("creation_time ", "creation_timestamp ")}
    return case


def _post(server: LiveServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(server.url + SEARCH, json=body, timeout=30)


def _our_search(server: LiveServer, experiment_ids: list[str], case: dict[str, Any], page_size: int) -> list[str]:
    found: list[str] = []
    body: dict[str, Any] = {"experiment_ids": experiment_ids, "max_results": page_size, **case}
    while True:
        response = _post(server, body)
        assert response.status_code == 200, response.text
        answer = response.json()
        found += [m["info"]["model_id"] for m in answer.get("models", [])]
        if not answer.get("next_page_token"):
            return found
        body["page_token"] = answer["next_page_token"]


def _oracle_error(store: FileStore, experiment_ids: list[str], case: dict[str, Any]) -> MlflowException | None:
    try:
        mlflow_search_ids(store, experiment_ids, case, 100)
    except MlflowException as error:
        return error
    return None


@pytest.mark.parametrize("case", SQL_SEARCHES + FILE_SEARCHES, ids=lambda c: repr(c)[:70])
def test_search_gives_filestores_models_in_its_order_or_its_refusal(tree: tuple[FileStore, list[str], LiveServer], case: dict[str, Any]) -> None:
    store, experiment_ids, server = tree
    asked = _filestore_can_answer(case)
    error = _oracle_error(store, experiment_ids, asked)
    if error is not None:  # e.g. params.lr IN (...): SqlAlchemyStore's grammar takes it, FileStore's does not
        response = _post(server, {"experiment_ids": experiment_ids, **case})
        assert (response.status_code, response.json()["error_code"]) == (400, error.error_code), response.text
        return
    expected = mlflow_search_ids(store, experiment_ids, asked, 100)
    assert _our_search(server, experiment_ids, case, 100) == expected
    assert _our_search(server, experiment_ids, case, 2) == mlflow_search_ids(store, experiment_ids, asked, 2) == expected


def test_the_tree_has_what_the_searches_need(tree: tuple[FileStore, list[str], LiveServer]) -> None:
    """Guards the cases above against passing vacuously: live models in both experiments, one READY, the deleted one absent."""
    store, experiment_ids, server = tree
    everything = store.search_logged_models(experiment_ids)
    assert len(everything) == 6
    assert {m.experiment_id for m in everything} == set(experiment_ids)
    assert [m.name for m in everything if m.status == LoggedModelStatus.READY] == ["beta"]
    assert "gone" not in {m.name for m in everything}
    assert len(_our_search(server, experiment_ids, {}, 100)) == 6


def test_mlflows_client_searches_through_mlscope_as_filestore_answers(tree: tuple[FileStore, list[str], LiveServer]) -> None:
    store, experiment_ids, server = tree
    client = MlflowClient(tracking_uri=server.url)
    arguments: dict[str, Any] = {
        "filter_string": "metrics.acc > 0 AND name != 'x'",
        "datasets": [{"dataset_name": "eval"}],
        "order_by": [{"field_name": "metrics.acc", "ascending": False, "dataset_name": "eval"}],
    }
    ours, token = [], None
    while True:
        page = client.search_logged_models(experiment_ids, max_results=1, page_token=token, **arguments)
        ours += [(m.model_id, m.name, m.status, m.params, m.tags) for m in page]
        token = page.token
        if not token:
            break
    theirs = [(m.model_id, m.name, m.status, m.params, m.tags) for m in store.search_logged_models(experiment_ids, **arguments)]
    assert len(theirs) == 2
    assert ours == theirs


def test_creation_time_and_last_updated_time_filter_as_mlflows_declared_aliases(tree: tuple[FileStore, list[str], LiveServer]) -> None:
    """FileStore lists both as valid keys but fails on them (AttributeError, a 500): mlscope answers as for the full names."""
    store, experiment_ids, server = tree
    middle = sorted(m.creation_timestamp for m in store.search_logged_models(experiment_ids))[3]
    for alias, name in (("creation_time", "creation_timestamp"), ("last_updated_time", "last_updated_timestamp")):
        expected = mlflow_search_ids(store, experiment_ids, {"filter": f"{name} >= {middle}"}, 100)
        assert 0 < len(expected) < 6
        assert _our_search(server, experiment_ids, {"filter": f"{alias} >= {middle}"}, 100) == expected
    expected = mlflow_search_ids(store, experiment_ids, {"order_by": [{"field_name": "last_updated_timestamp"}]}, 100)
    assert _our_search(server, experiment_ids, {"order_by": [{"field_name": "last_updated_time"}]}, 100) == expected


def test_ordering_ascending_by_an_attribute_some_models_lack_puts_them_last(tree: tuple[FileStore, list[str], LiveServer]) -> None:
    """FileStore fails comparing None with a string (TypeError, a 500); descending it already puts None last."""
    store, experiment_ids, server = tree
    with pytest.raises(TypeError):
        store.search_logged_models(experiment_ids, order_by=[{"field_name": "model_type"}])
    descending = mlflow_search_ids(store, experiment_ids, {"order_by": [{"field_name": "model_type", "ascending": False}]}, 100)
    models = {m.model_id: m for m in store.search_logged_models(experiment_ids)}
    typed = [i for i in descending if models[i].model_type]
    expected = sorted(typed, key=lambda i: models[i].model_type) + [i for i in descending if not models[i].model_type]
    ours = _our_search(server, experiment_ids, {"order_by": [{"field_name": "model_type"}]}, 2)
    assert [models[i].model_type for i in ours] == [models[i].model_type for i in expected]
    assert ours[-2:] == expected[-2:]  # the untyped ones, newest first as the tie-break says


BAD = [
    {"filter": "metrics.acc LIKE '0.%'"},
    {"filter": "metrics.acc > 'high'"},
    {"filter": "metrics.acc IN ('1')"},
    {"filter": "name = 'a' OR name = 'b'"},
    {"filter": "(name = 'a')"},
    {"filter": "runs.acc > 1"},
    {"filter": "colour = 'red'"},
    {"filter": "params.lr IN '0.1'"},
    {"filter": "params.lr > '0'"},
    {"filter": "params.lr = 0.1"},
    {"filter": "tags.team IS NULL"},
    {"filter": "params.lr IS NOT NULL"},
    {"filter": "name IS NULL"},
    {"filter": "name = beta"},
    {"filter": "name = 5"},
    {"filter": "creation_timestamp = 'yesterday'"},
    {"filter": "creation_timestamp LIKE '1%'"},
    {"filter": "datasets.digest = 'd1'"},
    {"filter": "datasets.colour = 'red'"},
    {"filter": "name ="},
    {"filter": "name = 'a' AND (model_type = 'b')"},
    {"order_by": [{"field_name": "params.lr"}]},
    {"order_by": [{"field_name": "colour"}]},
    {"order_by": [{"ascending": True}]},
    {"order_by": [{"field_name": "name", "ascending": "yes"}]},
    {"order_by": [{"field_name": "metrics.acc", "dataset_digest": "d1"}]},
    {"order_by": ["name"]},
    {"datasets": [{"dataset_digest": "d1"}]},
    {"datasets": [{"dataset_name": ""}]},
]


@pytest.mark.parametrize("body", BAD, ids=lambda b: repr(b)[:70])
def test_a_search_filestore_refuses_gets_a_clear_400_with_its_error_code(tree: tuple[FileStore, list[str], LiveServer], body: dict[str, Any]) -> None:
    store, experiment_ids, server = tree
    error = _oracle_error(store, experiment_ids, body)
    assert error is not None, "FileStore answers this: not a bad search"
    response = _post(server, {"experiment_ids": experiment_ids, **body})
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["error_code"] == error.error_code == "INVALID_PARAMETER_VALUE"
    assert answer["message"]


def test_a_bad_filter_on_experiments_without_models_is_still_a_400(tree: tuple[FileStore, list[str], LiveServer]) -> None:
    """FileStore checks a param's comparator only while matching a model; mlscope refuses it whatever the experiments hold."""
    _, _, server = tree
    response = _post(server, {"experiment_ids": ["12345"], "filter": "params.lr > '0'"})
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_two_comparisons_without_and_between_them_are_refused_where_filestore_ands_them(
    tree: tuple[FileStore, list[str], LiveServer],
) -> None:
    """A sqlparse accident MLflow keeps for runs too; mlscope's shared parser asks for the AND (runs likewise)."""
    store, experiment_ids, server = tree
    assert mlflow_search_ids(store, experiment_ids, {"filter": "name = 'beta' model_type = 'torch'"}, 100)
    response = _post(server, {"experiment_ids": experiment_ids, "filter": "name = 'beta' model_type = 'torch'"})
    assert response.status_code == 400
    assert "expected AND or end of filter" in response.json()["message"]


def test_the_400_for_a_bad_filter_names_the_offending_text_with_mlflows_message(tree: tuple[FileStore, list[str], LiveServer]) -> None:
    store, experiment_ids, server = tree
    error = _oracle_error(store, experiment_ids, {"filter": "name = beta"})
    assert error is not None
    message = _post(server, {"experiment_ids": experiment_ids, "filter": "name = beta"}).json()["message"]
    assert "'beta'" in message
    assert error.message in message


@pytest.mark.parametrize("token", ["not base64!", base64.b64encode(b"{\"offset\": 0}").decode(), base64.b64encode(json.dumps({"offset": "x"}).encode()).decode()])
def test_a_bad_page_token_is_a_400_as_in_filestore(tree: tuple[FileStore, list[str], LiveServer], token: str) -> None:
    store, experiment_ids, server = tree
    with pytest.raises(MlflowException):
        store.search_logged_models(experiment_ids, page_token=token)
    response = _post(server, {"experiment_ids": experiment_ids, "page_token": token})
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_get_finds_a_live_model_in_any_experiment_and_not_the_deleted_one(tree: tuple[FileStore, list[str], LiveServer]) -> None:
    store, experiment_ids, server = tree
    for model in store.search_logged_models(experiment_ids):
        got = httpx.get(f"{server.url}/api/2.0/mlflow/logged-models/{model.model_id}", timeout=30)
        assert got.json()["model"]["info"]["name"] == model.name
    deleted = [p.name for p in Path(store.root_directory, "0", "models").iterdir() if p.name not in {m.model_id for m in store.search_logged_models(experiment_ids)}]
    assert len(deleted) == 1
    got = httpx.get(f"{server.url}/api/2.0/mlflow/logged-models/{deleted[0]}", timeout=30)
    assert (got.status_code, got.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


def _random_search(rng: random.Random) -> dict[str, Any]:
    """1-3 AND-ed clauses from FileStore's grammar (valid comparators per key type, values right and wrong), datasets, order_by."""
    pieces = [  # (keys, comparators, values)
        (["name", "model_type", "status", "attributes.name", "run.model_type"], ["=", "!=", "<", ">=", "LIKE", "ILIKE"],
         ["'alpha'", "'a%'", "'%A%'", "'sklearn'", "'READY'", "'PENDING'", '"beta"', "5", "beta"]),
        (["name", "status", "model_type"], ["IN", "NOT IN"], ["('alpha', 'zeta')", "('READY')", "('sklearn', 'torch')"]),
        (["creation_timestamp", "last_updated_timestamp"], [">", "<=", "=", "!="], ["0", "1.5", str(T * 2), "'x'"]),
        (["metrics.acc", "metrics.loss", "metrics.f1", "metric.acc"], [">", ">=", "<", "<=", "=", "!="],
         ["0.5", "0.7", "-1", "0", "0.95", "'x'"]),
        (["params.lr", "params.depth", "param.lr"], ["=", "!=", "LIKE", "ILIKE"], ["'0.1'", "'0.%'", "'1'", "0.1"]),
        (["tags.team", "tag.team"], ["=", "!=", "LIKE", "ILIKE"], ["'a'", "'A%'", "'%a'", "'b'"]),
    ]  # fmt: skip
    clauses = [" ".join(rng.choice(part) for part in rng.choice(pieces)) for _ in range(rng.randint(1, 3))]
    case: dict[str, Any] = {"filter": rng.choice([" AND ", " and "]).join(clauses)}
    case["datasets"] = rng.choice([None, None, [{"dataset_name": "eval"}], [{"dataset_name": "eval", "dataset_digest": "d1"}, {"dataset_name": "test"}]])
    case["order_by"] = rng.choice([
        None, [{"field_name": "name", "ascending": False}], [{"field_name": "metrics.acc"}],
        [{"field_name": "metrics.acc", "ascending": False, "dataset_name": "eval"}], [{"field_name": "status"}, {"field_name": "metrics.loss"}],
    ])  # fmt: skip
    return {k: v for k, v in case.items() if v is not None}


def test_random_searches_from_the_grammar_get_filestores_answer_or_refusal(tree: tuple[FileStore, list[str], LiveServer]) -> None:
    store, experiment_ids, server = tree
    rng = random.Random(12)
    answered = refused = nonempty = 0
    for _ in range(150):
        case = _random_search(rng)
        error = _oracle_error(store, experiment_ids, case)
        if error is not None:
            response = _post(server, {"experiment_ids": experiment_ids, **case})
            assert (response.status_code, response.json()["error_code"]) == (400, error.error_code), (case, response.text)
            refused += 1
            continue
        expected = mlflow_search_ids(store, experiment_ids, case, 100)
        assert _our_search(server, experiment_ids, case, 100) == expected, case
        answered, nonempty = answered + 1, nonempty + bool(expected)
    assert (answered, nonempty, refused) == (110, 42, 40)  # seeded: answers, some models, and refusals all exercised
