"""Per-index-version lookup structures that make a new filter string cheap at 100,000 runs.

``RunColumns`` wraps one snapshot of runs (one index version, one set of
experiments) and builds, lazily and once per key:

- per param/tag key: value -> set of run positions, and the positions that have the key;
- per metric key: the latest values sorted (NaN apart) with their positions, so a
  range comparison is two bisects;
- per (view type, order_by): every run's position in MLflow's order, and its rank.

A filter's AND/OR tree is planned over these: clauses that an index answers
exactly (params/tags ``=``/``!=``/``IS [NOT] NULL``, metric comparisons,
``run_id =``/``IN``/``!=``/``NOT IN``) give candidate sets that are intersected
(AND) or united (OR). When every clause was answered this way the candidates
are the matches; otherwise the compiled predicate checks each candidate (or
every run when nothing narrows), so the results are always exactly what the
scan in ``runs.matching_runs`` gives. The matches are then put in MLflow's
order by walking the cached order (many matches) or by sorting their ranks
(few); a query whose order is not cached yet and has few matches sorts them
directly, as the scan does, so a first query after a change costs no more
than the scan.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from itertools import compress
from typing import Any, overload

from ..store.model import Run
from .grammar import ATTRIBUTE, METRIC, PARAM, TAG
from .order import RunOrder
from .parser import Clause, Node
from .run_filter import RunFilter

Positions = set[int]
_ORDERS_KEPT = 8
_KEYS_KEPT = 64
_FEW = 8  # "few matches": at most 1/_FEW of the runs (sorted directly when their order is not cached)
_VERY_FEW = 64  # at most 1/_VERY_FEW of the runs: sorted by rank rather than walked
_WALK_STEP = 2048  # positions looked at in the first stretch of a walk (doubling after)


class _ValueIndex:
    """A param's or tag's values: value -> positions, and every position that has the key."""

    __slots__ = ("by_value", "present")

    def __init__(self, runs: Sequence[Run], key: str, kind: str) -> None:
        by_value: dict[Any, set[int]] = {}
        present: set[int] = set()
        for position, run in enumerate(runs):
            value = (run.params if kind == PARAM else run.tags).get(key)
            if value is not None:
                present.add(position)
                found = by_value.get(value)
                if found is None:
                    by_value[value] = {position}
                else:
                    found.add(position)
        self.by_value, self.present = by_value, present

    def equal(self, value: Any) -> Positions:
        try:
            return self.by_value.get(value, set())
        except TypeError:  # an unhashable value never equals a stored string
            return set()


class _MetricIndex:
    """A metric's latest values in ascending order (NaN left out: every comparison with NaN is false)."""

    __slots__ = ("values", "positions", "present")

    def __init__(self, values: list[float], positions: list[int], present: set[int]) -> None:
        self.values, self.positions, self.present = values, positions, present

    @classmethod
    def build(cls, runs: Sequence[Run], key: str) -> _MetricIndex | None:
        pairs: list[tuple[float, int]] = []
        present: set[int] = set()
        for position, run in enumerate(runs):
            metric = run.metrics.get(key)
            if metric is None:
                continue
            value = metric.value
            if type(value) is not float and (type(value) is not int):
                return None  # not a plain number: leave this key to the predicate
            present.add(position)
            if value == value:
                pairs.append((value, position))
        pairs.sort(key=_first)
        return cls([v for v, _ in pairs], [p for _, p in pairs], present)

    def compare(self, comparator: str, value: float) -> Positions | None:
        values, positions = self.values, self.positions
        if comparator == ">":
            return set(positions[bisect_right(values, value):])
        if comparator == ">=":
            return set(positions[bisect_left(values, value):])
        if comparator == "<":
            return set(positions[:bisect_left(values, value)])
        if comparator == "<=":
            return set(positions[:bisect_right(values, value)])
        if comparator == "=":
            return set(positions[bisect_left(values, value):bisect_right(values, value)])
        if comparator == "!=":  # NaN != x is true: every run with the metric but the equal ones
            return self.present - set(positions[bisect_left(values, value):bisect_right(values, value)])
        return None


def _first(pair: tuple[float, int]) -> float:
    return pair[0]


