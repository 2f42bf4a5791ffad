"""Name resolution and comparator/value validation for MLflow's run and experiment grammars.

Mirrors ``SearchUtils`` / ``SearchExperimentsUtils`` in mlflow/utils/search_utils.py:
the same aliases, the same attribute lists, the same type rules and (after the
position prefix) the same error texts, so a 400 from mlscope reads like one
from MLflow.
"""

from __future__ import annotations

from . import tokens as T
from .errors import SearchError
from .parser import Clause
from .tokens import Token

METRIC, PARAM, TAG, ATTRIBUTE, DATASET = "metric", "parameter", "tag", "attribute", "dataset"
ENTITY_TYPES = [METRIC, PARAM, TAG, ATTRIBUTE, DATASET]
ENTITY_ALIASES = {
    "metric": METRIC, "metrics": METRIC,
    "parameter": PARAM, "parameters": PARAM, "param": PARAM, "params": PARAM,
    "tag": TAG, "tags": TAG,
    "attribute": ATTRIBUTE, "attributes": ATTRIBUTE, "attr": ATTRIBUTE, "run": ATTRIBUTE,
    "dataset": DATASET, "datasets": DATASET,
}
NUMERIC_COMPARATORS = ("=", "!=", ">", ">=", "<", "<=")
STRING_COMPARATORS = ("=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL")
STRING_ATTRIBUTE_COMPARATORS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
DATASET_COMPARATORS = STRING_ATTRIBUTE_COMPARATORS
RUN_STRING_ATTRIBUTES = ("run_id", "run_name", "status", "user_id", "artifact_uri")
RUN_NUMERIC_ATTRIBUTES = ("start_time", "end_time", "created", "Created")
RUN_NAME_ALIASES = ("run name", "Run name", "Run Name")
RUN_SEARCH_KEYS = RUN_STRING_ATTRIBUTES + RUN_NUMERIC_ATTRIBUTES + RUN_NAME_ALIASES
RUN_ORDER_KEYS = RUN_STRING_ATTRIBUTES + RUN_NUMERIC_ATTRIBUTES
DATASET_KEYS = ("name", "digest", "context")
KEY_ALIASES = {"created": "start_time", "Created": "start_time", "run name": "run_name", "Run name": "run_name",
               "Run Name": "run_name"}
EXPERIMENT_KEYS = ("name", "experiment_id", "creation_time", "last_update_time")
EXPERIMENT_NUMERIC = ("creation_time", "last_update_time")
EXPERIMENT_ENTITY_TYPES = ("attribute", "tag", "tags")


def _fmt(values: tuple[str, ...] | list[str]) -> str:
    return "{" + ", ".join(f"'{v}'" for v in values) + "}"


def _bad(token: Token, what: str, detail: str) -> SearchError:
    return SearchError.at(what, token.pos, token.text, detail)


def split_name(name: Token) -> tuple[str | None, str]:
    """MLflow's split of an identifier: entity type before the first '.', key after (quotes trimmed)."""
    parts = name.text.split(".", 1)
    if len(parts) == 1:
        return None, T.trim_backticks(T.unquote(parts[0]))
    return parts[0], T.trim_backticks(T.unquote(parts[1]))


class RunGrammar:
    """SearchUtils' run grammar. ``order`` switches to the order_by attribute list."""

    def __init__(self, extended: bool = False, order: bool = False) -> None:
        self.extended = extended
        self.what = "order_by" if order else "filter"
        self.attribute_keys = RUN_ORDER_KEYS if order else RUN_SEARCH_KEYS

    def resolve(self, name: Token) -> tuple[str, str]:
        entity, key = split_name(name)
        if entity is None:
            kind = ATTRIBUTE
        else:
            kind = ENTITY_ALIASES.get(T.trim_backticks(entity), "")
            if not kind:
                raise _bad(name, self.what, f"Invalid entity type '{T.trim_backticks(entity)}'. Valid values are "
                                            f"{ENTITY_TYPES}")
        if kind == ATTRIBUTE and key not in self.attribute_keys:
            raise _bad(name, self.what, f"Invalid attribute key '{key}' specified. Valid keys are "
                                        f"'{_fmt(self.attribute_keys)}'")
        if kind == DATASET and key not in DATASET_KEYS:
            raise _bad(name, self.what, f"Invalid dataset key '{key}' specified. Valid keys are '{_fmt(DATASET_KEYS)}'")
        return kind, key

    def comparators(self, kind: str, key: str) -> tuple[str, ...]:
        rlike = ("RLIKE",) if self.extended else ()
        if kind == METRIC or (kind == ATTRIBUTE and key in RUN_NUMERIC_ATTRIBUTES):
            return NUMERIC_COMPARATORS
        if kind in (PARAM, TAG):
            return STRING_COMPARATORS + rlike
        if kind == ATTRIBUTE:
            return STRING_ATTRIBUTE_COMPARATORS + rlike
        return DATASET_COMPARATORS

    def check(self, kind: str, key: str, raw_key: str, comparator: Token, value: Token | tuple[str, ...] | None,
              value_pos: int) -> Clause:
        op = " ".join(comparator.text.upper().split())
        if op in ("IS NULL", "IS NOT NULL") and kind not in (PARAM, TAG):
            raise _bad(comparator, "filter", f"IS NULL / IS NOT NULL is only supported for tags and params, not for "
                                             f"'{kind}' '{key}'")
        parsed = self.value(kind, key, value, value_pos)
        allowed = self.comparators(kind, key)
        if op not in allowed:
            raise _bad(comparator, "filter", f"Invalid comparator '{op}' not one of '{_fmt(allowed)}'")
        return Clause(kind, KEY_ALIASES.get(key, key) if kind == ATTRIBUTE else key, op, parsed, comparator.pos)

    def value(self, kind: str, key: str, value: Token | tuple[str, ...] | None, pos: int) -> object:
        if value is None:
            return None
        shown = value.text if isinstance(value, Token) else "(" + ", ".join(repr(v) for v in value) + ")"
        token = value if isinstance(value, Token) else Token(T.LPAREN, shown, pos)
        if kind == METRIC:
            if token.kind != T.NUMBER:
                raise _bad(token, "filter", f"Expected numeric value type for metric. Found {shown}")
            return float(token.text)
        if kind == ATTRIBUTE and key in RUN_NUMERIC_ATTRIBUTES:
            if token.kind != T.NUMBER:
                raise _bad(token, "filter", f"Expected numeric value type for numeric attribute: {key}. Found {shown}")
            return int(token.text) if T.is_int_literal(token.text) else float(token.text)
        if isinstance(value, tuple):
            if kind == ATTRIBUTE and key != "run_id":
                raise _bad(token, "filter", "Only ['run_id'] attributes support comparison with a list of quoted "
                                            "string values.")
            if kind in (PARAM, TAG):
                raise _bad(token, "filter", f"Expected a quoted string value for {kind} (e.g. 'my-value'). Got value "
                                            f"{shown}")
            return value
        return quoted_string(token, kind, "filter")


