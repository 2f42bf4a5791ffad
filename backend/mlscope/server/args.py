"""Request-argument parsing, in one place: query string for GET, JSON body for POST, as MLflow's handlers read them."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from ..search import SearchError, parse_page_token
from .errors import invalid


async def request_args(request: Request) -> dict[str, Any]:
    """GET: query parameters (repeated keys become lists). POST: the JSON body."""
    if request.method in ("GET", "HEAD"):  # HEAD is answered like GET, from the query string
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
        parsed = load_json(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise invalid("Request body must be a JSON object")
    return parsed


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 309:  # past any double: no endpoint takes it, and float() of it overflows
        raise ValueError(f"integer out of range: {text[:40]}...")
    return int(text)


def load_json(raw: str | bytes) -> Any:
    """json.loads for request input: integers past a double and nesting too deep are ValueErrors."""
    try:
        return json.loads(raw, parse_int=_bounded_int)
    except RecursionError:
        raise ValueError("nesting too deep") from None


def _last(value: Any) -> Any:
    """A repeated query parameter's last value; an empty JSON list is no value."""
    if isinstance(value, list):
        return value[-1] if value else None
    return value


def string_arg(args: dict[str, Any], name: str, *, required: bool = False, default: str | None = None) -> str | None:
    value = _last(args.get(name))
    if value is None or value == "":
        if required:
            raise invalid(f"Missing value for required parameter '{name}'.")
        return default
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise invalid(f"Invalid value for parameter '{name}': expected a string.")
    return str(value)


def int_arg(args: dict[str, Any], name: str, *, default: int | None = None, low: int | None = None, high: int | None = None) -> int | None:
    raw = _last(args.get(name))
    if raw is None or raw == "":
        return default
    try:
        if isinstance(raw, bool) or (isinstance(raw, str) and len(raw) > 40):
            raise ValueError
        value = int(raw)
        if isinstance(raw, float) and raw != value:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
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


# ------------------------------------------------- MLflow's typed request bodies
#
# MLflow's handlers parse a body into a proto message (protobuf's JSON rules:
# JSON key order, unknown keys ignored, the first bad value stops the parse),
# then check a per-endpoint schema; type checks run only when the parse failed.
# These reproduce that, so a bad request gets MLflow's status and message.

STRING, INT, DOUBLE, BOOL = "string", "int", "double", "bool"
REQUIRED, IS_STRING, IS_INT, IS_FLOAT, IS_ARRAY = "required", "is_string", "is_int", "is_float", "is_array"
_API_DOCS = " See the API docs for more information about request parameters."


@dataclass(frozen=True, slots=True)
class Enum:
    names: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Message:
    fields: Mapping[str, Any]  # name -> STRING | INT | DOUBLE | BOOL | Enum | Message | Repeated
    names: Mapping[str, str] = field(init=False, repr=False)  # every accepted JSON key (proto and camelCase) -> field

    def __post_init__(self) -> None:
        names = {_camel(name): name for name in self.fields}
        names.update((name, name) for name in self.fields)
        object.__setattr__(self, "names", names)


@dataclass(frozen=True, slots=True)
class Repeated:
    item: Any


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # proto int64: MLflow's parse fails past these, then stores 0


class _ParseError(Exception):
    """The proto parse stopped here; ``refusal`` is set where MLflow would go on and store a wrong value."""

    def __init__(self, refusal: str | None = None) -> None:
        super().__init__(refusal)
        self.refusal = refusal


class _OutOfRange(_ParseError):
    def __init__(self, value: Any, bounds: str) -> None:
        super().__init__()
        self.value, self.bounds = value, bounds


_INT64_RANGE = f"the int64 range [{INT64_MIN}, {INT64_MAX}]"
_DOUBLE_RANGE = "the range of a double"


def _out_of_range(exc: _OutOfRange, path: str) -> _ParseError:
    """A number past its field's type: MLflow's parse fails there and the handler then logs 0 (a step, a time) with
    a 200, or answers 500 (a metric value past a double); mlscope refuses it, in MLflow's words for a bad value."""
    return _ParseError(f"Invalid value {json.dumps(exc.value)} for parameter '{path}' supplied: "
                       f"it is outside {exc.bounds}.{_API_DOCS}")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _scalar(kind: Any, value: Any) -> Any:
    kind_of_value = type(value)  # the common, well-typed cases first: a log-batch has thousands of these
    if kind_of_value is str and kind is STRING:
        return value
    if kind_of_value is int and kind is INT:
        if INT64_MIN <= value <= INT64_MAX:
            return value
        raise _OutOfRange(value, _INT64_RANGE)
    if kind_of_value is float and kind is DOUBLE and math.isfinite(value):
        return value
    if kind == STRING:
        if not isinstance(value, str):
            raise _ParseError
        return value
    if kind == INT:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()) or (isinstance(value, str) and " " in value):
            raise _ParseError
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            raise _ParseError from None
        if not INT64_MIN <= number <= INT64_MAX:
            raise _OutOfRange(value, _INT64_RANGE)
        return number
    if kind == DOUBLE:
        if isinstance(value, float) and not math.isfinite(value):
            raise _ParseError
        special = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
        if isinstance(value, str) and value in special:
            return special[value]
        if value == "nan":
            raise _ParseError
        try:
            return float(value)
        except OverflowError:  # an integer past a double
            raise _OutOfRange(value, _DOUBLE_RANGE) from None
        except (TypeError, ValueError):
            raise _ParseError from None
    if kind == BOOL:
        if not isinstance(value, bool):
            raise _ParseError
        return value
    if isinstance(kind, Enum):
        if isinstance(value, str) and value in kind.names:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            names = {v: k for k, v in kind.names.items()}
            if value in names:
                return names[value]
        raise _ParseError
    raise _ParseError


