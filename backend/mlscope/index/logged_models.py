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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..search.logged_models import search_logged_models
from ..store import reader
from ..store.interface import RunSource
from ..store.model import DELETED, LoggedModel
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


def live_logged_models(index: RunSource, experiment_ids: Sequence[str]) -> list[LoggedModel]:
    """The live models of these experiments, as FileStore._list_models lists them (blocking: off the event loop)."""
    found: list[LoggedModel] = []
    for experiment_id in experiment_ids:
        experiment = index.experiment(experiment_id)
        if experiment is not None:
            models = logged_models_of(experiment.path).values()
            found.extend(m for m in models if m.lifecycle_stage != DELETED and m.experiment_id == experiment.experiment_id)
    return found


def find_logged_model(index: RunSource, model_id: str) -> LoggedModel | None:
    """A live model by id, in any experiment (blocking: off the event loop)."""
    for model in live_logged_models(index, [e.experiment_id for e in index.experiments()]):
        if model.model_id == model_id:
            return model
    return None


def search_logged_models_in(
    index: RunSource, experiment_ids: Sequence[str], filter_string: str | None, datasets: Any, order_by: Any, offset: int, max_results: int
) -> tuple[list[LoggedModel], bool]:
    """logged-models/search on either store: one page (offset, max_results) and whether more follow (blocking).

    A SQL store searches its database as SqlAlchemyStore does (store/sql/model_search.py); a tree is searched as
    FileStore does, over the cached models (search/logged_models.py). Each raises a 400 error for what its MLflow
    store refuses.
    """
    in_database = getattr(index, "search_logged_models", None)
    if in_database is not None:
        found, more = in_database(experiment_ids, filter_string, datasets, order_by, offset, max_results)
        return found, more
    index.wait_listed()
    return search_logged_models(live_logged_models(index, experiment_ids), filter_string, datasets, order_by, offset, max_results)
