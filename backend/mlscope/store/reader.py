"""Read an mlruns tree: experiments, runs, params, tags, metrics, inputs.

Every function here is lenient about what MLflow 1.x-3.x wrote and strict
about what is broken: a file that cannot be understood raises
``MalformedError`` with the reason, so callers can skip the run and report
it. Nothing here caches or writes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import MalformedError
from .meta_yaml import read_yaml
from .metric_files import read_latest_metrics
from .model import (
    ACTIVE,
    DELETED,
    STATUS_BY_INT,
    DatasetInput,
    Experiment,
    LoggedModel,
    ModelRef,
    Run,
    RunInfo,
)
from .model_metrics import read_model_metrics
from .paths import RESERVED_EXPERIMENT_FOLDERS, RESERVED_ROOT_FOLDERS, TRASH, key_files

LOGGED_MODEL_STATUS = {0: "LOGGED_MODEL_STATUS_UNSPECIFIED", 1: "LOGGED_MODEL_PENDING", 2: "LOGGED_MODEL_READY", 3: "LOGGED_MODEL_UPLOAD_FAILED"}


_INT64 = range(-(1 << 63), 1 << 63)  # MLflow's times are int64 milliseconds


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number in _INT64 else None


# ---------------------------------------------------------------- experiments


def experiment_dirs(root: Path) -> tuple[list[Path], list[Path]]:
    """(active, trashed) experiment directories under root."""
    return _subdirs(root, RESERVED_ROOT_FOLDERS), _subdirs(root / TRASH, frozenset())


def _subdirs(folder: Path, skip: frozenset[str]) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(e.path) for e in entries if e.name not in skip and not e.name.startswith(".") and e.is_dir())
    except OSError:
        return []


def read_experiment(exp_dir: Path) -> Experiment:
    """An experiment's meta.yaml and tags. The folder decides its stage, as in MLflow 1.x-2.x's FileStore: under
    .trash it is deleted (MLflow <= 2.1 moved it there and left ``lifecycle_stage: active`` in the file)."""
    meta = read_yaml(exp_dir / "meta.yaml")
    experiment_id = meta.get("experiment_id")
    if experiment_id is None:
        raise MalformedError("meta.yaml has no experiment_id")
    experiment_id = str(experiment_id)
    if experiment_id != exp_dir.name:
        raise MalformedError(f"meta.yaml says experiment_id {experiment_id} but the folder is {exp_dir.name}")
    return Experiment(
        experiment_id=experiment_id,
        name=str(meta.get("name") or ""),
        artifact_location=str(meta.get("artifact_location") or ""),
        lifecycle_stage=DELETED if exp_dir.parent.name == TRASH else ACTIVE,
        creation_time=_int_or_none(meta.get("creation_time")),
        last_update_time=_int_or_none(meta.get("last_update_time")),
        tags=read_key_values(exp_dir / "tags"),
        path=exp_dir,
    )


def run_dirs(exp_dir: Path) -> list[Path]:
    """Candidate run directories of an experiment (reserved folders skipped)."""
    return _subdirs(exp_dir, RESERVED_EXPERIMENT_FOLDERS)


def run_dir_names(exp_dir: Path | str) -> set[str]:
    """Names of the candidate run directories of an experiment, without building 100,000 Path objects."""
    try:
        with os.scandir(exp_dir) as entries:
            return {e.name for e in entries if e.name not in RESERVED_EXPERIMENT_FOLDERS and not e.name.startswith(".") and e.is_dir()}
    except OSError:
        return set()


def misplaced_files(folder: Path | str, looks_like: Callable[[str], bool]) -> list[str]:
    """Regular files in ``folder`` named like the folders that belong there (an experiment id, a run id).

    Readers skip them, as MLflow's FileStore does; the index reports them so a run or experiment never
    disappears without a word.
    """
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries if looks_like(e.name) and e.is_file(follow_symlinks=False))
    except OSError:
        return []


def looks_like_run_id(name: str) -> bool:
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


# ----------------------------------------------------------------------- runs


def read_run_info(run_dir: Path, experiment_id: str) -> RunInfo:
    """Parse a run's meta.yaml, accepting legacy fields (run_uuid, name, int status)."""
    return run_info_from_meta(read_yaml(run_dir / "meta.yaml"), run_dir.name, experiment_id)


