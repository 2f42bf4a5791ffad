"""Request-argument parsing, in one place: query string for GET, JSON body for POST, as MLflow's handlers read them."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from ..search import SearchError, parse_page_token
from .errors import invalid


async def request_args(request: Request) -> dict[str, Any]:
    """GET: query parameters (repeated keys become lists). POST: the JSON body."""
    if request.method == "GET":
        args: dict[str, Any] = {}
        for key, value in request.query_params.multi_items():
            if key in args:
                previous = args[key]
                args[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                args[key] = value
        return args
    body = await request.body()
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise invalid("Request body must be a JSON object")
    return parsed


def string_arg(args: dict[str, Any], name: str, *, required: bool = False, default: str | None = None) -> str | None:
    value = args.get(name)
    if isinstance(value, list):
        value = value[-1]
    if value is None or value == "":
        if required:
            raise invalid(f"Missing value for required parameter '{name}'.")
        return default
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise invalid(f"Invalid value for parameter '{name}': expected a string.")
    return str(value)


def int_arg(args: dict[str, Any], name: str, *, default: int | None = None, low: int | None = None, high: int | None = None) -> int | None:
    raw = args.get(name)
    if isinstance(raw, list):
        raw = raw[-1]
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
        if isinstance(raw, float) and raw != value:
            raise ValueError
    except (TypeError, ValueError):
        raise invalid(f"Invalid value {raw!r} for parameter '{name}': expected an integer.") from None
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low} and {high}" if low is not None and high is not None else f">= {low}" if low is not None else f"<= {high}"
        raise invalid(f"Invalid value {value} for parameter '{name}': must be {bounds}.")
    return value


def list_arg(args: dict[str, Any], name: str) -> list[str]:
    value = args.get(name)
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in items):
        raise invalid(f"Invalid value for parameter '{name}': expected a list of strings.")
    return [str(v) for v in items]


def page_offset(args: dict[str, Any]) -> int:
    """The offset in MLflow's page token (base64 of {"offset": N}); 400 when it is not one."""
    try:
        return parse_page_token(string_arg(args, "page_token"))
    except SearchError as exc:
        raise invalid(exc.message) from None
