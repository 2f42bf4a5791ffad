"""Trees older MLflow wrote read through mlscope's REST API as MLflow's own FileStore reads them.

MLflow <= 2.1 deleted an experiment by moving it to ``.trash/`` and left
``lifecycle_stage: active`` in its meta.yaml: the folder decides (1.30's
FileStore says deleted; 3.17's lists it only under DELETED_ONLY). MLflow
1.30.1 runs from its own venv (tests/old_mlflow.py).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import LiveServer
from tests.old_mlflow import old_mlflow_python, run_python
from tests.reference_trees import file_store

WRITER = """
import os, sys
from mlflow.tracking import MlflowClient
from mlflow.entities import Metric, Param, RunTag
root, files = sys.argv[1], sys.argv[2]
client = MlflowClient(tracking_uri="file://" + os.path.abspath(root))
kept = client.create_experiment("kept", tags={"team": "a"})
gone = client.create_experiment("gone")
run = client.create_run(kept, tags={"mlflow.runName": "first"})
client.log_param(run.info.run_id, "lr", "0.1")
client.log_batch(run.info.run_id, metrics=[Metric("loss", 1.0 / (i + 1), 1700000000000 + i, i) for i in range(5)],
                 params=[Param("depth", "3")], tags=[RunTag("team", "vision")])
client.log_metric(run.info.run_id, "nan", float("nan"))
client.log_metric(run.info.run_id, "nested/acc", 0.5, step=2 ** 40)
client.log_artifacts(run.info.run_id, files, "files")
client.set_terminated(run.info.run_id)
client.delete_run(client.create_run(kept, tags={"mlflow.runName": "deleted-run"}).info.run_id)
client.log_metric(client.create_run(gone, tags={"mlflow.runName": "in-trash"}).info.run_id, "m", 2.0)
client.delete_experiment(gone)
"""

READER = """
import json, logging, math, os, sys
logging.disable(logging.CRITICAL)
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
from mlflow.tracking import MlflowClient
from mlflow.entities import ViewType
client = MlflowClient(tracking_uri=sys.argv[1])
def number(x):
    return repr(x) if isinstance(x, float) and not math.isfinite(x) else x
def listing(run_id, path=None):
    found = []
    for f in client.list_artifacts(run_id, path):
        found.append([f.path, f.is_dir, f.file_size])
        if f.is_dir:
            found.extend(listing(run_id, f.path))
    return found
out = {"views": {}, "runs": []}
for view in ("ACTIVE_ONLY", "DELETED_ONLY", "ALL"):
    found = client.search_experiments(view_type=getattr(ViewType, view))
    out["views"][view] = sorted([e.experiment_id, e.name, e.lifecycle_stage, e.tags] for e in found)
for experiment in client.search_experiments(view_type=ViewType.ALL):
    for run in client.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL):
        history = {k: [[m.step, number(m.value), m.timestamp] for m in client.get_metric_history(run.info.run_id, k)] for k in run.data.metrics}
        out["runs"].append([experiment.name, run.info.run_id, run.info.run_name, run.info.status, run.info.lifecycle_stage,
                            run.info.start_time, run.info.end_time, run.data.params, run.data.tags,
                            {k: number(v) for k, v in run.data.metrics.items()}, history, listing(run.info.run_id)])
out["runs"].sort(key=str)
print(json.dumps(out, sort_keys=True))
"""


@pytest.fixture(scope="module")
def old_python() -> Path:
    return old_mlflow_python("1.30.1")


@pytest.fixture(scope="module")
def tree_130(old_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LiveServer]]:
    """A tree MLflow 1.30.1 wrote (runs, a deleted run, an experiment in .trash, artifacts), served by mlscope."""
    base = tmp_path_factory.mktemp("mlflow-1.30.1")
    files = base / "files"
    (files / "sub").mkdir(parents=True)
    (files / "a.txt").write_text("hello")
    (files / "sub" / "b.json").write_text('{"b": 1}')
    run_python(old_python, WRITER, str(base / "mlruns"), str(files))
    server = LiveServer(base / "mlruns").start()
    try:
        yield base / "mlruns", server
    finally:
        server.stop()


def read(python: Path | str, uri: str) -> dict[str, Any]:
    return json.loads(run_python(python, READER, uri))  # type: ignore[no-any-return]


def test_the_tree_is_as_the_old_mlflow_left_it(tree_130: tuple[Path, LiveServer]) -> None:
    root, _ = tree_130
    (trashed,) = (root / ".trash").iterdir()
    assert yaml.safe_load((trashed / "meta.yaml").read_text())["lifecycle_stage"] == "active"


def test_mlflow_3_client_through_mlscope_reads_what_mlflow_1_30_reads(tree_130: tuple[Path, LiveServer], old_python: Path) -> None:
    root, server = tree_130
    ours = read(sys.executable, server.url)
    theirs = read(old_python, root.resolve().as_uri())
    assert ours == theirs
    assert len(ours["runs"]) == 3 and ours["views"]["DELETED_ONLY"][0][1:3] == ["gone", "deleted"]


def test_an_experiment_in_trash_is_listed_only_as_deleted_as_mlflow_3_file_store_lists_it(tree_130: tuple[Path, LiveServer]) -> None:
    """MLflow 3.17's FileStore picks by folder too (its entity still shows meta.yaml's stale 'active')."""
    root, server = tree_130
    ours = read(sys.executable, server.url)
    store = file_store(root)
    from mlflow.entities import ViewType

    for view in ("ACTIVE_ONLY", "DELETED_ONLY"):
        theirs = sorted(e.experiment_id for e in store.search_experiments(view_type=getattr(ViewType, view)))
        assert [row[0] for row in ours["views"][view]] == theirs
