"""``log_table`` appends rows as MLflow does and ``load_table`` joins them back, byte for byte with MLflow's files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import mlscope
from mlscope import MlscopeClient
from mlscope.tracking import tables

pd = pytest.importorskip("pandas")


def table_file(run: Any, artifact_file: str) -> Path:
    return Path(run.info.artifact_uri.removeprefix("file://")) / artifact_file


def log_twice(client: Any, run_id: str) -> None:
    client.log_table(run_id, {"question": ["a?", "b?"], "score": [0.5, 0.75]}, "eval/table.json")
    client.log_table(run_id, pd.DataFrame({"question": ["c?"], "score": [1.0], "extra": ["x"]}), "eval/table.json")


def test_a_second_log_table_appends_its_rows_as_mlflow(root: Path, mlflow_client: Any) -> None:
    ours = MlscopeClient(str(root))
    run_ours = ours.create_run("0")
    log_twice(ours, run_ours.info.run_id)
    theirs = mlflow_client(root)
    run_theirs = theirs.create_run("0")
    log_twice(theirs, run_theirs.info.run_id)
    assert table_file(run_ours, "eval/table.json").read_bytes() == table_file(run_theirs, "eval/table.json").read_bytes()
    assert json.loads(table_file(run_ours, "eval/table.json").read_text())["data"][2] == ["c?", 1.0, "x"]
    assert ours.get_run(run_ours.info.run_id).data.tags["mlflow.loggedArtifacts"] == theirs.get_run(run_theirs.info.run_id).data.tags["mlflow.loggedArtifacts"]


def test_a_parquet_table_appends_too(root: Path) -> None:
    pytest.importorskip("pyarrow")
    mlscope.log_table({"a": [1]}, "t.parquet")
    mlscope.log_table({"a": [2]}, "t.parquet")
    assert pd.read_parquet(table_file(mlscope.active_run(), "t.parquet"))["a"].tolist() == [1, 2]


def test_without_pandas_a_dict_table_is_still_appended(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "_pandas", lambda: None)
    mlscope.log_table({"q": ["a"], "n": [1]}, "t.json")
    mlscope.log_table({"q": ["b"], "m": [2]}, "t.json")
    assert json.loads(table_file(mlscope.active_run(), "t.json").read_text()) == {"columns": ["q", "n", "m"], "data": [["a", 1, None], ["b", None, 2]]}
    assert pd.read_json(table_file(mlscope.active_run(), "t.json"), orient="split")["q"].tolist() == ["a", "b"]


def test_load_table_joins_the_runs_tables_as_mlflows_does(root: Path, mlflow_client: Any) -> None:
    mlflow = pytest.importorskip("mlflow")
    experiment_id = mlscope.create_experiment("tables")
    ids = []
    for i in range(2):
        with mlscope.start_run(experiment_id=experiment_id) as run:
            mlscope.log_table({"q": [f"q{i}"], "score": [i / 4]}, "eval.json")
            ids.append(run.info.run_id)
    with mlscope.start_run(experiment_id=experiment_id):
        mlscope.log_table({"other": [1]}, "other.json")
    ours = MlscopeClient(str(root)).load_table(experiment_id, "eval.json", extra_columns=["run_id"])
    mlflow.set_tracking_uri(root.resolve().as_uri())  # MLflow's load_table searches through its fluent API
    try:
        expected = mlflow_client(root).load_table(experiment_id, "eval.json", extra_columns=["run_id"])
    finally:
        mlflow.set_tracking_uri(None)
    key = ["run_id"]
    assert ours.sort_values(key).reset_index(drop=True).equals(expected.sort_values(key).reset_index(drop=True))
    assert sorted(ours["run_id"]) == sorted(ids)


def test_load_table_without_matching_runs_is_resource_does_not_exist(root: Path) -> None:
    with mlscope.start_run():
        mlscope.log_table({"a": [1]}, "a.json")
    with pytest.raises(mlscope.exceptions.MlflowException, match="No runs found") as caught:
        mlscope.load_table("missing.json")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize("name", ["table.csv", "bad,name.json", "bad:name.json", "quote'.json"])
def test_table_names_mlflow_refuses_are_refused(root: Path, name: str) -> None:
    with pytest.raises(ValueError):
        mlscope.log_table({"a": [1]}, name)


def test_images_in_a_table_are_stored_beside_it_as_mlflow_stores_them(root: Path) -> None:
    image_module = pytest.importorskip("PIL.Image")
    mlscope.log_table({"image": [image_module.new("RGB", (300, 100), (1, 2, 3))], "label": ["cat"]}, "preds/images.json")
    (cell, label) = json.loads(table_file(mlscope.active_run(), "preds/images.json").read_text())["data"][0]
    assert label == "cat" and cell["type"] == "image"
    assert cell["filepath"].startswith("table_images/preds/images/") and cell["compressed_filepath"].endswith(".webp")
    with image_module.open(table_file(mlscope.active_run(), cell["compressed_filepath"])) as thumbnail:
        assert thumbnail.size == (256, 85)
