"""Per-index-version lookup structures that make a new filter string cheap at 100,000 runs.

``RunColumns`` wraps one snapshot of runs (one index version, one set of
experiments) and builds, lazily and once per key:

- per param/tag key: value -> set of run positions, and the positions that have the key;
- per metric key: the latest values sorted (NaN apart) with their positions, so a
  range comparison is two bisects;
- per (view type, order_by): every run's position in MLflow's order, and its rank.

Structures are built once the queries answered by scans at this version have
cost about what building them costs (``BUILD_SECONDS_PER_RUN`` per run, ~0.2 s
of CPU at 100,000 runs): until then a query is answered as the scan answers
it. A version that sees few queries (writes every second) therefore costs a
small multiple of what the scan alone cost (not a 0.5 s build per write), and
one that sees many pays the build once; ``eager`` builds at once.

A filter's AND/OR tree is planned over these: clauses that an index answers
exactly (params/tags ``=``/``!=``/``IS [NOT] NULL``, metric comparisons,
``run_id =``/``IN``/``!=``/``NOT IN``) give candidate sets that are intersected
(AND) or united (OR). When every clause was answered this way the candidates
are the matches; otherwise the compiled predicate checks each candidate (or
every run when nothing narrows), so the results are always exactly what the
scan in ``runs.matching_runs`` gives. Once the order is built, a query is
first answered by testing the compiled filter on the runs in that order, only
as far as the page reaches (``WalkedMatches``: a page of a common filter tests a
few hundred runs and builds nothing); after ``walk_limit`` runs (a rare filter)
the candidate sets take over, walked along the order or, when very few, sorted
by rank. While the order is not built the matches are sorted as the scan
sorts them.
"""

from __future__ import annotations

import threading
import time
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

Found = list[int] | set[int]  # run positions, each once
_ORDERS_KEPT = 8
_KEYS_KEPT = 64
_VERY_FEW = 64  # at most 1/_VERY_FEW of the runs: sorted by rank rather than walked
_WALK_STEP = 512  # positions looked at in the first stretch of a walk (doubling after)
_WALK_LIMIT = 8192  # runs a page tests with the compiled filter before the lookup structures take over
BUILD_SECONDS_PER_RUN = 2e-6  # about what building a metric index, a value index and an order costs per run


class _ValueIndex:
    """A param's or tag's values: value -> positions (ascending)."""

    __slots__ = ("by_value",)

    def __init__(self, runs: Sequence[Run], ints: list[int], key: str, kind: str) -> None:
        by_value: dict[Any, list[int]] = {}
        for position, run in zip(ints, runs, strict=True):
            value = (run.params if kind == PARAM else run.tags).get(key)
            if value is not None:
                found = by_value.get(value)
                if found is None:
                    by_value[value] = [position]
                else:
                    found.append(position)
        self.by_value = by_value

    def equal(self, value: Any) -> Found:
        try:
            return self.by_value.get(value, [])
        except TypeError:  # an unhashable value never equals a stored string
            return []

    def not_equal(self, value: Any) -> Found:
        return set().union(*(found for stored, found in self.by_value.items() if stored != value))

    def present(self) -> set[int]:
        return set().union(*self.by_value.values())


class _MetricIndex:
    """A metric's latest values in ascending order with their positions; NaN apart (every comparison with NaN but
    ``!=`` is false)."""

    __slots__ = ("values", "positions", "nans")

    def __init__(self, values: list[float], positions: list[int], nans: list[int]) -> None:
        self.values, self.positions, self.nans = values, positions, nans

    @classmethod
    def build(cls, runs: Sequence[Run], ints: list[int], key: str) -> _MetricIndex | None:
        pairs: list[tuple[float, int]] = []
        nans: list[int] = []
        for position, run in zip(ints, runs, strict=True):
            metric = run.metrics.get(key)
            if metric is None:
                continue
            value = metric.value
            if type(value) is not float and (type(value) is not int):
                return None  # not a plain number: leave this key to the predicate
            if value == value:
                pairs.append((value, position))
            else:
                nans.append(position)
        pairs.sort(key=_first)
        return cls([v for v, _ in pairs], [p for _, p in pairs], nans)

    def compare(self, comparator: str, value: float) -> Found | None:
        values, positions = self.values, self.positions
        if comparator == ">":
            return positions[bisect_right(values, value):]
        if comparator == ">=":
            return positions[bisect_left(values, value):]
        if comparator == "<":
            return positions[:bisect_left(values, value)]
        if comparator == "<=":
            return positions[:bisect_right(values, value)]
        if comparator == "=":
            return positions[bisect_left(values, value):bisect_right(values, value)]
        if comparator == "!=":  # NaN != x is true: every run with the metric but the equal ones
            return positions[:bisect_left(values, value)] + positions[bisect_right(values, value):] + self.nans
        return None


