"""HTTP to an MLflow-compatible tracking server with the standard library, behaving as MLflow's client does.

Same environment variables (``MLFLOW_TRACKING_USERNAME``/``PASSWORD``/``TOKEN``,
``MLFLOW_TRACKING_INSECURE_TLS``, ``MLFLOW_TRACKING_SERVER_CERT_PATH``,
``MLFLOW_HTTP_REQUEST_TIMEOUT``/``MAX_RETRIES``/``BACKOFF_FACTOR``/``BACKOFF_JITTER``),
the same retried statuses (408, 429, 500, 502, 503, 504) and connection errors,
and errors raised as ``RestException`` with the server's ``error_code``.
"""

from __future__ import annotations

import base64
import json
import math
import os
import random
import shutil
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import IO, Any

from .validation import MlscopeException

API_PREFIX = "/api/2.0/mlflow/"
ARTIFACTS_PREFIX = "/api/2.0/mlflow-artifacts/artifacts"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# MLflow's ERROR_CODE_TO_HTTP_STATUS, reversed, for error bodies that are not MLflow JSON.
ERROR_CODE_BY_STATUS = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "ENDPOINT_NOT_FOUND",
                        409: "RESOURCE_CONFLICT", 429: "REQUEST_LIMIT_EXCEEDED", 499: "CANCELLED", 500: "INTERNAL_ERROR",
                        501: "NOT_IMPLEMENTED", 503: "TEMPORARILY_UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}  # fmt: skip


class RestException(MlscopeException):
    """A non-200 answer from the server, worded as MLflow's RestException: ``"<ERROR_CODE>: <message>"``."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        code = str(body.get("error_code") or "INTERNAL_ERROR")
        message = body["message"] if "message" in body else f"Response: {dict(body)}"
        super().__init__(f"{code}: {message}", code)
        self.json = dict(body)


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        raise MlscopeException(f"Environment variable {name} must be a number, got {os.environ[name]!r}") from None


class Response:
    """A finished response: status, headers and the open body stream (closed by the caller)."""

    def __init__(self, status: int, headers: Mapping[str, str], stream: IO[bytes]) -> None:
        self.status = status
        self.headers = headers
        self.stream = stream

    def read(self) -> bytes:
        try:
            return self.stream.read()
        finally:
            self.stream.close()


class HttpClient:
    """Requests to one server (``http(s)://host[:port][/prefix]``), with MLflow's auth, TLS and retry settings."""

    def __init__(self, base_url: str) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise MlscopeException(f"Invalid tracking server URL {base_url!r}: expected http(s)://host[:port]")
        self.base_url = base_url.rstrip("/")
        self._headers = {"User-Agent": f"mlscope/{_version()}"}
        user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        if user and password:
            basic = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {basic}"
        elif token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._context = self._ssl_context() if parsed.scheme == "https" else None

    @staticmethod
    def _ssl_context() -> ssl.SSLContext:
        if os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "false").strip().lower() in ("true", "1"):
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or None)

    # ------------------------------------------------------------- requests

    def call(self, method: str, endpoint: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One MLflow REST call (``runs/create``): a JSON body for POST, query parameters for GET."""
        path = API_PREFIX + endpoint
        if method == "GET":
            response = self.request("GET", path, params=body)
        else:
            response = self.request(method, path, data=json_bytes(body or {}), headers={"Content-Type": "application/json"})
        text = response.read()
        try:
            result = json.loads(text) if text.strip() else {}
        except ValueError:
            result = None
        if not isinstance(result, dict):
            raise MlscopeException(
                f"API request to endpoint {path} was successful but the response body was not in a valid JSON format. "
                f"Response body: '{text[:200].decode('utf-8', 'replace')}'"
            )
        return result

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, data: bytes | IO[bytes] | None = None,
                headers: Mapping[str, str] | None = None, length: int | None = None, retries: int | None = None) -> Response:  # fmt: skip
        """Send with retries (MLFLOW_HTTP_REQUEST_MAX_RETRIES unless given); raise RestException (or MlscopeException) for any status but 2xx."""
        url = self.base_url + urllib.parse.quote(path, safe="/:@!$&'()*+,;=-._~")
        if params:
            url += "?" + urllib.parse.urlencode(_query(params), doseq=True)
        retries = int(_env_number("MLFLOW_HTTP_REQUEST_MAX_RETRIES", 7)) if retries is None else retries
        timeout = _env_number("MLFLOW_HTTP_REQUEST_TIMEOUT", 120)
        start = data.tell() if data is not None and not isinstance(data, bytes) else None  # a file is re-read on retry
        for attempt in range(retries + 1):
            request = urllib.request.Request(url, data=data, method=method, headers={**self._headers, **(headers or {})})
            if length is not None:
                request.add_header("Content-Length", str(length))
            retry_after: float | None = None
            try:
                raw = urllib.request.urlopen(request, timeout=timeout, context=self._context)
                return Response(raw.status, raw.headers, raw)
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRY_STATUSES or attempt == retries:
                    _raise_for(exc.code, exc.read(), path)
                retry_after = _retry_after(exc.headers.get("Retry-After"))
                exc.close()
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                if attempt == retries:
                    reason = getattr(exc, "reason", exc)
                    raise MlscopeException(f"API request to {url} failed with exception {reason}", "TEMPORARILY_UNAVAILABLE") from None
            if start is not None:
                data.seek(start)  # type: ignore[union-attr]
            time.sleep(retry_after if retry_after is not None else _backoff(attempt + 1))
        raise AssertionError("unreachable")

    def download(self, path: str, target: IO[bytes]) -> None:
        response = self.request("GET", path)
        try:
            shutil.copyfileobj(response.stream, target, 1024 * 1024)
        finally:
            response.stream.close()


def _backoff(failures: int) -> float:
    """urllib3's schedule as MLflow configures it: 0 after the first failure, then factor * 2^(n-1) + jitter, at most 120 s."""
    if failures <= 1:
        return 0.0
    factor = _env_number("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", 2)
    jitter = _env_number("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", 1.0)
    return min(120.0, factor * 2 ** (failures - 1) + random.random() * jitter)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _raise_for(status: int, body: bytes, path: str) -> None:
    text = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        raise RestException(parsed)
    code = ERROR_CODE_BY_STATUS.get(status, "INTERNAL_ERROR")
    raise MlscopeException(f"API request to endpoint {path} failed with error code {status} != 200. Response body: '{text}'", code)


def _query(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for key, value in params.items():
        if value is None:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((key, "true" if item is True else "false" if item is False else str(item)))
    return pairs


def json_float(value: float) -> float | str:
    """A double as protobuf JSON writes it: NaN and infinities as strings, which every MLflow server parses."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def json_bytes(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, allow_nan=False).encode("utf-8")


def _version() -> str:
    from .. import __version__

    return __version__
