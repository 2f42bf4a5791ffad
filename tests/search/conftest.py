"""A reference mlruns tree written by MLflow's own FileStore, shared by the parity tests.

Built once per session: 2 experiments, 31 runs with missing params, keys with
dots/slashes/spaces, NaN/inf/negative metrics, multi-step metrics whose latest
value is not the last line, every status, equal start times, a deleted run and
dataset inputs with and without a context.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlscope.store.model import Experiment, Run
from mlscope.store.reader import read_experiment, read_run, run_dirs

STATUSES = ["RUNNING", "FINISHED", "FAILED", "KILLED", "FINISHED", "SCHEDULED"]
BASE_TIME = 1_700_000_000_000


@dataclass
class ReferenceTree:
    root: Path
    store: Any  # mlflow FileStore
    experiment_ids: list[str]
    runs: list[Run]
    experiments: list[Experiment]


def _populate(store: Any) -> list[str]:
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunStatus, RunTag

    exp_a = store.create_experiment("alpha", tags=[RunTag("team", "vision")])
    exp_b = store.create_experiment("beta-2", tags=[RunTag("team", "nlp"), RunTag("mlflow.note.content", "hi")])
    store.create_experiment("gamma")
    deleted_exp = store.create_experiment("old")
    store.delete_experiment(deleted_exp)
    datasets = [
        Dataset("train-set", "d1g35t01", "local", '{"uri": "/data/train"}'),
        Dataset("eval set", "d1g35t02", "local", '{"uri": "/data/eval"}'),
        Dataset("train-set", "d1g35t03", "local", '{"uri": "/data/train2"}'),
    ]
    for i in range(31):
        experiment_id = exp_a if i % 3 else exp_b
        start = BASE_TIME + (i // 4) * 1000 if i % 5 else BASE_TIME + 500  # repeats and identical start times
        user = ["alice", "bob", "Carol"][i % 3]
        name = f"run-{i:02d}" if i % 7 else ("Special Run" if i % 2 else "special_run")
        run = store.create_run(experiment_id, user, start, [RunTag("mlflow.user", user)], name)
        run_id = run.info.run_id
        metrics = [
            Metric("acc", round(0.5 + ((i * 37) % 23) / 50, 4), start + 1, 0),
            Metric("loss", [1.5, -2.0, 0.25, math.nan, math.inf, -math.inf, 0.0][i % 7], start + 2, 1),
            Metric("train/loss", float(i % 4), start + 3, 5),
            Metric("train/loss", 99.0, start + 4, 2),  # the last line, but not the latest (step 2 < 5)
            Metric("val acc", float((i * 13) % 10) / 10, start + 5, 0),
        ]
        if i % 4 == 0:
            metrics.append(Metric("f1", float(i) / 31, start + 6, 3))
        if i % 6 == 1:
            metrics.append(Metric("f1", math.nan, start + 7, 3))
        params = [Param("lr", ["0.1", "0.01", "0.001", "1e-3"][i % 4]), Param("model/depth", str(i % 5))]
        if i % 3 != 2:
            params.append(Param("opt.name", ["adam", "SGD", "AdamW"][i % 3]))
        if i % 5 == 0:
            params.append(Param("batch size", str(32 * (i % 3 + 1))))
        tags = [RunTag("stage", ["dev", "prod", "Dev"][i % 3])]
        if i % 2:
            tags.append(RunTag("note", f"note {i}"))
        store.log_batch(run_id, metrics=metrics, params=params, tags=tags)
        if i % 4 == 1:
            store.log_inputs(run_id, datasets=[DatasetInput(datasets[0], [InputTag("mlflow.data.context", "training")])])
        if i % 4 == 2:
            store.log_inputs(run_id, datasets=[DatasetInput(datasets[1], [InputTag("mlflow.data.context", "eval")]),
                                               DatasetInput(datasets[2])])
        status = STATUSES[i % len(STATUSES)]
        if status != "RUNNING":
            store.update_run_info(run_id, RunStatus.from_string(status), start + 10_000 + i, None)
        if i in (4, 17):
            store.delete_run(run_id)
    return [exp_a, exp_b]


@pytest.fixture(scope="session")
def search_tree(tmp_path_factory: pytest.TempPathFactory) -> ReferenceTree:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow.store.tracking.file_store import FileStore

    root = tmp_path_factory.mktemp("mlruns")
    store = FileStore(str(root))
    experiment_ids = _populate(store)
    runs: list[Run] = []
    experiments: list[Experiment] = []
    for exp_dir in sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit()):
        experiment = read_experiment(exp_dir)
        experiments.append(experiment)
        if experiment.experiment_id in experiment_ids:
            runs.extend(read_run(run_dir, experiment) for run_dir in run_dirs(exp_dir))
    trash = root / ".trash"
    experiments.extend(read_experiment(p) for p in trash.iterdir() if p.is_dir())
    return ReferenceTree(root, store, experiment_ids, runs, experiments)
