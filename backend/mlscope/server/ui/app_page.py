"""GET /: the single-page app's index.html, with a strict CSP and module preloads.

The CSP allows the inline import map by its hash only. The preload links
list every module app.js reaches through static imports, so the browser
fetches them in one round instead of one round per level of the import graph
(no bundler needed).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import escape as html_escape
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

STATIC_PREFIX = "/static/"
# `... from "x"` and `import "x"`, also in minified vendor code; a false hit only costs a wasted preload.
_STATIC_IMPORT = re.compile(r"""\bfrom\s*["']([^"'\s]+)["']|\bimport\s*["']([^"'\s]+)["']""")
_SCRIPT = re.compile(r"<script[^>]*>(.*?)</script>", re.S)
_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.S)


def content_security_policy(html: str) -> str:
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _SCRIPT.findall(html)
        if body.strip()
    ]
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' " + " ".join(hashes),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "frame-src 'self' blob:",
            "worker-src 'self' blob:",
            "object-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ]
    )


def static_module_graph(static_dir: Path, entry: str, import_map: dict[str, str]) -> list[str]:
    """URLs of the modules reachable from entry through static imports (dynamic import() is left lazy)."""
    seen: list[str] = []
    pending = [entry]
    while pending:
        url = pending.pop()
        if url in seen or not url.startswith(STATIC_PREFIX):
            continue
        path = static_dir / url[len(STATIC_PREFIX) :]
        try:
            source = path.read_text(encoding="utf-8")
        except OSError:
            continue
        seen.append(url)
        for relative, bare in _STATIC_IMPORT.findall(source):
            specifier = relative or bare
            if specifier.startswith("."):
                pending.append(_join(url, specifier))
            elif specifier in import_map:
                pending.append(import_map[specifier])
    return seen


def _join(base_url: str, relative: str) -> str:
    parts = base_url.split("/")[:-1]
    for piece in relative.split("/"):
        if piece == "..":
            parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


def import_map_of(html: str) -> dict[str, str]:
    found = _IMPORT_MAP.search(html)
    return dict(json.loads(found.group(1)).get("imports", {})) if found else {}


def render_app_page(static_dir: Path) -> tuple[str, str]:
    """(html with preload links, its CSP)."""
    html = (static_dir / "index.html").read_text(encoding="utf-8")
    import_map = import_map_of(html)
    modules = static_module_graph(static_dir, STATIC_PREFIX + "app.js", import_map)
    links = "".join(f'<link rel="modulepreload" href="{url}">\n' for url in modules)
    return html.replace("</head>", links + "</head>", 1), content_security_policy(html)


class AppPage:
    """Serves index.html; re-rendered (and its files checked) when a frontend file changes (cheap: a few stats)."""

    def __init__(self, static_dir: Path) -> None:
        self.static_dir = static_dir
        self._cache: tuple[float, str, str, list[str]] | None = None

    def _current(self) -> tuple[float, str, str, list[str]]:
        from .frontend_files import missing_frontend_files

        stamp = max((p.stat().st_mtime for p in self.static_dir.glob("**/*.js") if "vendor" not in p.parts), default=0.0)
        index = self.static_dir / "index.html"
        stamp = max(stamp, index.stat().st_mtime if index.is_file() else 0.0)
        if self._cache is None or self._cache[0] != stamp:
            missing = missing_frontend_files(self.static_dir)
            html, csp = render_app_page(self.static_dir) if not missing else ("", "")
            self._cache = (stamp, html, csp, missing)
        return self._cache

    async def serve(self, request: Request) -> Response:
        from .frontend_files import incomplete_frontend_message

        _, html, csp, missing = await run_in_threadpool(self._current)
        if missing:
            message = html_escape(incomplete_frontend_message(self.static_dir, missing))
            return HTMLResponse(f"<h1>mlscope</h1><p>The dashboard cannot load: {message}.</p>", 503)
        headers = {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
        return HTMLResponse(html, headers=headers)
