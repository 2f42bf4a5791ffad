"""``search_runs`` returns MLflow's DataFrame by default: the same columns, dtypes and values as ``mlflow.search_runs``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mlscope
from mlscope.tracking import tables

pd = pytest.importorskip("pandas")
mlflow = pytest.importorskip("mlflow")


@pytest.fixture
def logged(root: Path) -> Iterator[str]:
    experiment = mlscope.set_experiment("frames").experiment_id
    with mlscope.start_run(run_name="a"):
        mlscope.log_params({"lr": 0.1})
        mlscope.log_metric("loss", 0.5)
    with mlscope.start_run(run_name="b"):
        mlscope.log_metric("acc", float("nan"))
        mlscope.set_tag("team", "x")
    mlscope.MlflowClient().create_run(experiment, run_name="still-running")  # no end time: NaT in end_time
    mlflow.set_tracking_uri(root.resolve().as_uri())
    yield experiment
    mlflow.set_tracking_uri(None)


def frames(experiment: str, **kwargs: Any) -> tuple[Any, Any]:
    ours = mlscope.search_runs([experiment], **kwargs).sort_values("run_id").reset_index(drop=True)
    theirs = mlflow.search_runs([experiment], **kwargs).sort_values("run_id").reset_index(drop=True)
    return ours, theirs


def test_the_dataframe_has_mlflows_columns_and_dtypes(logged: str) -> None:
    ours, theirs = frames(logged)
    assert sorted(ours.columns) == sorted(theirs.columns)
    assert {c: str(ours[c].dtype) for c in ours.columns} == {c: str(theirs[c].dtype) for c in theirs.columns}
    assert list(ours.columns[:6]) == ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]


def test_the_dataframe_has_mlflows_values(logged: str) -> None:
    ours, theirs = frames(logged)
    pd.testing.assert_frame_equal(ours[sorted(ours.columns)], theirs[sorted(theirs.columns)])


def test_filters_apply_to_the_dataframe_too(logged: str) -> None:
    ours, theirs = frames(logged, filter_string="metrics.loss < 1")
    assert list(ours["tags.mlflow.runName"]) == list(theirs["tags.mlflow.runName"]) == ["a"]


def test_an_empty_result_is_mlflows_empty_frame(logged: str) -> None:
    ours, theirs = frames(logged, filter_string="params.lr = 'nope'")
    assert ours.empty and list(ours.columns) == list(theirs.columns)


def test_output_format_list_gives_runs(logged: str) -> None:
    runs = mlscope.search_runs([logged], output_format="list", order_by=["attributes.run_name"])
    assert [r.info.run_name for r in runs] == ["a", "b", "still-running"]


def test_without_pandas_the_default_is_a_list(logged: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "_pandas", lambda: None)
    assert isinstance(mlscope.search_runs([logged]), list)


def test_an_unknown_output_format_is_refused(logged: str) -> None:
    with pytest.raises(ValueError, match="Unsupported output format"):
        mlscope.search_runs([logged], output_format="json")
