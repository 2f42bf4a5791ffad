"""Compile a run filter string into one fast predicate over ``Run`` objects.

Semantics follow ``SearchUtils._does_run_match_clause``: metrics compare the
latest value as floats, a run missing the metric/param/tag never matches (except
IS NULL), LIKE/ILIKE match as MLflow's anchored regexes would (without backtracking), dataset clauses match when any of
the run's dataset inputs matches. Each clause becomes a closure built once;
compiled filters are cached by string.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..store.model import Run
from .errors import SearchError
from .grammar import ATTRIBUTE, DATASET, METRIC, PARAM, TAG, RunGrammar
from .like import LikePattern
from .parser import BoolOp, Clause, Node, parse
from .rlike import UnsafePattern, rlike_matcher

Predicate = Callable[[Any], bool]

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "IN": lambda x, y: x in y, "NOT IN": lambda x, y: x not in y,
}
DETAIL_KINDS = frozenset({METRIC, PARAM, TAG, DATASET})
DATASET_CONTEXT_TAG = "mlflow.data.context"


def value_test(comparator: str, value: Any, pos: int = 0) -> Callable[[Any], bool]:
    """A one-argument test ``lhs -> bool`` for a comparator and its (already typed) right-hand side."""
    if comparator == "LIKE":
        return LikePattern(value)
    if comparator == "ILIKE":
        return LikePattern(value, ignore_case=True)
    if comparator == "RLIKE":
        try:
            return rlike_matcher(value)
        except re.error as exc:
            raise SearchError.at("filter", pos, str(value), f"invalid regular expression: {exc}") from None
        except UnsafePattern as exc:
            raise SearchError.at("filter", pos, str(value), str(exc)) from None
    if comparator == "IN":
        members = frozenset(value)
        return members.__contains__
    if comparator == "NOT IN":
        members = frozenset(value)
        return lambda lhs: lhs not in members
    compare = OPERATORS[comparator]
    return lambda lhs: compare(lhs, value)


def _compile_clause(clause: Clause) -> Predicate:
    kind, key, comparator = clause.kind, clause.key, clause.comparator
    if comparator == "IS NULL":
        return (lambda run: key not in run.params) if kind == PARAM else (lambda run: key not in run.tags)
    if comparator == "IS NOT NULL":
        return (lambda run: key in run.params) if kind == PARAM else (lambda run: key in run.tags)
    if kind == METRIC:
        return _metric_predicate(key, comparator, clause.value)
    test = value_test(comparator, clause.value, clause.pos)
    if kind in (PARAM, TAG):
        return _param_predicate(key, test) if kind == PARAM else _tag_predicate(key, test)
    if kind == ATTRIBUTE:
        get = operator.attrgetter(key)

        def attribute(run: Run) -> bool:
            value = get(run.info)
            return value is not None and bool(test(value))
        return attribute
    if kind == DATASET:
        if key == "context":
            return lambda run: any(test(d.tags[DATASET_CONTEXT_TAG]) for d in run.dataset_inputs
                                   if DATASET_CONTEXT_TAG in d.tags)
        get_field = operator.attrgetter(key)
        return lambda run: any(test(get_field(d)) for d in run.dataset_inputs)
    raise SearchError(f"Invalid search expression type '{kind}'")


def _param_predicate(key: str, test: Callable[[Any], bool]) -> Predicate:
    def predicate(run: Run) -> bool:
        value = run.params.get(key)
        return value is not None and bool(test(value))
    return predicate


def _tag_predicate(key: str, test: Callable[[Any], bool]) -> Predicate:
    def predicate(run: Run) -> bool:
        value = run.tags.get(key)
        return value is not None and bool(test(value))
    return predicate


def _metric_predicate(key: str, comparator: str, value: float) -> Predicate:
    """Specialised per operator: this is the hot path of most searches."""
    compare = OPERATORS[comparator]

    def predicate(run: Run) -> bool:
        metric = run.metrics.get(key)
        return metric is not None and compare(metric.value, value)
    return predicate


Inline = Callable[[Clause, str, dict[str, Any]], "str | None"]


def compile_node(node: Node, compile_clause: Callable[[Clause], Predicate], inline: Inline | None = None) -> Predicate | None:
    """Fold an AND/OR tree into one predicate; None means 'matches everything'.

    The tree becomes the source of a single lambda: clauses that ``inline``
    can express are written out (a dict lookup and a comparison), the rest
    call their compiled closure. Values travel in the lambda's namespace,
    never in its source. One lambda instead of nested closures makes a
    search over 10,000 runs about 3x faster.
    """
    namespace: dict[str, Any] = {}
    source = _source(node, compile_clause, inline, namespace)
    if source is None:
        return None
    try:
        return eval(f"lambda run: {source}", namespace)  # noqa: S307 - generated from the parse tree only
    except (RecursionError, MemoryError, SyntaxError):  # absurdly deep trees: fall back to closures
        return _fold(node, compile_clause)


def _source(node: Node, compile_clause: Callable[[Clause], Predicate], inline: Inline | None, namespace: dict[str, Any]) -> str | None:
    if isinstance(node, Clause):
        name = f"_c{len(namespace)}"
        expression = inline(node, name, namespace) if inline else None
        if expression is None:
            namespace[name] = compile_clause(node)
            expression = f"{name}(run)"
        return f"({expression})"
    parts = [p for p in (_source(item, compile_clause, inline, namespace) for item in node.items) if p is not None]
    if not parts:
        return None
    return "(" + (" and " if node.op == "AND" else " or ").join(parts) + ")"


def _fold(node: Node, compile_clause: Callable[[Clause], Predicate]) -> Predicate | None:
    if isinstance(node, Clause):
        return compile_clause(node)
    parts = [p for p in (_fold(item, compile_clause) for item in node.items) if p is not None]
    if not parts:
        return None
    result = parts[0]
    for part in parts[1:]:
        result = _and(result, part) if node.op == "AND" else _or(result, part)
    return result


def _and(left: Predicate, right: Predicate) -> Predicate:
    return lambda run: left(run) and right(run)


def _or(left: Predicate, right: Predicate) -> Predicate:
    return lambda run: left(run) or right(run)


_INLINE_OPERATORS = {"=": "==", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}


def _inline_run_clause(clause: Clause, name: str, namespace: dict[str, Any]) -> str | None:
    """The hot clause kinds written out: params/tags = and !=, metric comparisons (same semantics as the closures)."""
    op = _INLINE_OPERATORS.get(clause.comparator)
    if op is None or clause.kind not in (METRIC, PARAM, TAG):
        return None
    namespace[name + "k"], namespace[name + "v"] = clause.key, clause.value
    key, value = name + "k", name + "v"
    if clause.kind == METRIC:
        return f"({name} := run.metrics.get({key})) is not None and {name}.value {op} {value}"
    mapping = "run.params" if clause.kind == PARAM else "run.tags"
    if op == "==":
        return f"{mapping}.get({key}) == {value}"
    if op == "!=":
        return f"({name} := {mapping}.get({key})) is not None and {name} != {value}"
    return None


def clauses_of(node: Node) -> list[Clause]:
    if isinstance(node, Clause):
        return [node]
    return [clause for item in node.items for clause in clauses_of(item)]


@dataclass(frozen=True)
class RunFilter:
    """A compiled run filter. ``predicate`` is None when the filter matches every run."""

    text: str
    tree: Node
    predicate: Predicate | None
    needs_details: bool  # False when only RunInfo attributes are used: the index can answer before loading runs

    def matches(self, run: Run) -> bool:
        return self.predicate is None or bool(self.predicate(run))

    @property
    def clauses(self) -> list[Clause]:
        return clauses_of(self.tree)


@lru_cache(maxsize=512)
def parse_run_filter(filter_string: str | None, extended: bool = False) -> RunFilter:
    """Parse and compile a run filter (MLflow's grammar; OR, parentheses and RLIKE when ``extended``)."""
    text = filter_string or ""
    tree = parse(text, RunGrammar(extended), extended) if text else BoolOp("AND", ())
    clauses = clauses_of(tree)
    predicate = compile_node(tree, _compile_clause, _inline_run_clause)
    return RunFilter(text, tree, predicate, any(c.kind in DETAIL_KINDS for c in clauses))
