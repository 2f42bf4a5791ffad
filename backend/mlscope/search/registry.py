"""MLflow's registry search: filters, order_by and paging for registered models and model versions.

Grammar from ``SearchModelUtils`` / ``SearchModelVersionUtils`` in
mlflow/utils/search_utils.py, reusing this package's tokenizer and parser:

- registered models: ``name`` (= != LIKE ILIKE IN NOT IN) and ``tags.<key>``
  (= != LIKE ILIKE); order by name, creation_timestamp, last_updated_timestamp;
- model versions: ``name``, ``run_id``, ``source_path`` (strings; IN on name
  and run_id), ``version_number`` (numbers) and ``tags.<key>``; order by name,
  version_number, creation_timestamp, last_updated_timestamp.

Clauses are joined by AND only; entity prefixes are ``attribute``, ``tag``
and ``tags``. As in MLflow, prompts (``tags.mlflow.prompt.is_prompt = 'true'``)
are left out unless the filter mentions that tag. Comparators MLflow only
rejects while matching (``name > 'a'``) are rejected while parsing here.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from ..store.registry_model import IS_PROMPT_TAG, ModelVersion, RegisteredModel
from . import tokens as T
from .errors import SearchError
from .grammar import ATTRIBUTE, TAG, quoted_string
from .order import split_order_clause, stable_sort_nulls_last
from .paging import paginate, parse_page_token
from .parser import BoolOp, Clause, parse
from .run_filter import Predicate, compile_node, value_test
from .tokens import Token

Item = TypeVar("Item")
MODELS_MAX_RESULTS_DEFAULT = 100
MODELS_MAX_RESULTS_THRESHOLD = 1000
VERSIONS_MAX_RESULTS_DEFAULT = 10_000
VERSIONS_MAX_RESULTS_THRESHOLD = 200_000
ENTITY_TYPES = ("attribute", "tag", "tags")
STRING_COMPARATORS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
NUMERIC_COMPARATORS = ("=", "!=", ">", ">=", "<", "<=")
TAG_COMPARATORS = ("=", "!=", "LIKE", "ILIKE")
DEFAULT_VERSION_ORDER = ("last_updated_timestamp DESC", "name ASC", "version_number DESC")
_PROMPT_EXCLUDED = f"tag.`{IS_PROMPT_TAG}` != 'true'"


def _fmt(values: Sequence[str]) -> str:
    return "{" + ", ".join(f"'{v}'" for v in values) + "}"


def _bad(token: Token, what: str, detail: str) -> SearchError:
    return SearchError.at(what, token.pos, token.text, detail)


class RegistryGrammar:
    """One dialect for both searches; the attribute sets differ (models: name only)."""

    def __init__(self, search_keys: tuple[str, ...], numeric: tuple[str, ...], list_keys: tuple[str, ...],
                 order_keys: tuple[str, ...], order: bool = False) -> None:
        self.keys = order_keys if order else search_keys
        self.numeric = numeric
        self.list_keys = list_keys
        self.what = "order_by" if order else "filter"

    def resolve(self, name: Token) -> tuple[str, str]:
        text = name.text
        entity, dot, rest = text.partition(".")
        if not dot:
            # MLflow unquotes a bare key in order_by but not in a filter (there `name` is not name).
            kind, key = ATTRIBUTE, (T.trim_backticks(T.unquote(text)) if self.what == "order_by" else text)
        elif entity in ENTITY_TYPES:
            kind, key = (ATTRIBUTE if entity == "attribute" else TAG), T.trim_backticks(T.unquote(rest))
        else:
            raise _bad(name, self.what, f"Invalid entity type '{entity}'. Valid entity types are {ENTITY_TYPES}")
        if kind == ATTRIBUTE and key not in self.keys:
            raise _bad(name, self.what, f"Invalid attribute key '{key}' specified. Valid keys are '{_fmt(self.keys)}'")
        return kind, key

    def check(self, kind: str, key: str, raw_key: str, comparator: Token, value: Token | tuple[str, ...] | None,
              value_pos: int) -> Clause:
        op = " ".join(comparator.text.upper().split())
        if value is None:
            raise _bad(comparator, "filter", f"{op} is not supported in registry searches; compare with = or != instead")
        numeric = kind == ATTRIBUTE and key in self.numeric
        allowed = TAG_COMPARATORS if kind == TAG else NUMERIC_COMPARATORS if numeric else STRING_COMPARATORS
        if op not in allowed:
            raise _bad(comparator, "filter", f"Invalid comparator '{op}' not one of '{_fmt(allowed)}'")
        return Clause(kind, key, op, self.value(kind, key, value, value_pos), comparator.pos)

    def value(self, kind: str, key: str, value: Token | tuple[str, ...], pos: int) -> object:
        if isinstance(value, tuple):
            shown = "(" + ", ".join(repr(v) for v in value) + ")"
            token = Token(T.LPAREN, shown, pos)
            if kind == TAG:
                raise _bad(token, "filter", f"Expected a quoted string value for tag (e.g. 'my-value'). Got value {shown}")
            if key not in self.list_keys:
                raise _bad(token, "filter", f"Only {sorted(self.list_keys)} attributes support comparison with a list "
                                            "of quoted string values.")
            return value
        if kind == ATTRIBUTE and key in self.numeric:
            return _version_number(value)
        if value.kind == T.NUMBER:
            if kind == TAG:
                raise _bad(value, "filter", f"Expected a quoted string value for tag (e.g. 'my-value'). Got value "
                                            f"{value.text}")
            raise _bad(value, "filter", f"Only the '{_fmt(self.numeric)}' attributes support comparison with numeric "
                                        "values." if self.numeric else "Expected a quoted string value or a list of "
                                        f"quoted string values for attributes. Got value {value.text}")
        return quoted_string(value, kind, "filter")


def _version_number(token: Token) -> int:
    """MLflow compares int(value): 2.7 means 2, '3' means 3; other strings are an error (a 500 in MLflow)."""
    text = token.text[1:-1] if token.kind in (T.STRING, T.DQUOTE) else token.text
    try:
        return int(float(text)) if token.kind == T.NUMBER else int(text)
    except ValueError:
        raise _bad(token, "filter", f"Expected an integer version number. Found {token.text}") from None


MODEL_GRAMMAR = dict(search_keys=("name",), numeric=(), list_keys=("name",),
                     order_keys=("name", "creation_timestamp", "last_updated_timestamp"))
VERSION_GRAMMAR = dict(search_keys=("name", "version_number", "run_id", "source_path"), numeric=("version_number",),
                       list_keys=("name", "run_id"),
                       order_keys=("name", "version_number", "creation_timestamp", "last_updated_timestamp"))
_ATTRIBUTE_FIELDS = {"source_path": "source", "version_number": "version"}


def _compile_clause(clause: Clause) -> Predicate:
    key, op, value = clause.key, clause.comparator, clause.value
    test = value_test(op, value, clause.pos)
    if clause.kind == TAG:
        prompt_default = (op == "=" and value == "false") or (op == "!=" and value == "true")

        def tag(item: Any) -> bool:
            current = item.tags.get(key)
            if current is None:
                return prompt_default if key == IS_PROMPT_TAG else False
            return bool(test(current))
        return tag
    get = operator.attrgetter(_ATTRIBUTE_FIELDS.get(key, key))

    def attribute(item: Any) -> bool:
        current = get(item)
        return current is not None and bool(test(current))
    return attribute


@dataclass(frozen=True)
class RegistryFilter:
    text: str
    predicate: Predicate | None

    def matches(self, item: RegisteredModel | ModelVersion) -> bool:
        return self.predicate is None or bool(self.predicate(item))


def _with_prompt_rule(filter_string: str | None) -> str:
    text = filter_string or ""
    if IS_PROMPT_TAG in text:
        return text
    return f"{text} AND {_PROMPT_EXCLUDED}" if text.strip() else _PROMPT_EXCLUDED


@lru_cache(maxsize=256)
def _parse(text: str, versions: bool) -> RegistryFilter:
    grammar = RegistryGrammar(**(VERSION_GRAMMAR if versions else MODEL_GRAMMAR))  # type: ignore[arg-type]
    tree = parse(text, grammar, False) if text else BoolOp("AND", ())
    return RegistryFilter(text, compile_node(tree, _compile_clause))


def parse_model_filter(filter_string: str | None) -> RegistryFilter:
    """A registered-model filter such as "name LIKE 'fraud-%' AND tags.team = 'risk'" (prompts excluded)."""
    return _parse(_with_prompt_rule(filter_string), False)


def parse_version_filter(filter_string: str | None) -> RegistryFilter:
    """A model-version filter such as "name = 'fraud' AND version_number >= 3" (prompts excluded)."""
    return _parse(_with_prompt_rule(filter_string), True)


@lru_cache(maxsize=256)
def parse_registry_order(order_by: tuple[str, ...], versions: bool) -> tuple[tuple[str, bool], ...]:
    """(field, ascending) pairs with MLflow's tie-breakers: name ASC, then (versions) version DESC."""
    grammar = RegistryGrammar(**(VERSION_GRAMMAR if versions else MODEL_GRAMMAR), order=True)  # type: ignore[arg-type]
    keys: list[tuple[str, bool]] = []
    for clause in order_by:
        kind, key, ascending = split_order_clause(clause, grammar)  # type: ignore[arg-type]
        if kind != ATTRIBUTE:
            raise SearchError(f"Invalid order_by entity: {kind}")
        keys.append((_ATTRIBUTE_FIELDS.get(key, key), ascending))
    if not any(key == "name" for key, _ in keys):
        keys.append(("name", True))
    if versions:
        keys.append(("version", False))  # MLflow appends it even when version_number was given
    return tuple(keys)


