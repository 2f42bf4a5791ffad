"""What a request handler reaches through the app: the index, the query service, the history cache."""

from __future__ import annotations

from starlette.requests import Request

from ..history import HistoryCache
from ..index import RunIndex
from ..search.queries import RunQueries


def index_of(request: Request) -> RunIndex:
    return request.app.state.index


def queries_of(request: Request) -> RunQueries:
    return request.app.state.queries


def history_cache(request: Request) -> HistoryCache:
    """One cache per app, created on first use (the charts and the compare page share it)."""
    state = request.app.state
    cache = getattr(state, "history_cache", None)
    if cache is None:
        cache = state.history_cache = HistoryCache()
    return cache
