"""Small immutable records for what an mlruns tree holds.

These are the vocabulary shared by the reader, the index, search and the
server. They carry plain Python values (epoch milliseconds, status names as
strings) so every layer above can use them without knowing the file format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ACTIVE = "active"
DELETED = "deleted"

RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
# MLflow's RunStatus proto enum: the one place that maps ints to names.
STATUS_BY_INT = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
INT_BY_STATUS = {name: number for number, name in STATUS_BY_INT.items()}


@dataclass(frozen=True, slots=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    creation_time: int | None
    last_update_time: int | None
    tags: dict[str, str]
    path: Path  # the experiment's directory (under the root or under .trash/)


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    value: float
    timestamp: int
    step: int
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass(frozen=True, slots=True)
class RunInfo:
    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: str  # one of RUN_STATUSES
    start_time: int | None
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str
    deleted_time: int | None = None

    @property
    def run_uuid(self) -> str:
        """MLflow's older name for run_id, which scripts written for MLflow 1.x still read."""
        return self.run_id


@dataclass(frozen=True, slots=True)
class DatasetInput:
    name: str
    digest: str
    source_type: str
    source: str
    schema: str
    profile: str
    tags: dict[str, str]  # e.g. {"mlflow.data.context": "training"}

    @property
    def context(self) -> str | None:
        return self.tags.get("mlflow.data.context")


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A run input or output that names an MLflow 3 logged model."""

    model_id: str
    step: int | None = None


@dataclass(frozen=True, slots=True)
class Run:
    info: RunInfo
    params: dict[str, str]
    tags: dict[str, str]
    metrics: dict[str, Metric]  # latest value per key: max by (step, timestamp, value)
    dataset_inputs: tuple[DatasetInput, ...] = ()
    model_inputs: tuple[ModelRef, ...] = ()
    model_outputs: tuple[ModelRef, ...] = ()
    path: Path = field(default=Path("."), compare=False)  # the run's directory

    @property
    def run_id(self) -> str:
        return self.info.run_id


@dataclass(frozen=True, slots=True)
class ModelMetric:
    """A logged model's metric: the latest point for one (key, dataset), with the run that logged it."""

    key: str
    value: float
    timestamp: int
    step: int
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedModel:
    model_id: str
    experiment_id: str
    name: str
    source_run_id: str | None
    status: str
    creation_timestamp: int | None
    last_updated_timestamp: int | None
    artifact_location: str
    model_type: str | None
    params: dict[str, str]
    tags: dict[str, str]
    path: Path
    lifecycle_stage: str = ACTIVE  # deleted models stay on disk; MLflow's reads treat them as gone
    metrics: tuple[ModelMetric, ...] = ()  # metrics/<key>, logged with log_metric(..., model_id=...)


@dataclass(frozen=True, slots=True)
class Problem:
    """A folder or file that could not be read, and why: shown, never fatal."""

    path: str
    reason: str
    kind: str = "run"  # run | experiment | metric | model
