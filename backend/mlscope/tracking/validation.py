"""MLflow's rules for keys and values, so a run mlscope logs is one MLflow would accept."""

from __future__ import annotations

import logging
import math
import numbers
import os
import posixpath
import re
from typing import Any

from ..store.writer import StoreError

MlscopeException = StoreError  # the one error type the tracking API raises

MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
MAX_ENTITIES_PER_BATCH = 1000

_KEY_RE = re.compile(r"^[/\w.\- ]*$") if os.name == "nt" else re.compile(r"^[/\w.\- :]*$")
_RUN_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_IMAGE_KEY_RE = re.compile(r"^[a-zA-Z0-9_\-./ ]+$")
_log = logging.getLogger("mlscope")


def validate_key(key: Any, what: str = "key") -> str:
    """A param/metric/tag name: MLflow's characters, no path escapes (``..``, leading ``/``), ≤ 250 chars."""
    if key is None:
        raise MlscopeException(f"Missing value for required parameter '{what}'.")
    key = str(key)
    if not _KEY_RE.match(key):
        raise MlscopeException(
            f"Invalid {what} {key!r}: names may only contain alphanumerics, underscores (_), dashes (-), "
            "periods (.), spaces ( ), colon(:) and slashes (/)."
        )
    norm = posixpath.normpath(key)
    if norm != key or norm == "." or norm.startswith("..") or norm.startswith("/"):
        raise MlscopeException(f"Invalid {what} {key!r}: names are used as file paths and this one would resolve to {norm!r}.")
    if len(key) > MAX_ENTITY_KEY_LENGTH:
        raise MlscopeException(f"{what} '{key[:60]}...' exceeds the maximum length of {MAX_ENTITY_KEY_LENGTH} characters")
    return key


def limit_value(value: str, limit: int, what: str) -> str:
    """MLflow truncates over-long param/tag values (with a warning) unless MLFLOW_TRUNCATE_LONG_VALUES=false."""
    if len(value) <= limit:
        return value
    if os.environ.get("MLFLOW_TRUNCATE_LONG_VALUES", "true").strip().lower() in ("true", "1"):
        _log.warning("%s '%s...' (%d characters) is truncated to %d characters to meet the length limit.", what, value[:100], len(value), limit)
        return value[:limit]
    raise MlscopeException(f"'{what}' exceeds the maximum length of {limit} characters")


def param_value(key: str, value: Any) -> str:
    return limit_value(str(value), MAX_PARAM_VAL_LENGTH, f"Param value of {key!r}")


def tag_value(key: str, value: Any) -> str:
    return limit_value(str(value), MAX_TAG_VAL_LENGTH, f"Tag value of {key!r}")


def experiment_tag(key: Any, value: Any) -> tuple[str, str]:
    key = validate_key(key, "experiment tag key")
    text = str(value)
    if len(text) > MAX_EXPERIMENT_TAG_VAL_LENGTH:
        raise MlscopeException(f"Experiment tag value of {key!r} exceeds the maximum length of {MAX_EXPERIMENT_TAG_VAL_LENGTH} characters")
    return key, text


def experiment_name(name: Any) -> str:
    if name is None or name == "":
        raise MlscopeException(f"Invalid experiment name: '{name}'")
    if not isinstance(name, str):
        raise MlscopeException(f"Invalid experiment name: {name}. Expects a string.")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise MlscopeException(f"'name' exceeds the maximum length of {MAX_EXPERIMENT_NAME_LENGTH} characters")
    return name


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def metric_value(key: str, value: Any) -> float:
    """A float, converted as MLflow's client converts it: ``float(x)`` (so "1.0", True, numpy and torch scalars
    pass); a value float() cannot read is refused in MLflow's words. MLflow lets OverflowError (10**400) and
    TypeError ([1]) escape as bare Python errors: here they are the same INVALID_PARAMETER_VALUE."""
    if value is None:
        raise MlscopeException(f"Missing value for required parameter 'value' (metric '{key}').")
    if type(value) is float:
        return value
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise MlscopeException(
            f"Invalid value {value!r} for parameter 'value' supplied: metric '{key}'. "
            "Please specify value as a valid double (64-bit floating point)"
        ) from None


def metric_int(key: str, number: Any, what: str) -> int:
    """A step or timestamp: a number inside int64 (MLflow's client refuses the rest with 'Value out of range')."""
    if isinstance(number, bool) or not isinstance(number, numbers.Number):
        raise MlscopeException(f"Invalid value {number!r} for parameter '{what}' supplied: metric '{key}'. "
                               f"{what.capitalize()} must be a valid long (64-bit integer).")
    if isinstance(number, float) and not math.isfinite(number):
        raise MlscopeException(f"Invalid value {number!r} for parameter '{what}' supplied: metric '{key}'.")
    result = int(number)  # type: ignore[call-overload]
    if not INT64_MIN <= result <= INT64_MAX:
        raise MlscopeException(f"Invalid value {number!r} for parameter '{what}' supplied: metric '{key}'. "
                               f"{what.capitalize()} must be a valid long (64-bit integer): it is out of range.")
    if what == "timestamp" and result < 0:
        raise MlscopeException(f"Invalid value {number!r} for parameter 'timestamp' supplied: metric '{key}'. "
                               "Timestamp must be a nonnegative long (64-bit integer)")
    return result


def run_id(value: Any) -> str:
    if not isinstance(value, str) or not _RUN_ID_RE.match(value):
        raise MlscopeException(f"Invalid value {value!r} for parameter 'run_id' supplied.")
    return value


def image_key(key: str) -> str:
    if not _IMAGE_KEY_RE.match(key):
        raise MlscopeException(
            "The `key` parameter may only contain alphanumerics, underscores (_), dashes (-), periods (.), "
            f"spaces ( ), and slashes (/). The provided key `{key}` contains invalid characters."
        )
    return key


def artifact_subpath(path: str | None) -> str:
    """A relative artifact path that stays inside the run's artifact folder ('' for the root)."""
    if path is None or path in ("", "."):
        return ""
    norm = posixpath.normpath(str(path).replace("\\", "/"))
    if norm.startswith("/") or norm == ".." or norm.startswith("../") or "\0" in norm:
        raise MlscopeException(f"Invalid artifact path {path!r}: it must stay inside the run's artifact folder")
    return "" if norm == "." else norm
