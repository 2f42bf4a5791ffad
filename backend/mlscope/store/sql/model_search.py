"""MLflow 3's logged-model search on a SQL store, answered as SqlAlchemyStore.search_logged_models answers it.

The filter is MLflow's logged-model grammar (``mlflow.utils.search_logged_model_utils``): comparisons joined
by AND on attributes (``name``, ``model_id``, ``model_type``, ``status``, ``source_run_id``,
``creation_time``...), ``metrics.<key>`` (numeric: ``< <= > >= = !=``), ``params.<key>`` and ``tags.<key>``
(``= != LIKE ILIKE IN NOT IN``). A metric comparison matches a model when *any* of its points (optionally on one
of the request's datasets) satisfies it; ordering by a metric uses each model's latest point of that key (newest
timestamp, then highest step, then smallest run id), models without it last; ties end with creation time
(newest first) and model id, as in MLflow. The query is SqlAlchemyStore's, written in SQLAlchemy Core.

One deliberate difference: ``status = 'READY'`` (or ``'LOGGED_MODEL_READY'``) compares with the status MLflow
stores as an integer; SqlAlchemyStore compares the integer column with the string (never true on SQLite, an
error on PostgreSQL).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import StoreError
from ..model import DELETED, LoggedModel
from . import reads
from . import tables as t

ALIASES = {"creation_time": "creation_timestamp_ms", "creation_timestamp": "creation_timestamp_ms",
           "last_updated_timestamp": "last_updated_timestamp_ms"}  # fmt: skip
NUMERIC_ATTRIBUTES = ("creation_timestamp_ms", "last_updated_timestamp_ms")
NUMERIC_OPS = ("<", "<=", ">", ">=", "=", "!=")
STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
ENTITIES = ("attributes", "metrics", "params", "tags")
STATUS_NUMBERS = {"LOGGED_MODEL_STATUS_UNSPECIFIED": 0, "UNSPECIFIED": 0, "LOGGED_MODEL_PENDING": 1, "PENDING": 1,
                  "LOGGED_MODEL_READY": 2, "READY": 2, "LOGGED_MODEL_UPLOAD_FAILED": 3, "UPLOAD_FAILED": 3, "FAILED": 3}  # fmt: skip

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")|(?P<op><=|>=|!=|<>|=|<|>)|(?P<paren>[(),])"
    r"|(?P<ident>(?:`[^`]*`|[\w\-/:]+)(?:\.(?:`[^`]*`|[\w\-/:]+))*))"
)


def invalid(message: str) -> StoreError:
    return StoreError(message, "INVALID_PARAMETER_VALUE")


@dataclass(frozen=True)
class Comparison:
    entity: str  # attributes | metrics | params | tags
    key: str
    op: str
    value: Any  # float for metrics and numeric attributes, a tuple for IN / NOT IN, else a string

    @property
    def numeric(self) -> bool:
        return self.entity == "metrics" or (self.entity == "attributes" and self.key in NUMERIC_ATTRIBUTES)


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise invalid(f"Invalid filter string: {text!r}. Unexpected text at position {position}: {text[position:position + 20]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def _entity(identifier: str) -> tuple[str, str]:
    head, dot, rest = identifier.partition(".")
    if dot and head.isalpha() and head.islower() and rest:
        if head not in ENTITIES:
            raise invalid(f"Invalid entity type: {head!r}. Expected one of {list(ENTITIES)}.")
        key = rest.strip("`")
        return head, ALIASES.get(key, key) if head == "attributes" else key
    key = identifier.strip("`")
    return "attributes", ALIASES.get(key, key)


def _unquote(text: str) -> str:
    quote = text[0]
    return text[1:-1].replace(quote * 2, quote)


def parse_filter(text: str | None) -> list[Comparison]:
    """MLflow's logged-model filter: ``<entity>.<key> <op> <value>`` clauses joined by AND; a clear 400 otherwise."""
    if not text or not text.strip():
        return []
    tokens = _tokens(text)
    comparisons: list[Comparison] = []
    i = 0
    expected = "Expected a list of comparisons separated by 'AND' (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01')."
    while i < len(tokens):
        if comparisons:
            if tokens[i][0] != "ident" or tokens[i][1].upper() != "AND":
                raise invalid(f"Invalid filter string: {text!r}. {expected}")
            i += 1
        kind, identifier = tokens[i] if i < len(tokens) else ("", "")
        if kind != "ident":
            raise invalid(f"Invalid filter string: {text!r}. {expected}")
        entity, key = _entity(identifier)
        i += 1
        kind, op = tokens[i] if i < len(tokens) else ("", "")
        if kind == "ident" and op.upper() == "NOT" and i + 1 < len(tokens) and tokens[i + 1][1].upper() == "IN":
            op, i = "NOT IN", i + 2
        elif kind == "op" or (kind == "ident" and op.upper() in ("LIKE", "ILIKE", "IN")):
            op, i = ("!=" if op == "<>" else op.upper()), i + 1
        else:
            raise invalid(f"Invalid filter string: {text!r}. {expected}")
        comparison_entity = Comparison(entity, key, op, None)
        ops = NUMERIC_OPS if comparison_entity.numeric else STRING_OPS
        if op not in ops:
            raise invalid(f"Invalid comparison operator for {entity}.{key}: {op!r}. Expected one of {ops}.")
        value, i = _value(tokens, i, text, op)
        if comparison_entity.numeric:
            try:
                value = float(value if isinstance(value, str) and value[:1] not in ("'", '"') else "x")
            except ValueError:
                raise invalid(f"Invalid filter string: {text!r}. {entity}.{key} compares with a number, got {value!r}.") from None
        elif op in ("IN", "NOT IN"):
            if not isinstance(value, tuple):
                raise invalid(f"Invalid filter string: {text!r}. {op} takes a parenthesised list of strings.")
        elif isinstance(value, tuple):
            raise invalid(f"Invalid filter string: {text!r}. {op} compares with one value, not a list.")
        else:
            value = _unquote(value) if value[:1] in ("'", '"') else value
        comparisons.append(Comparison(entity, key, op, value))
    return comparisons


