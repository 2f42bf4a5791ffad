"""max_results, page tokens and view types, with MLflow's limits, token format and messages."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from .errors import SearchError

Item = TypeVar("Item")
SEARCH_MAX_RESULTS_DEFAULT = 1000
SEARCH_MAX_RESULTS_THRESHOLD = 50000
ACTIVE_ONLY, DELETED_ONLY, ALL = "ACTIVE_ONLY", "DELETED_ONLY", "ALL"
_VIEW_TYPES = {"ACTIVE_ONLY": ACTIVE_ONLY, "DELETED_ONLY": DELETED_ONLY, "ALL": ALL, 1: ACTIVE_ONLY,
               2: DELETED_ONLY, 3: ALL}
_STAGES = {ACTIVE_ONLY: frozenset({"active"}), DELETED_ONLY: frozenset({"deleted"}),
           ALL: frozenset({"active", "deleted"})}


def check_max_results(max_results: Any) -> int:
    """1..50000, as MLflow's stores and handlers enforce (bools and floats are not ints here either)."""
    if isinstance(max_results, str) and max_results.strip().lstrip("-").isdigit():
        max_results = int(max_results)
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise SearchError(f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a positive "
                          "integer")
    if max_results > SEARCH_MAX_RESULTS_THRESHOLD:
        raise SearchError(f"Invalid value for request parameter max_results. It must be at most "
                          f"{SEARCH_MAX_RESULTS_THRESHOLD}, but got value {max_results}")
    return max_results


def view_type_name(view_type: Any) -> str:
    """ACTIVE_ONLY / DELETED_ONLY / ALL from a name (any case) or MLflow's ViewType int (1, 2, 3)."""
    if view_type is None:
        return ACTIVE_ONLY
    key = view_type.upper() if isinstance(view_type, str) else view_type
    if isinstance(key, str) and key.isdigit():
        key = int(key)
    try:
        return _VIEW_TYPES[key]
    except (KeyError, TypeError):
        raise SearchError(f"Invalid view type {view_type!r}: expected ACTIVE_ONLY, DELETED_ONLY or ALL") from None


def stages_for(view_type: Any) -> frozenset[str]:
    """The lifecycle stages a view type lets through."""
    return _STAGES[view_type_name(view_type)]


def parse_page_token(page_token: str | bytes | None) -> int:
    """Offset from MLflow's page token, base64(json {"offset": N}); empty means 0."""
    if not page_token:
        return 0
    try:
        decoded = base64.b64decode(page_token, validate=False)
    except (binascii.Error, TypeError, ValueError):
        raise SearchError("Invalid page token, could not base64-decode") from None
    try:
        parsed = json.loads(decoded)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting is junk too
        raise SearchError(f"Invalid page token, decoded value={decoded!r}") from None
    offset = parsed.get("offset") if isinstance(parsed, dict) else None
    if not offset:
        raise SearchError(f"Invalid page token, parsed value={decoded[:200]!r}")
    try:
        number = int(offset)
    except (TypeError, ValueError, OverflowError):  # {"offset": 1e999}
        raise SearchError(f"Invalid page token, not stringable {offset}") from None
    if number < 0:
        raise SearchError(f"Invalid page token, negative offset {number}")
    return number


def make_page_token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode("utf-8")).decode("ascii")


def paginate(items: Sequence[Item], offset: int, max_results: int) -> tuple[list[Item], str | None]:
    """A page and the token for the next one (None when nothing follows), like SearchUtils.paginate."""
    end = offset + max_results
    page = list(items[offset:end])
    return page, (make_page_token(end) if end < len(items) else None)
