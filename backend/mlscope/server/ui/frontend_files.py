"""The files the dashboard's page needs, and which of them are missing.

A wheel built without the vendor builds served a blank white page: GET / said
200 and every module said 404. The server checks this list before it starts
(a one-line error) and before it serves the page (an error page, never a page
whose modules 404).
"""

from __future__ import annotations

import re
from pathlib import Path

from .app_page import _IMPORT_MAP, _STATIC_IMPORT, STATIC_PREFIX, _join, import_map_of

_DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*["']([^"'`\s]+)["']\s*\)""")
_STYLESHEET = re.compile(r'<link rel="stylesheet" href="(/static/[^"]+)"')


def _resolve(specifier: str, importer: str, import_map: dict[str, str]) -> str | None:
    if specifier.startswith("."):
        return _join(importer, specifier)
    if specifier in import_map:
        return import_map[specifier]
    prefix = next((p for p in import_map if p.endswith("/") and specifier.startswith(p)), None)
    return import_map[prefix] + specifier[len(prefix) :] if prefix else None


def required_urls(static_dir: Path) -> list[str]:
    """Every /static URL that index.html and the app's own modules (static and literal dynamic imports) name."""
    html = (static_dir / "index.html").read_text(encoding="utf-8")
    import_map = import_map_of(html) if _IMPORT_MAP.search(html) else {}
    wanted = [*_STYLESHEET.findall(html), *(url for url in import_map.values() if not url.endswith("/"))]
    wanted += [url + "core.min.js" for url in import_map.values() if url.endswith("/")]  # highlight.js/ prefix
    pending, seen = [STATIC_PREFIX + "app.js"], set()
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        wanted.append(url)
        path = static_dir / url[len(STATIC_PREFIX) :]
        if "/vendor/" in url or not path.is_file():
            continue  # vendor builds are checked for presence only
        source = path.read_text(encoding="utf-8")
        specifiers = [a or b for a, b in _STATIC_IMPORT.findall(source)] + _DYNAMIC_IMPORT.findall(source)
        for specifier in specifiers:
            resolved = _resolve(specifier, url, import_map)
            if resolved and resolved.startswith(STATIC_PREFIX):
                pending.append(resolved)
    return sorted(set(wanted))


def missing_frontend_files(static_dir: Path) -> list[str]:
    """Paths under the frontend folder the page needs but cannot load (empty when all is there)."""
    if not (static_dir / "index.html").is_file():
        return ["index.html"]
    return [url[len(STATIC_PREFIX) :] for url in required_urls(static_dir) if not (static_dir / url[len(STATIC_PREFIX) :]).is_file()]


def incomplete_frontend_message(static_dir: Path, missing: list[str]) -> str:
    shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
    return (
        f"the dashboard's files are incomplete in {static_dir} (missing {shown}); "
        "reinstall mlscope (pip install --force-reinstall mlscope), or in a checkout run 'make vendor'"
    )
