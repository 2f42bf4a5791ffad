"""Model registry trees written by MLflow itself (its registry FileStore), for parity tests.

Everything the registry folder can hold appears at least once: several
versions in every legacy stage, aliases, model and version tags (a nested
key among them), descriptions, a soft-deleted version, a model without
versions, a prompt (which searches leave out), names with spaces, dots and
non-ASCII letters, versions made from a run's artifact folder and from an
MLflow 3 logged model.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")

MLMODEL = """artifact_path: model
flavors:
  python_function:
    env:
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    python_version: 3.11.0
mlflow_version: 3.17.2
model_size_bytes: 10
model_uuid: 0f3bb1d2a7b54a1d8d2e9c6b2f1a9e01
signature:
  inputs: '[{"type": "double", "name": "x", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]'
utc_time_created: '2026-11-27 13:43:15.000000'
"""


class _Oracle:
    """MLflow's registry FileStore whose every call sees root as the tracking URI (it looks logged models up there)."""

    def __init__(self, root: Path) -> None:
        from mlflow.store.model_registry.file_store import FileStore

        self.root = root
        self.store = FileStore(str(root.resolve()))

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with tracking_uri(self.root):
                return method(*args, **kwargs)
        return call


def registry_store(root: Path) -> Any:
    """MLflow's own registry FileStore over root (the oracle)."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    return _Oracle(root)


@contextlib.contextmanager
def tracking_uri(root: Path) -> Iterator[None]:
    """MLflow's registry FileStore finds logged models through the global tracking URI: point it at root."""
    from mlflow.tracking._tracking_service.utils import _use_tracking_uri

    with _use_tracking_uri(root.resolve().as_uri()):
        yield


def write_registry_tree(root: Path) -> dict[str, Any]:
    """Write runs, a logged model and a registry through MLflow; returns ids by role."""
    with tracking_uri(root):
        return _write_registry_tree(root)


def _write_registry_tree(root: Path) -> dict[str, Any]:
    from mlflow.entities.model_registry import ModelVersionTag, RegisteredModelTag

    from tests.reference_trees import mlflow_client

    root.mkdir(parents=True, exist_ok=True)
    client = mlflow_client(root)
    experiment = client.create_experiment("registry-exp")
    run = client.create_run(experiment, run_name="train-fraud").info.run_id
    other_run = client.create_run(experiment, run_name="train-churn").info.run_id
    artifacts = {}
    for run_id in (run, other_run):
        artifact_dir = root / experiment / run_id / "artifacts" / "model"
        artifact_dir.mkdir(parents=True)
        (artifact_dir / "MLmodel").write_text(MLMODEL)
        (artifact_dir / "model.pkl").write_bytes(b"not really a pickle")
        artifacts[run_id] = artifact_dir.resolve().as_uri()
    logged = client.create_logged_model(experiment, name="fraud-logged", source_run_id=run, params={"alpha": "0.5"})
    (root / experiment / "models" / logged.model_id / "artifacts").mkdir(parents=True, exist_ok=True)
    (root / experiment / "models" / logged.model_id / "artifacts" / "MLmodel").write_text(MLMODEL)

    store = registry_store(root)
    store.create_registered_model("fraud-detector", tags=[RegisteredModelTag("team", "risk")],
                                  description="Scores **card** payments")
    for _ in range(3):
        store.create_model_version("fraud-detector", artifacts[run], run_id=run,
                                   tags=[ModelVersionTag("validated", "yes")])
    store.create_model_version("fraud-detector", f"models:/{logged.model_id}", run_id=run, model_id=logged.model_id)
    store.transition_model_version_stage("fraud-detector", "1", "Archived", False)
    store.transition_model_version_stage("fraud-detector", "2", "Production", False)
    store.transition_model_version_stage("fraud-detector", "3", "Staging", False)
    store.set_registered_model_alias("fraud-detector", "champion", "2")
    store.set_registered_model_alias("fraud-detector", "challenger", "3")
    store.set_registered_model_tag("fraud-detector", RegisteredModelTag("nested/key", "deep"))
    store.update_model_version("fraud-detector", "2", "Best AUC so far")
    store.set_model_version_tag("fraud-detector", "2", ModelVersionTag("auc", "0.93"))

    store.create_registered_model("Churn Model", tags=[RegisteredModelTag("team", "growth")])
    store.create_model_version("Churn Model", artifacts[other_run], run_id=other_run)

    store.create_registered_model("empty-model")
    store.create_registered_model("with-deleted")
    store.create_model_version("with-deleted", artifacts[other_run], run_id=other_run)
    store.create_model_version("with-deleted", artifacts[other_run], run_id=other_run)
    store.set_registered_model_alias("with-deleted", "old", "1")
    store.delete_model_version("with-deleted", "1")

    store.create_registered_model("model.v2.dots", description="")
    store.create_registered_model("модель-ü")
    store.create_model_version("модель-ü", artifacts[run], run_id=run, description="non-ASCII")

    store.create_registered_model("my-prompt", tags=[RegisteredModelTag("mlflow.prompt.is_prompt", "true")])
    store.create_model_version("my-prompt", "dummy-source", tags=[ModelVersionTag("mlflow.prompt.is_prompt", "true"),
                                                                 ModelVersionTag("mlflow.prompt.text", "Hi {{x}}")])
    return {"experiment": experiment, "run": run, "other_run": other_run, "logged_model": logged.model_id,
            "artifacts": artifacts}