def run_info_from_meta(meta: dict[str, Any], folder_name: str, experiment_id: str) -> RunInfo:
    """A RunInfo from a run's parsed meta.yaml; MalformedError when it does not belong in its folder."""
    run_id = meta.get("run_id") or meta.get("run_uuid")
    if not run_id:
        raise MalformedError("meta.yaml has no run_id")
    run_id = str(run_id)
    if run_id != folder_name:
        raise MalformedError(f"meta.yaml says run_id {run_id} but the folder is {folder_name}")
    meta_experiment = meta.get("experiment_id")
    if meta_experiment is not None and str(meta_experiment) != experiment_id:
        raise MalformedError(f"meta.yaml says experiment_id {meta_experiment} but the run is in {experiment_id}")
    return RunInfo(
        run_id=run_id,
        experiment_id=experiment_id,
        run_name=str(meta.get("run_name") or meta.get("name") or ""),
        user_id=str(meta.get("user_id") or ""),
        status=status_name(meta.get("status")),
        start_time=_int_or_none(meta.get("start_time")),
        end_time=_int_or_none(meta.get("end_time")),
        lifecycle_stage=DELETED if meta.get("lifecycle_stage") == DELETED else ACTIVE,
        artifact_uri=str(meta.get("artifact_uri") or ""),
        deleted_time=_int_or_none(meta.get("deleted_time")),
    )


def meta_warnings(meta: dict[str, Any]) -> str | None:
    """What a run's meta.yaml holds that MLflow never writes and is read as a default instead: reported, not hidden.

    (A ``lifecycle_stage`` that is an object once made its run vanish from every search; ``status: 99`` read as RUNNING
    without a word.)
    """
    found = []
    status = meta.get("status")
    if status is not None and not _known_status(status):
        found.append(f"status {str(status)[:80]!r} is not an MLflow run status (read as RUNNING)")
    stage = meta.get("lifecycle_stage")
    if stage is not None and stage not in (ACTIVE, DELETED):
        found.append(f"lifecycle_stage {str(stage)[:80]!r} is not 'active' or 'deleted' (read as active)")
    for field in ("start_time", "end_time", "deleted_time"):
        value = meta.get(field)
        if value not in (None, "") and _int_or_none(value) is None:
            found.append(f"{field} {str(value)[:80]!r} is not a time in milliseconds (read as none)")
    return "meta.yaml: " + "; ".join(found) if found else None


