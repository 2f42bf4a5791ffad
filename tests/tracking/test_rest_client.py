"""``set_tracking_uri("http://...")``: mlscope's client logs over MLflow's REST API, read back by MLflow's own client."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import mlscope
from mlscope.tracking import fluent


def test_a_fluent_run_reads_back_with_mlflows_client(remote: Any) -> None:
    with mlscope.start_run(run_name="over-rest", description="*notes*") as run:
        mlscope.log_params({"lr": 0.1, "opt": "adam"})
        for step in range(4):
            mlscope.log_metric("loss", 1 / (step + 1), step=step, timestamp=1000 + step)
        mlscope.set_tags({"team": "vision"})
    theirs = remote.get_run(run.info.run_id)
    assert (theirs.info.run_name, theirs.info.status) == ("over-rest", "FINISHED")
    assert theirs.data.params == {"lr": "0.1", "opt": "adam"}
    assert theirs.data.tags["team"] == "vision" and theirs.data.tags["mlflow.note.content"] == "*notes*"
    history = remote.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.timestamp, m.value) for m in history] == [(s, 1000 + s, 1 / (s + 1)) for s in range(4)]


def test_nan_and_infinite_metric_values_cross_the_wire(remote: Any) -> None:
    with mlscope.start_run() as run:
        mlscope.log_metrics({"nan": float("nan"), "up": float("inf"), "down": float("-inf"), "tiny": 1e-300})
    theirs = remote.get_run(run.info.run_id).data.metrics
    ours = mlscope.get_run(run.info.run_id).data.metrics
    for metrics in (theirs, ours):
        assert math.isnan(metrics["nan"]) and metrics["up"] == math.inf and metrics["down"] == -math.inf and metrics["tiny"] == 1e-300


def test_an_unknown_run_is_resource_does_not_exist(remote: Any) -> None:
    with pytest.raises(mlscope.exceptions.MlflowException) as caught:
        mlscope.get_run("0" * 32)
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert str(caught.value).startswith("RESOURCE_DOES_NOT_EXIST: ")


def test_changing_a_param_is_invalid_parameter_value(remote: Any) -> None:
    with mlscope.start_run():
        mlscope.log_param("depth", 3)
        with pytest.raises(mlscope.exceptions.RestException) as caught:
            mlscope.log_param("depth", 5)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE" and "depth" in str(caught.value)


def test_artifacts_are_uploaded_through_the_servers_proxy(remote: Any, tmp_path: Path) -> None:
    (tmp_path / "out" / "sub").mkdir(parents=True)
    (tmp_path / "out" / "a.txt").write_text("A")
    (tmp_path / "out" / "sub" / "b.txt").write_text("B")
    with mlscope.start_run() as run:
        mlscope.log_artifacts(tmp_path / "out", "bundle")
        mlscope.log_artifact(tmp_path / "out" / "a.txt")
        mlscope.log_text("hello", "notes/hello.txt")
        mlscope.log_dict({"k": [1, 2]}, "cfg.json")
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    assert sorted(f.path for f in remote.list_artifacts(run.info.run_id)) == ["a.txt", "bundle", "cfg.json", "notes"]
    assert [(f.path, f.is_dir) for f in remote.list_artifacts(run.info.run_id, "bundle")] == [("bundle/a.txt", False), ("bundle/sub", True)]
    downloaded = Path(remote.download_artifacts(run.info.run_id, "bundle/sub/b.txt", str(tmp_path / "theirs")))
    assert downloaded.read_text() == "B"
    assert json.loads(Path(remote.download_artifacts(run.info.run_id, "cfg.json", str(tmp_path / "theirs"))).read_text()) == {"k": [1, 2]}


def test_artifacts_are_listed_and_downloaded_through_the_proxy(remote: Any, tmp_path: Path) -> None:
    with mlscope.start_run() as run:
        mlscope.log_text("one", "docs/one.txt")
        mlscope.log_text("two", "docs/deeper/two.txt")
    client = mlscope.MlflowClient()
    assert [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run.info.run_id, "docs")] == [
        ("docs/deeper", True, None), ("docs/one.txt", False, 3)]  # fmt: skip
    folder = Path(client.download_artifacts(run.info.run_id, "docs", tmp_path / "dst"))
    assert folder == tmp_path / "dst" / "docs" and (folder / "deeper" / "two.txt").read_text() == "two"
    assert mlscope.artifacts.load_text(f"{run.info.artifact_uri}/docs/one.txt") == "one"
    assert mlscope.artifacts.load_text(f"runs:/{run.info.run_id}/docs/deeper/two.txt") == "two"


def test_batches_over_mlflows_limits_are_split(remote: Any) -> None:
    """MLflow's server refuses more than 1,000 metrics or 100 params per log-batch: the client splits as MLflow's does."""
    client = mlscope.MlflowClient()
    run_id = client.create_run(fluent.active_experiment_id()).info.run_id
    client.log_batch(run_id, metrics=[("m", float(i), 10 + i, i) for i in range(2500)],
                     params={f"p{i}": i for i in range(250)}, tags={f"t{i}": i for i in range(150)})  # fmt: skip
    theirs = remote.get_run(run_id)
    assert len(theirs.data.params) == 250 and sum(k.startswith("t") for k in theirs.data.tags) == 150
    assert len(remote.get_metric_history(run_id, "m")) == 2500


def test_datasets_logged_as_inputs_match_mlflows(remote: Any) -> None:
    pd = pytest.importorskip("pandas")
    mlflow = pytest.importorskip("mlflow")
    frame = pd.DataFrame({"x": [1.0, 2.0, None], "label": ["a", "b", "a"]})
    with mlscope.start_run() as run:
        mlscope.log_input(mlscope.data.from_pandas(frame, source="train.csv", name="train"), context="training")
    (logged,) = remote.get_run(run.info.run_id).inputs.dataset_inputs
    expected = mlflow.data.from_pandas(frame, source="train.csv", name="train")._to_mlflow_entity()
    assert dict(logged.dataset) == dict(expected)
    assert [(t.key, t.value) for t in logged.tags] == [("mlflow.data.context", "training")]
    (ours,) = mlscope.get_run(run.info.run_id).inputs.dataset_inputs
    assert (ours.dataset.digest, ours.dataset.schema) == (expected.digest, expected.schema)


def test_search_runs_filters_orders_and_pages_on_the_server(remote: Any) -> None:
    for i in range(5):
        with mlscope.start_run(run_name=f"r{i}"):
            mlscope.log_metric("acc", i / 10)
    client = mlscope.MlflowClient()
    experiment_id = fluent.active_experiment_id()
    first = client.search_runs([experiment_id], "metrics.acc >= 0.1", order_by=["metrics.acc DESC"], max_results=2)
    assert [r.info.run_name for r in first] == ["r4", "r3"] and first.token
    rest = client.search_runs([experiment_id], "metrics.acc >= 0.1", order_by=["metrics.acc DESC"], page_token=first.token)
    assert [r.info.run_name for r in rest] == ["r2", "r1"] and rest.token is None
    assert [r.info.run_name for r in mlscope.search_runs(order_by=["metrics.acc"], output_format="list")] == [f"r{i}" for i in range(5)]


def test_experiments_are_created_renamed_tagged_deleted_and_restored(remote: Any) -> None:
    client = mlscope.MlflowClient()
    experiment_id = client.create_experiment("exp-lifecycle-" + fluent.active_experiment_id(), tags={"a": "1"})
    client.rename_experiment(experiment_id, "renamed-" + experiment_id)
    client.set_experiment_tag(experiment_id, "b", "2")
    client.delete_experiment_tag(experiment_id, "a")
    assert remote.get_experiment(experiment_id).tags == {"b": "2"}
    client.delete_experiment(experiment_id)
    deleted = client.search_experiments(view_type=mlscope.entities.ViewType.DELETED_ONLY, filter_string=f"name = 'renamed-{experiment_id}'")
    assert [e.experiment_id for e in deleted] == [experiment_id]
    client.restore_experiment(experiment_id)
    assert mlscope.get_experiment_by_name(f"renamed-{experiment_id}").lifecycle_stage == "active"


def test_runs_are_renamed_ended_deleted_and_restored(remote: Any) -> None:
    client = mlscope.MlflowClient()
    run_id = client.create_run(fluent.active_experiment_id(), run_name="before").info.run_id
    client.update_run(run_id, name="after")
    client.set_terminated(run_id, "KILLED", end_time=12345)
    client.delete_run(run_id)
    assert remote.get_run(run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run_id)
    info = remote.get_run(run_id).info
    assert (info.run_name, info.status, info.end_time, info.lifecycle_stage) == ("after", "KILLED", 12345, "active")


def test_log_table_appends_over_rest(remote: Any, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    with mlscope.start_run() as run:
        mlscope.log_table({"q": ["a"], "score": [0.5]}, "eval.json")
        mlscope.log_table({"q": ["b"], "score": [0.75]}, "eval.json")
    table = pd.read_json(remote.download_artifacts(run.info.run_id, "eval.json", str(tmp_path)), orient="split")
    assert table.to_dict("list") == {"q": ["a", "b"], "score": [0.5, 0.75]}
    assert mlscope.load_table("eval.json", extra_columns=["run_id"]).to_dict("list") == {"q": ["a", "b"], "score": [0.5, 0.75], "run_id": [run.info.run_id] * 2}
