"""Registry searches give MLflow's registry FileStore results: same matches, order, page tokens and refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlscope.search import SearchError
from mlscope.search.registry import (
    parse_model_filter,
    parse_version_filter,
    search_model_versions,
    search_registered_models,
)
from mlscope.store.registry_reader import read_registry
from tests.registry_trees import registry_store

Tree = tuple[Path, dict[str, Any]]

MODEL_FILTERS = [
    "", "name = 'fraud-detector'", "name != 'fraud-detector'", "name LIKE 'fraud%'", "name LIKE '%-%'",
    "name ILIKE 'CHURN%'", "name LIKE 'Churn_Model'", "name IN ('empty-model', 'Churn Model', 'nope')",
    "name NOT IN ('empty-model')", "tags.team = 'risk'", "tag.team != 'risk'", "tags.team LIKE 'gr%'",
    "tags.`nested/key` = 'deep'", "tags.\"nested/key\" ILIKE 'DEEP'", "attribute.name = 'модель-ü'",
    "name = \"model.v2.dots\"", "name LIKE '%' AND tags.team = 'growth'", "name = 'my-prompt'",
    "tags.`mlflow.prompt.is_prompt` = 'true'", "tags.`mlflow.prompt.is_prompt` != 'true'",
    "tags.`mlflow.prompt.is_prompt` = 'false'", "name='fraud-detector' and tags.team='risk'",
]
VERSION_FILTERS = [
    "", "name = 'fraud-detector'", "name IN ('Churn Model', 'with-deleted')", "run_id = '{run}'",
    "run_id IN ('{run}', '{other_run}')", "run_id != '{run}'", "version_number = 2", "version_number >= 2",
    "version_number < 2", "version_number > '1'", "version_number = 2.7", "source_path LIKE '%/model'",
    "source_path = 'models:/{logged_model}'", "tags.validated = 'yes'", "tags.auc LIKE '0.9%'",
    "name = 'fraud-detector' AND version_number != 3", "name ILIKE 'FRAUD%' AND tags.validated = 'yes'",
    "name = 'my-prompt'", "tags.`mlflow.prompt.is_prompt` = 'true'",
]
BAD_MODEL_FILTERS = [
    "name = 'a' OR name = 'b'", "attributes.name = 'a'", "creation_timestamp > 5", "name = 5", "tags.x = 5",
    "tags.x IN ('a')", "`name` = 'a'", "name = a", "(name = 'a')", "name = 'a';", "run_id = 'x'", "name",
    "tags.x IS NULL",
]
BAD_VERSION_FILTERS = ["version_number IN ('1')", "creation_timestamp > 1", "source_path = 3", "name = 1", "foo = 'x'"]
MODEL_ORDERS = [[], ["name DESC"], ["last_updated_timestamp DESC"], ["creation_timestamp"], ["`name` ASC"],
                ["last_updated_timestamp ASC", "name DESC"]]
VERSION_ORDERS = [[], ["version_number ASC"], ["name DESC", "version_number"], ["creation_timestamp DESC"],
                  ["last_updated_timestamp"]]
BAD_ORDERS = [["timestamp"], ["tags.team"], ["name UP"], ["run_id"], ["metrics.x DESC"]]


@pytest.fixture(scope="module")
def registry(registry_tree: Tree) -> dict[str, Any]:
    models, _ = read_registry(registry_tree[0])
    return {"models": models, "versions": [v for m in models for v in m.versions], "oracle": registry_store(registry_tree[0]),
            "ids": registry_tree[1]}


def _text(token: str | bytes | None) -> str | None:
    return token.decode() if isinstance(token, bytes) else token


def _fill(text: str, ids: dict[str, Any]) -> str:
    return text.format(**{k: v for k, v in ids.items() if isinstance(v, str)})


@pytest.mark.parametrize("filter_string", MODEL_FILTERS)
@pytest.mark.parametrize("order_by", MODEL_ORDERS[:3])
def test_registered_model_search_matches_mlflow(registry: dict[str, Any], filter_string: str, order_by: list[str]) -> None:
    ours, _ = search_registered_models(registry["models"], filter_string, order_by, 1000)
    theirs = registry["oracle"].search_registered_models(filter_string, 1000, order_by, None)
    assert [m.name for m in ours] == [m.name for m in theirs]


@pytest.mark.parametrize("order_by", MODEL_ORDERS)
def test_registered_model_order_matches_mlflow(registry: dict[str, Any], order_by: list[str]) -> None:
    ours, _ = search_registered_models(registry["models"], "", order_by, 1000)
    theirs = registry["oracle"].search_registered_models(None, 1000, order_by, None)
    assert [m.name for m in ours] == [m.name for m in theirs]


@pytest.mark.parametrize("filter_string", VERSION_FILTERS)
def test_model_version_search_matches_mlflow(registry: dict[str, Any], filter_string: str) -> None:
    text = _fill(filter_string, registry["ids"])
    ours, _ = search_model_versions(registry["versions"], text, None, 1000)
    theirs = registry["oracle"].search_model_versions(text, 1000, None, None)
    assert [(v.name, v.version) for v in ours] == [(v.name, int(v.version)) for v in theirs]


@pytest.mark.parametrize("order_by", VERSION_ORDERS)
def test_model_version_order_matches_mlflow(registry: dict[str, Any], order_by: list[str]) -> None:
    ours, _ = search_model_versions(registry["versions"], "", order_by, 1000)
    theirs = registry["oracle"].search_model_versions("", 1000, order_by, None)
    assert [(v.name, v.version) for v in ours] == [(v.name, int(v.version)) for v in theirs]


def test_deleted_versions_never_match(registry: dict[str, Any]) -> None:
    ours, _ = search_model_versions(registry["versions"], "name = 'with-deleted'")
    assert [v.version for v in ours] == [2]


@pytest.mark.parametrize("max_results", [1, 2, 3])
def test_registered_model_pages_and_tokens_match_mlflow(registry: dict[str, Any], max_results: int) -> None:
    token: str | None = None
    their_token: str | None = None
    while True:
        ours, token = search_registered_models(registry["models"], "", ["name"], max_results, token)
        theirs = registry["oracle"].search_registered_models(None, max_results, ["name"], their_token)
        their_token = _text(theirs.token)
        assert ([m.name for m in ours], token) == ([m.name for m in theirs], their_token)
        if token is None:
            break


def test_model_version_pages_and_tokens_match_mlflow(registry: dict[str, Any]) -> None:
    ours, token = search_model_versions(registry["versions"], "", None, 3)
    theirs = registry["oracle"].search_model_versions("", 3, None, None)
    assert token == _text(theirs.token)
    ours, token = search_model_versions(registry["versions"], "", None, 3, token)
    theirs = registry["oracle"].search_model_versions("", 3, None, theirs.token)
    assert [(v.name, v.version) for v in ours] == [(v.name, int(v.version)) for v in theirs]


@pytest.mark.parametrize("filter_string", BAD_MODEL_FILTERS)
def test_filters_mlflow_refuses_are_refused(registry: dict[str, Any], filter_string: str) -> None:
    with pytest.raises(SearchError):
        parse_model_filter(filter_string)
    with pytest.raises(Exception):  # noqa: B017 - MLflow raises MlflowException, or ValueError for IS NULL
        registry["oracle"].search_registered_models(filter_string, 10, None, None)


@pytest.mark.parametrize("filter_string", BAD_VERSION_FILTERS)
def test_version_filters_mlflow_refuses_are_refused(registry: dict[str, Any], filter_string: str) -> None:
    with pytest.raises(SearchError):
        parse_version_filter(filter_string)
    with pytest.raises(Exception):  # noqa: B017
        registry["oracle"].search_model_versions(filter_string, 10, None, None)


@pytest.mark.parametrize("order_by", BAD_ORDERS)
def test_orders_mlflow_refuses_are_refused(registry: dict[str, Any], order_by: list[str]) -> None:
    with pytest.raises(SearchError):
        search_registered_models(registry["models"], "", order_by)
    with pytest.raises(Exception):  # noqa: B017
        registry["oracle"].search_registered_models(None, 10, order_by, None)


def test_comparators_mlflow_only_rejects_while_matching_are_rejected_while_parsing() -> None:
    with pytest.raises(SearchError, match="Invalid comparator 'RLIKE'"):
        parse_model_filter("name RLIKE 'a'")
    with pytest.raises(SearchError, match="Invalid comparator '>'"):
        parse_model_filter("name > 'a'")


@pytest.mark.parametrize("max_results", [0, -1, 1001, "x"])
def test_registered_model_limits_are_mlflows(registry: dict[str, Any], max_results: Any) -> None:
    with pytest.raises(SearchError, match="max_results"):
        search_registered_models(registry["models"], "", None, max_results)


def test_model_version_limit_is_200000(registry: dict[str, Any]) -> None:
    search_model_versions(registry["versions"], "", None, 200_000)
    with pytest.raises(SearchError, match="at most 200000"):
        search_model_versions(registry["versions"], "", None, 200_001)


def test_a_bad_page_token_is_refused(registry: dict[str, Any]) -> None:
    with pytest.raises(SearchError, match="Invalid page token"):
        search_registered_models(registry["models"], "", None, 10, "not-a-token!")


def test_an_error_points_at_the_offending_token() -> None:
    with pytest.raises(SearchError) as caught:
        parse_model_filter("name = 'a' AND colour = 'red'")
    assert caught.value.position == 15
    assert caught.value.token == "colour"
