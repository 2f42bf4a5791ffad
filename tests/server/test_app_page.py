"""GET / serves the app with a strict CSP and preloads every statically imported module."""

from __future__ import annotations

import re

import httpx


def test_app_page_has_a_strict_csp_allowing_the_import_map_by_hash(reference_server):
    response = httpx.get(reference_server.url + "/")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_app_page_preloads_the_static_module_graph(reference_server):
    html = httpx.get(reference_server.url + "/").text
    preloads = re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)
    assert "/static/app.js" in preloads and "/static/vendor/preact/preact.mjs" in preloads
    assert "/static/vendor/echarts/echarts.esm.min.mjs" not in preloads  # only the compare view loads ECharts
    for url in preloads:
        assert httpx.get(reference_server.url + url).status_code == 200, url
