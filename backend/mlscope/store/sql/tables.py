"""MLflow's tracking and registry tables as SQLAlchemy Core objects, for mlscope's queries.

These name the tables and columns of MLflow 3.17.2's schema that mlscope reads
and writes; they are never used to create a schema (``schema.py`` runs MLflow's
own DDL for that, so every index, check and GenAI table is exactly MLflow's).
Types are the portable ones: SQLAlchemy maps them per dialect when binding.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()

# Booleans without SQLAlchemy's own CHECK: MLflow's migrations created the checks that exist.
_bool = Boolean(create_constraint=False)
_float = Float(precision=53)


def _pk(name: str, type_: object, **kw: object) -> Column:
    return Column(name, type_, primary_key=True, **kw)  # type: ignore[arg-type]


experiments = Table(
    "experiments", metadata,
    _pk("experiment_id", Integer, autoincrement=True),
    Column("name", String(256), nullable=False),
    Column("artifact_location", String(256)),
    Column("lifecycle_stage", String(32)),
    Column("creation_time", BigInteger),
    Column("last_update_time", BigInteger),
    Column("workspace", String(63), nullable=False),
)  # fmt: skip

experiment_tags = Table(
    "experiment_tags", metadata,
    _pk("key", String(250)),
    Column("value", Text),
    _pk("experiment_id", Integer),
)  # fmt: skip

runs = Table(
    "runs", metadata,
    _pk("run_uuid", String(32)),
    Column("name", String(250)),
    Column("source_type", String(20)),
    Column("source_name", String(500)),
    Column("entry_point_name", String(50)),
    Column("user_id", String(256)),
    Column("status", String(9)),
    Column("start_time", BigInteger),
    Column("end_time", BigInteger),
    Column("source_version", String(50)),
    Column("lifecycle_stage", String(20)),
    Column("artifact_uri", String(200)),
    Column("experiment_id", Integer),
    Column("deleted_time", BigInteger),
)  # fmt: skip

params = Table(
    "params", metadata,
    _pk("key", String(250)),
    Column("value", String(8000), nullable=False),
    _pk("run_uuid", String(32)),
)  # fmt: skip

tags = Table(
    "tags", metadata,
    _pk("key", String(250)),
    Column("value", String(8000)),
    _pk("run_uuid", String(32)),
)  # fmt: skip

metrics = Table(
    "metrics", metadata,
    _pk("key", String(250)),
    _pk("value", _float),
    _pk("timestamp", BigInteger),
    _pk("run_uuid", String(32)),
    _pk("step", BigInteger),
    _pk("is_nan", _bool),
)  # fmt: skip

latest_metrics = Table(
    "latest_metrics", metadata,
    _pk("key", String(250)),
    Column("value", _float, nullable=False),
    Column("timestamp", BigInteger),
    Column("step", BigInteger, nullable=False),
    Column("is_nan", _bool, nullable=False),
    _pk("run_uuid", String(32)),
)  # fmt: skip

datasets = Table(
    "datasets", metadata,
    Column("dataset_uuid", String(36), nullable=False),
    _pk("experiment_id", Integer),
    _pk("name", String(500)),
    _pk("digest", String(36)),
    Column("dataset_source_type", String(36), nullable=False),
    Column("dataset_source", Text, nullable=False),
    Column("dataset_schema", Text),
    Column("dataset_profile", Text),
)  # fmt: skip

inputs = Table(
    "inputs", metadata,
    Column("input_uuid", String(36), nullable=False),
    _pk("source_type", String(36)),
    _pk("source_id", String(36)),
    _pk("destination_type", String(36)),
    _pk("destination_id", String(36)),
    Column("step", BigInteger, nullable=False),
)  # fmt: skip

input_tags = Table(
    "input_tags", metadata,
    _pk("input_uuid", String(36)),
    _pk("name", String(255)),
    Column("value", String(500), nullable=False),
)  # fmt: skip

logged_models = Table(
    "logged_models", metadata,
    _pk("model_id", String(36)),
    Column("experiment_id", Integer, nullable=False),
    Column("name", String(500), nullable=False),
    Column("artifact_location", String(1000), nullable=False),
    Column("creation_timestamp_ms", BigInteger, nullable=False),
    Column("last_updated_timestamp_ms", BigInteger, nullable=False),
    Column("status", Integer, nullable=False),
    Column("lifecycle_stage", String(32)),
    Column("model_type", String(500)),
    Column("source_run_id", String(32)),
    Column("status_message", String(1000)),
)  # fmt: skip

logged_model_params = Table(
    "logged_model_params", metadata,
    _pk("model_id", String(36)),
    Column("experiment_id", Integer, nullable=False),
    _pk("param_key", String(255)),
    Column("param_value", Text, nullable=False),
)  # fmt: skip

logged_model_tags = Table(
    "logged_model_tags", metadata,
    _pk("model_id", String(36)),
    Column("experiment_id", Integer, nullable=False),
    _pk("tag_key", String(255)),
    Column("tag_value", Text, nullable=False),
)  # fmt: skip

logged_model_metrics = Table(
    "logged_model_metrics", metadata,
    _pk("model_id", String(36)),
    _pk("metric_name", String(500)),
    _pk("metric_timestamp_ms", BigInteger),
    _pk("metric_step", BigInteger),
    Column("metric_value", _float),
    Column("experiment_id", Integer, nullable=False),
    _pk("run_id", String(32)),
    Column("dataset_uuid", String(36)),
    Column("dataset_name", String(500)),
    Column("dataset_digest", String(36)),
)  # fmt: skip

registered_models = Table(
    "registered_models", metadata,
    _pk("workspace", String(63)),
    _pk("name", String(256)),
    Column("creation_time", BigInteger),
    Column("last_updated_time", BigInteger),
    Column("description", String(5000)),
)  # fmt: skip

registered_model_tags = Table(
    "registered_model_tags", metadata,
    _pk("workspace", String(63)),
    _pk("key", String(250)),
    Column("value", String(5000)),
    _pk("name", String(256)),
)  # fmt: skip

registered_model_aliases = Table(
    "registered_model_aliases", metadata,
    _pk("workspace", String(63)),
    _pk("alias", String(256)),
    Column("version", Integer, nullable=False),
    _pk("name", String(256)),
)  # fmt: skip

model_versions = Table(
    "model_versions", metadata,
    _pk("workspace", String(63)),
    _pk("name", String(256)),
    _pk("version", Integer),
    Column("creation_time", BigInteger),
    Column("last_updated_time", BigInteger),
    Column("description", String(5000)),
    Column("user_id", String(256)),
    Column("current_stage", String(20)),
    Column("source", String(500)),
    Column("run_id", String(32)),
    Column("status", String(20)),
    Column("status_message", String(500)),
    Column("run_link", String(500)),
    Column("storage_location", String(500)),
)  # fmt: skip

model_version_tags = Table(
    "model_version_tags", metadata,
    _pk("workspace", String(63)),
    _pk("key", String(250)),
    Column("value", Text),
    _pk("name", String(256)),
    _pk("version", Integer),
)  # fmt: skip

alembic_version = Table("alembic_version", metadata, _pk("version_num", String(32)))

DEFAULT_WORKSPACE = "default"
