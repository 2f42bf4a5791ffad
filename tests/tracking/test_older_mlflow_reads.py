"""Trees mlscope writes open in older MLflow too: MLflow 2.1.1 (the tutorial's version) reads what 3.17.2 reads.

MLflow 1.x-2.x build a run from ``run_uuid`` in its meta.yaml (3.x dropped it), so mlscope
writes it; MLflow 3.17 ignores the extra field. MLflow 2.1.1 runs from its own venv
(tests/old_mlflow.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import mlscope
from tests.old_mlflow import old_mlflow_python, run_python

READER = """
import json, sys, logging
logging.disable(logging.CRITICAL)  # 2.1.1 logs the 2.4+ datasets/ folder as a malformed run; it reads on
from mlflow.tracking import MlflowClient
from mlflow.entities import ViewType
client = MlflowClient(tracking_uri=sys.argv[1])
found = []
for experiment in client.search_experiments(view_type=ViewType.ALL):
    for run in client.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL):
        history = {key: [[m.step, m.value] for m in client.get_metric_history(run.info.run_id, key)] for key in run.data.metrics}
        found.append([experiment.name, experiment.lifecycle_stage, run.info.run_id, run.info.run_name, run.info.status,
                      run.info.lifecycle_stage, run.data.params, run.data.tags, history])
print(json.dumps(sorted(found, key=str), sort_keys=True))
"""


@pytest.fixture(scope="module")
def old_python() -> Path:
    return old_mlflow_python("2.1.1")


def read_with(python: Path | str, root: Path) -> list[list[object]]:
    return json.loads(run_python(python, READER, root.resolve().as_uri()))  # type: ignore[no-any-return]


def test_mlflow_2_1_reads_a_tree_mlscope_wrote_as_mlflow_3_17_does(root: Path, tmp_path: Path, old_python: Path) -> None:
    mlscope.set_experiment("old-readers")
    with mlscope.start_run(run_name="parent") as parent:
        mlscope.log_params({"lr": 0.1, "nested/key": "x"})
        for step in range(3):
            mlscope.log_metric("loss", 1 / (step + 1), step=step)
        mlscope.set_tag("team", "vision")
        with mlscope.start_run(run_name="child", nested=True):
            mlscope.log_metric("acc", 0.5)
    with mlscope.start_run(run_name="gone") as gone:
        mlscope.log_param("x", 1)
    mlscope.delete_run(gone.info.run_id)
    old, new = read_with(old_python, root), read_with(sys.executable, root)
    assert old == new and len(old) == 3
    assert any(row[3] == "parent" and row[6] == {"lr": "0.1", "nested/key": "x"} for row in old)
    assert parent.info.run_id in {row[2] for row in old}


def test_a_run_mlflow_3_wrote_becomes_readable_by_mlflow_2_once_mlscope_updates_it(root: Path, old_python: Path, mlflow_client) -> None:
    theirs = mlflow_client(root)
    run = theirs.create_run(theirs.create_experiment("from-mlflow-3"), run_name="r3")
    mlscope.MlflowClient(str(root)).set_terminated(run.info.run_id, "FINISHED")
    assert [row[3:5] for row in read_with(old_python, root)] == [["r3", "FINISHED"]]
