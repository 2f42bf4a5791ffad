"""Write an mlruns tree exactly as MLflow 3.17.2's FileStore does, but never torn.

Every file a reader can see is complete: meta.yaml and tags are written to a
temp file in the same folder and ``os.replace``d into place, params are
``os.link``ed (so a racing different value is caught, not overwritten), new
run and experiment folders are built under a hidden temp name and renamed
in whole, and metric lines are appended with one ``os.write`` on an
``O_APPEND`` descriptor, so concurrent writers from several processes
interleave whole lines and lose none.

The bytes match FileStore's: the same YAML dumper options and field set,
integer status, epoch milliseconds, ``file://`` artifact URIs.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..names import generate_experiment_id, generate_run_name
from . import meta_yaml, reader, run_inputs
from .atomic import (
    append_whole,
    atomic_write,
    create_exclusive,
    dump_yaml,
    key_path,
    locked,
    metric_line,
    now_ms,
    tmp_name,
)
from .errors import StoreError
from .model import ACTIVE, DELETED, INT_BY_STATUS, DatasetInput
from .paths import RESERVED_EXPERIMENT_FOLDERS, TRASH, file_uri, local_path

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
SOURCE_TYPE_LOCAL = 4


class TreeWriter:
    """Every write operation on one mlruns root, by experiment and run id."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).absolute()
        self._run_dirs: dict[str, Path] = {}

    @property
    def trash(self) -> Path:
        return self.root / TRASH

    # ---------------------------------------------------------- experiments

    def ensure_root(self) -> None:
        """Create the root, .trash and the Default experiment, as FileStore's constructor does.

        An existing but empty folder gets the Default experiment too (FileStore
        leaves it without one, and the first ``start_run`` then fails).
        """
        fresh = not self.root.exists() or not any(p.name != TRASH for p in self.root.iterdir())
        self.root.mkdir(parents=True, exist_ok=True)
        if fresh:
            with locked(self.root):
                if not (self.root / DEFAULT_EXPERIMENT_ID).exists():
                    self._create_experiment_dir(DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, None, None)
            self.trash.mkdir(exist_ok=True)  # a tree that is only served is never written to (deletes create it)

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None, *, default_artifact_root: str | None = None
    ) -> str:
        """A new experiment; without a location it gets ``<default_artifact_root or the tree>/<id>`` as in FileStore."""
        self.ensure_root()
        with locked(self.root):
            existing = self.find_experiment_by_name(name)
            if existing is not None:
                if existing.lifecycle_stage == DELETED:
                    raise StoreError(
                        f"Experiment {name!r} already exists in deleted state. You can restore the experiment, "
                        "or permanently delete the experiment from the .trash folder (under tracking server's root folder) in order to "
                        "use this experiment name again.",
                        "RESOURCE_ALREADY_EXISTS",
                    )
                raise StoreError(f"Experiment '{name}' already exists.", "RESOURCE_ALREADY_EXISTS")
            for _ in range(10):
                experiment_id = generate_experiment_id()
                if not (self.root / experiment_id).exists() and not (self.trash / experiment_id).exists():
                    break
            if not artifact_location and default_artifact_root:
                artifact_location = f"{_resolve_uri_if_local(default_artifact_root).rstrip('/')}/{experiment_id}"
            self._create_experiment_dir(experiment_id, name, artifact_location, tags)
        return experiment_id

    def _create_experiment_dir(self, experiment_id: str, name: str, artifact_location: str | None, tags: dict[str, str] | None) -> None:
        if artifact_location:
            location = _resolve_uri_if_local(artifact_location)
        else:
            location = f"{file_uri(self.root)}/{experiment_id}"
        created = now_ms()
        meta = {
            "artifact_location": location,
            "creation_time": created,
            "effective_trace_archival_retention": None,
            "experiment_id": experiment_id,
            "last_update_time": created,
            "lifecycle_stage": ACTIVE,
            "name": name,
            "trace_location": None,
            "workspace": "default",
        }
        tmp = tmp_name(self.root)
        tmp.mkdir()
        try:
            (tmp / "meta.yaml").write_bytes(dump_yaml(meta))
            for key, value in (tags or {}).items():
                (tmp / "tags").mkdir(exist_ok=True)
                key_path(tmp / "tags", key).parent.mkdir(parents=True, exist_ok=True)
                key_path(tmp / "tags", key).write_bytes(str(value).encode("utf-8"))
            os.rename(tmp, self.root / experiment_id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def experiment_dir(self, experiment_id: str) -> Path:
        """The folder of an experiment, live or in .trash."""
        experiment_id = str(experiment_id)
        if not experiment_id or "/" in experiment_id or experiment_id.startswith("."):
            raise StoreError(f"Invalid experiment id {experiment_id!r}")
        for folder in (self.root / experiment_id, self.trash / experiment_id):
            if (folder / "meta.yaml").is_file():
                return folder
        raise StoreError(f"Could not find experiment with ID {experiment_id}", "RESOURCE_DOES_NOT_EXIST")

    def get_experiment(self, experiment_id: str) -> reader.Experiment:
        return reader.read_experiment(self.experiment_dir(experiment_id))

    def list_experiments(self) -> list[reader.Experiment]:
        """Every readable experiment, live then deleted; broken ones are skipped."""
        found = []
        active, trashed = reader.experiment_dirs(self.root)
        for folder in active + trashed:
            try:
                found.append(reader.read_experiment(folder))
            except reader.MalformedError:
                continue
        return found

    def find_experiment_by_name(self, name: str) -> reader.Experiment | None:
        return next((e for e in self.list_experiments() if e.name == name), None)

    def _rewrite_experiment(self, folder: Path, **changes: Any) -> None:
        """Overwrite an experiment's meta.yaml as FileStore does on rename/delete/restore (tags included)."""
        meta = meta_yaml.read_yaml(folder / "meta.yaml")
        meta.update(changes)
        meta["tags"] = reader.read_key_values(folder / "tags")
        atomic_write(folder / "meta.yaml", dump_yaml(meta))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        with locked(self.root):
            folder = self.experiment_dir(experiment_id)
            if self.find_experiment_by_name(new_name) is not None:
                raise StoreError(f"Experiment '{new_name}' already exists.", "RESOURCE_ALREADY_EXISTS")
            if folder.parent != self.root:
                raise StoreError("Cannot rename experiment in non-active lifecycle stage. Current stage: deleted", "INVALID_STATE")
            self._rewrite_experiment(folder, name=new_name, last_update_time=now_ms())

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft delete: runs marked deleted, meta marked deleted, folder moved to .trash/."""
        experiment_id = str(experiment_id)
        if experiment_id == DEFAULT_EXPERIMENT_ID:
            raise StoreError("Cannot delete the default experiment '0'. This is an internally reserved experiment.")
        folder = self.root / experiment_id
        if not (folder / "meta.yaml").is_file():
            raise StoreError(f"Could not find experiment with ID {experiment_id}", "RESOURCE_DOES_NOT_EXIST")
        deleted = now_ms()
        for run_dir in self._run_dirs_of(folder):
            meta = meta_yaml.read_yaml(run_dir / "meta.yaml")
            if meta.get("lifecycle_stage", ACTIVE) == ACTIVE:
                meta.update(lifecycle_stage=DELETED, deleted_time=deleted)
                atomic_write(run_dir / "meta.yaml", dump_yaml(meta))
        self._rewrite_experiment(folder, lifecycle_stage=DELETED, last_update_time=deleted)
        self.trash.mkdir(exist_ok=True)
        os.rename(folder, self.trash / experiment_id)
        self._run_dirs.clear()

    def restore_experiment(self, experiment_id: str) -> None:
        experiment_id = str(experiment_id)
        folder = self.trash / experiment_id
        if not (folder / "meta.yaml").is_file():
            raise StoreError(f"Could not find deleted experiment with ID {experiment_id}", "RESOURCE_DOES_NOT_EXIST")
        if (self.root / experiment_id).exists():
            raise StoreError(
                f"Cannot restore experiment with ID {experiment_id}. An experiment with same ID already exists.",
                "RESOURCE_ALREADY_EXISTS",
            )
        os.rename(folder, self.root / experiment_id)
        folder = self.root / experiment_id
        for run_dir in self._run_dirs_of(folder):
            meta = meta_yaml.read_yaml(run_dir / "meta.yaml")
            if meta.get("lifecycle_stage") == DELETED:
                meta["lifecycle_stage"] = ACTIVE
                meta.pop("deleted_time", None)
                atomic_write(run_dir / "meta.yaml", dump_yaml(meta))
        self._rewrite_experiment(folder, lifecycle_stage=ACTIVE, last_update_time=now_ms())
        self._run_dirs.clear()

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        folder = self._active_experiment_dir(experiment_id, "set tags")
        atomic_write(key_path(folder / "tags", key), value.encode("utf-8"))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        folder = self._active_experiment_dir(experiment_id, "delete tags")
        path = key_path(folder / "tags", key)
        if not path.is_file():
            raise StoreError(f"No tag with name: {key} in experiment with id {experiment_id}", "RESOURCE_DOES_NOT_EXIST")
        path.unlink()

    def _active_experiment_dir(self, experiment_id: str, what: str) -> Path:
        folder = self.experiment_dir(experiment_id)
        if folder.parent != self.root:
            raise StoreError(f"The experiment {experiment_id} must be in the 'active' lifecycle_stage to {what}")
        return folder

    @staticmethod
    def _run_dirs_of(folder: Path) -> Iterable[Path]:
        for run_dir in reader.run_dirs(folder):
            if run_dir.name not in RESERVED_EXPERIMENT_FOLDERS and (run_dir / "meta.yaml").is_file():
                yield run_dir

    # ------------------------------------------------------------------ runs

    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int | None = None,
        run_name: str | None = None,
        tags: dict[str, str] | None = None,
        artifact_uri: Callable[[str], str] | None = None,
    ) -> str:
        """A RUNNING run with metrics/ params/ artifacts/ tags/; named at random when unnamed.

        ``artifact_uri(run_id)`` gives the run's artifact URI; FileStore's rule,
        ``<artifact_location>/<run_id>/artifacts``, when not given (a tracking
        server hands out proxied ``mlflow-artifacts:`` URIs instead).
        """
        folder = self.experiment_dir(experiment_id)
        if folder.parent != self.root:
            raise StoreError(f"Could not create run under non-active experiment with ID {experiment_id}.", "INVALID_STATE")
        experiment = reader.read_experiment(folder)
        tags = dict(tags or {})
        name_tag = tags.get("mlflow.runName")
        if run_name and name_tag and run_name != name_tag:
            raise StoreError(
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values "
                f"(run_name='{run_name}', mlflow.runName='{name_tag}')."
            )
        run_name = run_name or name_tag or generate_run_name()
        tags["mlflow.runName"] = run_name
        run_id = uuid.uuid4().hex
        meta: dict[str, Any] = {
            "artifact_uri": artifact_uri(run_id) if artifact_uri else f"{experiment.artifact_location.rstrip('/')}/{run_id}/artifacts",
            "end_time": None,
            "entry_point_name": "",
            "experiment_id": str(experiment_id),
            "lifecycle_stage": ACTIVE,
            "run_id": run_id,
            "run_name": run_name,
            "run_uuid": run_id,  # MLflow 1.x-2.x need it to read the run; 3.x ignores it
            "source_name": "",
            "source_type": SOURCE_TYPE_LOCAL,
            "source_version": "",
            "start_time": start_time if start_time is not None else now_ms(),
            "status": INT_BY_STATUS["RUNNING"],
            "tags": [],
            "user_id": user_id,
        }
        tmp = tmp_name(folder)
        tmp.mkdir()
        try:
            (tmp / "meta.yaml").write_bytes(dump_yaml(meta))
            for sub in ("metrics", "params", "artifacts", "tags"):
                (tmp / sub).mkdir()
            for key, value in tags.items():
                path = key_path(tmp / "tags", key)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(str(value).encode("utf-8"))
            os.rename(tmp, folder / run_id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._run_dirs[run_id] = folder / run_id
        return run_id

    def run_dir(self, run_id: str) -> Path:
        """The folder of a run, found in any experiment (live or trashed)."""
        cached = self._run_dirs.get(run_id)
        if cached is not None and (cached / "meta.yaml").is_file():
            return cached
        if not run_id or "/" in run_id or run_id.startswith("."):
            raise StoreError(f"Invalid value {run_id!r} for parameter 'run_id' supplied.")
        active, trashed = reader.experiment_dirs(self.root)
        for folder in active + trashed:
            candidate = folder / run_id
            if (candidate / "meta.yaml").is_file() and (candidate / "metrics").is_dir():
                self._run_dirs[run_id] = candidate
                return candidate
        raise StoreError(f"Run with id={run_id} not found", "RESOURCE_DOES_NOT_EXIST")

    def run_meta(self, run_id: str) -> dict[str, Any]:
        return meta_yaml.read_yaml(self.run_dir(run_id) / "meta.yaml")

    def _write_run_meta(self, run_id: str, meta: dict[str, Any]) -> None:
        meta.setdefault("run_uuid", meta.get("run_id") or run_id)  # a run MLflow 3 wrote becomes readable by MLflow 1.x-2.x too
        atomic_write(self.run_dir(run_id) / "meta.yaml", dump_yaml(meta))

    def check_active(self, run_id: str) -> Path:
        """The run's folder, or an error if the run is deleted (MLflow refuses writes then)."""
        meta = self.run_meta(run_id)
        if meta.get("lifecycle_stage", ACTIVE) != ACTIVE:
            raise StoreError(f"The run {run_id} must be in 'active' lifecycle_stage.")  # FileStore's words
        return self.run_dir(run_id)

    def update_run_info(self, run_id: str, status: str | None = None, end_time: int | None = None, run_name: str | None = None, *, clear_end_time: bool = False) -> None:
        meta = self.run_meta(run_id)
        if meta.get("lifecycle_stage", ACTIVE) != ACTIVE:
            raise StoreError(f"The run {run_id} must be in 'active' lifecycle_stage.")
        if status is not None:
            meta["status"] = INT_BY_STATUS[status]
        if end_time is not None or clear_end_time:
            meta["end_time"] = end_time
        if run_name:
            meta["run_name"] = run_name
            atomic_write(key_path(self.run_dir(run_id) / "tags", "mlflow.runName"), run_name.encode("utf-8"))
        meta.pop("deleted_time", None)
        self._write_run_meta(run_id, meta)

    def delete_run(self, run_id: str) -> None:
        meta = self.run_meta(run_id)
        meta.update(lifecycle_stage=DELETED, deleted_time=now_ms())
        self._write_run_meta(run_id, meta)

    def restore_run(self, run_id: str) -> None:
        meta = self.run_meta(run_id)
        meta["lifecycle_stage"] = ACTIVE
        meta.pop("deleted_time", None)
        self._write_run_meta(run_id, meta)

    def log_param(self, run_id: str, key: str, value: str) -> None:
        """Params never change: the same value again is fine, a different one is an error naming the key."""
        path = key_path(self.check_active(run_id) / "params", key)
        data = value.encode("utf-8")
        if create_exclusive(path, data):
            return
        current = path.read_bytes()
        if current != data:
            raise StoreError(
                f"Changing param values is not allowed. Param with key='{key}' was already logged with "
                f"value='{current.decode('utf-8', 'replace')}' for run ID='{run_id}'. Attempted logging new value '{value}'."
            )

    def log_metrics(self, run_id: str, points: Iterable[tuple[Any, ...]]) -> None:
        """Append (key, value, timestamp, step[, dataset_name, dataset_digest]) points: one write per key, whole lines only."""
        metrics_dir = self.check_active(run_id) / "metrics"
        by_key: dict[str, list[str]] = {}
        for key, *point in points:
            by_key.setdefault(key, []).append(metric_line(*point))
        for key, lines in by_key.items():
            append_whole(key_path(metrics_dir, key), "".join(lines).encode("utf-8"))

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        atomic_write(key_path(self.check_active(run_id) / "tags", key), value.encode("utf-8"))
        if key == "mlflow.runName":
            self.update_run_info(run_id, run_name=value)

    def delete_tag(self, run_id: str, key: str) -> None:
        path = key_path(self.check_active(run_id) / "tags", key)
        if not path.is_file():
            raise StoreError(f"No tag with name: {key} in run with id {run_id}", "RESOURCE_DOES_NOT_EXIST")
        path.unlink()

    def log_inputs(self, run_id: str, datasets: Iterable[DatasetInput] = (), models: Iterable[str] = ()) -> None:
        """Datasets (registered once per experiment) and logged models as inputs of a run, as FileStore links them."""
        run_dir = self.check_active(run_id)
        run_inputs.link_inputs(run_dir, run_dir.parent, run_id, datasets, models)

    def artifact_dir(self, run_id: str) -> Path:
        """The run's local artifact folder (its artifact_uri must be a local path or file: URI)."""
        uri = str(self.run_meta(run_id).get("artifact_uri") or "")
        try:
            return local_path(uri)
        except ValueError:
            raise StoreError(f"The artifact URI '{uri}' of run {run_id} is not local; mlscope can only write local artifacts.") from None


def _resolve_uri_if_local(uri: str) -> str:
    """A local path becomes an absolute file: URI (as MLflow's resolve_uri_if_local); other URIs stay."""
    try:
        path = local_path(uri)
    except ValueError:
        return uri
    return file_uri(path)
