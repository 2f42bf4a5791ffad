"""Grouping runs by params/tags: field syntax, group order, missing values, latest-value statistics."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mlscope.analysis import GroupField, GroupFieldError, group_runs, latest_stats, parse_group_field
from mlscope.store.model import Metric, Run, RunInfo


def run(run_id: str, params: dict[str, str] | None = None, tags: dict[str, str] | None = None,
        metrics: dict[str, float] | None = None) -> Run:
    info = RunInfo(run_id, "1", run_id, "u", "FINISHED", 0, 1, "active", "")
    latest = {k: Metric(k, v, 0, 0) for k, v in (metrics or {}).items()}
    return Run(info, params or {}, tags or {}, latest, path=Path(run_id))


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("params.lr", GroupField("params", "lr")),
        ("tags.model", GroupField("tags", "model")),
        ("tags.`mlflow.user`", GroupField("tags", "mlflow.user")),
        ("param.data/aug", GroupField("params", "data/aug")),
        ("attributes.status", GroupField("attributes", "status")),
    ],
)
def test_group_fields_use_mlflows_key_prefixes(text: str, field: GroupField) -> None:
    assert parse_group_field(text) == field


@pytest.mark.parametrize("text", ["lr", "metrics.loss", "params.", "attributes.artifact_uri"])
def test_a_field_that_is_not_a_param_tag_or_groupable_attribute_is_refused(text: str) -> None:
    with pytest.raises(GroupFieldError):
        parse_group_field(text)


def test_runs_with_equal_values_share_a_group_in_table_order() -> None:
    runs = [run("a", {"lr": "0.1"}), run("b", {"lr": "0.01"}), run("c", {"lr": "0.1"})]
    groups = group_runs(runs, [GroupField("params", "lr")])
    assert [(g.values, [r.run_id for r in g.runs]) for g in groups] == [(("0.01",), ["b"]), (("0.1",), ["a", "c"])]


def test_groups_order_numbers_numerically_then_text_then_missing() -> None:
    runs = [run("a", {"n": "10"}), run("b"), run("c", {"n": "x"}), run("d", {"n": "9"})]
    groups = group_runs(runs, [GroupField("params", "n")])
    assert [g.values for g in groups] == [("9",), ("10",), ("x",), (None,)]


def test_grouping_by_two_fields_groups_by_both_values() -> None:
    runs = [run("a", {"lr": "1"}, {"m": "x"}), run("b", {"lr": "1"}, {"m": "y"}), run("c", {"lr": "1"}, {"m": "x"})]
    groups = group_runs(runs, [GroupField("params", "lr"), GroupField("tags", "m")])
    assert [len(g.runs) for g in groups] == [2, 1]
    assert groups[0].group_id != groups[1].group_id


def test_latest_stats_are_mean_min_max_of_finite_latest_values() -> None:
    runs = [run("a", metrics={"m": 1.0}), run("b", metrics={"m": 3.0}), run("c", metrics={"m": math.nan}), run("d")]
    stats = latest_stats(runs, "m")
    assert (stats.mean, stats.low, stats.high, stats.count) == (2.0, 1.0, 3.0, 2)


def test_latest_stats_of_runs_without_the_metric_are_empty() -> None:
    assert latest_stats([run("a")], "m").count == 0