def _known_status(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value in STATUS_BY_INT
    text = str(value).upper()
    return (text.isdigit() and int(text) in STATUS_BY_INT) or text in STATUS_BY_INT.values()


def status_name(value: Any) -> str:
    """MLflow stores the status as an int; missing means RUNNING (as FileStore reads it)."""
    if value is None:
        return "RUNNING"
    if isinstance(value, int):
        return STATUS_BY_INT.get(value, "RUNNING")
    text = str(value).upper()
    if text.isdigit():
        return STATUS_BY_INT.get(int(text), "RUNNING")
    return text if text in STATUS_BY_INT.values() else "RUNNING"


def check_run_layout(run_dir: Path | str) -> None:
    missing = [name for name in ("metrics", "params") if not os.path.isdir(os.path.join(run_dir, name))]
    if missing:
        raise MalformedError(f"run folder has no {' or '.join(missing)}/ subfolder")


def read_run(run_dir: Path, experiment: Experiment) -> Run:
    check_run_layout(run_dir)
    info = read_run_info(run_dir, experiment.experiment_id)
    return read_run_details(run_dir, info, experiment.path)


def read_run_details(run_dir: Path, info: RunInfo, exp_dir: Path) -> Run:
    tags = read_key_values(run_dir / "tags")
    if not info.run_name and tags.get("mlflow.runName"):
        info = _replace_name(info, tags["mlflow.runName"])
    datasets, model_inputs = read_inputs(run_dir, exp_dir)
    return Run(
        info=info,
        params=read_key_values(run_dir / "params"),
        tags=tags,
        metrics=read_latest_metrics(run_dir / "metrics"),
        dataset_inputs=datasets,
        model_inputs=model_inputs,
        model_outputs=read_outputs(run_dir),
        path=run_dir,
    )


def _replace_name(info: RunInfo, name: str) -> RunInfo:
    from dataclasses import replace

    return replace(info, run_name=name)


# ------------------------------------------------------------ params and tags


def read_key_values(folder: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, path in key_files(folder):
        try:
            with open(path, "rb") as handle:
                values[key] = handle.read().decode("utf-8", errors="replace")
        except OSError:
            continue
    return values


# ------------------------------------------------------------ inputs, outputs


def _listed_subdirs(folder: Path) -> list[Path]:
    """Sub-folders in the directory's own order (os.listdir's, which FileStore follows), not sorted."""
    try:
        with os.scandir(folder) as entries:
            return [Path(e.path) for e in entries if not e.name.startswith(".") and e.is_dir()]
    except OSError:
        return []


def read_inputs(run_dir: Path, exp_dir: Path) -> tuple[tuple[DatasetInput, ...], tuple[ModelRef, ...]]:
    """A run's dataset and model inputs, in the order MLflow's FileStore lists ``inputs/`` (os.listdir's)."""
    inputs_dir = run_dir / "inputs"
    if not inputs_dir.is_dir():
        return (), ()
    datasets: list[DatasetInput] = []
    models: list[ModelRef] = []
    for link_dir in _listed_subdirs(inputs_dir):
        try:
            link = read_yaml(link_dir / "meta.yaml")
        except MalformedError:
            continue
        source_type = str(link.get("source_type", "")).upper()
        source_id = str(link.get("source_id", ""))
        if source_type == "MODEL" or source_type.endswith("MODEL_INPUT"):
            models.append(ModelRef(source_id))
            continue
        try:
            dataset = _dataset_meta(exp_dir / "datasets" / source_id / "meta.yaml")
        except MalformedError:
            continue
        tags = link.get("tags") or {}
        datasets.append(
            DatasetInput(
                name=str(dataset.get("name", "")),
                digest=str(dataset.get("digest", "")),
                source_type=str(dataset.get("source_type", "")),
                source=str(dataset.get("source", "")),
                schema=str(dataset.get("schema") or ""),
                profile=str(dataset.get("profile") or ""),
                tags={str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {},
            )
        )
    return tuple(datasets), tuple(models)


_dataset_metas: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}


def _dataset_meta(path: Path) -> dict[str, Any]:
    """An experiment's dataset meta.yaml, read once per signature: thousands of runs name the same few datasets."""
    key = str(path)
    try:
        st = os.stat(key)
    except OSError:
        raise MalformedError(f"{path.name} is missing") from None
    sig = (st.st_mtime_ns, st.st_size, st.st_ino)
    cached = _dataset_metas.get(key)
    if cached is not None and cached[0] == sig:
        return cached[1]
    meta = read_yaml(path)
    if len(_dataset_metas) >= 4096:
        _dataset_metas.clear()
    _dataset_metas[key] = (sig, meta)
    return meta


def read_outputs(run_dir: Path) -> tuple[ModelRef, ...]:
    outputs_dir = run_dir / "outputs"
    if not outputs_dir.is_dir():
        return ()
    refs = []
    for link_dir in _subdirs(outputs_dir, frozenset()):
        try:
            link = read_yaml(link_dir / "meta.yaml")
        except MalformedError:
            continue
        refs.append(ModelRef(str(link.get("destination_id") or link_dir.name), _int_or_none(link.get("step"))))
    return tuple(refs)


def read_logged_models(exp_dir: Path) -> list[LoggedModel]:
    """MLflow 3 logged models of an experiment (``<exp>/models/m-*``); unreadable ones are skipped."""
    models = []
    for model_dir in _subdirs(exp_dir / "models", frozenset()):
        try:
            meta = read_yaml(model_dir / "meta.yaml")
        except MalformedError:
            continue
        status = meta.get("status")
        models.append(
            LoggedModel(
                model_id=str(meta.get("model_id") or model_dir.name),
                experiment_id=str(meta.get("experiment_id") or exp_dir.name),
                name=str(meta.get("name") or ""),
                source_run_id=str(meta["source_run_id"]) if meta.get("source_run_id") is not None else None,
                status=LOGGED_MODEL_STATUS.get(status, str(status)) if isinstance(status, int) else str(status or ""),
                creation_timestamp=_int_or_none(meta.get("creation_timestamp")),
                last_updated_timestamp=_int_or_none(meta.get("last_updated_timestamp")),
                artifact_location=str(meta.get("artifact_location") or ""),
                model_type=meta.get("model_type"),
                params=read_key_values(model_dir / "params"),
                tags=read_key_values(model_dir / "tags"),
                path=model_dir,
                lifecycle_stage=str(meta.get("lifecycle_stage") or ACTIVE),
                metrics=read_model_metrics(model_dir / "metrics"),
            )
        )
    return models
