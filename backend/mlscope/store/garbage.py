"""Permanent removal of deleted runs and experiments (``mlscope gc``, MLflow's ``mlflow gc``).

Deletes in the dashboard and the REST API are soft: a run's ``lifecycle_stage``
becomes ``deleted`` and an experiment moves to ``.trash/``, so restore always
works. Only this module removes data, and only what is already deleted: it
refuses an active run or experiment by id and never selects one by itself.

Each folder is first renamed to a hidden ``.mlscope-gc-*`` name beside it (one
atomic step, after which readers no longer see it) and then removed, so an
interrupted collection never leaves a half-deleted run in view.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from .atomic import now_ms
from .errors import StoreError
from .model import DELETED, Experiment, RunInfo
from .paths import NotLocalError, local_path
from .reader import experiment_dirs, read_experiment, read_run_info, run_dirs

_OLDER_THAN = re.compile(r"^((?P<days>[.\d]+?)d)?((?P<hours>[.\d]+?)h)?((?P<minutes>[.\d]+?)m)?((?P<seconds>[.\d]+?)s)?$")
GC_PREFIX = ".mlscope-gc-"


def parse_older_than(text: str) -> int:
    """MLflow's --older-than syntax ('30d', '2d8h5m20s', '1.5h') in milliseconds."""
    found = _OLDER_THAN.match(text)
    if not text or found is None:
        raise StoreError(f"Could not parse any time information from '{text}'. Examples of valid strings: '8h', '2d8h5m20s', '2m4s'")
    parts = {name: float(value) for name, value in found.groupdict().items() if value}
    return int(timedelta(**parts).total_seconds() * 1000)


@dataclass(frozen=True)
class DoomedRun:
    info: RunInfo
    folder: Path
    artifact_folder: Path | None  # artifacts kept outside the run folder (a moved or custom artifact_uri)


@dataclass
class GcPlan:
    """What one collection removes; a dry run prints it and stops."""

    runs: list[DoomedRun] = field(default_factory=list)
    experiments: list[Experiment] = field(default_factory=list)


def _runs_of(exp_dir: Path, experiment_id: str) -> Iterable[tuple[RunInfo, Path]]:
    for folder in run_dirs(exp_dir):
        try:
            yield read_run_info(folder, experiment_id), folder
        except (OSError, StoreError, ValueError):
            continue  # a damaged folder is not ours to remove


def _outside_artifacts(info: RunInfo, folder: Path) -> Path | None:
    """A local artifact folder outside the run folder, only when it is plainly this run's (…/<run_id>/artifacts)."""
    try:
        path = local_path(info.artifact_uri) if info.artifact_uri else None
    except NotLocalError:
        return None
    if path is None or path.is_relative_to(folder) or path.name != "artifacts" or path.parent.name != info.run_id:
        return None
    return path if path.is_dir() else None


def plan_gc(
    root: Path,
    *,
    older_than_ms: int | None = None,
    experiment_ids: list[str] | None = None,
    run_ids: list[str] | None = None,
    now: int | None = None,
) -> GcPlan:
    """Choose what to remove, with MLflow's rules; raises StoreError for an id that is active, too young or unknown."""
    threshold = (now if now is not None else now_ms()) - (older_than_ms or 0)
    active_dirs, trashed_dirs = experiment_dirs(root)
    experiments: dict[str, Experiment] = {}
    for exp_dir in [*active_dirs, *trashed_dirs]:
        try:
            experiment = read_experiment(exp_dir)
        except (OSError, StoreError, ValueError):
            continue
        deleted = exp_dir.parent.name == ".trash" or experiment.lifecycle_stage == DELETED
        experiments[experiment.experiment_id] = experiment if not deleted else _as_deleted(experiment)
    runs = {info.run_id: (info, folder) for e in experiments.values() for info, folder in _runs_of(e.path, e.experiment_id)}

    def old_enough_run(info: RunInfo) -> bool:
        return older_than_ms is None or (info.deleted_time is not None and info.deleted_time < threshold)

    if run_ids is not None:
        for run_id in run_ids:
            if run_id not in runs:
                raise StoreError(f"Run '{run_id}' not found")
            info = runs[run_id][0]
            if info.lifecycle_stage != DELETED:
                raise StoreError(f"Run {run_id} is not in `deleted` lifecycle stage. Only runs in `deleted` lifecycle stage can be deleted.")
            if not old_enough_run(info):
                raise StoreError(f"Run {run_id} is not older than the required age. Only runs older than the given --older-than can be deleted.")
        chosen_runs = list(dict.fromkeys(run_ids))
    else:
        chosen_runs = [run_id for run_id, (info, _) in runs.items() if info.lifecycle_stage == DELETED and old_enough_run(info)]

    def old_enough_experiment(e: Experiment) -> bool:
        return older_than_ms is None or (e.last_update_time is not None and e.last_update_time < threshold)

    if experiment_ids is not None:
        for experiment_id in experiment_ids:
            if experiment_id not in experiments:
                raise StoreError(f"Could not find experiment with ID {experiment_id}")
            experiment = experiments[experiment_id]
            if experiment.lifecycle_stage != DELETED:
                raise StoreError(f"Experiments ['{experiment_id}'] are not in the deleted lifecycle stage. Only experiments in the deleted lifecycle stage can be hard-deleted.")
            if not old_enough_experiment(experiment):
                raise StoreError(f"Experiments ['{experiment_id}'] are not older than the required age.")
        chosen_experiments = [experiments[i] for i in dict.fromkeys(experiment_ids)]
    elif run_ids is None:
        chosen_experiments = [e for e in experiments.values() if e.lifecycle_stage == DELETED and old_enough_experiment(e)]
    else:
        chosen_experiments = []
    for experiment in chosen_experiments:  # their runs go with them
        chosen_runs += [info.run_id for info, _ in _runs_of(experiment.path, experiment.experiment_id) if info.run_id not in chosen_runs]
    plan = GcPlan(experiments=chosen_experiments)
    for run_id in chosen_runs:
        info, folder = runs[run_id]
        plan.runs.append(DoomedRun(info, folder, _outside_artifacts(info, folder)))
    return plan


def _as_deleted(experiment: Experiment) -> Experiment:
    from dataclasses import replace

    return replace(experiment, lifecycle_stage=DELETED)


def _remove(folder: Path) -> None:
    """Hide the folder in one rename, then delete it."""
    if not folder.exists():
        return
    hidden = folder.parent / f"{GC_PREFIX}{folder.name}-{uuid.uuid4().hex[:8]}"
    os.rename(folder, hidden)
    shutil.rmtree(hidden)


def apply_gc(plan: GcPlan) -> None:
    """Remove every run (folder and its artifacts) and experiment (its folder) in the plan."""
    for doomed in plan.runs:
        if doomed.artifact_folder is not None:
            _remove(doomed.artifact_folder)
        _remove(doomed.folder)
    for experiment in plan.experiments:
        _remove(experiment.path)
