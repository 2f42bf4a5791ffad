"""Experiment search: MLflow's experiment grammar, default order and paging."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlscope.search import SearchError, search_experiments
from mlscope.store.model import Experiment


def make_experiment(experiment_id: str, name: str, created: int | None, tags: dict[str, str] | None = None,
                    stage: str = "active") -> Experiment:
    return Experiment(experiment_id, name, "file:///x", stage, created, created, tags or {}, Path("."))


EXPERIMENTS = [make_experiment("1", "alpha", 10, {"team": "cv"}), make_experiment("2", "beta", 30),
               make_experiment("3", "gamma", 30, {"team": "nlp"}), make_experiment("4", "old", 5, stage="deleted"),
               make_experiment("5", "undated", None)]


def names(filter_string: str = "", order_by: list[str] | None = None, view: str = "ACTIVE_ONLY") -> list[str]:
    return [e.name for e in search_experiments(EXPERIMENTS, filter_string, order_by, view_type=view)[0]]


def test_default_order_is_creation_time_desc_then_id_with_missing_last() -> None:
    assert names() == ["beta", "gamma", "alpha", "undated"]


def test_name_like_and_tags_filter() -> None:
    assert names("name LIKE '%a' AND tags.team = 'nlp'") == ["gamma"]


def test_tag_is_null_matches_untagged_experiments() -> None:
    assert names("tags.team IS NULL") == ["beta", "undated"]


def test_experiment_id_in_list() -> None:
    assert names("experiment_id IN ('1', '3')") == ["gamma", "alpha"]


def test_numeric_attribute_skips_missing_times() -> None:
    assert names("creation_time >= 10") == ["beta", "gamma", "alpha"]


def test_explicit_order_gets_experiment_id_desc_tiebreak() -> None:
    assert names(order_by=["creation_time DESC"]) == ["gamma", "beta", "alpha", "undated"]


def test_view_type_deleted_only() -> None:
    assert names(view="DELETED_ONLY") == ["old"]


def test_only_attribute_and_tag_entities_are_valid() -> None:
    with pytest.raises(SearchError, match="Valid entity types are"):
        names("attributes.name = 'x'")


def test_is_null_is_only_for_tags() -> None:
    with pytest.raises(SearchError, match="only supported for tags"):
        names("name IS NULL")


def test_order_by_tag_is_rejected() -> None:
    with pytest.raises(SearchError, match="Invalid order_by entity"):
        names(order_by=["tags.team"])


def test_extended_or_for_experiments() -> None:
    found = search_experiments(EXPERIMENTS, "name = 'alpha' OR name RLIKE '^g'", extended=True)[0]
    assert [e.name for e in found] == ["gamma", "alpha"]


def test_experiment_paging() -> None:
    page, token = search_experiments(EXPERIMENTS, max_results=3)
    rest, last = search_experiments(EXPERIMENTS, max_results=3, page_token=token)
    assert [e.name for e in page + rest] == ["beta", "gamma", "alpha", "undated"] and last is None