class _Order:
    """The runs a view type lets through, in MLflow's order for one order_by, and each position's rank.

    ``rank[p]`` is the place of the run at position ``p``, or ``len(runs)`` (one past the end) when the view
    type leaves it out; ``left_out`` holds those positions.
    """

    __slots__ = ("runs", "positions", "rank", "left_out", "very_few", "walk_step")

    def __init__(self, runs: list[Run], positions: list[int], size: int, very_few: int, walk_step: int) -> None:
        self.runs, self.positions, self.very_few, self.walk_step = runs, positions, very_few, walk_step
        rank = [len(runs)] * size
        for place, position in enumerate(positions):
            rank[position] = place
        self.rank = rank
        self.left_out = {p for p, r in enumerate(rank) if r == len(runs)} if len(runs) < size else set()

    def pick(self, candidates: Positions) -> Sequence[Run]:
        """The candidates this order holds, in its order: sorted by rank when few, else walked lazily."""
        runs = self.runs
        if len(candidates) * self.very_few <= len(runs):
            return [runs[r] for r in sorted(map(self.rank.__getitem__, candidates)) if r < len(runs)]
        count = len(candidates) - len(self.left_out.intersection(candidates)) if self.left_out else len(candidates)
        return OrderedMatches(self, candidates, count)


class OrderedMatches(Sequence[Run]):
    """Matches in order, found by walking the order only as far as a slice asks (a page needs ~100 of them)."""

    def __init__(self, order: _Order, candidates: Positions, count: int) -> None:
        self._order, self._candidates, self._count = order, candidates, count
        self._found: list[Run] = []
        self._walked = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._count

    def _upto(self, stop: int) -> list[Run]:
        with self._lock:
            found, order = self._found, self._order
            total = len(order.positions)
            step = order.walk_step
            while len(found) < stop and self._walked < total:
                start, end = self._walked, min(self._walked + step, total)
                found.extend(compress(order.runs[start:end], map(self._candidates.__contains__, order.positions[start:end])))
                self._walked = end
                step *= 2
            return found

    @overload
    def __getitem__(self, index: int) -> Run: ...

    @overload
    def __getitem__(self, index: slice) -> list[Run]: ...

    def __getitem__(self, index: int | slice) -> Run | list[Run]:
        if isinstance(index, slice):
            start, stop, _ = index.indices(self._count)
            return self._upto(max(start, stop))[index]
        position = index + self._count if index < 0 else index
        if not 0 <= position < self._count:
            raise IndexError("match index out of range")
        return self._upto(position + 1)[position]

    def __iter__(self) -> Iterator[Run]:
        return iter(self._upto(self._count))


