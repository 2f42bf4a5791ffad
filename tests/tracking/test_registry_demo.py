"""`mlscope demo` includes a model registry a new user sees populated, written so MLflow's registry reads it back."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlscope.demo import write_demo
from tests.registry_trees import registry_store


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo-registry") / "mlruns"
    write_demo(root)
    return root


def test_the_demo_has_three_registered_models_mlflow_lists(demo: Path) -> None:
    models = registry_store(demo).search_registered_models(max_results=100)
    assert [m.name for m in models] == ["churn-model", "cifar-classifier", "ticket-router"]


def test_the_demo_models_have_several_versions_and_aliases(demo: Path) -> None:
    oracle = registry_store(demo)
    assert oracle.get_registered_model("cifar-classifier").aliases == {"champion": "3", "challenger": "5"}
    assert oracle.get_registered_model("churn-model").aliases == {"champion": "2", "candidate": "3"}
    assert len(oracle.search_model_versions("name = 'cifar-classifier'", max_results=100)) == 5
    assert len(oracle.search_model_versions("name = 'churn-model'", max_results=100)) == 3


def test_the_demo_versions_cover_the_legacy_stages(demo: Path) -> None:
    stages = {int(v.version): v.current_stage for v in registry_store(demo).search_model_versions("name = 'cifar-classifier'", max_results=100)}
    assert stages == {1: "Archived", 2: "None", 3: "Production", 4: "Staging", 5: "None"}


def test_each_demo_version_points_at_a_folder_with_an_mlmodel(demo: Path) -> None:
    from mlscope.store.paths import local_path

    for version in registry_store(demo).search_model_versions(max_results=100):
        location = registry_store(demo).get_model_version_download_uri(version.name, version.version)
        assert (local_path(location) / "MLmodel").is_file(), (version.name, version.version, location)


def test_the_demo_logged_model_version_is_linked_both_ways(demo: Path) -> None:
    version = registry_store(demo).get_model_version("cifar-classifier", "5")
    assert version.source == f"models:/{version.model_id}" and version.model_id.startswith("m-")
    tags = next(demo.glob(f"*/models/{version.model_id}/tags/mlflow.modelVersions")).read_text()
    assert '"name": "cifar-classifier"' in tags and '"version": 5' in tags
