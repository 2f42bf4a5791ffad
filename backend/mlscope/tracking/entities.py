"""MLflow-shaped views of a run (``run.info.run_id``, ``run.data.metrics``) over mlscope's records."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..store.model import Metric, Run, RunInfo


@dataclass(frozen=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True)
class RunTag:
    key: str
    value: str


@dataclass(frozen=True)
class RunData:
    """As MLflow's RunData: latest metric values as floats, params and tags as strings."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


class TrackedRun:
    """A run as MLflow code expects it: ``.info`` (RunInfo) and ``.data`` (RunData); ``.record`` is mlscope's Run."""

    def __init__(self, record: Run) -> None:
        self.record = record
        self.info: RunInfo = record.info
        self.data = RunData(
            metrics={key: point.value for key, point in record.metrics.items()},
            params=dict(record.params),
            tags=dict(record.tags),
        )

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
