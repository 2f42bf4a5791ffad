"""order_by parsing and MLflow's sort: natural order, then stable sorts applied in reverse.

Runs are first put in MLflow's natural order (start_time DESC, run_id ASC);
each order_by clause, last to first, is then a stable sort in which real
values come first (ascending or descending), then NaN, then missing values,
exactly what ``SearchUtils._get_value_for_sort`` produces with its tuple keys.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from . import tokens as T
from .errors import SearchError
from .grammar import ATTRIBUTE, KEY_ALIASES, METRIC, PARAM, TAG, ExperimentGrammar, RunGrammar

Item = TypeVar("Item")
Getter = Callable[[Any], Any]
_NEG_INF = float("-inf")


@dataclass(frozen=True, slots=True)
class OrderKey:
    kind: str
    key: str
    ascending: bool
    get: Getter


@dataclass(frozen=True)
class RunOrder:
    """A parsed order_by list for runs; ``needs_details`` is False when only RunInfo attributes are used."""

    keys: tuple[OrderKey, ...]
    needs_details: bool

    def sort(self, runs: Sequence[Any]) -> list[Any]:
        return sort_runs(runs, self.keys)


def _fail(clause: str, token: T.Token, detail: str) -> SearchError:
    shown = repr(token.text) if token.text else "end of clause"
    return SearchError(f"Invalid order_by clause '{clause}' at position {token.pos} ({shown}): {detail}",
                       token.pos, token.text)


def split_order_clause(clause: str, grammar: RunGrammar | ExperimentGrammar) -> tuple[str, str, bool]:
    """'<identifier> [ASC|DESC]' -> (kind, key, ascending), with MLflow's identifier rules."""
    if not isinstance(clause, str):
        raise SearchError(f"Invalid order_by clause {clause!r}: expected a string")
    try:
        tokens = T.tokenize(clause, "order_by")
    except SearchError as exc:
        raise SearchError(f"Invalid order_by clause '{clause}': {exc.message}", exc.position, exc.token) from None
    name = tokens[0]
    if name.kind not in (T.IDENT, T.DQUOTE):
        raise _fail(clause, name, "expected an identifier such as metrics.acc, params.lr or start_time")
    ascending = True
    rest = tokens[1:]
    if rest[0].kind == T.IDENT and rest[0].text.lower() in ("asc", "desc"):
        ascending = rest[0].text.lower() == "asc"
        rest = rest[1:]
    if rest[0].kind != T.EOF:
        raise _fail(clause, rest[0], "expected ASC, DESC or end of clause")
    try:
        kind, key = grammar.resolve(name)
    except SearchError as exc:
        raise SearchError(f"Invalid order_by clause '{clause}': {exc.message}", exc.position, exc.token) from None
    return kind, key, ascending


def _run_getter(kind: str, key: str) -> Getter:
    if kind == METRIC:
        def metric(run: Any) -> Any:
            point = run.metrics.get(key)
            return None if point is None else point.value
        return metric
    if kind == PARAM:
        return lambda run: run.params.get(key)
    if kind == TAG:
        return lambda run: run.tags.get(key)
    get = operator.attrgetter(KEY_ALIASES.get(key, key))
    return lambda run: get(run.info)


@lru_cache(maxsize=512)
def _parse_run_order(order_by: tuple[str, ...]) -> RunOrder:
    grammar = RunGrammar(order=True)
    keys = []
    for clause in order_by:
        kind, key, ascending = split_order_clause(clause, grammar)
        if kind not in (METRIC, PARAM, TAG, ATTRIBUTE):
            raise SearchError(f"Invalid order_by entity type '{kind}' in order_by clause '{clause}'")
        keys.append(OrderKey(kind, key, ascending, _run_getter(kind, key)))
    return RunOrder(tuple(keys), any(k.kind != ATTRIBUTE for k in keys))


def parse_order_by(order_by: Sequence[str] | None) -> RunOrder:
    """Parse a run order_by list such as ["metrics.f1 DESC", "params.lr"] (cached)."""
    try:
        return _parse_run_order(tuple(order_by or ()))
    except TypeError:  # unhashable junk from a JSON body
        raise SearchError(f"Invalid order_by {order_by!r}: expected a list of strings") from None


def _start_time_key(run: Any) -> Any:
    start = run.info.start_time
    return _NEG_INF if start is None else start


_RUN_ID = operator.attrgetter("info.run_id")


def sort_runs(runs: Sequence[Any], keys: Sequence[OrderKey]) -> list[Any]:
    """MLflow's SearchUtils.sort (a missing start_time sorts last instead of crashing)."""
    ordered = sorted(runs, key=_RUN_ID)
    ordered.sort(key=_start_time_key, reverse=True)
    for order_key in reversed(keys):
        ordered = stable_sort_nulls_last(ordered, order_key.get, order_key.ascending)
    return ordered


def stable_sort_nulls_last(items: list[Item], get: Getter, ascending: bool) -> list[Item]:
    """Stable sort by get(item): values (asc/desc), then NaN, then None, each group keeping input order."""
    values: list[tuple[Any, Item]] = []
    nans: list[Item] = []
    nones: list[Item] = []
    for item in items:
        value = get(item)
        if value is None:
            nones.append(item)
        elif value != value:
            nans.append(item)
        else:
            values.append((value, item))
    values.sort(key=operator.itemgetter(0), reverse=not ascending)
    result = [item for _, item in values]
    result.extend(nans)
    result.extend(nones)
    return result


# ----------------------------------------------------------------- experiments

DEFAULT_EXPERIMENT_ORDER = ("creation_time DESC", "experiment_id ASC")


@lru_cache(maxsize=256)
def parse_experiment_order(order_by: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    """(attribute, ascending) pairs with MLflow's experiment_id tie-breaker (DESC unless given)."""
    grammar = ExperimentGrammar(order=True)
    keys: list[tuple[str, bool]] = []
    for clause in order_by or DEFAULT_EXPERIMENT_ORDER:
        kind, key, ascending = split_order_clause(clause, grammar)
        if kind != ATTRIBUTE:
            raise SearchError(f"Invalid order_by entity: {kind}")
        keys.append((key, ascending))
    if not any(key == "experiment_id" for key, _ in keys):
        keys.append(("experiment_id", False))
    return tuple(keys)


def sort_experiments(experiments: Sequence[Any], keys: Sequence[tuple[str, bool]]) -> list[Any]:
    """SearchExperimentsUtils.sort: lexicographic over keys, None last in either direction."""
    ordered = list(experiments)
    for key, ascending in reversed(keys):
        ordered = stable_sort_nulls_last(ordered, operator.attrgetter(key), ascending)
    return ordered
