"""A logged model's metrics read from the tree as MLflow's FileStore reads them (latest per key and dataset, with the run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlscope.store import reader
from tests.reference_trees import file_store


def _rows(metrics: Any) -> list[str]:
    return sorted(repr((m.key, m.value, m.step, m.timestamp, m.run_id, m.dataset_name, m.dataset_digest)) for m in metrics)


@pytest.fixture
def model_tree(tmp_path: Path) -> tuple[Path, Any, str, str]:
    """A tree where MLflow's FileStore logged metrics with a model_id: repeated keys, two datasets, NaN, inf."""
    from mlflow.entities import Metric

    root = tmp_path / "mlruns"
    store = file_store(root)
    experiment_id = store.create_experiment("models")
    run = store.create_run(experiment_id, "u", 0, [], "r")
    model = store.create_logged_model(experiment_id, name="clf", source_run_id=run.info.run_id)
    for key, value, step, dataset in [("acc", 0.5, 1, None), ("acc", 0.7, 2, None), ("acc", 0.2, 3, ("eval", "d1")),
                                      ("acc", 0.9, 1, ("eval", "d1")), ("loss", float("nan"), 4, None), ("loss", 0.3, 4, None),
                                      ("nested/key", float("inf"), 0, ("test", "d2"))]:
        name, digest = dataset or (None, None)
        store.log_metric(run.info.run_id, Metric(key, value, 1000 + step, step, model_id=model.model_id, dataset_name=name, dataset_digest=digest))
    return root, store, experiment_id, model.model_id


def _ours(root: Path, experiment_id: str, model_id: str) -> Any:
    (model,) = [m for m in reader.read_logged_models(root / experiment_id) if m.model_id == model_id]
    return model


def test_model_metrics_match_mlflows_file_store(model_tree: tuple[Path, Any, str, str]) -> None:
    root, store, experiment_id, model_id = model_tree
    ours = _ours(root, experiment_id, model_id).metrics
    assert _rows(ours) == _rows(store.get_logged_model(model_id).metrics)
    assert len(ours) == 4  # acc (no dataset), acc (eval), loss, nested/key


def test_a_torn_last_line_is_left_for_the_next_read(model_tree: tuple[Path, Any, str, str]) -> None:
    root, store, experiment_id, model_id = model_tree
    before = _rows(_ours(root, experiment_id, model_id).metrics)
    with open(root / experiment_id / "models" / model_id / "metrics" / "acc", "a") as handle:
        handle.write("1999 0.99 99 abc")  # a writer still appending: no newline yet
    assert _rows(_ours(root, experiment_id, model_id).metrics) == before


def test_unreadable_lines_are_skipped_not_fatal(model_tree: tuple[Path, Any, str, str]) -> None:
    root, _, experiment_id, model_id = model_tree
    with open(root / experiment_id / "models" / model_id / "metrics" / "acc", "a") as handle:
        handle.write("garbage line\n5000 0.1 500\n")  # 3 fields: written without a run id
    acc = [m for m in _ours(root, experiment_id, model_id).metrics if m.key == "acc" and m.dataset_name is None]
    assert [(m.value, m.step, m.run_id) for m in acc] == [(0.1, 500, None)]
