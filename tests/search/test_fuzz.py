"""Fuzzing: nothing but SearchError ever escapes, and whatever MLflow rejects is rejected here too."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlflow.exceptions import MlflowException
from mlflow.utils.search_utils import SearchUtils

from mlscope.search import SearchError, parse_order_by, parse_run_filter, search_experiments, search_runs

from .test_run_filter import make_run

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)  # the same examples on every CI run

NAMES = ["metrics.a", "params.p", "tags.t", "run_id", "status", "start_time", "datasets.name", "metrics.`a b`",
         'params."p"', "`run name`", "created", "attr.user_id", "metrics.a.b", "foo.a", "metrics.in", "lifecycle_stage"]
COMPARATORS = [">", ">=", "=", "!=", "<", "<=", "==", "LIKE", "ilike", "RLIKE", "NOT LIKE", "IN", "NOT IN",
               "IS NULL", "IS NOT NULL", "IS  NOT NULL"]
VALUES = ["1", "-1.5", "1e3", ".5", "'x'", '"y"', "'%x_'", "('a', 'b')", "('a',)", "()", "(1)", "abc", "NULL", "1and"]
SOUP = NAMES + COMPARATORS + VALUES + ["AND", "and", "OR", "(", ")", ",", ";", "'", '"', "`", ".", "-", "--"]


def _clause() -> st.SearchStrategy[str]:
    return st.builds(lambda n, s1, c, s2, v: f"{n}{s1}{c}{s2}{v}", st.sampled_from(NAMES), st.sampled_from(["", " "]),
                     st.sampled_from(COMPARATORS), st.sampled_from(["", " "]), st.sampled_from(VALUES))


STRUCTURED = st.builds(lambda joiner, items: joiner.join(items), st.sampled_from([" AND ", " and ", " OR ", " AND AND "]),
                       st.lists(_clause(), min_size=1, max_size=3))
TOKEN_SOUP = st.lists(st.sampled_from(SOUP), max_size=8).map(" ".join)


def _never_crashes(text: str, extended: bool) -> None:
    try:
        parse_run_filter(text, extended).matches(make_run(params={"p": "1"}, metrics={"a": 1.0}))
    except SearchError as exc:
        assert exc.message and isinstance(exc.message, str)


@FAST
@given(st.text(max_size=60), st.booleans())
def test_random_text_only_raises_search_error(text: str, extended: bool) -> None:
    _never_crashes(text, extended)


@FAST
@given(TOKEN_SOUP, st.booleans())
def test_token_soup_only_raises_search_error(text: str, extended: bool) -> None:
    _never_crashes(text, extended)


@FAST
@given(st.lists(st.one_of(st.text(max_size=20), TOKEN_SOUP), max_size=3))
def test_random_order_by_only_raises_search_error(order_by: list[str]) -> None:
    try:
        parse_order_by(order_by)
    except SearchError:
        pass


@FAST
@given(st.text(max_size=40), st.one_of(st.none(), st.text(max_size=20)))
def test_random_experiment_filters_and_tokens_only_raise_search_error(text: str, token: str | None) -> None:
    try:
        search_experiments([], text, page_token=token)
    except SearchError:
        pass


@FAST
@given(st.one_of(st.text(max_size=30), st.binary(max_size=30).map(lambda b: b.decode("latin-1"))))
def test_random_page_tokens_only_raise_search_error(token: str) -> None:
    try:
        search_runs([make_run()], page_token=token)
    except SearchError:
        pass


def _mlflow_rejects(text: str) -> bool:
    from .test_parity_mlflow import _probe_run

    try:
        for clause in SearchUtils.parse_search_filter(text):
            SearchUtils._does_run_match_clause(_probe_run(), clause)
    except (MlflowException, ValueError):
        return True
    return False


@FAST
@given(st.one_of(STRUCTURED, TOKEN_SOUP))
def test_what_mlflow_rejects_is_rejected(text: str) -> None:
    if _mlflow_rejects(text):
        try:
            parse_run_filter(text)
        except SearchError:
            return
        raise AssertionError(f"MLflow rejects {text!r} but mlscope accepts it")