class RunColumns:
    """Lookup structures over one snapshot of runs (each run once); safe to share between threads.

    The sets it hands out internally are never changed once built: callers get read-only views.
    """

    def __init__(self, runs: Sequence[Run], few: int = _FEW, very_few: int = _VERY_FEW, walk_step: int = _WALK_STEP) -> None:
        """``few``, ``very_few``, ``walk_step``: when matches count as few (1/few of the runs), very few, and how far
        a walk looks first (the defaults suit 10,000-100,000 runs; tests change them to take every path)."""
        self.runs = list(runs)
        self.few, self.very_few, self.walk_step = few, very_few, walk_step
        self._lock = threading.RLock()
        self._keys: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._orders: OrderedDict[tuple[frozenset[str], tuple[Any, ...]], _Order] = OrderedDict()
        self._run_ids: dict[str, int] | None = None
        self._stage_of: list[str] | None = None

    # ------------------------------------------------------------------ answer

    def matching(self, run_filter: RunFilter, order: RunOrder, stages: frozenset[str]) -> list[Run]:
        """Every run in ``stages`` that ``run_filter`` matches, in ``order``: what ``runs.matching_runs`` returns."""
        return list(self.ordered(run_filter, order, stages))

    def ordered(self, run_filter: RunFilter, order: RunOrder, stages: frozenset[str]) -> Sequence[Run]:
        """The same matches as a sequence that finds them only as far as it is read (pages are slices)."""
        runs = self.runs
        predicate = run_filter.predicate
        candidates, exact = self._plan(run_filter.tree) if predicate is not None else (None, True)
        if candidates is not None and not exact:
            candidates = {p for p in candidates if predicate(runs[p])}  # type: ignore[misc]
        elif candidates is None and predicate is not None:
            candidates = {p for p, run in enumerate(runs) if predicate(run)}
        order_key = (stages, order.keys)
        with self._lock:
            cached = self._orders.get(order_key)
        if cached is None and candidates is not None and len(candidates) * self.few <= len(runs):
            stage_of = self._stages()  # few matches and no order yet: sort them as the scan does
            return order.sort([runs[p] for p in candidates if stage_of[p] in stages])
        ordered = cached or self._order(order_key, order, stages)
        return ordered.runs if candidates is None else ordered.pick(candidates)

    # ---------------------------------------------------------------- planning

    def _plan(self, node: Node) -> tuple[Positions | None, bool]:
        """(candidate positions or None for 'no narrowing', whether the candidates are exactly the matches)."""
        if isinstance(node, Clause):
            found = self._clause(node)
            return found, found is not None
        parts = [self._plan(item) for item in node.items]
        if node.op == "AND":
            sets = sorted((s for s, _ in parts if s is not None), key=len)
            if not sets:
                return None, False
            result = sets[0].intersection(*sets[1:]) if len(sets) > 1 else sets[0]
            return result, all(exact for _, exact in parts)
        if any(s is None for s, _ in parts) or not parts:
            return None, False
        united: set[int] = set()
        for s, _ in parts:
            united |= s  # type: ignore[arg-type]
        return united, all(exact for _, exact in parts)

    def _clause(self, clause: Clause) -> Positions | None:
        kind, comparator, value = clause.kind, clause.comparator, clause.value
        if kind == METRIC:
            if not isinstance(value, (int, float)) or value != value:
                return None
            metric = self._metric(clause.key)
            return None if metric is None else metric.compare(comparator, value)
        if kind in (PARAM, TAG):
            index = self._values(kind, clause.key)
            if comparator == "=":
                return index.equal(value)
            if comparator == "!=":
                return index.present - index.equal(value)
            if comparator == "IS NOT NULL":
                return index.present
            if comparator == "IS NULL":
                return set(range(len(self.runs))) - index.present
            return None
        if kind == ATTRIBUTE and clause.key == "run_id" and comparator in ("=", "!=", "IN", "NOT IN"):
            ids = self._ids()
            wanted = (value,) if comparator in ("=", "!=") else value
            if not isinstance(wanted, tuple) or not all(isinstance(v, str) for v in wanted):
                return None
            chosen = {ids[v] for v in wanted if v in ids}
            return chosen if comparator in ("=", "IN") else set(range(len(self.runs))) - chosen
        return None

    # --------------------------------------------------------------- structures

    def _values(self, kind: str, key: str) -> _ValueIndex:
        return self._kept((kind, key), lambda: _ValueIndex(self.runs, key, kind))  # type: ignore[no-any-return]

    def _metric(self, key: str) -> _MetricIndex | None:
        return self._kept((METRIC, key), lambda: _MetricIndex.build(self.runs, key))  # type: ignore[no-any-return]

    def _kept(self, name: tuple[str, str], build: Any) -> Any:
        with self._lock:
            if name in self._keys:
                self._keys.move_to_end(name)
                return self._keys[name]
            made = build()
            self._keys[name] = made
            while len(self._keys) > _KEYS_KEPT:
                self._keys.popitem(last=False)
            return made

    def _ids(self) -> dict[str, int]:
        with self._lock:
            if self._run_ids is None:
                self._run_ids = {run.info.run_id: p for p, run in enumerate(self.runs)}
            return self._run_ids

    def _stages(self) -> list[str]:
        with self._lock:
            if self._stage_of is None:
                self._stage_of = [run.info.lifecycle_stage for run in self.runs]
            return self._stage_of

    def _order(self, order_key: tuple[frozenset[str], tuple[Any, ...]], order: RunOrder,
               stages: frozenset[str]) -> _Order:
        with self._lock:
            cached = self._orders.get(order_key)
            if cached is not None:
                self._orders.move_to_end(order_key)
                return cached
            runs = self.runs
            stage_of = self._stages()
            position_of = {id(run): p for p, run in enumerate(runs)}
            ordered = order.sort([run for p, run in enumerate(runs) if stage_of[p] in stages])
            made = _Order(ordered, [position_of[id(run)] for run in ordered], len(runs), self.very_few, self.walk_step)
            self._orders[order_key] = made
            while len(self._orders) > _ORDERS_KEPT:
                self._orders.popitem(last=False)
            return made
