"""Link datasets and logged models to a run as MLflow's FileStore does (``log_inputs``).

A dataset is registered once per experiment under ``datasets/<md5(name + digest)>/``;
each run that uses it gets ``inputs/<md5(dataset_id + run_id)>/meta.yaml`` naming it,
with the input's tags (``mlflow.data.context``). Both folders are built under a
temp name and renamed whole, so a reader never sees one half-written, and a
second writer of the same link loses the rename race harmlessly.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .atomic import dump_yaml, tmp_name
from .model import DatasetInput


def dataset_id(name: str, digest: str) -> str:
    return hashlib.md5(name.encode("utf-8") + digest.encode("utf-8"), usedforsecurity=False).hexdigest()


def input_id(source_id: str, run_id: str) -> str:
    return hashlib.md5(source_id.encode("utf-8") + run_id.encode("utf-8"), usedforsecurity=False).hexdigest()


def link_inputs(run_dir: Path, experiment_dir: Path, run_id: str, datasets: Iterable[DatasetInput], models: Iterable[str]) -> None:
    for dataset in datasets:
        source_id = dataset_id(dataset.name, dataset.digest)
        _create_once(experiment_dir / "datasets" / source_id, _dataset_meta(dataset))
        # FileStore writes the dataset id as destination_id too (its bug, kept so trees compare equal).
        link = {"source_type": "DATASET", "source_id": source_id, "destination_type": "RUN", "destination_id": source_id, "tags": dict(dataset.tags)}
        _create_once(run_dir / "inputs" / input_id(source_id, run_id), link)
    for model_id in models:
        link = {"source_type": "MODEL", "source_id": model_id, "destination_type": "RUN", "destination_id": model_id, "tags": {}}
        _create_once(run_dir / "inputs" / input_id(model_id, run_id), link)


def _dataset_meta(dataset: DatasetInput) -> dict[str, Any]:
    """MLflow's Dataset entity fields; an empty schema or profile is written as null, as MLflow writes None."""
    return {
        "digest": dataset.digest,
        "name": dataset.name,
        "profile": dataset.profile or None,
        "schema": dataset.schema or None,
        "source": dataset.source,
        "source_type": dataset.source_type,
    }


def _create_once(folder: Path, meta: dict[str, Any]) -> None:
    """``folder/meta.yaml`` unless the folder exists already (the first writer wins, as in FileStore)."""
    if folder.exists():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(folder.parent)
    tmp.mkdir()
    try:
        (tmp / "meta.yaml").write_bytes(dump_yaml(meta))
        os.rename(tmp, folder)
    except OSError:
        if not folder.exists():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
