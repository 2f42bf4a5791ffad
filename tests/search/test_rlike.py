"""RLIKE runs in bounded time: RE2 when installed, else only patterns whose backtracking is bounded."""

from __future__ import annotations

import time

import pytest

from mlscope.search import rlike
from mlscope.search.errors import SearchError
from mlscope.search.run_filter import parse_run_filter

CATASTROPHIC = "(a+)+$"


@pytest.fixture
def without_re2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rlike, "re2", None)


def test_catastrophic_pattern_answers_at_once_on_re2() -> None:
    pytest.importorskip("re2")
    started = time.perf_counter()
    assert not rlike.rlike_matcher(CATASTROPHIC)("a" * 5000 + "b")
    assert time.perf_counter() - started < 1.0  # Python's re takes minutes


def test_catastrophic_pattern_is_refused_without_re2_with_how_to_enable_it(without_re2: None) -> None:
    with pytest.raises(rlike.UnsafePattern, match=r"repetition inside a repetition.*mlscope\[re2\]"):
        rlike.rlike_matcher(CATASTROPHIC)


def test_alternation_under_a_repetition_is_refused_without_re2(without_re2: None) -> None:
    with pytest.raises(rlike.UnsafePattern, match="alternation inside a repetition"):
        rlike.rlike_matcher("(a|aa)*b")


def test_many_unbounded_repetitions_are_refused_without_re2(without_re2: None) -> None:
    with pytest.raises(rlike.UnsafePattern, match="unbounded repetitions"):
        rlike.rlike_matcher(".*x.*x.*x.*Y")


def test_everyday_patterns_run_without_re2(without_re2: None) -> None:
    assert rlike.rlike_matcher(r"^v[0-9]+\.\d+$")("v12.3")
    assert not rlike.rlike_matcher("^adam")("sgd")


@pytest.mark.parametrize("pattern", [r"(a)\1", "(?=a)a", "(?<!x)y"])
def test_backreferences_and_lookaround_are_refused(pattern: str) -> None:
    with pytest.raises(rlike.UnsafePattern, match="does not support"):
        rlike.rlike_matcher(pattern)


def test_a_refused_pattern_is_a_search_error_naming_its_position(without_re2: None) -> None:
    with pytest.raises(SearchError, match="repetition inside a repetition"):
        parse_run_filter(f"params.x RLIKE '{CATASTROPHIC}'", extended=True)
