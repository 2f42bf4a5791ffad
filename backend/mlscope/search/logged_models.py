"""MLflow 3's logged-model search over models in memory, answered as FileStore.search_logged_models answers it.

Grammar and semantics from ``SearchLoggedModelsUtils`` (mlflow/utils/search_utils.py, MLflow 3.17.2), through this
package's tokenizer and parser:

- clauses joined by AND (stray ANDs tolerated, no OR, no parentheses), entity prefixes as for runs
  (``metrics.`` / ``metric.``, ``params.`` / ``param.`` ..., ``tags.`` / ``tag.``, ``attributes.`` / ``attr.`` / ``run.``);
- attributes ``name``, ``model_id``, ``model_type``, ``status``, ``source_run_id`` take a quoted string or a list
  (``IN`` / ``NOT IN``) and any comparator, ``<`` and ``LIKE`` included, compared as Python compares strings; ``status``
  is FileStore's enum value (``READY``, ``PENDING``, ``FAILED``, ``UNSPECIFIED``); ``creation_timestamp`` and
  ``last_updated_timestamp`` take a number and ``= != < <= > >=``;
- ``params.<key>`` and ``tags.<key>``: a quoted string with ``= != LIKE ILIKE``;
- ``metrics.<key>``: a number with ``= != < <= > >=``, compared with the model's *first* point of that key (FileStore
  keeps the latest point per dataset, datasets in the order they were first logged), only among points on one of the
  request's ``datasets`` when there are any. ``datasets`` without a metric clause keeps the models with any metric on
  one of them;
- ``order_by``: attributes, or ``metrics.<key>`` (optionally on a dataset name and digest) by the model's point with
  the newest timestamp, models without it last; ties end with creation time (newest first) and model id.

A model without the param, tag, metric or attribute never matches (``!=`` included). ``datasets.name`` compares the
model's name, as FileStore's matcher happens to do.

Where FileStore fails with a Python error (a 500 through ``mlflow server``), this answers instead or refuses with a
400, and says so: ``creation_time`` and ``last_updated_time`` (MLflow's declared aliases, an AttributeError in
FileStore) mean ``creation_timestamp`` / ``last_updated_timestamp``; ordering ascending by an attribute some models lack
(``model_type``, a TypeError there) puts those models last. Comparators and keys FileStore only rejects while matching a
model (``params.lr > '1'``, ``tags.t IS NULL``, ``datasets.digest = 'd'``) are rejected while parsing here, so an empty
experiment refuses them too. Two comparisons with no AND between them, which sqlparse lets MLflow read as AND-ed, are
refused by the parser this shares with run search (runs refuse them too).

The SQL store's search (store/sql/model_search.py) parses differently on purpose: SqlAlchemyStore uses another MLflow
grammar (``mlflow.utils.search_logged_model_utils``), which takes ``params.lr IN (...)`` and refuses ``metric.acc``,
``name > 'c'`` and ``datasets.name``, where FileStore's does the opposite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..store.model import LoggedModel
from . import tokens as T
from .errors import SearchError
from .grammar import ATTRIBUTE, DATASET, DATASET_KEYS, ENTITY_ALIASES, ENTITY_TYPES, METRIC, PARAM, TAG, split_name
from .parser import BoolOp, Clause, parse
from .run_filter import clauses_of, value_test
from .tokens import Token

NUMERIC_ATTRIBUTES = ("creation_timestamp", "creation_time", "last_updated_timestamp", "last_updated_time")
STRING_ATTRIBUTES = ("name", "model_id", "model_type", "status", "source_run_id")
SEARCH_KEYS = STRING_ATTRIBUTES + NUMERIC_ATTRIBUTES
ALIASES = {"creation_time": "creation_timestamp", "last_updated_time": "last_updated_timestamp"}
NUMERIC_COMPARATORS = ("=", "!=", ">", ">=", "<", "<=")
KEY_VALUE_COMPARATORS = ("=", "!=", "LIKE", "ILIKE")
ATTRIBUTE_COMPARATORS = NUMERIC_COMPARATORS + ("LIKE", "ILIKE", "IN", "NOT IN")
# FileStore reads the status MLflow stores as an int into LoggedModelStatus, a str enum of these values.
STATUS_VALUES = {"LOGGED_MODEL_STATUS_UNSPECIFIED": "UNSPECIFIED", "LOGGED_MODEL_PENDING": "PENDING",
                 "LOGGED_MODEL_READY": "READY", "LOGGED_MODEL_UPLOAD_FAILED": "FAILED"}  # fmt: skip

Predicate = Callable[[LoggedModel], bool]


def _fmt(values: Sequence[str]) -> str:
    return "{" + ", ".join(f"'{v}'" for v in values) + "}"


def _bad(token: Token, detail: str) -> SearchError:
    return SearchError.at("filter", token.pos, token.text, detail)


class LoggedModelGrammar:
    """SearchLoggedModelsUtils' filter grammar, comparators checked at parse time."""

    def resolve(self, name: Token) -> tuple[str, str]:
        entity, key = split_name(name)
        if entity is None:
            kind = ATTRIBUTE
        else:
            kind = ENTITY_ALIASES.get(T.trim_backticks(entity), "")
            if not kind:
                raise _bad(name, f"Invalid entity type '{T.trim_backticks(entity)}'. Valid values are {ENTITY_TYPES}")
        if kind == ATTRIBUTE and key not in SEARCH_KEYS:
            raise _bad(name, f"Invalid attribute key '{key}' specified. Valid keys are '{_fmt(SEARCH_KEYS)}'")
        if kind == DATASET and key not in DATASET_KEYS:
            raise _bad(name, f"Invalid dataset key '{key}' specified. Valid keys are '{_fmt(DATASET_KEYS)}'")
        if kind == DATASET and key != "name":  # FileStore's matcher: a key LoggedModel has no attribute for
            raise _bad(name, f"Invalid logged model search key '{key}'")
        return kind, key

    def check(self, kind: str, key: str, raw_key: str, comparator: Token, value: Token | tuple[str, ...] | None,
              value_pos: int) -> Clause:
        op = " ".join(comparator.text.upper().split())
        if value is None:  # IS [NOT] NULL
            if kind not in (PARAM, TAG):
                raise _bad(comparator, f"IS NULL / IS NOT NULL is only supported for tags and params, not for '{kind}' "
                                       f"'{key}'")
            raise _bad(comparator, f"Invalid comparator '{op}' not one of '{_fmt(KEY_VALUE_COMPARATORS)}'")
        parsed = self.value(kind, key, value, value_pos)
        if kind == DATASET:  # datasets.name: FileStore's matcher compares the model's name
            kind = ATTRIBUTE
        numeric = kind == METRIC or (kind == ATTRIBUTE and key in NUMERIC_ATTRIBUTES)
        allowed = NUMERIC_COMPARATORS if numeric else KEY_VALUE_COMPARATORS if kind in (PARAM, TAG) else ATTRIBUTE_COMPARATORS
        if op not in allowed:
            raise _bad(comparator, f"Invalid comparator '{op}' not one of '{_fmt(allowed)}'")
        return Clause(kind, ALIASES.get(key, key) if kind == ATTRIBUTE else key, op, parsed, comparator.pos)

    def value(self, kind: str, key: str, value: Token | tuple[str, ...], pos: int) -> object:
        shown = value.text if isinstance(value, Token) else "(" + ", ".join(repr(v) for v in value) + ")"
        token = value if isinstance(value, Token) else Token(T.LPAREN, shown, pos)
        if kind == METRIC:
            if token.kind != T.NUMBER:
                raise _bad(token, f"Expected numeric value type for metric. Found {shown}")
            return float(token.text)
        if kind == ATTRIBUTE and key in NUMERIC_ATTRIBUTES:
            if token.kind != T.NUMBER:
                raise _bad(token, f"Expected numeric value type for numeric attribute: {key}. Found {shown}")
            return int(token.text) if T.is_int_literal(token.text) else float(token.text)
        if isinstance(value, tuple):
            if kind in (PARAM, TAG):
                raise _bad(token, f"Expected a quoted string value for {kind} (e.g. 'my-value'). Got value {shown}")
            return value
        if token.kind in (T.STRING, T.DQUOTE):
            return token.text[1:-1]
        if token.kind == T.IDENT:
            raise _bad(token, "Parameter value is either not quoted or unidentified quote types used for string "
                              f"value {token.text}. Use either single or double quotes.")
        if kind in (PARAM, TAG):
            raise _bad(token, f"Expected a quoted string value for {kind} (e.g. 'my-value'). Got value {token.text}")
        if kind == DATASET:
            raise _bad(token, f"Expected a quoted string value for dataset attributes. Got value {token.text}")
        raise _bad(token, f"Expected a quoted string value for attributes. Got value {token.text}")


