"""MLflow's own FileStore reads everything mlscope writes, and mlscope continues what MLflow wrote."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import mlscope
from mlscope import MlscopeClient
from mlscope.store import metric_files, reader

REPO = Path(__file__).resolve().parents[2]


def test_mlflow_reads_every_field_of_a_fluent_run(root: Path, mlflow_client, tmp_path: Path) -> None:
    experiment = mlscope.set_experiment("compat")
    with mlscope.start_run(run_name="parent", description="*md*") as parent:
        mlscope.log_params({"lr": 0.1, "opt": "adam"})
        for step in range(5):
            mlscope.log_metric("train/loss", 1 / (step + 1), step=step, timestamp=1000 + step)
        mlscope.log_metric("odd", float("nan"))
        mlscope.set_tag("team", "vision")
        (tmp_path / "a.txt").write_text("A")
        mlscope.log_artifact(tmp_path / "a.txt", "sub")
        with mlscope.start_run(run_name="child", nested=True) as child:
            mlscope.log_metric("x", 3)
    theirs = mlflow_client(root)
    got = theirs.get_experiment_by_name("compat")
    assert got.experiment_id == experiment.experiment_id and got.lifecycle_stage == "active"
    run = theirs.get_run(parent.info.run_id)
    assert run.info.run_name == "parent" and run.info.status == "FINISHED"
    assert run.info.start_time == parent.info.start_time and run.info.end_time is not None
    assert run.data.params == {"lr": "0.1", "opt": "adam"}
    assert run.data.tags["team"] == "vision" and run.data.tags["mlflow.note.content"] == "*md*"
    history = theirs.get_metric_history(parent.info.run_id, "train/loss")
    assert [(m.step, m.timestamp, m.value) for m in history] == [(s, 1000 + s, 1 / (s + 1)) for s in range(5)]
    assert math.isnan(run.data.metrics["odd"])
    assert [f.path for f in theirs.list_artifacts(parent.info.run_id, "sub")] == ["sub/a.txt"]
    child_run = theirs.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id and child_run.data.metrics == {"x": 3.0}


def test_mlflow_sees_deleted_and_restored_runs_and_experiments(root: Path, mlflow_client) -> None:
    client = MlscopeClient(str(root))
    experiment_id = client.create_experiment("to-delete")
    run_id = client.create_run(experiment_id).info.run_id
    client.delete_run(run_id)
    theirs = mlflow_client(root)
    assert theirs.get_run(run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run_id)
    client.delete_experiment(experiment_id)
    assert theirs.get_experiment(experiment_id).lifecycle_stage == "deleted"
    client.restore_experiment(experiment_id)
    assert theirs.get_experiment(experiment_id).lifecycle_stage == "active"
    assert theirs.get_run(run_id).info.lifecycle_stage == "active"


def test_mlscope_logs_into_a_run_mlflow_created(root: Path, mlflow_client) -> None:
    theirs = mlflow_client(root)
    experiment_id = theirs.create_experiment("made-by-mlflow")
    run = theirs.create_run(experiment_id, run_name="theirs")
    theirs.log_param(run.info.run_id, "a", "1")
    with mlscope.start_run(run_id=run.info.run_id):
        mlscope.log_param("b", 2)
        mlscope.log_metric("m", 0.5, step=1)
    back = theirs.get_run(run.info.run_id)
    assert back.data.params == {"a": "1", "b": "2"} and back.data.metrics == {"m": 0.5}
    assert back.info.status == "FINISHED" and back.info.run_name == "theirs"
    assert mlscope.get_experiment_by_name("made-by-mlflow").experiment_id == experiment_id


def test_the_quickstart_example_makes_a_run_both_tools_show(tmp_path: Path, mlflow_client) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    result = subprocess.run([sys.executable, str(REPO / "examples" / "mlflow_tracking.py")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    root = tmp_path / "mlruns"
    experiment = reader.read_experiment(root / "0")
    (run_dir,) = reader.run_dirs(root / "0")
    ours = reader.read_run(run_dir, experiment)
    assert ours.info.status == "FINISHED" and set(ours.params) == {"param1"}
    assert len(metric_files.read_metric_history(run_dir, "foo")) == 3
    theirs = mlflow_client(root)
    (run,) = theirs.search_runs(["0"])
    assert run.info.status == "FINISHED" and set(run.data.params) == {"param1"}
    assert len(theirs.get_metric_history(run.info.run_id, "foo")) == 3
    assert [f.path for f in theirs.list_artifacts(run.info.run_id)] == ["test.txt"]


def test_mlflow_reads_the_whole_demo_tree(tmp_path: Path, mlflow_client) -> None:
    from mlscope.demo import write_demo

    summary = write_demo(tmp_path / "demo")
    theirs = mlflow_client(tmp_path / "demo")
    statuses, total, points = set(), 0, 0
    for experiment in theirs.search_experiments():
        for run in theirs.search_runs([experiment.experiment_id], run_view_type=3):
            total += 1
            statuses.add(run.info.status)
            if "train/batch_loss" in run.data.metrics:
                points = len(theirs.get_metric_history(run.info.run_id, "train/batch_loss"))
    assert total == summary.runs >= 45
    assert {"FINISHED", "FAILED", "RUNNING", "KILLED"} <= statuses
    assert points == 10_000
