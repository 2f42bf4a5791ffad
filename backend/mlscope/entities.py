"""``mlscope.entities``: MLflow's entity names (``ViewType``, ``Metric``, ``Param``, ``RunTag``, ``Run``...)."""

from __future__ import annotations

from .tracking.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    ExperimentTag,
    FileInfo,
    InputTag,
    LifecycleStage,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
    TrackedRun,
    ViewType,
)

Run = TrackedRun  # what get_run and search_runs return: .info, .data, .inputs, .outputs

__all__ = [
    "Dataset", "DatasetInput", "Experiment", "ExperimentTag", "FileInfo", "InputTag", "LifecycleStage",
    "LoggedModelInput", "LoggedModelOutput", "Metric", "Param", "Run", "RunData", "RunInfo", "RunInputs", "RunOutputs",
    "RunStatus", "RunTag", "ViewType",
]  # fmt: skip
