"""MLflow-shaped entities (``run.info.run_id``, ``run.data.metrics``, ``run.inputs``) over mlscope's records.

Names, fields and constants follow ``mlflow.entities`` so code written against
MLflow's client reads the same attributes here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from ..store.model import DatasetInput as DatasetRecord
from ..store.model import Experiment, Metric, Run, RunInfo

__all__ = [
    "Dataset", "DatasetInput", "Experiment", "ExperimentTag", "FileInfo", "InputTag", "LifecycleStage",
    "LoggedModelInput", "LoggedModelOutput", "Metric", "PagedList", "Param", "RunData", "RunInfo", "RunInputs",
    "RunOutputs", "RunStatus", "RunTag", "TrackedRun", "ViewType",
]  # fmt: skip


class ViewType:
    """Which lifecycle stages a search returns (MLflow's ints: 1 active, 2 deleted, 3 all)."""

    ACTIVE_ONLY, DELETED_ONLY, ALL = 1, 2, 3
    _TO_STRING = {1: "active_only", 2: "deleted_only", 3: "all"}

    @classmethod
    def from_string(cls, view_str: str) -> int:
        for number, name in cls._TO_STRING.items():
            if name == view_str:
                return number
        raise ValueError(f"Could not get valid view type corresponding to string {view_str}. Valid view types are {list(cls._TO_STRING.values())}")

    @classmethod
    def to_string(cls, view_type: int) -> str:
        if view_type not in cls._TO_STRING:
            raise ValueError(f"Could not get valid view type corresponding to string {view_type}. Valid view types are {list(cls._TO_STRING)}")
        return cls._TO_STRING[view_type]


class RunStatus:
    """MLflow's run status numbers; runs carry the names ("FINISHED") as MLflow's RunInfo.status does."""

    RUNNING, SCHEDULED, FINISHED, FAILED, KILLED = 1, 2, 3, 4, 5
    _NAMES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}

    @classmethod
    def from_string(cls, status_str: str) -> int:
        for number, name in cls._NAMES.items():
            if name == status_str:
                return number
        raise ValueError(f"Could not get run status corresponding to string {status_str}. Valid run status strings: {list(cls._NAMES.values())}")

    @classmethod
    def to_string(cls, status: int) -> str:
        if status not in cls._NAMES:
            raise ValueError(f"Could not get string corresponding to run status {status}. Valid run statuses: {list(cls._NAMES)}")
        return cls._NAMES[status]

    @classmethod
    def is_terminated(cls, status: int) -> bool:
        return status in (cls.FINISHED, cls.FAILED, cls.KILLED)

    @classmethod
    def all_status(cls) -> list[int]:
        return list(cls._NAMES)


class LifecycleStage:
    ACTIVE = "active"
    DELETED = "deleted"


@dataclass(frozen=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True)
class RunTag:
    key: str
    value: str


@dataclass(frozen=True)
class ExperimentTag:
    key: str
    value: str


@dataclass(frozen=True)
class InputTag:
    key: str
    value: str


@dataclass(frozen=True)
class Dataset:
    """A dataset as a run input records it (MLflow's ``mlflow.entities.Dataset``)."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class DatasetInput:
    dataset: Dataset
    tags: list[InputTag] = field(default_factory=list)


@dataclass(frozen=True)
class LoggedModelInput:
    model_id: str


@dataclass(frozen=True)
class LoggedModelOutput:
    model_id: str
    step: int


@dataclass(frozen=True)
class RunInputs:
    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[LoggedModelInput] = field(default_factory=list)


@dataclass(frozen=True)
class RunOutputs:
    model_outputs: list[LoggedModelOutput] = field(default_factory=list)


@dataclass(frozen=True)
class FileInfo:
    path: str  # relative to the run's artifact root, '/'-separated
    is_dir: bool
    file_size: int | None


@dataclass(frozen=True)
class RunData:
    """As MLflow's RunData: latest metric values as floats, params and tags as strings."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


T = TypeVar("T")


class PagedList(list[T]):
    """A page of results with the token of the next page (None on the last), as MLflow's PagedList."""

    def __init__(self, items: list[T], token: str | None) -> None:
        super().__init__(items)
        self.token = token


def dataset_input(record: DatasetRecord) -> DatasetInput:
    dataset = Dataset(record.name, record.digest, record.source_type, record.source, record.schema or None, record.profile or None)
    return DatasetInput(dataset, [InputTag(k, v) for k, v in record.tags.items()])


def dataset_record(item: DatasetInput) -> DatasetRecord:
    """A DatasetInput (ours or MLflow's entity, duck-typed) as the store's record."""
    dataset = item.dataset
    return DatasetRecord(
        name=str(dataset.name), digest=str(dataset.digest), source_type=str(dataset.source_type), source=str(dataset.source),
        schema=str(dataset.schema or ""), profile=str(dataset.profile or ""), tags={str(t.key): str(t.value) for t in item.tags or ()},
    )  # fmt: skip


class TrackedRun:
    """A run as MLflow code expects it: ``.info``, ``.data``, ``.inputs``, ``.outputs``; ``.record`` is mlscope's Run."""

    def __init__(self, record: Run) -> None:
        self.record = record
        self.info: RunInfo = record.info
        self.data = RunData(
            metrics={key: point.value for key, point in record.metrics.items()},
            params=dict(record.params),
            tags=dict(record.tags),
        )
        self.inputs = RunInputs(
            dataset_inputs=[dataset_input(d) for d in record.dataset_inputs],
            model_inputs=[LoggedModelInput(m.model_id) for m in record.model_inputs],
        )
        self.outputs = RunOutputs([LoggedModelOutput(m.model_id, m.step or 0) for m in record.model_outputs])

    @property
    def latest_metrics(self) -> dict[str, Metric]:
        return dict(self.record.metrics)

    def to_dict(self) -> dict[str, Any]:
        info = self.info
        return {
            "info": asdict(info),
            "data": {"metrics": self.data.metrics, "params": self.data.params, "tags": self.data.tags},
        }

    def __repr__(self) -> str:
        return f"<Run: run_id={self.info.run_id!r}, name={self.info.run_name!r}, status={self.info.status!r}>"
