"""The one place a request is refused before it reaches a handler: cross-site writes, --read-only, headers.

A tracking server turns a localhost viewer into something a web page could
damage: any page a user visits can POST to ``http://localhost:5000``. So
every request that may change something (any method but GET/HEAD/OPTIONS,
except the few POSTs that only search) must

* come from this server's own origin, an origin allowed with
  ``--cors-allowed-origins``, or from a client that is not a browser at all:
  browsers always send ``Origin`` (and ``Sec-Fetch-Site``) on such requests;
  MLflow's Python client sends neither;
* carry a JSON content type when it is a POST, which a cross-site HTML form
  cannot send and a cross-site script cannot send without a CORS preflight
  this server never grants (refused with MLflow's own message for it);
* and is refused outright with 403 PERMISSION_DENIED when the server runs
  with ``--read-only``.

Every request body but an artifact upload (PUT, streamed to disk) is bounded:
one declared too large is refused before a byte is read, and one sent without
a length (chunked) is refused as soon as it passes the bound, so no request
can make the server hold more than ``MAX_JSON_BODY`` bytes of it.

Every response gets ``X-Content-Type-Options: nosniff``, as MLflow's server sends.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body, status_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# JSON request bodies (log-batch's 1,000 metrics are ~100 KB); artifact uploads (PUT) are streamed to disk, not bounded here.
MAX_JSON_BODY = 64 << 20
# Paths whose GETs do work (searches, histories, file reads): refused cross-site like writes.
WORK_PREFIXES = ("/api/", "/ajax-api/", "/get-artifact", "/model-versions/get-artifact")
TOO_LARGE = ("INVALID_PARAMETER_VALUE", f"Request body too large: at most {MAX_JSON_BODY:,} bytes.")
READ_ONLY_MESSAGE = "This mlscope server is read-only (started with --read-only): it refuses every write."


class BodyTooLarge(Exception):
    """Raised from a request's receive channel when its undeclared (chunked) body passes MAX_JSON_BODY."""


class WriteGuard:
    """Refuses writes that are cross-site, non-JSON POSTs, or made to a read-only server; adds nosniff."""

    def __init__(self, app: ASGIApp, *, read_only: bool, read_posts: Collection[str], allowed_origins: Collection[str]) -> None:
        self.app = app
        self.read_only = read_only
        self.read_posts = frozenset(read_posts)
        self.allowed_origins = frozenset(o.rstrip("/") for o in allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        path = scope.get("path", "")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self.body_refusal(method, headers)
        if refusal is None and (method not in SAFE_METHODS or path.startswith(WORK_PREFIXES)):
            refusal = self.refusal(method, path, headers, scope.get("scheme", "http"))
        if refusal is not None:
            await _send_error(send, *refusal)
            return
        if method == "PUT" or "content-length" in headers:
            await self.app(scope, receive, _with_nosniff(send))
            return
        started = False

        async def sender(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _bounded(receive, MAX_JSON_BODY), _with_nosniff(sender))
        except BodyTooLarge:
            if not started:  # else the response is cut: the server closes a connection whose body it did not read
                await _send_error(send, *TOO_LARGE)

    @staticmethod
    def body_refusal(method: str, headers: dict[str, str]) -> tuple[str, str] | None:
        """A body declared over the bound (any method but PUT): refused before any byte is read."""
        if method != "PUT" and _declared_length(headers) > MAX_JSON_BODY:
            return TOO_LARGE
        return None

    def refusal(self, method: str, path: str, headers: dict[str, str], scheme: str) -> tuple[str, str] | None:
        """(error_code, message) when this request must not go on, else None.

        GETs that do work (API searches, artifact downloads) are refused cross-site too, so an
        ``<img>`` or a no-cors fetch on another page cannot make the server search or read; a
        top-level navigation (a link the user follows) still opens.
        """
        if method in SAFE_METHODS:
            if method == "OPTIONS" or headers.get("sec-fetch-mode") == "navigate" or self._same_site(headers, scheme):
                return None
            return "PERMISSION_DENIED", "Cross-site request refused: a page on another site may not query this server."
        if not self._same_site(headers, scheme):
            origin = headers.get("origin") or f"a page on another site (Sec-Fetch-Site: {headers.get('sec-fetch-site')})"
            return (
                "PERMISSION_DENIED",
                f"Cross-site request refused: {origin} may not change data on this server. "
                "Start it with --cors-allowed-origins <origin> to allow that origin.",
            )
        if method == "POST":
            content_type = headers.get("content-type")
            if content_type is None:
                return "INVALID_PARAMETER_VALUE", "Bad Request. Content-Type header is missing."
            if content_type.split(";")[0].strip().lower() != "application/json":
                return "INVALID_PARAMETER_VALUE", "Bad Request. Content-Type must be one of ['application/json']."
        if self.read_only and not (method == "POST" and path in self.read_posts):
            return "PERMISSION_DENIED", READ_ONLY_MESSAGE
        return None

    def _same_site(self, headers: dict[str, str], scheme: str) -> bool:
        """True for this server's own pages, allowed origins and non-browser clients.

        A browser's ``Sec-Fetch-Site`` cannot be set by a page, and stays right behind a
        proxy that rewrites Host; older browsers send only ``Origin``, compared with Host.
        """
        origin = headers.get("origin")
        if origin is not None and ("*" in self.allowed_origins or origin.rstrip("/") in self.allowed_origins):
            return True
        site = headers.get("sec-fetch-site")
        if site is not None:
            return site in ("same-origin", "none")
        if origin is None:
            return True  # not a browser: MLflow's client, curl, scripts
        parts = urlsplit(origin)
        return origin != "null" and parts.scheme == scheme and parts.netloc.lower() == headers.get("host", "").lower()


def _declared_length(headers: dict[str, str]) -> int:
    """The Content-Length a client declared (0 when absent or junk): refused before any byte is read."""
    try:
        return int(headers.get("content-length", "0")[:20])
    except ValueError:
        return 0


def _bounded(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises BodyTooLarge once the body it has handed over passes ``limit`` bytes."""
    seen = 0

    async def bounded() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return bounded


async def _send_error(send: Send, error_code: str, message: str) -> None:
    body = json.dumps(error_body(error_code, message)).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status_of(error_code),
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _with_nosniff(send: Send) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(k.lower() == b"x-content-type-options" for k, _ in headers):
                headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
        await send(message)

    return sender


class ArtifactsOnlyGate:
    """``--artifacts-only``: the tracking and dashboard APIs answer 503, as mlflow server's do in that mode."""

    PREFIXES = ("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/", "/api/mlscope/", "/get-artifact")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(self.PREFIXES):
            await self.app(scope, receive, send)
            return
        body = (
            f"Endpoint: {path} disabled due to the mlscope server running in `--artifacts-only` mode. "
            "To enable tracking server functionality, run `mlscope server` without `--artifacts-only`"
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
