"""Small hand-written mlruns trees, for malformed and edge cases MLflow itself never writes."""

from __future__ import annotations

import os
from pathlib import Path

import yaml


def write_experiment(root: Path, exp_id: str = "1", name: str = "exp", **extra: object) -> Path:
    exp_dir = root / exp_id
    exp_dir.mkdir(parents=True, exist_ok=True)
    meta = {"experiment_id": exp_id, "name": name, "artifact_location": (exp_dir).as_uri(), "lifecycle_stage": "active", **extra}
    (exp_dir / "meta.yaml").write_text(yaml.safe_dump(meta))
    return exp_dir


def write_run(exp_dir: Path, run_id: str, *, start: int = 1000, status: int | None = 3, name: str = "", legacy: bool = False,
              metrics: dict[str, str] | None = None, params: dict[str, str] | None = None, tags: dict[str, str] | None = None) -> Path:
    run_dir = exp_dir / run_id
    for sub in ("metrics", "params", "artifacts", "tags"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    meta: dict[str, object] = {
        "experiment_id": exp_dir.name,
        "start_time": start,
        "end_time": start + 10 if status not in (None, 1) else None,
        "lifecycle_stage": "active",
        "user_id": "tester",
        "artifact_uri": (run_dir / "artifacts").as_uri(),
    }
    if status is not None:
        meta["status"] = status
    if legacy:
        meta.update(run_uuid=run_id, name=name)
    else:
        meta.update(run_id=run_id, run_name=name)
    (run_dir / "meta.yaml").write_text(yaml.safe_dump(meta))
    for folder, values in (("metrics", metrics), ("params", params), ("tags", tags)):
        for key, value in (values or {}).items():
            path = run_dir / folder / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(value)
    return run_dir


def remove_deep(top: Path | bytes) -> None:
    """Delete a folder tree of any depth without recursion (shutil.rmtree and pytest's temp-folder cleanup recurse
    once per level); bytes paths reach names that are not valid UTF-8."""
    stack = [os.fsencode(top)]
    while stack:
        with os.scandir(stack[-1]) as scan:
            entries = list(scan)
        folders = [e.path for e in entries if e.is_dir(follow_symlinks=False)]
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False):
                os.unlink(entry.path)
        if folders:
            stack.extend(folders)
        else:
            os.rmdir(stack.pop())