def _value(tokens: list[tuple[str, str]], i: int, text: str, op: str) -> tuple[Any, int]:
    if i >= len(tokens):
        raise invalid(f"Invalid filter string: {text!r}. A comparison needs a value after {op!r}.")
    kind, value = tokens[i]
    if kind == "paren" and value == "(":
        j = i + 1
        while j < len(tokens) and tokens[j] != ("paren", ")"):
            j += 1
        if j >= len(tokens):
            raise invalid(f"Invalid filter string: {text!r}. Unclosed '('.")
        inner = "".join(f"{v} " if k == "ident" else v for k, v in tokens[i : j + 1])
        try:
            items = ast.literal_eval(inner)
        except (ValueError, SyntaxError):
            raise invalid(f"Invalid filter string: {text!r}. Expected a list of quoted strings, got {inner!r}.") from None
        items = (items,) if isinstance(items, str) else items
        if not isinstance(items, tuple) or not all(isinstance(x, str) for x in items):
            raise invalid(f"Invalid filter string: {text!r}. Expected a list of quoted strings, got {inner!r}.")
        return items, j + 1
    if kind not in ("string", "ident"):
        raise invalid(f"Invalid filter string: {text!r}. Expected a value after {op!r}, got {value!r}.")
    return value, i + 1


@dataclass(frozen=True)
class OrderBy:
    field_name: str
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None


def parse_order_by(items: Sequence[Any] | None) -> list[OrderBy]:
    found = []
    for item in items or []:
        if not isinstance(item, dict):
            raise invalid("`order_by` must be a list of dictionaries.")
        name = item.get("field_name")
        if not isinstance(name, str) or not name.strip():
            raise invalid("`field_name` in the `order_by` clause must be specified.")
        ascending = item.get("ascending", True)
        if not isinstance(ascending, bool):
            raise invalid(f"Invalid value for `ascending` in the `order_by` clause: {ascending!r}.")
        found.append(OrderBy(name.strip(), ascending, item.get("dataset_name") or None, item.get("dataset_digest") or None))
    return found


def parse_datasets(items: Sequence[Any] | None) -> list[dict[str, str]]:
    datasets = []
    for item in items or []:
        if not isinstance(item, dict) or not item.get("dataset_name"):
            raise invalid("`dataset_name` in the `datasets` clause must be specified.")
        datasets.append({k: str(item[k]) for k in ("dataset_name", "dataset_digest") if item.get(k)})
    return datasets


def _compare(column: Any, op: str, value: Any) -> Any:
    if op == "LIKE":
        return column.like(value)
    if op == "ILIKE":
        return column.ilike(value)
    if op == "IN":
        return column.in_(value)
    if op == "NOT IN":
        return ~column.in_(value)
    return {"=": column.__eq__, "!=": column.__ne__, "<": column.__lt__, "<=": column.__le__,
            ">": column.__gt__, ">=": column.__ge__}[op](value)  # fmt: skip


def _attribute(key: str) -> Any:
    column = t.logged_models.c.get(key)
    if column is None:
        raise invalid(f"Invalid logged model search key '{key}'")
    return column