# ------------------------------------------------------------ comparing with MLflow's entities


def mlflow_version_fields(version: Any) -> dict[str, Any]:
    """The fields of an MLflow ModelVersion that mlscope's reader must reproduce."""
    return {
        "name": version.name, "version": int(version.version), "creation_timestamp": version.creation_timestamp,
        "last_updated_timestamp": version.last_updated_timestamp, "description": version.description,
        "user_id": version.user_id, "current_stage": version.current_stage, "source": version.source,
        "run_id": version.run_id, "run_link": version.run_link, "status": version.status,
        "status_message": version.status_message, "tags": dict(version.tags), "aliases": sorted(version.aliases),
        "model_id": version.model_id,
    }


def version_fields(version: Any) -> dict[str, Any]:
    """The same fields from an mlscope ModelVersion."""
    return {
        "name": version.name, "version": version.version, "creation_timestamp": version.creation_timestamp,
        "last_updated_timestamp": version.last_updated_timestamp, "description": version.description,
        "user_id": version.user_id, "current_stage": version.current_stage, "source": version.source,
        "run_id": version.run_id, "run_link": version.run_link, "status": version.status,
        "status_message": version.status_message, "tags": dict(version.tags), "aliases": sorted(version.aliases),
        "model_id": version.model_id,
    }


def mlflow_model_fields(model: Any) -> dict[str, Any]:
    return {
        "name": model.name, "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp, "description": model.description,
        "tags": dict(model._tags), "aliases": dict(model.aliases),
        "latest_versions": sorted((mlflow_version_fields(v) for v in model.latest_versions), key=lambda f: f["version"]),
    }


def model_fields(model: Any) -> dict[str, Any]:
    return {
        "name": model.name, "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp, "description": model.description,
        "tags": dict(model.tags), "aliases": dict(model.aliases),
        "latest_versions": sorted((version_fields(v) for v in model.latest_versions()), key=lambda f: f["version"]),
    }


# ------------------------------------------------------------ many models, written fast


def write_synthetic_registry(root: Path, models: int, versions: int = 3, *, t0: int = 1_790_000_000_000) -> list[str]:
    """``models`` registered models of ``versions`` versions each, in MLflow's registry layout, without MLflow.

    Model i is named ``model-<i:04d>``, was last updated at t0 + i seconds, has the tag team=<one of three>
    and the alias champion on its second version. Returns the names.
    """
    teams = ("risk", "growth", "search")
    names = []
    for i in range(models):
        name = f"model-{i:04d}"
        model_dir = root / "models" / name
        (model_dir / "tags").mkdir(parents=True, exist_ok=True)
        (model_dir / "aliases").mkdir(exist_ok=True)
        updated = t0 + i * 1000
        (model_dir / "meta.yaml").write_text(
            f"aliases:\n  champion: '2'\ncreation_timestamp: {t0}\ndeployment_job_id: null\ndeployment_job_state: null\n"
            f"description: Model number {i}\nlast_updated_timestamp: {updated}\nname: {name}\nworkspace: default\n")
        (model_dir / "tags" / "team").write_text(teams[i % 3])
        (model_dir / "aliases" / "champion").write_text("2")
        for v in range(1, versions + 1):
            version_dir = model_dir / f"version-{v}"
            version_dir.mkdir()
            (version_dir / "meta.yaml").write_text(
                f"creation_timestamp: {t0 + v}\ncurrent_stage: {'Production' if v == 2 else 'None'}\n"
                f"deployment_job_state: null\ndescription: null\nlast_updated_timestamp: {t0 + v}\nmodel_id: null\n"
                f"name: {name}\nrun_id: null\nrun_link: null\nsource: s3://bucket/{name}/{v}\nstatus: READY\n"
                f"status_message: null\nstorage_location: s3://bucket/{name}/{v}\nuser_id: null\nversion: {v}\n"
                "workspace: default\n")
        names.append(name)
    return names
