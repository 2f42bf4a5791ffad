"""What an MLmodel folder says about a model: flavors, signature, python version, requirements.

Pure parsing over texts the caller read (safely, with size limits), so the
same summary serves run artifacts and MLflow 3 logged models.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

REQUIREMENT_FILES = ("requirements.txt", "python_env.yaml", "conda.yaml")
MAX_LISTED_REQUIREMENTS = 200


def _safe_yaml(text: str | None) -> Any:
    if not text:
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _columns(raw: Any) -> list[dict[str, Any]] | None:
    """A signature's inputs/outputs/params (stored as a JSON string) as a list of column specs."""
    if raw is None:
        return None
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    columns = []
    for spec in value:
        if not isinstance(spec, dict):
            continue
        tensor = spec.get("tensor-spec") if isinstance(spec.get("tensor-spec"), dict) else None
        column: dict[str, Any] = {
            "name": spec.get("name"),
            "type": f"tensor<{tensor.get('dtype')}>" if tensor else spec.get("type"),
            "required": spec.get("required", True),
        }
        if tensor:
            column["shape"] = tensor.get("shape")
        if "default" in spec:
            column["default"] = spec["default"]
        columns.append(column)
    return columns


def _flavor_summary(config: Any) -> dict[str, Any]:
    """The short, scalar facts of one flavor (versions, loader module, serialization format)."""
    if not isinstance(config, dict):
        return {}
    return {k: v for k, v in config.items() if isinstance(v, str | int | float | bool) and k != "code"}


def _requirements_txt(text: str) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def _dependency_list(items: Any) -> list[str]:
    found: list[str] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict) and isinstance(item.get("pip"), list):
            found.extend(str(p) for p in item["pip"] if not str(p).startswith("-"))
    return found


def requirements_of(files: dict[str, str | None]) -> tuple[list[str], str | None, str | None]:
    """(requirements, file they came from, python version) from the environment files present."""
    python_env = _safe_yaml(files.get("python_env.yaml"))
    conda = _safe_yaml(files.get("conda.yaml"))
    python_version = None
    if isinstance(python_env, dict) and python_env.get("python"):
        python_version = str(python_env["python"])
    if files.get("requirements.txt"):
        return _requirements_txt(files["requirements.txt"] or ""), "requirements.txt", python_version
    if isinstance(python_env, dict) and python_env.get("dependencies"):
        return _dependency_list(python_env["dependencies"]), "python_env.yaml", python_version
    if isinstance(conda, dict):
        deps = conda.get("dependencies") or []
        if python_version is None:
            for dep in deps if isinstance(deps, list) else []:
                if isinstance(dep, str) and dep.startswith("python="):
                    python_version = dep.split("=", 1)[1]
        return [d for d in _dependency_list(deps) if not d.startswith("python=")], "conda.yaml", python_version
    return [], None, python_version


def summarize_mlmodel(mlmodel_text: str, files: dict[str, str | None]) -> dict[str, Any]:
    """The summary the MLmodel preview shows; raises ValueError when MLmodel is not a YAML mapping."""
    try:
        meta = yaml.safe_load(mlmodel_text)
    except yaml.YAMLError as exc:
        raise ValueError(f"MLmodel is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise ValueError("MLmodel is not a YAML mapping")
    flavors: dict[Any, Any] = meta["flavors"] if isinstance(meta.get("flavors"), dict) else {}
    signature: dict[Any, Any] | None = meta["signature"] if isinstance(meta.get("signature"), dict) else None
    requirements, source, env_python = requirements_of(files)
    pyfunc: dict[Any, Any] = flavors["python_function"] if isinstance(flavors.get("python_function"), dict) else {}
    return {
        "flavors": {str(name): _flavor_summary(config) for name, config in flavors.items()},
        "signature": None
        if signature is None
        else {
            "inputs": _columns(signature.get("inputs")),
            "outputs": _columns(signature.get("outputs")),
            "params": _columns(signature.get("params")),
        },
        "python_version": str(pyfunc.get("python_version") or env_python or "") or None,
        "requirements": requirements[:MAX_LISTED_REQUIREMENTS],
        "requirements_source": source,
        "mlflow_version": meta.get("mlflow_version"),
        "model_uuid": meta.get("model_uuid"),
        "model_id": meta.get("model_id"),
        "run_id": meta.get("run_id"),
        "artifact_path": meta.get("artifact_path"),
        "utc_time_created": str(meta["utc_time_created"]) if meta.get("utc_time_created") else None,
        "model_size_bytes": meta.get("model_size_bytes"),
        "has_input_example": bool(meta.get("saved_input_example_info")),
    }
