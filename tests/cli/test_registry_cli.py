"""`mlscope models list|describe` on a registry MLflow wrote: the same models, versions and aliases MLflow reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlscope.cli.main import main
from tests.registry_trees import registry_store

Tree = tuple[Path, dict[str, Any]]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_models_list_json_has_every_model_mlflow_lists_by_name(registry_tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = registry_tree
    code, out, _ = run_cli(capsys, "models", "list", "--json", "--tracking-uri", str(root))
    expected = [m.name for m in registry_store(root).search_registered_models(max_results=100)]
    assert code == 0 and [m["name"] for m in json.loads(out)] == expected


def test_models_list_json_carries_aliases_tags_and_latest_versions(registry_tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = registry_tree
    _, out, _ = run_cli(capsys, "models", "list", "--json", "--filter", "name = 'fraud-detector'", "--tracking-uri", str(root))
    (model,) = json.loads(out)
    oracle = registry_store(root).get_registered_model("fraud-detector")
    assert model["aliases"] == oracle.aliases and model["tags"] == dict(oracle.tags)
    assert sorted(v["version"] for v in model["latest_versions"]) == sorted(int(v.version) for v in oracle.latest_versions)


def test_models_list_table_shows_latest_version_and_aliases(registry_tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = registry_tree
    code, out, _ = run_cli(capsys, "models", "list", "--tracking-uri", str(root))
    header, _, *rows = out.splitlines()
    fraud = next(r for r in rows if r.startswith("fraud-detector"))
    assert code == 0 and header.split()[:2] == ["Name", "Latest"]
    assert "@champion=v2" in fraud and "@challenger=v3" in fraud and fraud.split()[1] == "4"
    assert not any(r.startswith("my-prompt") for r in rows)


def test_models_list_orders_and_caps(registry_tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = registry_tree
    _, out, _ = run_cli(capsys, "models", "list", "--json", "--order-by", "name DESC", "--max-results", "2", "--tracking-uri", str(root))
    expected = [m.name for m in registry_store(root).search_registered_models(max_results=2, order_by=["name DESC"])]
    assert [m["name"] for m in json.loads(out)] == expected


def test_models_describe_json_lists_every_live_version_newest_first(registry_tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    root, ids = registry_tree
    code, out, _ = run_cli(capsys, "models", "describe", "--name", "fraud-detector", "--json", "--tracking-uri", str(root))
    data = json.loads(out)
    oracle = registry_store(root).search_model_versions("name = 'fraud-detector'", max_results=100)
    assert code == 0 and [v["version"] for v in data["versions"]] == sorted((int(v.version) for v in oracle), reverse=True)
    assert data["description"] == "Scores **card** payments"
    version_2 = next(v for v in data["versions"] if v["version"] == 2)
    assert (version_2["current_stage"], version_2["aliases"], version_2["run_id"]) == ("Production", ["champion"], ids["run"])


def test_models_describe_leaves_deleted_versions_out(registry_tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = registry_tree
    _, out, _ = run_cli(capsys, "models", "describe", "--name", "with-deleted", "--json", "--tracking-uri", str(root))
    assert [v["version"] for v in json.loads(out)["versions"]] == [2]


def test_models_describe_text_shows_aliases_and_versions(registry_tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = registry_tree
    code, out, _ = run_cli(capsys, "models", "describe", "-n", "fraud-detector", "--tracking-uri", str(root))
    assert code == 0 and "@champion: version 2" in out and "versions (4):" in out and "Production" in out


def test_describing_a_missing_model_is_one_error_line_and_exit_2(registry_tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = registry_tree
    code, out, err = run_cli(capsys, "models", "describe", "--name", "nope", "--tracking-uri", str(root))
    assert (code, out) == (2, "") and err.strip() == "mlscope: error: Registered Model with name=nope not found"


def test_a_bad_filter_is_one_error_line_and_exit_2(registry_tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = registry_tree
    code, _, err = run_cli(capsys, "models", "list", "--filter", "owner = 'x'", "--tracking-uri", str(root))
    assert code == 2 and err.startswith("mlscope: error: Invalid filter") and "Invalid attribute key 'owner'" in err and len(err.strip().splitlines()) == 1
