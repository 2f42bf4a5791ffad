"""MLflow's store-side rules for ids, names, keys, values and batches, with MLflow's own messages.

These are the checks MLflow's FileStore (``mlflow/utils/validation.py``) runs
before it writes, in the same order, so a tracking server built on this tree
refuses exactly what ``mlflow server`` refuses and says it the same way.
Every failure is a StoreError with MLflow's error code.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import re
from collections.abc import Sequence
from typing import Any

from .errors import StoreError

MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
MAX_ENTITIES_PER_BATCH = 1000
MAX_BATCH_LOG_REQUEST_SIZE = int(1e6)
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000
MAX_ENTITY_KEY_LENGTH = 250
MAX_DATASET_NAME_SIZE = 500
MAX_DATASET_DIGEST_SIZE = 36
MAX_DATASET_SCHEMA_SIZE = 1048575
MAX_DATASET_SOURCE_SIZE = 65535
MAX_DATASET_PROFILE_SIZE = 16777215
MAX_INPUT_TAG_KEY_SIZE = 255
MAX_INPUT_TAG_VALUE_SIZE = 500
MAX_ARTIFACT_LOCATION_LENGTH = 2048  # MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH's default

_RUN_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_EXPERIMENT_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,63}$")
_NAME = re.compile(r"^[/\w.\- ]*$") if os.name == "nt" else re.compile(r"^[/\w.\- :]*$")
_BAD_CHARACTERS = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( )"
    + ("" if os.name == "nt" else ", colon(:)")
    + " and slashes (/)."
)
_MISSING_KEY_NAME = "A key name must be provided."
_LOGGED_MODEL_BAD_CHARS = ("/", ":", ".", "%", '"', "'")
log = logging.getLogger("mlscope")


def invalid(message: str) -> StoreError:
    return StoreError(message, "INVALID_PARAMETER_VALUE")


def invalid_value(path: str, value: Any, message: str | None = None) -> str:
    shown = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return f"Invalid value {shown} for parameter '{path}' supplied" + (f": {message}" if message else ".")


def exceeds_maximum_length(path: str, limit: int) -> str:
    return f"'{path}' exceeds the maximum length of {limit} characters"


def json_path(path: str, name: str) -> str:
    return name if not path else f"{path}.{name}"


def _resolves_elsewhere(name: str) -> bool:
    norm = posixpath.normpath(name)
    return norm != name or norm == "." or norm.startswith("..") or norm.startswith("/")


def _bad_path(name: str) -> str:
    return (
        "Names may be treated as files in certain cases, and must not resolve to other names"
        f" when treated as such. This name would resolve to {posixpath.normpath(name)!r}"
    )


def _check_name_shape(name: str, path: str) -> None:
    if not _NAME.match(name):
        raise invalid(invalid_value(path, name, _BAD_CHARACTERS))
    if _resolves_elsewhere(name):
        raise invalid(invalid_value(path, name, _bad_path(name)))


def length_limited(what: str, limit: int, value: str | None, *, truncate: bool = False) -> str | None:
    """The value, cut to ``limit`` when MLflow truncates it (params and tag values), else an error."""
    if value is None or len(value) <= limit:
        return value
    if truncate and os.environ.get("MLFLOW_TRUNCATE_LONG_VALUES", "true").strip().lower() in ("true", "1"):
        log.warning("%s '%s...' (%d characters) is truncated to %d characters to meet the length limit.", what, value[:100], len(value), limit)
        return value[:limit]
    raise invalid(exceeds_maximum_length(what, limit))


# ---------------------------------------------------------------- ids and names


def check_run_id(run_id: str, path: str = "run_id") -> str:
    if _RUN_ID.match(run_id) is None:
        raise invalid(invalid_value(path, run_id))
    return run_id


def check_experiment_id(experiment_id: str) -> str:
    if _EXPERIMENT_ID.match(experiment_id) is None:
        raise invalid(f"Invalid experiment ID: '{experiment_id}'")
    return experiment_id


def check_experiment_name(name: str) -> str:
    if not name:
        raise invalid(f"Invalid experiment name: '{name}'")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise invalid(exceeds_maximum_length("name", MAX_EXPERIMENT_NAME_LENGTH))
    return name


def check_artifact_location(location: str) -> str:
    if location.startswith("runs:"):
        raise invalid(f"Artifact location cannot be a runs:/ URI. Given: '{location}'")
    if len(location) > MAX_ARTIFACT_LOCATION_LENGTH:
        raise invalid(
            "Invalid artifact path length. The length of the artifact path cannot be "
            f"greater than {MAX_ARTIFACT_LOCATION_LENGTH} characters. To configure this limit, please set the "
            "MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH environment variable."
        )
    return location


def check_logged_model_name(name: str | None) -> None:
    if name is not None and (not name or any(c in name for c in _LOGGED_MODEL_BAD_CHARS)):
        raise invalid(
            f"Invalid model name ({name!r}) provided. Model name must be a non-empty string "
            f"and cannot contain the following characters: {_LOGGED_MODEL_BAD_CHARS}"
        )


# ------------------------------------------------------- metrics, params, tags


def check_metric(key: str, value: float, timestamp: int, step: int, path: str = "") -> None:
    name_path = json_path(path, "name")
    _check_name_shape(key, name_path)
    if timestamp < 0:
        raise invalid(
            invalid_value(
                json_path(path, "timestamp"),
                timestamp,
                f"metric '{key}' (value={value}). Timestamp must be a nonnegative long (64-bit integer) ",
            )
        )
    length_limited("Metric name", MAX_ENTITY_KEY_LENGTH, key)


def check_param(key: str, value: str, path: str = "") -> tuple[str, str]:
    """(key, value) with the value truncated to 6,000 characters as MLflow does."""
    _check_name_shape(key, json_path(path, "key"))
    length_limited("Param key", MAX_ENTITY_KEY_LENGTH, key)
    return key, length_limited("Param value", MAX_PARAM_VAL_LENGTH, value, truncate=True) or ""


def check_tag(key: str, value: str, path: str = "") -> tuple[str, str]:
    """(key, value) with the value truncated to 8,000 characters as MLflow does."""
    _check_name_shape(key, json_path(path, "key"))
    length_limited(json_path(path, "key"), MAX_ENTITY_KEY_LENGTH, key)
    return key, length_limited(json_path(path, "value"), MAX_TAG_VAL_LENGTH, value, truncate=True) or ""


def check_tag_name(key: str, path: str = "key") -> str:
    _check_name_shape(key, path)
    return key


def check_experiment_tag(key: str, value: str) -> None:
    _check_name_shape(key, "key")
    length_limited("key", MAX_EXPERIMENT_TAG_KEY_LENGTH, key)
    length_limited("value", MAX_EXPERIMENT_TAG_VAL_LENGTH, value)


def check_param_name(key: str | None, path: str = "key") -> str:
    if key is None:
        raise invalid(invalid_value(path, "", _MISSING_KEY_NAME))
    _check_name_shape(key, path)
    return key


# ------------------------------------------------------------------- batches


def check_batch_size(request_bytes: int) -> None:
    if request_bytes > MAX_BATCH_LOG_REQUEST_SIZE:
        raise invalid(
            f"Batched logging API requests must be at most {MAX_BATCH_LOG_REQUEST_SIZE} bytes, "
            f"got a request of size {request_bytes}."
        )


def _batch_limit(what: str, limit: int, length: int) -> None:
    if length > limit:
        raise invalid(
            f"A batch logging request can contain at most {limit} {what}. Got {length} {what}. "
            f"Please split up {what} across multiple requests and try again."
        )


def check_batch(
    metrics: Sequence[tuple[str, float, int, int]], params: Sequence[tuple[str, str]], tags: Sequence[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """MLflow's log_batch checks in its order: each entity, then counts, then unique param keys.

    Returns params and tags with over-long values truncated.
    """
    checked: set[str] = set()  # a batch repeats a few keys many times: check each name once
    for index, (key, value, timestamp, step) in enumerate(metrics):
        if key not in checked or timestamp < 0:
            check_metric(key, value, timestamp, step, path=f"metrics[{index}]")
            checked.add(key)
    params = [check_param(k, v, path=f"params[{i}]") for i, (k, v) in enumerate(params)]
    tags = [check_tag(k, v, path=f"tags[{i}]") for i, (k, v) in enumerate(tags)]
    _batch_limit("metrics", MAX_METRICS_PER_BATCH, len(metrics))
    _batch_limit("params", MAX_PARAMS_TAGS_PER_BATCH, len(params))
    _batch_limit("tags", MAX_PARAMS_TAGS_PER_BATCH, len(tags))
    _batch_limit("metrics, params, and tags", MAX_ENTITIES_PER_BATCH, len(metrics) + len(params) + len(tags))
    seen: list[str] = []
    dupes = []
    for key, _ in params:
        if key in seen:
            dupes.append(key)
        else:
            seen.append(key)
    if dupes:
        raise invalid(
            f"Duplicate parameter keys have been submitted: {dupes}. Please ensure "
            "the request contains only one param value per param key."
        )
    return params, tags


# ------------------------------------------------------------------ datasets


def check_dataset(name: str, digest: str, source: str, schema: str | None, profile: str | None) -> None:
    for what, value, limit in (
        ("name", name, MAX_DATASET_NAME_SIZE),
        ("digest", digest, MAX_DATASET_DIGEST_SIZE),
        ("source", source, MAX_DATASET_SOURCE_SIZE),
        ("schema", schema, MAX_DATASET_SCHEMA_SIZE),
        ("profile", profile, MAX_DATASET_PROFILE_SIZE),
    ):
        if value is not None and len(value) > limit:
            raise invalid(exceeds_maximum_length(what, limit))


def check_input_tag(key: str, value: str) -> None:
    if len(key) > MAX_INPUT_TAG_KEY_SIZE:
        raise invalid(exceeds_maximum_length("key", MAX_INPUT_TAG_KEY_SIZE))
    if len(value) > MAX_INPUT_TAG_VALUE_SIZE:
        raise invalid(exceeds_maximum_length("value", MAX_INPUT_TAG_VALUE_SIZE))
