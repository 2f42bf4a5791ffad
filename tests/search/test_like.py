"""LIKE/ILIKE answer exactly as MLflow's regex translation does, in linear time."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow.utils.search_utils import _ilike, _like

from mlscope.search.like import LikePattern

PATTERN = st.text(alphabet="ab%_\nA.*", max_size=8)
TEXT = st.text(alphabet="abAB\n.*", max_size=12)


@settings(max_examples=3000, deadline=None)
@given(PATTERN, TEXT)
def test_like_agrees_with_mlflow(pattern: str, text: str) -> None:
    assert LikePattern(pattern)(text) == _like(text, pattern)


@settings(max_examples=1500, deadline=None)
@given(PATTERN, TEXT)
def test_ilike_agrees_with_mlflow(pattern: str, text: str) -> None:
    assert LikePattern(pattern, ignore_case=True)(text) == _ilike(text, pattern)


def test_pathological_pattern_on_a_long_value_answers_at_once() -> None:
    value = "x" * 5000
    started = time.perf_counter()
    assert not LikePattern("%x%x%x%Y")(value)
    assert not LikePattern("%x%x%x%x%x%x%Y", ignore_case=True)(value)
    assert time.perf_counter() - started < 1.0  # the regex translation took over 30 s