@lru_cache(maxsize=256)
def parse_model_filter(filter_string: str | None) -> tuple[Clause, ...]:
    """A logged-model filter as its AND-ed clauses; SearchError (a 400) for anything FileStore rejects."""
    text = filter_string or ""
    tree = parse(text, LoggedModelGrammar(), False) if text else BoolOp("AND", ())
    return tuple(clauses_of(tree))


@dataclass(frozen=True)
class DatasetFilter:
    name: str
    digest: str | None = None

    def holds(self, metric: Any) -> bool:
        return metric.dataset_name == self.name and (self.digest is None or metric.dataset_digest == self.digest)


def parse_datasets(datasets: Any) -> tuple[DatasetFilter, ...]:
    """The request's ``datasets``: each needs a ``dataset_name``; an empty digest means any (MLflow's handler)."""
    if datasets is None or datasets == "":
        return ()
    items = datasets if isinstance(datasets, list) else [datasets]
    found = []
    for item in items:
        if not isinstance(item, dict):
            raise SearchError(f"Invalid value for parameter 'datasets': expected a list of objects, got {item!r}.")
        name, digest = item.get("dataset_name"), item.get("dataset_digest")
        if not name:
            raise SearchError("`dataset_name` in the `datasets` clause must be specified.")
        if not isinstance(name, str) or not isinstance(digest, str | None):
            raise SearchError("`dataset_name` and `dataset_digest` in the `datasets` clause must be strings.")
        found.append(DatasetFilter(name, digest or None))
    return tuple(found)


