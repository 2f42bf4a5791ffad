"""MLflow 3 logged-model writes (what ``log_model`` calls) with FileStore's checks, seen by readers at once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..store import validation
from ..store.artifact_uris import logged_model_artifact_uri
from ..store.errors import StoreError
from ..store.logged_model_writer import LoggedModelWriter
from ..store.model import ACTIVE, LoggedModel
from .logged_models import forget_logged_models, logged_models_of
from .tracking_writes import TrackingWrites


class LoggedModelWrites:
    """Create, finalize, tag, parametrize and delete logged models of one tree."""

    def __init__(self, runs: TrackingWrites) -> None:
        self.runs = runs
        self.writer = LoggedModelWriter(runs.root)

    def get(self, model_id: str) -> LoggedModel:
        """A live model, fresh from disk (404 for unknown and deleted models, as FileStore)."""
        folder = self.writer.model_dir(model_id)
        return self._fresh(folder.parent.parent, model_id)

    @staticmethod
    def _fresh(exp_dir: Path, model_id: str) -> LoggedModel:
        forget_logged_models(exp_dir)
        model = logged_models_of(exp_dir).get(model_id)
        if model is None:
            raise StoreError(f"Model '{model_id}' not found", "RESOURCE_DOES_NOT_EXIST")
        return model

    def create(
        self,
        experiment_id: str,
        name: str | None,
        model_type: str,
        source_run_id: str,
        params: Sequence[tuple[str, str]],
        tags: Sequence[tuple[str, str]],
    ) -> LoggedModel:
        validation.check_logged_model_name(name)
        experiment = self.runs.experiment(experiment_id)
        if experiment.lifecycle_stage != ACTIVE:
            raise StoreError(f"Could not create model under non-active experiment with ID {experiment_id}.", "INVALID_STATE")
        params = [validation.check_param(k, v) for k, v in params]
        for key, _ in tags:
            validation.check_tag_name(key)
        exp_dir = self.runs.writer.experiment_dir(experiment_id)

        def location(model_id: str) -> str:
            return logged_model_artifact_uri(
                self.runs.root, experiment_id, experiment.artifact_location, model_id, proxied=self.runs.proxied_artifacts
            )

        model_id = self.writer.create(
            exp_dir,
            experiment_id,
            location,
            name=name,
            source_run_id=source_run_id,
            model_type=model_type,
            params=params,
            tags=tags,
        )
        return self._fresh(exp_dir, model_id)

    def finalize(self, model_id: str, status: str) -> LoggedModel:
        self.writer.finalize(model_id, status)
        return self.get(model_id)

    def set_tags(self, model_id: str, tags: Sequence[tuple[str, str]]) -> None:
        folder = self.writer.model_dir(model_id)
        for key, _ in tags:
            validation.check_tag_name(key)
        self.writer.set_tags(model_id, tags)
        forget_logged_models(folder.parent.parent)

    def delete_tag(self, model_id: str, key: str) -> None:
        validation.check_tag_name(key)
        folder = self.writer.model_dir(model_id)
        self.writer.delete_tag(model_id, key)
        forget_logged_models(folder.parent.parent)

    def log_params(self, model_id: str, params: Sequence[tuple[str, str]]) -> None:
        params = [validation.check_param(k, v) for k, v in params]
        folder = self.writer.model_dir(model_id)
        self.writer.log_params(model_id, params)
        forget_logged_models(folder.parent.parent)

    def delete(self, model_id: str) -> None:
        folder = self.writer.model_dir(model_id)
        self.writer.delete(model_id)
        forget_logged_models(folder.parent.parent)
