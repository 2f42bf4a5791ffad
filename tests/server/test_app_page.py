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


def _frontend_copy_without(tmp_path, relative: str):
    import shutil

    from mlscope.server.app import frontend_dir

    copy = tmp_path / "frontend"
    shutil.copytree(frontend_dir(), copy)
    (copy / relative).unlink()
    return copy


def test_every_file_the_page_needs_is_present_in_the_frontend():
    from mlscope.server.app import frontend_dir
    from mlscope.server.ui.frontend_files import missing_frontend_files

    assert missing_frontend_files(frontend_dir()) == []


def test_app_page_names_a_missing_vendor_module_instead_of_serving_a_blank_page(tmp_path):
    from starlette.applications import Starlette
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from mlscope.server.ui.app_page import AppPage

    page = AppPage(_frontend_copy_without(tmp_path, "vendor/preact/hooks.mjs"))
    response = TestClient(Starlette(routes=[Route("/", page.serve)])).get("/")
    assert response.status_code == 503
    assert "vendor/preact/hooks.mjs" in response.text and "make vendor" in response.text


def test_a_missing_lazily_imported_view_counts_as_missing(tmp_path):
    from mlscope.server.ui.frontend_files import missing_frontend_files

    assert missing_frontend_files(_frontend_copy_without(tmp_path, "views/compare.js")) == ["views/compare.js"]
