"""One error type for every endpoint, rendered as MLflow's server renders an MlflowException.

The body is ``{error_code, message, sqlstate, error_class}`` with the SQLSTATE
and class MLflow derives from the code, and the HTTP status MLflow gives it.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..search import SearchError
from ..store.errors import StoreError

log = logging.getLogger("mlscope")

_STATUS = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_UNAVAILABLE": 404,
    "RESOURCE_ALREADY_EXISTS": 400,
    "PERMISSION_DENIED": 403,
    "NOT_IMPLEMENTED": 501,
    "INVALID_STATE": 500,
    "TEMPORARILY_UNAVAILABLE": 503,
    "INTERNAL_ERROR": 500,
}
# MLflow's error_classification: (sqlstate, error_class) by client error code.
_CLASSIFICATION = {
    "BAD_REQUEST": ("KAM00", "INVALID_PARAMETER_VALUE"),
    "ENDPOINT_NOT_FOUND": ("KAM00", "RESOURCE_NOT_FOUND"),
    "INTERNAL_ERROR": ("XXM00", "CLIENT_INTERNAL_ERROR"),
    "INVALID_PARAMETER_VALUE": ("KAM00", "INVALID_PARAMETER_VALUE"),
    "INVALID_STATE": ("XXM00", "CLIENT_INTERNAL_ERROR"),
    "NOT_FOUND": ("KAM00", "RESOURCE_NOT_FOUND"),
    "PERMISSION_DENIED": ("KAM00", "PERMISSION_DENIED"),
    "RESOURCE_ALREADY_EXISTS": ("KAM00", "RESOURCE_ALREADY_EXISTS"),
    "RESOURCE_DOES_NOT_EXIST": ("KAM00", "RESOURCE_NOT_FOUND"),
    "TEMPORARILY_UNAVAILABLE": ("XXM00", "CLIENT_INTERNAL_ERROR"),
}


class ApiError(Exception):
    def __init__(self, error_code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.status = status or _STATUS.get(error_code, 400)


def invalid(message: str) -> ApiError:
    return ApiError("INVALID_PARAMETER_VALUE", message)


def not_found(message: str) -> ApiError:
    return ApiError("RESOURCE_DOES_NOT_EXIST", message)


def error_body(error_code: str, message: str) -> dict[str, str]:
    body = {"error_code": error_code, "message": message}
    if error_code in _CLASSIFICATION:
        body["sqlstate"], body["error_class"] = _CLASSIFICATION[error_code]
    return body


def status_of(error_code: str) -> int:
    return _STATUS.get(error_code, 400)


def error_response(error_code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse(error_body(error_code, message), status_code=status)


async def api_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.error_code, exc.message, exc.status)


async def search_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A query MLflow's grammar rejects (from search/ or a query service): 400 INVALID_PARAMETER_VALUE."""
    assert isinstance(exc, SearchError)
    return error_response("INVALID_PARAMETER_VALUE", exc.message, 400)


async def store_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A write the store refuses, with MLflow's error code and that code's HTTP status."""
    assert isinstance(exc, StoreError)
    return error_response(exc.error_code, exc.message, _STATUS.get(exc.error_code, 400))


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = "ENDPOINT_NOT_FOUND" if exc.status_code == 404 else "BAD_REQUEST"
    if exc.status_code == 405:
        code = "BAD_REQUEST"
    return error_response(code, str(exc.detail), exc.status_code)


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Last resort: log the traceback server-side, never send it to the client."""
    log.exception("unexpected error serving %s", request.url.path)
    return error_response("INTERNAL_ERROR", f"mlscope could not answer this request ({type(exc).__name__})", 500)