def _first(pair: tuple[float, int]) -> float:
    return pair[0]


class _Order:
    """The runs a view type lets through, in MLflow's order for one order_by, and each position's rank.

    ``rank[p]`` is the place of the run at position ``p``, or ``len(runs)`` (one past the end) when the view
    type leaves it out; ``left_out`` holds those positions.
    """

    __slots__ = ("runs", "positions", "rank", "left_out", "very_few", "walk_step")

    def __init__(self, runs: list[Run], positions: list[int], ints: list[int], left_out: set[int], very_few: int,
                 walk_step: int) -> None:
        self.runs, self.positions, self.left_out = runs, positions, left_out
        self.very_few, self.walk_step = very_few, walk_step
        rank = [len(runs)] * len(ints)
        for place, position in zip(ints, positions, strict=False):
            rank[position] = place
        self.rank = rank

    def pick(self, candidates: Found) -> Sequence[Run]:
        """The candidates this order holds, in its order: sorted by rank when very few, else walked lazily."""
        runs = self.runs
        if len(candidates) * self.very_few <= len(runs):
            return [runs[r] for r in sorted(map(self.rank.__getitem__, candidates)) if r < len(runs)]
        members = candidates if isinstance(candidates, set) else set(candidates)
        count = len(members) - len(self.left_out.intersection(members)) if self.left_out else len(members)
        return OrderedMatches(self, members, count)


class OrderedMatches(Sequence[Run]):
    """Matches in order, found by walking the order only as far as a slice asks (a page needs ~100 of them)."""

    def __init__(self, order: _Order, candidates: set[int], count: int) -> None:
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


class WalkedMatches(Sequence[Run]):
    """Matches in order, found by testing the compiled filter on the ordered runs only as far as a slice asks.

    A page of a common filter needs a few hundred runs tested (~0.3 us each), no set built. After ``walk_limit``
    runs tested the lookup structures take over (a rare filter would otherwise test every run), and ``len``
    comes from them; the order is the same either way, so the answer is too.
    """

    def __init__(self, order: _Order, predicate: Any, candidates: Any, walk_limit: int) -> None:
        self._order, self._predicate, self._candidates, self._limit = order, predicate, candidates, walk_limit
        self._members: set[int] | None = None
        self._count: int | None = None
        self._found: list[Run] = []
        self._walked = 0
        self._lock = threading.RLock()

    def _switch(self) -> None:
        """From testing runs to the lookup structures' candidate positions (under the lock)."""
        order = self._order
        found = self._candidates()
        members = found if isinstance(found, set) else set(found)
        total = len(order.runs)
        if len(members) * order.very_few <= total:  # very few: all of them at once, by rank
            self._found = [order.runs[r] for r in sorted(map(order.rank.__getitem__, members)) if r < total]
            self._walked, self._count = total, len(self._found)
            return
        self._members = members
        self._count = len(members) - len(order.left_out.intersection(members)) if order.left_out else len(members)

    def _upto(self, stop: int) -> list[Run]:
        with self._lock:
            order = self._order
            total = len(order.runs)
            step = order.walk_step
            while len(self._found) < stop and self._walked < total:
                if self._members is None and self._walked >= self._limit:
                    self._switch()
                    continue
                start = self._walked
                if self._members is None:
                    end = min(start + step, total, max(self._limit, start + 1))
                    chunk = order.runs[start:end]
                    self._found.extend(compress(chunk, map(self._predicate, chunk)))
                else:
                    end = min(start + step, total)
                    self._found.extend(compress(order.runs[start:end],
                                                map(self._members.__contains__, order.positions[start:end])))
                self._walked = end
                step *= 2
            if self._walked >= total and self._count is None:
                self._count = len(self._found)
            return self._found

    def __len__(self) -> int:
        with self._lock:
            if self._count is None:
                self._switch()
            return self._count  # type: ignore[return-value]

    def longer_than(self, size: int) -> bool:
        """Whether more than ``size`` runs match (without counting them all)."""
        return len(self._upto(size + 1)) > size

    @overload
    def __getitem__(self, index: int) -> Run: ...

    @overload
    def __getitem__(self, index: slice) -> list[Run]: ...

    def __getitem__(self, index: int | slice) -> Run | list[Run]:
        if isinstance(index, slice):
            if (index.start is None or index.start >= 0) and index.stop is not None and index.stop >= 0:
                return self._upto(index.stop)[index]
            start, stop, _ = index.indices(len(self))
            return self._upto(max(start, stop))[index]
        if index >= 0:
            found = self._upto(index + 1)
            if index >= len(found):
                raise IndexError("match index out of range")
            return found[index]
        return self._upto(len(self))[index]

    def __iter__(self) -> Iterator[Run]:
        return iter(self._upto(len(self._order.runs)))