def _parse_into(js: Any, message: Message, out: dict[str, Any], path: str = "") -> None:
    """Fill ``out`` with the fields of ``js`` in key order; raises _ParseError at the first bad value."""
    if not isinstance(js, dict):
        raise _ParseError
    names = message.names
    for key, value in js.items():
        name = names.get(key)
        if name is None:
            continue  # unknown fields are ignored
        if value is None:
            out.pop(name, None)
            continue
        kind = message.fields[name]
        if isinstance(kind, Repeated):
            if not isinstance(value, list):
                raise _ParseError
            items: list[Any] = out.setdefault(name, [])
            for i, item in enumerate(value):
                if isinstance(kind.item, Message):
                    parsed: dict[str, Any] = {}
                    items.append(parsed)
                    _parse_into(item, kind.item, parsed, f"{path}{name}[{i}].")
                else:
                    try:
                        items.append(_scalar(kind.item, item))
                    except _OutOfRange as exc:
                        raise _out_of_range(exc, f"{path}{name}[{i}]") from None
        elif isinstance(kind, Message):
            nested: dict[str, Any] = {}
            out[name] = nested
            _parse_into(value, kind, nested, f"{path}{name}.")
        else:
            try:
                out[name] = _scalar(kind, value)
            except _OutOfRange as exc:
                raise _out_of_range(exc, path + name) from None


def _type_name(value: Any) -> str:
    return "NoneType" if value is None else type(value).__name__


def _check(check: str, name: str, value: Any) -> None:
    """One of MLflow's schema assertions (``_assert_required`` etc.); raises MLflow's 400 when it fails."""
    if check == REQUIRED:
        if value is None or value == "":
            raise invalid(f"Missing value for required parameter '{name}'.{_API_DOCS}")
        return
    if check == IS_STRING:
        ok = isinstance(value, str)
    elif check == IS_INT:
        converted: Any
        try:
            converted = int(value)
        except (TypeError, ValueError, OverflowError):  # OverflowError (Infinity): MLflow answers 500 there
            converted = value
        ok = isinstance(converted, int)
    elif check == IS_FLOAT:
        try:
            converted = float(value)
        except (TypeError, ValueError, OverflowError):  # OverflowError (10**400): MLflow answers 500 there
            converted = value
        ok = isinstance(converted, float)
    elif check == IS_ARRAY:
        ok = isinstance(value, list)
    else:
        raise ValueError(f"unknown schema check {check!r}")
    if not ok:
        shown = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
        raise invalid(f"Invalid value {shown} for parameter '{name}' supplied:  Hint: Value was of type '{_type_name(value)}'.{_API_DOCS}")


def required_path(value: Any, path: str) -> None:
    """``_assert_required(x, path=...)`` for nested fields (log-batch's metrics[i].key and the like)."""
    if value is None or value == "":
        raise invalid(f"Missing value for required parameter '{path}'.{_API_DOCS}")


async def json_body(request: Request) -> tuple[dict[str, Any], int]:
    """(body, size in bytes) as MLflow reads it: JSON content type on POST/PUT, bad JSON reads as {}."""
    if request.method in ("POST", "PUT"):
        content_type = request.headers.get("content-type")
        if content_type is None:
            raise invalid("Bad Request. Content-Type header is missing.")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise invalid("Bad Request. Content-Type must be one of ['application/json'].")
    raw = await request.body()
    try:  # integers of any size, as MLflow's json.loads reads them: the message parse below bounds them per field
        body = _load_message_json(raw) if raw.strip() else None
        if isinstance(body, str):  # older clients double-encode
            body = _load_message_json(body)
    except (ValueError, UnicodeDecodeError):
        body = None
    return (body if isinstance(body, dict) else {}), len(raw)


def _load_message_json(raw: str | bytes) -> Any:
    try:
        return json.loads(raw)  # past 4,300 digits int() refuses (ValueError): the body reads as {}
    except RecursionError:
        raise ValueError("nesting too deep") from None


def parse_message(body: dict[str, Any], message: Message, schema: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """The fields of ``body`` that parse as ``message`` (absent ones left out), after MLflow's schema checks."""
    for name in message.fields:
        alias = _camel(name)
        if alias != name and name in body and alias in body:
            raise invalid(f"Request specifies both '{name}' and '{alias}'; provide only one of them.")
    parsed: dict[str, Any] = {}
    refusal = None
    try:
        _parse_into(body, message, parsed)
        parsed_ok = True
    except _ParseError as exc:
        parsed_ok, refusal = False, exc.refusal
    for name, checks in schema.items():
        if name not in body and REQUIRED not in checks:
            continue
        value = body.get(name)
        if name == "run_id" and value is None and "run_uuid" in body:
            value = body.get("run_uuid")
        for check in checks:
            if callable(check):  # an endpoint's own assertion (log-batch's nested required fields): always runs
                check(value)
            elif not (parsed_ok and check != REQUIRED):  # type checks run only when the parse failed
                _check(check, name, value)
    if refusal is not None:
        raise invalid(refusal)
    return parsed


async def mlflow_message(request: Request, message: Message, schema: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    body, _ = await json_body(request)
    return parse_message(body, message, schema)
