"""Small trees written by MLflow's FileStore for the editing tests, and reading them back with it (the oracle)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")


def file_store(root: Path) -> Any:
    from mlflow.store.tracking.file_store import FileStore

    return FileStore(str(root))


def write_editing_tree(root: Path, runs: int = 3) -> dict[str, Any]:
    """Experiment "vision" with `runs` runs (run-0, run-1, …; run-0 has a user tag and a system tag) and "speech"."""
    store = file_store(root)
    vision = store.create_experiment("vision")
    store.create_experiment("speech")
    run_ids = []
    for i in range(runs):
        run = store.create_run(vision, "alice", 1_700_000_000_000 + i, [], f"run-{i}")
        run_ids.append(run.info.run_id)
    from mlflow.entities import RunTag

    store.set_tag(run_ids[0], RunTag("team", "cv"))
    store.set_tag(run_ids[0], RunTag("mlflow.source.name", "train.py"))
    return {"vision": vision, "runs": run_ids}
