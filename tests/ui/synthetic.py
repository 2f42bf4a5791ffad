"""A small synthetic mlruns writer for UI tests that need many runs (10,000 in seconds).

It writes the file layout MLflow's FileStore writes (meta.yaml, params/, metrics/, tags/)
directly, with MLflow-style generated names, nested runs and every status, so the
runs table can be exercised at a size MLflow's client would take minutes to write.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path

from mlscope.names import generate_run_name

T0 = 1_790_000_000_000
STATUSES = (3, 3, 3, 3, 1, 4, 5)  # mostly FINISHED; RUNNING, FAILED, KILLED too (MLflow's ints)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_experiment(root: Path, experiment_id: str, name: str) -> Path:
    exp_dir = root / experiment_id
    _write(
        exp_dir / "meta.yaml",
        f"artifact_location: {(exp_dir).resolve().as_uri()}\ncreation_time: {T0}\nexperiment_id: '{experiment_id}'\n"
        f"last_update_time: {T0}\nlifecycle_stage: active\nname: {name}\n",
    )
    return exp_dir


def write_run(
    exp_dir: Path, run_id: str, name: str, start: int, status: int, params: dict[str, str],
    metrics: dict[str, list[float]], tags: dict[str, str],
) -> None:
    run_dir = exp_dir / run_id
    end = "null" if status == 1 else str(start + 60_000)
    _write(
        run_dir / "meta.yaml",
        f"artifact_uri: {(run_dir / 'artifacts').resolve().as_uri()}\nend_time: {end}\nentry_point_name: ''\n"
        f"experiment_id: '{exp_dir.name}'\nlifecycle_stage: active\nrun_id: {run_id}\nrun_name: {name}\n"
        f"run_uuid: {run_id}\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: {start}\n"
        f"status: {status}\ntags: []\nuser_id: synth\n",
    )
    for key, value in params.items():
        _write(run_dir / "params" / key, value)
    for key, values in metrics.items():
        _write(run_dir / "metrics" / key, "".join(f"{start + i} {v} {i}\n" for i, v in enumerate(values)))
    for key, value in {"mlflow.runName": name, "mlflow.user": "synth", **tags}.items():
        _write(run_dir / "tags" / key, value)


def write_synthetic_tree(root: Path, runs: int, *, experiment_id: str = "1", seed: int = 7, children_every: int = 50) -> dict[str, object]:
    """One experiment of `runs` runs; every `children_every`-th run gets two child runs.

    Returns {"experiment": id, "run_ids": [...] newest first, "parents": {parent_id: [child ids]}}.
    """
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    exp_dir = write_experiment(root, experiment_id, "synthetic")
    run_ids: list[tuple[int, str]] = []
    parents: dict[str, list[str]] = {}
    written = 0
    i = 0
    while written < runs:
        run_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
        start = T0 + i * 1000
        params = {"lr": str(rng.choice([0.1, 0.01, 0.001])), "optimizer": rng.choice(["adam", "sgd"]), "seed": str(i)}
        metrics = {"loss": [round(rng.random(), 4) for _ in range(3)], "acc": [round(rng.random(), 4)]}
        write_run(exp_dir, run_id, generate_run_name(rng), start, rng.choice(STATUSES), params, metrics, {"index": str(i)})
        run_ids.append((start, run_id))
        written += 1
        if children_every and i % children_every == 0 and written + 2 <= runs:
            kids = []
            for c in range(2):
                child_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
                write_run(exp_dir, child_id, generate_run_name(rng), start + 100 + c, 3, {"lr": "0.5"}, {"loss": [0.5]},
                          {"mlflow.parentRunId": run_id, "index": f"{i}.{c}"})
                run_ids.append((start + 100 + c, child_id))
                kids.append(child_id)
                written += 1
            parents[run_id] = kids
        i += 1
    ordered = [rid for _, rid in sorted(run_ids, key=lambda t: (-t[0], t[1]))]
    return {"experiment": experiment_id, "run_ids": ordered, "parents": parents}