def attribute_value(model: LoggedModel, key: str) -> Any:
    """An attribute as FileStore's LoggedModel holds it (status as its LoggedModelStatus value)."""
    if key == "status":
        return STATUS_VALUES.get(model.status, model.status) if model.status else None
    return getattr(model, key)


def _compile(clause: Clause, datasets: tuple[DatasetFilter, ...]) -> Predicate:
    kind, key = clause.kind, clause.key
    test = value_test(clause.comparator, clause.value, clause.pos)
    if kind == METRIC:
        def metric(model: LoggedModel) -> bool:
            for point in model.metrics:  # FileStore compares the first matching point only
                if point.key == key and (not datasets or any(d.holds(point) for d in datasets)):
                    return bool(test(point.value))
            return False
        return metric
    if kind in (PARAM, TAG):
        def key_value(model: LoggedModel) -> bool:
            current = (model.params if kind == PARAM else model.tags).get(key)
            return current is not None and bool(test(current))
        return key_value

    def attribute(model: LoggedModel) -> bool:
        current = attribute_value(model, key)
        return current is not None and bool(test(current))
    return attribute


def filter_models(models: Sequence[LoggedModel], filter_string: str | None, datasets: Any) -> list[LoggedModel]:
    """SearchLoggedModelsUtils.filter_logged_models: every clause holds; ``datasets`` narrow the metric clauses."""
    clauses = parse_model_filter(filter_string)
    on = parse_datasets(datasets)
    if not clauses and not on:
        return list(models)
    found = list(models)
    if on and not any(c.kind == METRIC for c in clauses):
        found = [m for m in found if any(d.holds(p) for p in m.metrics for d in on)]
    predicates = [_compile(c, on) for c in clauses]
    return [m for m in found if all(p(m) for p in predicates)]


# ----------------------------------------------------------------- order_by


@dataclass(frozen=True)
class ModelOrder:
    field_name: str  # an attribute, or metrics.<key>
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None


def parse_model_order(order_by: Any) -> tuple[ModelOrder, ...]:
    """SearchLoggedModelsUtils.parse_order_by_for_logged_models for each item, then MLflow's tie-breakers."""
    if order_by is None or order_by == "":
        order_by = []
    if not isinstance(order_by, list):
        raise SearchError("`order_by` must be a list of dictionaries.")
    orders = [_order_item(item) for item in order_by]
    if not any(o.field_name == "creation_timestamp" for o in orders):
        orders.append(ModelOrder("creation_timestamp", False))
    if not any(o.field_name == "model_id" for o in orders):
        orders.append(ModelOrder("model_id"))
    return tuple(orders)


