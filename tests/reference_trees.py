"""Trees written by MLflow itself (mlflow-skinny, FileStore) for tests to compare against.

Everything MLflow's file store can hold appears at least once: nested keys,
NaN/inf values, histories whose latest point is not the last line, legacy
and 3.x run fields, statuses, nested runs, deleted runs and experiments,
dataset inputs, a logged model, text/JSON/YAML artifacts.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")

T0 = 1_790_000_000_000  # a fixed epoch-ms origin so ordering by time is deterministic


def mlflow_client(root: Path) -> Any:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=root.resolve().as_uri())


def file_store(root: Path) -> Any:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow.store.tracking.file_store import FileStore

    return FileStore(str(root.resolve()))


def write_reference_tree(root: Path) -> dict[str, Any]:
    """Write the reference tree; returns ids by role (e.g. ids['runs']['parent'])."""
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

    root.mkdir(parents=True, exist_ok=True)
    client = mlflow_client(root)
    ids: dict[str, Any] = {"runs": {}}
    exp = client.create_experiment("demo-exp", tags={"team": "vision", "mlflow.note.content": "Demo **experiment**"})
    other = client.create_experiment("other-exp")
    gone = client.create_experiment("deleted-exp")
    ids.update(experiment=exp, other=other, deleted_experiment=gone)

    def run(name: str | None, experiment: str, start: int, **tags: str) -> str:
        created = client.create_run(experiment, start_time=T0 + start, tags=tags, run_name=name)
        return created.info.run_id

    parent = run("parent-sweep", exp, 1000, **{"mlflow.user": "alice", "mlflow.source.git.commit": "abc1234def"})
    client.log_batch(
        parent,
        params=[Param("lr", "0.01"), Param("batch_size", "32"), Param("optimizer", "adam"), Param("model/depth", "12")],
        tags=[RunTag("stage", "dev")],
        metrics=[Metric("loss", 1.0 / (s + 1), T0 + 2000 + s, s) for s in range(20)]
        + [Metric("acc", 0.5 + s / 100, T0 + 2000 + s, s) for s in range(20)]
        + [Metric("train/loss", 0.9 - s / 50, T0 + 2000 + s, s) for s in range(10)],
    )
    # Latest by (step, timestamp, value) is step 5 even though step 2 is written last.
    client.log_metric(parent, "out_of_order", 5.0, timestamp=T0 + 3000, step=5)
    client.log_metric(parent, "out_of_order", 2.0, timestamp=T0 + 3001, step=2)
    client.set_terminated(parent, "FINISHED", end_time=T0 + 9000)

    child = run(None, exp, 1500, **{"mlflow.parentRunId": parent, "mlflow.user": "alice"})
    client.log_batch(
        child,
        params=[Param("lr", "0.1"), Param("batch_size", "64"), Param("optimizer", "sgd")],
        metrics=[Metric("loss", v, T0 + 2100 + s, s) for s, v in enumerate([0.8, float("nan"), 0.4])]
        + [Metric("acc", 0.7, T0 + 2100, 0), Metric("peak", math.inf, T0 + 2100, 0), Metric("trough", -math.inf, T0 + 2100, 0)],
    )
    client.set_terminated(child, "FINISHED", end_time=T0 + 8000)

    failed = run("failed-run", exp, 2000, **{"mlflow.user": "bob", "mlflow.note.content": "It *broke*"})
    client.log_batch(failed, params=[Param("lr", "0.5"), Param("optimizer", "adam")], metrics=[Metric("loss", 3.5, T0 + 2200, 0)])
    client.set_terminated(failed, "FAILED", end_time=T0 + 2500)

    running = run("still-running", exp, 3000, **{"mlflow.user": "bob"})
    client.log_batch(running, params=[Param("lr", "0.001")], metrics=[Metric("loss", 0.3, T0 + 3100, s) for s in range(3)])

    killed = run("killed-run", exp, 2500)
    client.log_param(killed, "lr", "0.01")
    client.set_terminated(killed, "KILLED", end_time=T0 + 2600)

    deleted = run("deleted-run", exp, 2700)
    client.log_param(deleted, "lr", "0.2")
    client.delete_run(deleted)

    same_time_a = run("tie-a", other, 500)
    same_time_b = run("tie-b", other, 500)
    for rid in (same_time_a, same_time_b):
        client.log_metric(rid, "acc", 0.9, timestamp=T0 + 600, step=0)
        client.set_terminated(rid, "FINISHED", end_time=T0 + 700)

    dataset = Dataset(name="toy data", digest="cd5cd803", source_type="local", source='{"uri": "/tmp/toy.csv"}')
    client.log_inputs(parent, datasets=[DatasetInput(dataset, tags=[InputTag("mlflow.data.context", "training")])])

    client.log_text(parent, "hello from mlflow\n", "notes/hello.txt")
    client.log_dict(parent, {"lr": 0.01, "layers": [1, 2]}, "config.json")
    client.log_dict(parent, {"lr": 0.01}, "config.yaml")

    model = client.create_logged_model(exp, name="mymodel", source_run_id=parent, params={"alpha": "0.5"})
    ids["logged_model"] = model.model_id

    in_gone = run("in-deleted-exp", gone, 100)
    client.delete_experiment(gone)
    ids["runs"].update(
        parent=parent, child=child, failed=failed, running=running, killed=killed, deleted=deleted,
        tie_a=same_time_a, tie_b=same_time_b, in_deleted_experiment=in_gone,
    )
    return ids