def _status_value(value: Any) -> Any:
    """'READY' / 'LOGGED_MODEL_READY' / '2' as the integer MLflow stores."""
    def one(v: str) -> Any:
        if v.upper() in STATUS_NUMBERS:
            return STATUS_NUMBERS[v.upper()]
        if v.strip().isdigit():
            return int(v)
        raise invalid(f"Invalid logged model status {v!r}: expected one of READY, PENDING, FAILED, UNSPECIFIED.")

    return tuple(one(v) for v in value) if isinstance(value, tuple) else one(value)


def search(
    conn: Connection,
    experiment_ids: Sequence[str],
    filter_string: str | None,
    datasets: Sequence[Any] | None,
    order_by: Sequence[Any] | None,
    offset: int,
    max_results: int,
) -> tuple[list[LoggedModel], bool]:
    """One page of live models (offset, max_results) and whether more follow."""
    comparisons = parse_filter(filter_string)
    orders = parse_order_by(order_by)
    dataset_list = parse_datasets(datasets)
    lm, mm = t.logged_models.c, t.logged_model_metrics.c
    query = sa.select(t.logged_models)
    source: Any = t.logged_models

    on_datasets = [
        sa.and_(mm.dataset_name == d["dataset_name"], *([mm.dataset_digest == d["dataset_digest"]] if "dataset_digest" in d else []))
        for d in dataset_list
    ]
    attribute_filters = []
    has_metric_filter = False
    for c in comparisons:
        if c.entity == "attributes":
            column = _attribute(c.key)
            value = _status_value(c.value) if c.key == "status" else c.value
            attribute_filters.append(_compare(column, c.op, value))
            continue
        if c.entity == "metrics":
            has_metric_filter = True
            wheres = [mm.metric_name == c.key, _compare(mm.metric_value, c.op, c.value)]
            if on_datasets:
                wheres.append(sa.or_(*on_datasets))
            matching = sa.select(mm.model_id).where(*wheres).distinct().subquery()
        else:
            table = t.logged_model_params if c.entity == "params" else t.logged_model_tags
            key_column, value_column = (table.c.param_key, table.c.param_value) if c.entity == "params" else (table.c.tag_key, table.c.tag_value)
            matching = sa.select(table.c.model_id).where(key_column == c.key, _compare(value_column, c.op, c.value)).subquery()
        source = source.join(matching, matching.c.model_id == lm.model_id)
    if on_datasets and not has_metric_filter:
        matching = sa.select(mm.model_id).where(sa.or_(*on_datasets)).distinct().subquery()
        source = source.join(matching, matching.c.model_id == lm.model_id)

    numbers = [n for e in experiment_ids if (n := reads.experiment_id_or_none(e)) is not None]
    query = query.where(lm.lifecycle_stage != DELETED, lm.experiment_id.in_(numbers), *attribute_filters)

    clauses: list[Any] = []
    has_created = has_model_id = False
    for order in orders:
        if "." not in order.field_name:
            name = ALIASES.get(order.field_name, order.field_name)
            has_created = has_created or name == "creation_timestamp_ms"
            has_model_id = has_model_id or name == "model_id"
            column = t.logged_models.c.get(name)
            if column is None:
                raise invalid(f"Invalid order by field name: {order.field_name}")
            clauses += [sa.case((column.is_(None), 1), else_=0).asc(), column.asc() if order.ascending else column.desc()]
            continue
        entity, key = order.field_name.split(".", 1)
        if entity != "metrics":
            raise invalid(f"Invalid order by field name: {order.field_name}. Only metrics are supported.")
        wheres = [mm.metric_name == key]
        if order.dataset_name:
            wheres.append(mm.dataset_name == order.dataset_name)
        if order.dataset_digest:
            wheres.append(mm.dataset_digest == order.dataset_digest)
        row_number = sa.func.row_number().over(
            partition_by=[mm.model_id, mm.metric_name], order_by=[mm.metric_timestamp_ms.desc(), mm.metric_step.desc(), mm.run_id.asc()]
        )
        ranked = sa.select(mm.model_id, mm.metric_value, row_number.label("row_num")).where(*wheres).subquery()
        latest = sa.select(ranked.c.model_id, ranked.c.metric_value).where(ranked.c.row_num == 1).subquery()
        source = source.outerjoin(latest, latest.c.model_id == lm.model_id)
        value = latest.c.metric_value
        clauses += [sa.case((value.is_(None), 1), else_=0).asc(), value.asc() if order.ascending else value.desc()]
    if not has_created:
        clauses.append(lm.creation_timestamp_ms.desc())
    if not has_model_id:
        clauses.append(lm.model_id.asc())

    rows = list(conn.execute(query.select_from(source).order_by(*clauses).offset(offset).limit(max_results + 1)))
    models = reads.logged_model_records(conn, rows[:max_results])
    return models, len(rows) > max_results