def longer_than(found: Sequence[Run], size: int) -> bool:
    """Whether a search's answer has more than ``size`` runs (a page token follows) without counting them all."""
    return found.longer_than(size) if isinstance(found, WalkedMatches) else len(found) > size


class RunColumns:
    """Lookup structures over one snapshot of runs (each run once); safe to share between threads.

    The position collections it keeps are never changed once built: answers only read them.
    """

    def __init__(self, runs: Sequence[Run], very_few: int = _VERY_FEW, walk_step: int = _WALK_STEP,
                 eager: bool = False, walk_limit: int = _WALK_LIMIT) -> None:
        """``very_few``, ``walk_step``, ``walk_limit``: when matches count as very few (1/very_few of the runs), how far
        a walk looks first, how many runs a page tests before the candidate sets take over (the defaults suit
        10,000-100,000 runs; tests change them to take every path);
        ``eager``: build each structure the first time it is asked for, not once scans have cost as much."""
        self.runs = list(runs)
        self.very_few, self.walk_step, self.eager = very_few, walk_step, eager
        self.walk_limit = walk_limit
        self._budget = len(runs) * BUILD_SECONDS_PER_RUN
        self._spent = 0.0  # CPU seconds of the queries answered while nothing could be built
        self._ints = list(range(len(self.runs)))  # one int object per position, shared by every structure
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
        if self._building():
            return self._ordered(run_filter, order, stages)
        started = time.thread_time()
        try:
            return self._ordered(run_filter, order, stages)
        finally:
            self._spent += time.thread_time() - started

    def _building(self) -> bool:
        return self.eager or self._spent >= self._budget

    def _ordered(self, run_filter: RunFilter, order: RunOrder, stages: frozenset[str]) -> Sequence[Run]:
        runs = self.runs
        predicate = run_filter.predicate
        if predicate is not None:
            built = self._built_order((stages, order.keys))
            if built is not None:
                return WalkedMatches(built, predicate, lambda: self._candidates(run_filter), self.walk_limit)
        candidates = self._candidates(run_filter) if predicate is not None else None
        built = self._order((stages, order.keys), order, stages)
        if built is None:  # nothing is built until the scans have cost as much: sort as the scan does
            stage_of = self._stages()
            if candidates is None:
                return order.sort([run for stage, run in zip(stage_of, runs, strict=True) if stage in stages])
            return order.sort([runs[p] for p in candidates if stage_of[p] in stages])
        return built.runs if candidates is None else built.pick(candidates)

    # ---------------------------------------------------------------- planning

    def _candidates(self, run_filter: RunFilter) -> Found:
        """Exactly the positions of the runs the filter matches (any stage)."""
        runs, predicate = self.runs, run_filter.predicate
        candidates, exact = self._plan(run_filter.tree)
        if candidates is not None and not exact:
            return [p for p in candidates if predicate(runs[p])]  # type: ignore[misc]
        if candidates is None:
            return [p for p, run in zip(self._ints, runs, strict=True) if predicate(run)]  # type: ignore[misc]
        return candidates

    def _plan(self, node: Node) -> tuple[Found | None, bool]:
        """(candidate positions or None for 'no narrowing', whether the candidates are exactly the matches)."""
        if isinstance(node, Clause):
            found = self._clause(node)
            return found, found is not None
        parts = [self._plan(item) for item in node.items]
        exact = bool(parts) and all(exact for _, exact in parts)
        if node.op == "AND":
            narrowing = sorted((found for found, _ in parts if found is not None), key=len)
            if not narrowing:
                return None, False
            if len(narrowing) == 1:
                return narrowing[0], exact
            smallest = narrowing[0] if isinstance(narrowing[0], set) else set(narrowing[0])
            return smallest.intersection(*narrowing[1:]), exact
        if not parts or any(found is None for found, _ in parts):
            return None, False
        return set().union(*(found for found, _ in parts if found is not None)), exact

    def _clause(self, clause: Clause) -> Found | None:
        kind, comparator, value = clause.kind, clause.comparator, clause.value
        if kind == METRIC:
            if not isinstance(value, (int, float)) or value != value:
                return None
            metric = self._metric(clause.key)
            return None if metric is None else metric.compare(comparator, value)
        if kind in (PARAM, TAG):
            index = self._values(kind, clause.key)
            if index is None:
                return None
            if comparator == "=":
                return index.equal(value)
            if comparator == "!=":
                return index.not_equal(value)
            if comparator == "IS NOT NULL":
                return index.present()
            if comparator == "IS NULL":
                return set(self._ints).difference(index.present())
            return None
        if kind == ATTRIBUTE and clause.key == "run_id" and comparator in ("=", "!=", "IN", "NOT IN"):
            wanted = (value,) if comparator in ("=", "!=") else value
            if not isinstance(wanted, tuple) or not all(isinstance(v, str) for v in wanted):
                return None
            ids = self._ids()
            chosen = {ids[v] for v in wanted if v in ids}
            return chosen if comparator in ("=", "IN") else set(self._ints).difference(chosen)
        return None

    # --------------------------------------------------------------- structures

    def _values(self, kind: str, key: str) -> _ValueIndex | None:
        return self._kept((kind, key), lambda: _ValueIndex(self.runs, self._ints, key, kind))  # type: ignore[no-any-return]

    def _metric(self, key: str) -> _MetricIndex | None:
        return self._kept((METRIC, key), lambda: _MetricIndex.build(self.runs, self._ints, key))  # type: ignore[no-any-return]

    def _kept(self, name: tuple[str, str], build: Any) -> Any:
        """The structure (None: not built yet, or the key's values are not plain numbers)."""
        with self._lock:
            if name in self._keys:
                self._keys.move_to_end(name)
                return self._keys[name]
            if not self._building():
                return None
            made = self._keys[name] = build()
            while len(self._keys) > _KEYS_KEPT:
                self._keys.popitem(last=False)
            return made

    def _ids(self) -> dict[str, int]:
        with self._lock:
            if self._run_ids is None:
                self._run_ids = {run.info.run_id: p for p, run in zip(self._ints, self.runs, strict=True)}
            return self._run_ids

    def _stages(self) -> list[str]:
        with self._lock:
            if self._stage_of is None:
                self._stage_of = [run.info.lifecycle_stage for run in self.runs]
            return self._stage_of

    def _built_order(self, order_key: tuple[frozenset[str], tuple[Any, ...]]) -> _Order | None:
        with self._lock:
            return self._orders.get(order_key)

    def _order(self, order_key: tuple[frozenset[str], tuple[Any, ...]], order: RunOrder,
               stages: frozenset[str]) -> _Order | None:
        """The order (None: not built yet)."""
        with self._lock:
            built = self._orders.get(order_key)
            if built is not None:
                self._orders.move_to_end(order_key)
                return built
            if not self._building():
                return None
            runs, ints = self.runs, self._ints
            stage_of = self._stages()
            position_of = {id(run): p for p, run in zip(ints, runs, strict=True)}
            ordered = order.sort([run for p, run in zip(stage_of, runs, strict=True) if p in stages])
            left_out = {p for p, stage in zip(ints, stage_of, strict=True) if stage not in stages}
            made = _Order(ordered, [position_of[id(run)] for run in ordered], ints, left_out, self.very_few,
                          self.walk_step)
            self._orders[order_key] = made
            while len(self._orders) > _ORDERS_KEPT:
                self._orders.popitem(last=False)
            return made