def quoted_string(token: Token, kind: str, what: str) -> str:
    """A string value: '...' or "..."; anything else gets MLflow's message for that type."""
    if token.kind in (T.STRING, T.DQUOTE):
        return token.text[1:-1]
    if token.kind == T.IDENT:
        raise _bad(token, what, "Parameter value is either not quoted or unidentified quote types used for string "
                                f"value {token.text}. Use either single or double quotes.")
    if kind in (PARAM, TAG):
        raise _bad(token, what, f"Expected a quoted string value for {kind} (e.g. 'my-value'). Got value {token.text}")
    if kind == DATASET:
        raise _bad(token, what, f"Expected a quoted string value for dataset attributes. Got value {token.text}")
    raise _bad(token, what, f"Expected a quoted string value for attributes. Got value {token.text}")


class ExperimentGrammar:
    """SearchExperimentsUtils' grammar: attributes name/experiment_id/creation_time/last_update_time and tags."""

    def __init__(self, extended: bool = False, order: bool = False) -> None:
        self.extended = extended
        self.what = "order_by" if order else "filter"

    def resolve(self, name: Token) -> tuple[str, str]:
        entity, key = split_name(name)
        if entity is None:
            kind = ATTRIBUTE
        elif entity in EXPERIMENT_ENTITY_TYPES:
            kind = ENTITY_ALIASES[entity]
        else:
            raise _bad(name, self.what, f"Invalid entity type '{entity}'. Valid entity types are "
                                        f"{EXPERIMENT_ENTITY_TYPES}")
        if kind == ATTRIBUTE and key not in EXPERIMENT_KEYS:
            raise _bad(name, self.what, f"Invalid attribute key '{key}' specified. Valid keys are "
                                        f"'{_fmt(EXPERIMENT_KEYS)}'")
        return kind, key

    def check(self, kind: str, key: str, raw_key: str, comparator: Token, value: Token | tuple[str, ...] | None,
              value_pos: int) -> Clause:
        op = " ".join(comparator.text.upper().split())
        if op in ("IS NULL", "IS NOT NULL") and kind != TAG:
            raise _bad(comparator, "filter", f"IS NULL / IS NOT NULL is only supported for tags, not for attribute "
                                             f"'{key}'")
        rlike = ("RLIKE",) if self.extended else ()
        numeric = kind == ATTRIBUTE and key in EXPERIMENT_NUMERIC
        parsed: object = None
        if value is not None:
            shown = value.text if isinstance(value, Token) else "(" + ", ".join(repr(v) for v in value) + ")"
            token = value if isinstance(value, Token) else Token(T.LPAREN, shown, value_pos)
            if numeric:
                if token.kind != T.NUMBER:
                    raise _bad(token, "filter", f"Expected numeric value type for numeric attribute: {key}. "
                                                f"Found {shown}")
                parsed = float(token.text)
            elif isinstance(value, tuple):
                if kind != ATTRIBUTE or key != "experiment_id":
                    raise _bad(token, "filter", "Only ['experiment_id'] attributes support comparison with a list of "
                                                "quoted string values." if kind == ATTRIBUTE else
                                                f"Expected a quoted string value for tag (e.g. 'my-value'). Got value "
                                                f"{shown}")
                parsed = value
            else:
                parsed = quoted_string(token, kind, "filter")
        if numeric:
            allowed: tuple[str, ...] = NUMERIC_COMPARATORS
        elif kind == TAG:
            allowed = STRING_COMPARATORS + rlike
        else:
            allowed = STRING_ATTRIBUTE_COMPARATORS + rlike
        if op not in allowed:
            raise _bad(comparator, "filter", f"Invalid comparator '{op}' not one of '{_fmt(allowed)}'")
        return Clause(kind, key, op, parsed, comparator.pos)