def sort_registry(items: Sequence[Item], keys: Sequence[tuple[str, bool]]) -> list[Item]:
    """Lexicographic over keys, missing values last in either direction."""
    ordered = list(items)
    for key, ascending in reversed(keys):
        ordered = stable_sort_nulls_last(ordered, operator.attrgetter(key), ascending)
    return ordered


def check_limit(max_results: Any, threshold: int) -> int:
    """1..threshold with MLflow's registry messages."""
    if isinstance(max_results, str) and max_results.strip().lstrip("-").isdigit():
        max_results = int(max_results)
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise SearchError(f"Invalid value for max_results. It must be a positive integer, but got {max_results}")
    if max_results > threshold:
        raise SearchError(f"Invalid value for request parameter max_results. It must be at most {threshold}, but got "
                          f"value {max_results}")
    return max_results


def search_registered_models(models: Sequence[RegisteredModel], filter_string: str | None = None,
                             order_by: Sequence[str] | None = None,
                             max_results: int = MODELS_MAX_RESULTS_DEFAULT,
                             page_token: str | None = None) -> tuple[list[RegisteredModel], str | None]:
    """FileStore.search_registered_models over models already in memory: same matches, order and tokens."""
    limit = check_limit(max_results, MODELS_MAX_RESULTS_THRESHOLD)
    predicate = parse_model_filter(filter_string).predicate
    keys = parse_registry_order(_order_tuple(order_by), False)
    offset = parse_page_token(page_token)
    matching = [m for m in models if predicate is None or predicate(m)]
    return paginate(sort_registry(matching, keys), offset, limit)


def search_model_versions(versions: Sequence[ModelVersion], filter_string: str | None = None,
                          order_by: Sequence[str] | None = None,
                          max_results: int = VERSIONS_MAX_RESULTS_DEFAULT,
                          page_token: str | None = None) -> tuple[list[ModelVersion], str | None]:
    """FileStore.search_model_versions: deleted versions never match; default order newest update first."""
    limit = check_limit(max_results, VERSIONS_MAX_RESULTS_THRESHOLD)
    predicate = parse_version_filter(filter_string).predicate
    keys = parse_registry_order(_order_tuple(order_by) or DEFAULT_VERSION_ORDER, True)
    offset = parse_page_token(page_token)
    matching = [v for v in versions if not v.deleted and (predicate is None or predicate(v))]
    return paginate(sort_registry(matching, keys), offset, limit)


def _order_tuple(order_by: Sequence[str] | None) -> tuple[str, ...]:
    try:
        return tuple(order_by or ())
    except TypeError:
        raise SearchError(f"Invalid order_by {order_by!r}: expected a list of strings") from None

