"""The module-level logging calls (``mlscope.log_metric(...)``): params, metrics, tags, artifacts, datasets, tables, search.

Each logs to the thread's active run (starting one when none is active) or,
where MLflow accepts ``run_id=``, to the run named.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ..store.atomic import now_ms
from . import tables
from .client import RunOperations
from .entities import Dataset as DatasetEntity
from .entities import DatasetInput, InputTag, LoggedModelInput, ViewType
from .fluent import active_experiment_id, active_or_new_run, active_run_id, client
from .validation import MlscopeException

SEARCH_MAX_RESULTS_PANDAS = 100000


# ------------------------------------------------------ params, metrics, tags


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    return client().log_param(active_run_id(), key, value, synchronous=synchronous)


def log_params(params: Mapping[str, Any], synchronous: bool | None = None, run_id: str | None = None) -> RunOperations | None:
    return client().log_batch(run_id or active_run_id(), params=params, synchronous=synchronous)


def log_metric(key: str, value: float, step: int | None = None, synchronous: bool | None = None, timestamp: int | None = None,
               run_id: str | None = None, model_id: str | None = None, dataset: Any = None) -> RunOperations | None:  # fmt: skip
    """One metric point (MLflow's log-metric call); with ``dataset=`` it names the dataset, which becomes a run input."""
    run, model_ids, name, digest = _metric_context(run_id, step or 0, model_id, dataset)
    return client().log_metric(run.info.run_id, key, value, timestamp or None, step or 0, synchronous=synchronous,
                               dataset_name=name, dataset_digest=digest, model_id=model_ids[0])  # fmt: skip


def log_metrics(metrics: Mapping[str, float], step: int | None = None, synchronous: bool | None = None, run_id: str | None = None,
                timestamp: int | None = None, model_id: str | None = None, dataset: Any = None) -> RunOperations | None:  # fmt: skip
    """Several metrics at one step, in one log-batch call (one point per metric and logged model, as MLflow)."""
    run, model_ids, name, digest = _metric_context(run_id, step or 0, model_id, dataset)
    tracking = client()
    timestamp = timestamp or now_ms()  # one time for every point of the call (0 means now, as in MLflow)
    if model_ids != [None]:  # metrics of logged models: log-batch carries no model id, so one call per point
        for key, value in metrics.items():
            for mid in model_ids:
                tracking.log_metric(run.info.run_id, key, value, timestamp, step or 0, dataset_name=name, dataset_digest=digest, model_id=mid)
        return RunOperations() if synchronous is False else None
    points = [(key, value, timestamp, step or 0, name, digest) for key, value in metrics.items()]
    return tracking.log_batch(run.info.run_id, metrics=points, synchronous=synchronous)


def _metric_context(run_id: str | None, step: int, model_id: str | None, dataset: Any) -> tuple[Any, list[str | None], str | None, str | None]:
    """The run, the logged models the points belong to (given, else those the run output at this step) and the
    dataset's name and digest, linking the dataset to the run first when it is not one of its inputs (as MLflow)."""
    tracking = client()
    run = active_or_new_run() if run_id is None else tracking.get_run(run_id)
    model_ids: list[str | None] = [model_id] if model_id else [m.model_id for m in run.outputs.model_outputs if m.step == step] or [None]
    if dataset is None:
        return run, model_ids, None, None
    name, digest = dataset.name, dataset.digest
    if (name, digest) not in {(d.dataset.name, d.dataset.digest) for d in run.inputs.dataset_inputs}:
        entity = dataset if isinstance(dataset, DatasetEntity) or not hasattr(dataset, "_to_mlflow_entity") else dataset._to_mlflow_entity()
        tracking.log_inputs(run.info.run_id, [DatasetInput(entity, [])])
        run.inputs.dataset_inputs.append(DatasetInput(entity, []))  # as MLflow: the in-memory run remembers it
    return run, model_ids, name, digest


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> RunOperations | None:
    return client().set_tag(active_run_id(), key, value, synchronous=synchronous)


def set_tags(tags: Mapping[str, Any], synchronous: bool | None = None) -> RunOperations | None:
    return client().log_batch(active_run_id(), tags=tags, synchronous=synchronous)


def delete_tag(key: str) -> None:
    client().delete_tag(active_run_id(), key)


# --------------------------------------------------------------- artifacts


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None) -> None:
    client().log_artifact(run_id or active_run_id(), local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None) -> None:
    client().log_artifacts(run_id or active_run_id(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    client().log_text(run_id or active_run_id(), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    client().log_dict(run_id or active_run_id(), dictionary, artifact_file)


def log_image(image: Any, artifact_file: str | None = None, key: str | None = None, step: int | None = None,
              timestamp: int | None = None, synchronous: bool | None = False) -> None:  # fmt: skip
    client().log_image(active_run_id(), image, artifact_file, key=key, step=step, timestamp=timestamp)


def log_figure(figure: Any, artifact_file: str, *, save_kwargs: dict[str, Any] | None = None) -> None:
    client().log_figure(active_run_id(), figure, artifact_file, save_kwargs=save_kwargs)


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    client().log_table(run_id or active_run_id(), data, artifact_file)


def load_table(artifact_file: str, run_ids: list[str] | None = None, extra_columns: list[str] | None = None) -> Any:
    """The table logged under artifact_file in the active experiment's runs, joined (a pandas DataFrame)."""
    return client().load_table(active_experiment_id(), artifact_file, run_ids, extra_columns)


# ----------------------------------------------------------------- inputs


def _dataset_input(dataset: Any, context: str | None, tags: Mapping[str, str] | None) -> DatasetInput | None:
    if (context or tags) and dataset is None:
        raise MlscopeException("`dataset` must be specified if `context` or `tags` is specified.")
    if dataset is None:
        return None
    input_tags = [InputTag(k, v) for k, v in (tags or {}).items()]
    if context:
        input_tags.append(InputTag("mlflow.data.context", context))
    entity = dataset._to_mlflow_entity() if hasattr(dataset, "_to_mlflow_entity") else dataset
    return DatasetInput(entity, input_tags)


def log_input(dataset: Any = None, context: str | None = None, tags: Mapping[str, str] | None = None, model: Any = None) -> None:
    """A dataset (from mlscope.data or mlflow.data) used by the active run, with its context ("training", ...)."""
    item = _dataset_input(dataset, context, tags)
    client().log_inputs(active_run_id(), [item] if item else None, [model] if model else None)


def log_inputs(datasets: Sequence[Any] | None = None, contexts: Sequence[str | None] | None = None,
               tags_list: Sequence[Mapping[str, str] | None] | None = None, models: Sequence[Any] | None = None) -> None:  # fmt: skip
    datasets = list(datasets or [])
    contexts = list(contexts) if contexts is not None else [None] * len(datasets)
    tags_list = list(tags_list) if tags_list is not None else [None] * len(datasets)
    if not len(datasets) == len(contexts) == len(tags_list):
        raise MlscopeException("`datasets`, `contexts` and `tags_list` must have the same length.")
    items = [i for i in (_dataset_input(d, c, t) for d, c, t in zip(datasets, contexts, tags_list, strict=True)) if i is not None]
    models_in = [m for m in models or [] if m is not None]
    client().log_inputs(active_run_id(), items or None, [LoggedModelInput(getattr(m, "model_id", m)) for m in models_in] or None)


# ------------------------------------------------------------------ search


def search_runs(experiment_ids: list[str] | None = None, filter_string: str = "", run_view_type: str | int = ViewType.ACTIVE_ONLY,
                max_results: int = SEARCH_MAX_RESULTS_PANDAS, order_by: list[str] | None = None, output_format: str = "pandas",
                search_all_experiments: bool = False, experiment_names: list[str] | None = None) -> Any:  # fmt: skip
    """Runs as a pandas DataFrame (MLflow's default and columns) or, with output_format="list", Run objects.

    Without pandas installed, the default falls back to a list (MLflow cannot run without pandas at all).
    """
    tracking = client()
    if experiment_ids and experiment_names:
        raise MlscopeException("Only experiment_ids or experiment_names can be used, but not both")
    if experiment_names:
        found = [tracking.get_experiment_by_name(n) for n in experiment_names if n is not None]
        ids = [e.experiment_id for e in found if e is not None]
    elif experiment_ids:
        ids = [str(e) for e in experiment_ids]
    elif search_all_experiments:
        ids = [e.experiment_id for e in tracking.search_experiments(ViewType.ACTIVE_ONLY, max_results=50000)]
    else:
        ids = [active_experiment_id()]
    runs = tracking.search_runs(ids, filter_string, run_view_type, max_results, order_by) if ids else []
    if output_format == "list":
        return list(runs)
    if output_format != "pandas":
        raise ValueError(f"Unsupported output format: {output_format}. Supported string values are 'pandas' or 'list'")
    pd = tables._pandas()
    if pd is None:
        return list(runs)
    return tables.runs_dataframe(pd, runs)
