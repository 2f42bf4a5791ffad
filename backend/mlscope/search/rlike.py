"""RLIKE, mlscope's opt-in regex comparator, in bounded time.

Python's ``re`` backtracks, so one crafted pattern (``(a+)+$``) on a long value
can hold the GIL for minutes. With the optional ``google-re2`` package
(``pip install 'mlscope[re2]'``) patterns run on RE2, which is linear in the
value. Without it, only patterns whose backtracking is bounded run on ``re``:
no repetition nested in a repetition, no alternation under one, at most two
unbounded repetitions; anything else is refused with a message saying how to
enable it. Backreferences and lookaround are refused either way (RE2 has none).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

try:  # Python 3.11+
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

try:
    import re2  # type: ignore[import-not-found]
except ImportError:  # the optional extra is not installed
    re2 = None

_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None)}
_UNSUPPORTED = {
    sre_constants.GROUPREF: "backreferences",
    sre_constants.GROUPREF_EXISTS: "conditional groups",
    sre_constants.ASSERT: "lookaround",
    sre_constants.ASSERT_NOT: "lookaround",
}
MAX_UNBOUNDED_REPEATS = 2


class UnsafePattern(ValueError):
    """A pattern mlscope will not run: the message says why and what to do."""


def _walk(items: Any, under_repeat: bool, found: list[str]) -> int:
    """Check a parsed pattern; returns how many unbounded repetitions it holds."""
    unbounded = 0
    for op, arg in items:
        if op in _UNSUPPORTED:
            raise UnsafePattern(f"RLIKE does not support {_UNSUPPORTED[op]}")
        if op in _REPEATS:
            low, high, body = arg
            if high == sre_constants.MAXREPEAT:
                unbounded += 1
            if under_repeat and high > 1:
                found.append("a repetition inside a repetition")
            unbounded += _walk(body, under_repeat or high > 1, found)
        elif op == sre_constants.SUBPATTERN:
            unbounded += _walk(arg[-1], under_repeat, found)
        elif op == sre_constants.BRANCH:
            if under_repeat:
                found.append("an alternation inside a repetition")
            unbounded += sum(_walk(branch, under_repeat, found) for branch in arg[1])
        elif op == getattr(sre_constants, "ATOMIC_GROUP", None):
            unbounded += _walk(arg, under_repeat, found)
    return unbounded


def rlike_matcher(pattern: str) -> Callable[[str], bool]:
    """A test ``value -> bool`` (regex search anywhere in the value); raises re.error or UnsafePattern."""
    re.compile(pattern)  # Python's own message for a malformed pattern
    risky: list[str] = []
    unbounded = _walk(sre_parse.parse(pattern), False, risky)
    if re2 is not None:
        compiled = re2.compile(pattern)
        return lambda value: compiled.search(value) is not None
    if unbounded > MAX_UNBOUNDED_REPEATS:
        risky.append(f"more than {MAX_UNBOUNDED_REPEATS} unbounded repetitions")
    if risky:
        raise UnsafePattern(
            f"RLIKE pattern has {risky[0]}, which can take exponential time; "
            "install the linear-time engine (pip install 'mlscope[re2]') to run it"
        )
    search = re.compile(pattern).search
    return lambda value: search(value) is not None
