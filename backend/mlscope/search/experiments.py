"""search_experiments: MLflow's FileStore.search_experiments over experiments already in memory.

Grammar from ``SearchExperimentsUtils``: attributes name, experiment_id,
creation_time, last_update_time (entity prefix ``attribute.`` only) and
``tag.``/``tags.``; IN only on experiment_id; IS [NOT] NULL only on tags.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..store.model import Experiment
from .grammar import ATTRIBUTE, TAG, ExperimentGrammar
from .order import parse_experiment_order, sort_experiments
from .paging import SEARCH_MAX_RESULTS_DEFAULT, check_max_results, paginate, parse_page_token, stages_for
from .parser import BoolOp, Clause, parse
from .run_filter import Predicate, compile_node, value_test


def _compile_clause(clause: Clause) -> Predicate:
    key, comparator = clause.key, clause.comparator
    if clause.kind == TAG:
        if comparator == "IS NULL":
            return lambda exp: key not in exp.tags
        if comparator == "IS NOT NULL":
            return lambda exp: key in exp.tags
        tag_test = value_test(comparator, clause.value, clause.pos)

        def tag(exp: Experiment) -> bool:
            value = exp.tags.get(key)
            return value is not None and bool(tag_test(value))
        return tag
    assert clause.kind == ATTRIBUTE
    test = value_test(comparator, clause.value, clause.pos)
    get = operator.attrgetter(key)

    def attribute(exp: Experiment) -> bool:
        value = get(exp)
        return value is not None and bool(test(value))
    return attribute


@dataclass(frozen=True)
class ExperimentFilter:
    text: str
    predicate: Predicate | None

    def matches(self, experiment: Experiment) -> bool:
        return self.predicate is None or bool(self.predicate(experiment))


@lru_cache(maxsize=256)
def parse_experiment_filter(filter_string: str | None, extended: bool = False) -> ExperimentFilter:
    """Parse and compile an experiment filter such as "name LIKE 'cv-%' AND tags.team = 'nlp'"."""
    text = filter_string or ""
    tree = parse(text, ExperimentGrammar(extended), extended) if text else BoolOp("AND", ())
    return ExperimentFilter(text, compile_node(tree, _compile_clause))


def search_experiments(experiments: Iterable[Experiment], filter_string: str | None = "",
                       order_by: Sequence[str] | None = None, max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
                       page_token: str | None = None, view_type: str | int = "ACTIVE_ONLY",
                       extended: bool = False) -> tuple[list[Experiment], str | None]:
    """Filter, sort (default creation_time DESC, experiment_id ASC) and page experiments like MLflow's FileStore."""
    limit = check_max_results(max_results)
    offset = parse_page_token(page_token)
    stages = stages_for(view_type)
    predicate = parse_experiment_filter(filter_string or "", extended).predicate
    keys = parse_experiment_order(tuple(order_by or ()))
    selected = [e for e in experiments if e.lifecycle_stage in stages and (predicate is None or predicate(e))]
    return paginate(sort_experiments(selected, keys), offset, limit)
