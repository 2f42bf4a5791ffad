"""MLflow 3 logged models of an experiment, re-read only when something under models/ moved.

The runs table, the run page, artifact requests and MLflow's logged-models
endpoints all ask for them, often once per request: one cached reader serves
them all. The signature is the models/ folder plus each model's meta.yaml and
metric files, so a new model, a status rewrite (PENDING -> READY) and a metric
logged with ``model_id`` are all seen.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ..store import reader
from ..store.model import LoggedModel
from ..store.paths import key_files
from .signatures import Signature, signature

_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[Signature, ...], dict[str, LoggedModel]]] = {}


def _models_signature(folder: Path) -> tuple[Signature, ...] | None:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return None
    found = [signature(folder)]
    for name in names:
        found.append(signature(folder / name / "meta.yaml"))
        found.extend(signature(path) for _, path in sorted(key_files(folder / name / "metrics")))  # appended metric points
    return tuple(found)


def logged_models_of(exp_dir: Path) -> dict[str, LoggedModel]:
    """An experiment's logged models by id (blocking: call off the event loop)."""
    from_store = getattr(exp_dir, "logged_models", None)  # a SQL store's experiment reads its own tables
    if from_store is not None:
        return from_store()
    stamp = _models_signature(exp_dir / "models")
    if stamp is None:
        return {}
    with _lock:
        cached = _cache.get(exp_dir)
        if cached and cached[0] == stamp:
            return cached[1]
    models = {m.model_id: m for m in reader.read_logged_models(exp_dir)}
    with _lock:
        _cache[exp_dir] = (stamp, models)
    return models


def forget_logged_models(exp_dir: Path) -> None:
    """Drop an experiment's cached models: a write through mlscope changed tags or params in place."""
    with _lock:
        _cache.pop(exp_dir, None)
