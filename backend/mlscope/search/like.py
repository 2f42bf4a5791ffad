"""MLflow's LIKE/ILIKE semantics, matched in linear time.

MLflow turns a LIKE pattern into a Python regex (``%`` -> ``.*``, ``_`` -> ``.``,
anchored by ``^``/``$`` unless the pattern starts/ends with ``%``) and runs
``re.match``. Such regexes backtrack: ``'%x%x%x%Y'`` on a 5,000-character value
held the server for over 30 s. This module gives the same answers without
backtracking, by matching the ``%``-separated segments greedily left to right
(the leftmost place of each segment is always the best one).

What the regex translation implies, and is kept here: ``%`` and ``_`` never
match a newline (``.`` does not), and a pattern that does not end in ``%``
may end just before one final newline (``$``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_NO_MATCH = -1


def _fold(text: str) -> str:
    return text.lower()


class _Segment:
    """A run of literal characters and ``_`` wildcards, between two ``%``."""

    def __init__(self, text: str) -> None:
        self.length = len(text)
        self.literal = text if "_" not in text else None
        # Fixed-length and quantifier-free, so re.search stays O(n * len) without backtracking.
        self._regex = None if self.literal is not None else re.compile("".join("." if c == "_" else re.escape(c) for c in text))

    def find(self, text: str, start: int) -> int:
        """The leftmost position >= start where the segment matches, or -1."""
        if self.literal is not None:
            return text.find(self.literal, start)
        found = self._regex.search(text, start)  # type: ignore[union-attr]
        return found.start() if found else _NO_MATCH

    def matches_at(self, text: str, position: int) -> bool:
        if position < 0 or position + self.length > len(text):
            return False
        if self.literal is not None:
            return text.startswith(self.literal, position)
        return self._regex.match(text, position) is not None  # type: ignore[union-attr]


class _Line:
    """A pattern without newlines: segments split by ``%``."""

    def __init__(self, pattern: str) -> None:
        parts = pattern.split("%")
        self.segments = [_Segment(part) for part in parts]
        self.has_percent = len(parts) > 1

    def match_end(self, text: str, start: int, anchored_end: bool) -> bool:
        """Does the line match text[start:] (wholly when anchored_end, else a prefix), no newline crossed?"""
        newline = text.find("\n", start)
        limit = len(text) if newline == -1 else newline  # no % or _ may cross a newline
        first, rest = self.segments[0], self.segments[1:]
        if not first.matches_at(text, start) or start + first.length > limit:
            return False
        position = start + first.length
        if not self.has_percent:
            return not anchored_end or position == limit and (newline == -1 or newline == len(text) - 1)
        *middle, last = rest
        for segment in middle:
            found = segment.find(text, position)
            if found == _NO_MATCH or found + segment.length > limit:
                return False
            position = found + segment.length
        if not anchored_end:
            found = last.find(text, position)
            return found != _NO_MATCH and found + last.length <= limit
        # Anchored: the last segment must end where the text ends (or before one final newline).
        if newline != -1 and newline != len(text) - 1:
            return False
        end_start = limit - last.length
        return end_start >= position and last.matches_at(text, end_start)


class LikePattern:
    """A compiled LIKE pattern; calling it on a string answers as MLflow's ``_like``/``_ilike`` would."""

    def __init__(self, pattern: str, ignore_case: bool = False) -> None:
        self.ignore_case = ignore_case
        folded = _fold(pattern) if ignore_case else pattern
        self.starts_free = folded.startswith("%")
        self.anchored_end = not folded.endswith("%")
        # '%' and '_' cannot match a newline, so every newline of the match is one of the pattern's own.
        self.lines = [_Line(line) for line in folded.split("\n")]

    def __call__(self, text: str) -> bool:
        if self.ignore_case:
            text = _fold(text)
        position = 0
        *full_lines, last = self.lines
        for line in full_lines:
            newline = text.find("\n", position)
            if newline == -1 or not line.match_end(text[: newline + 1], position, anchored_end=True):
                return False
            position = newline + 1
        return last.match_end(text, position, self.anchored_end)


def like_matcher(pattern: str, ignore_case: bool = False) -> Callable[[str], bool]:
    return LikePattern(pattern, ignore_case)
