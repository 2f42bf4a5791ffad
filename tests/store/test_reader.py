"""The reader returns what MLflow's FileStore returns on trees MLflow wrote."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from mlscope.store import metric_files, reader
from tests.reference_trees import file_store


@pytest.fixture(scope="module")
def tree(reference_tree: tuple[Path, dict[str, Any]]) -> tuple[Path, dict[str, Any], Any]:
    root, ids = reference_tree
    return root, ids, file_store(root)


def read_all(root: Path) -> dict[str, Any]:
    active, trashed = reader.experiment_dirs(root)
    runs = {}
    experiments = {}
    for exp_dir in active + trashed:
        experiment = reader.read_experiment(exp_dir)
        experiments[experiment.experiment_id] = experiment
        for run_dir in reader.run_dirs(exp_dir):
            run = reader.read_run(run_dir, experiment)
            runs[run.run_id] = run
    return {"experiments": experiments, "runs": runs}


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_experiments_match_file_store(tree):
    root, _, store = tree
    ours = read_all(root)["experiments"]
    theirs = store.search_experiments(view_type=3, max_results=1000)
    assert {e.experiment_id for e in theirs} == set(ours)
    for exp in theirs:
        mine = ours[exp.experiment_id]
        assert (mine.name, mine.lifecycle_stage, mine.artifact_location) == (exp.name, exp.lifecycle_stage, exp.artifact_location)
        assert (mine.creation_time, mine.last_update_time) == (exp.creation_time, exp.last_update_time)
        assert mine.tags == exp.tags


def test_runs_match_file_store(tree):
    root, ids, store = tree
    ours = read_all(root)["runs"]
    for run_id in ids["runs"].values():
        theirs = store.get_run(run_id)
        mine = ours[run_id]
        for field in ("run_id", "experiment_id", "run_name", "user_id", "status", "start_time", "end_time", "lifecycle_stage", "artifact_uri"):
            assert getattr(mine.info, field) == getattr(theirs.info, field), field
        assert mine.params == theirs.data.params
        assert mine.tags == theirs.data.tags
        assert set(mine.metrics) == set(theirs.data.metrics)
        for key, value in theirs.data.metrics.items():
            assert same_float(mine.metrics[key].value, value), key


def test_latest_metric_is_max_by_step_not_last_line(tree):
    root, ids, _ = tree
    run = read_all(root)["runs"][ids["runs"]["parent"]]
    assert run.metrics["out_of_order"].step == 5
    assert run.metrics["out_of_order"].value == 5.0


def test_histories_match_file_store(tree):
    root, ids, store = tree
    runs = read_all(root)["runs"]
    for run_id in (ids["runs"]["parent"], ids["runs"]["child"]):
        for key in runs[run_id].metrics:
            theirs = [(m.timestamp, m.value, m.step) for m in store.get_metric_history(run_id, key)]
            mine = [(m.timestamp, m.value, m.step) for m in metric_files.read_metric_history(runs[run_id].path, key)]
            assert len(mine) == len(theirs)
            for a, b in zip(mine, theirs, strict=True):
                assert a[0] == b[0] and a[2] == b[2] and same_float(a[1], b[1])


def test_nested_keys_are_read_from_subfolders(tree):
    root, ids, _ = tree
    run = read_all(root)["runs"][ids["runs"]["parent"]]
    assert run.params["model/depth"] == "12"
    assert "train/loss" in run.metrics


def test_dataset_inputs_are_read(tree):
    root, ids, store = tree
    run = read_all(root)["runs"][ids["runs"]["parent"]]
    theirs = store.get_run(ids["runs"]["parent"]).inputs.dataset_inputs
    assert [(d.name, d.digest, d.context) for d in run.dataset_inputs] == [
        (d.dataset.name, d.dataset.digest, {t.key: t.value for t in d.tags}.get("mlflow.data.context")) for d in theirs
    ]


def test_logged_models_are_read(tree):
    root, ids, _ = tree
    exp_dir = root / ids["experiment"]
    models = reader.read_logged_models(exp_dir)
    assert [(m.model_id, m.name, m.source_run_id, m.params) for m in models] == [
        (ids["logged_model"], "mymodel", ids["runs"]["parent"], {"alpha": "0.5"})
    ]


def test_deleted_experiment_is_read_from_trash(tree):
    root, ids, _ = tree
    experiments = read_all(root)["experiments"]
    assert experiments[ids["deleted_experiment"]].lifecycle_stage == "deleted"
    assert experiments[ids["deleted_experiment"]].path.parent.name == ".trash"


def test_dataset_inputs_come_in_the_order_file_store_lists_them(tmp_path: Path) -> None:
    from mlflow.entities import Dataset, DatasetInput, InputTag

    store = file_store(tmp_path / "mlruns")
    experiment_id = store.create_experiment("inputs-order")
    run = store.create_run(experiment_id, "u", 0, [], "r")
    datasets = [DatasetInput(Dataset(f"ds-{i}", f"d{i:03d}", "local", f"/data/{i}"), [InputTag("mlflow.data.context", "train")]) for i in range(12)]
    store.log_inputs(run.info.run_id, datasets=datasets)
    experiment = reader.read_experiment(tmp_path / "mlruns" / experiment_id)
    ours = reader.read_run(tmp_path / "mlruns" / experiment_id / run.info.run_id, experiment).dataset_inputs
    theirs = store.get_run(run.info.run_id).inputs.dataset_inputs
    assert [d.name for d in ours] == [d.dataset.name for d in theirs]


def test_an_experiment_in_trash_is_deleted_whatever_its_meta_yaml_says(tmp_path: Path) -> None:
    """MLflow <= 2.1 moved deleted experiments to .trash and left lifecycle_stage: active in meta.yaml."""
    import yaml

    store = file_store(tmp_path / "mlruns")
    experiment_id = store.create_experiment("old-delete")
    store.delete_experiment(experiment_id)
    meta_path = tmp_path / "mlruns" / ".trash" / experiment_id / "meta.yaml"
    meta_path.write_text(yaml.safe_dump({**yaml.safe_load(meta_path.read_text()), "lifecycle_stage": "active"}))
    assert reader.read_experiment(meta_path.parent).lifecycle_stage == "deleted"