def _order_item(item: Any) -> ModelOrder:
    if not isinstance(item, dict):
        raise SearchError("`order_by` must be a list of dictionaries.")
    field_name = item.get("field_name")
    if field_name is None:
        raise SearchError("`field_name` in the `order_by` clause must be specified.")
    if not isinstance(field_name, str):
        raise SearchError(f"Invalid order by field name: {field_name!r}: expected a string.")
    if "." in field_name:
        entity = field_name.split(".", 1)[0]
        if entity != "metrics":
            raise SearchError(f"Invalid order by field name: {entity}, only `metrics.<name>` is allowed.")
    else:
        field_name = field_name.strip()
        if field_name not in SEARCH_KEYS:
            raise SearchError(f"Invalid order by field name: {field_name}.")
    ascending = item.get("ascending", True)
    if ascending is None:  # JSON null: the proto default
        ascending = True
    if ascending not in (True, False):
        raise SearchError(f"Value of `ascending` in the `order_by` clause must be a boolean, got {type(ascending)} "
                          f"for field {field_name}.")
    dataset_name, dataset_digest = item.get("dataset_name") or None, item.get("dataset_digest") or None
    if not isinstance(dataset_name, str | None) or not isinstance(dataset_digest, str | None):
        raise SearchError("`dataset_name` and `dataset_digest` in the `order_by` clause must be strings.")
    if dataset_digest and not dataset_name:
        raise SearchError("`dataset_digest` can only be specified if `dataset_name` is also specified.")
    return ModelOrder(ALIASES.get(field_name, field_name), bool(ascending), dataset_name, dataset_digest)


class _Ascending:
    """MLflow's _LoggedModelMetricComp: natural order, None last (used for attributes too, where MLflow raises)."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __eq__(self, other: object) -> bool:
        return bool(other.obj == self.obj) if isinstance(other, _Ascending) else NotImplemented

    def __lt__(self, other: _Ascending) -> bool:
        if self.obj is None:
            return False
        if other.obj is None:
            return True
        return bool(self.obj < other.obj)

    __hash__ = None  # type: ignore[assignment]


class _Descending(_Ascending):
    """MLflow's _Reversor: reversed order, None last."""

    __slots__ = ()

    def __lt__(self, other: _Ascending) -> bool:
        if self.obj is None:
            return False
        if other.obj is None:
            return True
        return bool(other.obj < self.obj)


def latest_metric_value(model: LoggedModel, order: ModelOrder) -> float | None:
    """The value of the model's point with the newest timestamp (the first such point) for an order's metric."""
    key = order.field_name.split(".", 1)[1]
    best = None
    for point in model.metrics:
        if point.key != key or (order.dataset_name and point.dataset_name != order.dataset_name):
            continue
        if order.dataset_digest and point.dataset_digest != order.dataset_digest:
            continue
        if best is None or point.timestamp > best.timestamp:
            best = point
    return None if best is None else best.value


def sort_models(models: Sequence[LoggedModel], order_by: Any) -> list[LoggedModel]:
    """SearchLoggedModelsUtils.sort: one tuple key per model, compared as MLflow compares them (NaN included)."""
    orders = parse_model_order(order_by)

    def key(model: LoggedModel) -> tuple[_Ascending, ...]:
        parts = []
        for order in orders:
            value = latest_metric_value(model, order) if "." in order.field_name else attribute_value(model, order.field_name)
            parts.append(_Ascending(value) if order.ascending else _Descending(value))
        return tuple(parts)

    return sorted(models, key=key)


def search_logged_models(models: Sequence[LoggedModel], filter_string: str | None, datasets: Any, order_by: Any,
                         offset: int, max_results: int) -> tuple[list[LoggedModel], bool]:
    """FileStore.search_logged_models over live models: one page (offset, max_results) and whether more follow."""
    matching = sort_models(filter_models(models, filter_string, datasets), order_by)
    return matching[offset : offset + max_results], offset + max_results < len(matching)
