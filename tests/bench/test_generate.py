"""The synthetic generator writes trees that MLflow's own FileStore and mlscope's reader read completely."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest

from bench import generate
from mlscope.index import RunIndex
from tests.reference_trees import file_store, mlflow_client

RUNS = 300


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "mlruns"
    generate.generate(root, RUNS, experiments=3, steps=8, seed=7)
    return root


@pytest.fixture(scope="module")
def mlflow_runs(tree: Path) -> dict[str, Any]:
    """Every run as MLflow's FileStore returns it, deleted ones included."""
    from mlflow.entities import ViewType

    store = file_store(tree)
    ids = [e.experiment_id for e in store.search_experiments(view_type=ViewType.ALL)]
    runs = store.search_runs(ids, "", ViewType.ALL, max_results=50_000)
    return {run.info.run_id: run for run in runs}


def run_dirs(tree: Path) -> list[Path]:
    return sorted(meta.parent for meta in tree.glob("*/*/meta.yaml") if meta.parent.name not in ("tags", "datasets"))


def files_under(folder: Path) -> dict[str, str]:
    """{key: content} of a params/, tags/ or metrics/ folder, '/' in keys for subfolders."""
    return {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*") if p.is_file()}


def test_mlflow_filestore_lists_every_generated_run(tree: Path, mlflow_runs: dict[str, Any]) -> None:
    assert len(run_dirs(tree)) == RUNS
    assert sorted(mlflow_runs) == sorted(d.name for d in run_dirs(tree))


def test_mlflow_filestore_reads_every_param_and_tag_as_written(tree: Path, mlflow_runs: dict[str, Any]) -> None:
    for run_dir in run_dirs(tree):
        run = mlflow_runs[run_dir.name]
        assert run.data.params == files_under(run_dir / "params")
        assert run.data.tags == files_under(run_dir / "tags")


def test_mlflow_filestore_reads_every_metric_point(tree: Path) -> None:
    store = file_store(tree)
    for run_dir in run_dirs(tree)[:60]:
        for key, text in files_under(run_dir / "metrics").items():
            lines = text.splitlines()
            history = store.get_metric_history(run_dir.name, key)
            assert len(history) == len(lines)
            assert [repr(m.value) for m in history] == [line.split()[1] for line in lines]


def test_mlflow_and_mlscope_agree_on_every_run(tree: Path, mlflow_runs: dict[str, Any]) -> None:
    index = RunIndex(tree)
    index.build()
    assert index.problems() == []
    ours = {run.info.run_id: run for run in index.runs()}
    assert sorted(ours) == sorted(mlflow_runs)
    for run_id, theirs in mlflow_runs.items():
        run = ours[run_id]
        assert (run.info.status, run.info.start_time, run.info.end_time, run.info.lifecycle_stage, run.info.run_name) == (
            theirs.info.status, theirs.info.start_time, theirs.info.end_time, theirs.info.lifecycle_stage, theirs.info.run_name)
        assert run.params == theirs.data.params
        assert run.tags == theirs.data.tags
        latest = {k: m.value for k, m in run.metrics.items()}
        assert latest.keys() == theirs.data.metrics.keys()
        for key, value in theirs.data.metrics.items():
            assert latest[key] == value or (math.isnan(latest[key]) and math.isnan(value))
        assert [d.dataset.name for d in theirs.inputs.dataset_inputs] == [d.name for d in run.dataset_inputs]


def test_run_meta_yaml_is_byte_identical_to_mlflows(tmp_path: Path) -> None:
    client = mlflow_client(tmp_path / "mlruns")
    experiment_id = client.create_experiment("exp")
    created = client.create_run(experiment_id, start_time=1_780_000_000_000, run_name="brave-owl-12", tags={"mlflow.user": "alice"})
    run_id = created.info.run_id
    client.set_terminated(run_id, "FAILED", end_time=1_780_000_009_000)
    run_dir = tmp_path / "mlruns" / experiment_id / run_id
    ours = generate.run_meta(run_id, experiment_id, created.info.artifact_uri, "brave-owl-12", "alice", "FAILED",
                             1_780_000_000_000, 1_780_000_009_000)
    assert generate.dump_yaml(ours) == (run_dir / "meta.yaml").read_text()


def test_deleted_run_meta_yaml_is_byte_identical_to_mlflows(tmp_path: Path) -> None:
    import yaml

    client = mlflow_client(tmp_path / "mlruns")
    experiment_id = client.create_experiment("exp")
    created = client.create_run(experiment_id, start_time=1_780_000_000_000, run_name="calm-cat-1", tags={"mlflow.user": "bob"})
    client.delete_run(created.info.run_id)
    text = (tmp_path / "mlruns" / experiment_id / created.info.run_id / "meta.yaml").read_text()
    deleted_time = yaml.safe_load(text)["deleted_time"]
    ours = generate.run_meta(created.info.run_id, experiment_id, created.info.artifact_uri, "calm-cat-1", "bob", "RUNNING",
                             1_780_000_000_000, None, deleted_time=deleted_time)
    assert generate.dump_yaml(ours) == text


def test_experiment_meta_yaml_is_byte_identical_to_mlflows(tmp_path: Path) -> None:
    import yaml

    client = mlflow_client(tmp_path / "mlruns")
    experiment_id = client.create_experiment("resnet-sweep")
    text = (tmp_path / "mlruns" / experiment_id / "meta.yaml").read_text()
    written = yaml.safe_load(text)
    ours = generate.experiment_meta(experiment_id, "resnet-sweep", written["artifact_location"], written["creation_time"])
    assert generate.dump_yaml(ours) == text


def test_tree_mixes_statuses_nested_runs_and_nested_metric_keys(tree: Path, mlflow_runs: dict[str, Any]) -> None:
    statuses = {run.info.status for run in mlflow_runs.values()}
    assert {"FINISHED", "FAILED", "KILLED", "RUNNING"} <= statuses
    assert any(run.info.lifecycle_stage == "deleted" for run in mlflow_runs.values())
    children = [run for run in mlflow_runs.values() if "mlflow.parentRunId" in run.data.tags]
    assert children
    for child in children:
        parent = mlflow_runs[child.data.tags["mlflow.parentRunId"]]
        assert parent.info.experiment_id == child.info.experiment_id
        assert parent.info.start_time < child.info.start_time
    keys = {key for run in mlflow_runs.values() for key in run.data.metrics}
    assert {"train/loss", "system/cpu_utilization_percentage"} <= keys
    assert any(math.isnan(run.data.metrics.get("loss", 0.0)) for run in mlflow_runs.values())
    assert (tree / "0" / "meta.yaml").is_file()


def test_same_seed_writes_the_same_tree(tmp_path: Path) -> None:
    def snapshot(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): p.read_text().replace(root.resolve().as_uri(), "ROOT") for p in root.rglob("*") if p.is_file()}

    generate.generate(tmp_path / "a", 25, experiments=2, steps=5, seed=3)
    generate.generate(tmp_path / "b", 25, experiments=2, steps=5, seed=3)
    generate.generate(tmp_path / "c", 25, experiments=2, steps=5, seed=4)
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")
    assert snapshot(tmp_path / "a") != snapshot(tmp_path / "c")


def test_cli_writes_a_tree_and_refuses_a_non_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    assert generate.main([str(out), "--runs", "12", "--experiments", "2", "--steps", "4"]) == 0
    assert len([d for d in run_dirs(out)]) == 12
    assert "wrote 12 runs in 2 experiments" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        generate.main([str(out), "--runs", "12"])
    assert refused.value.code == 2
    assert "not empty" in capsys.readouterr().err
    assert os.listdir(out)
