"""``mlscope models list|describe``: the model registry from the shell, as a table or ``--json``.

Reads go through ``MlscopeClient``, so ``--tracking-uri`` may be an mlruns
folder or a tracking server. The JSON uses MLflow's field names (those of
``MlflowClient``'s RegisteredModel and ModelVersion), versions as numbers.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from . import manage

VERSIONS_PAGE = 10_000
MODELS_PAGE = 1_000


def register(subparsers: Any) -> None:
    """Add ``models list`` and ``models describe`` to an argparse subparsers object."""
    models = subparsers.add_parser("models", help="list or describe registered models")
    sub = models.add_subparsers(dest="models_command", metavar="COMMAND", required=True)
    p = manage._command(sub, "list", "list registered models (name, latest version, aliases, tags, last modified)", _list)
    p.add_argument("--filter", "-f", default=None, help="MLflow's registry filter, e.g. \"name LIKE 'fraud%%'\" or \"tags.team = 'risk'\"")
    p.add_argument("--order-by", action="append", default=None, help="e.g. 'last_updated_timestamp DESC' (repeatable; default: name)")
    p.add_argument("--max-results", type=int, default=None, help="at most this many models (default: all)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p = manage._command(sub, "describe", "show a registered model with its aliases, tags and every version", _describe)
    p.add_argument("--name", "-n", required=True)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def version_dict(version: Any) -> dict[str, Any]:
    return {
        "name": version.name, "version": version.version, "creation_timestamp": version.creation_timestamp,
        "last_updated_timestamp": version.last_updated_timestamp, "current_stage": version.current_stage,
        "description": version.description, "source": version.source, "run_id": version.run_id,
        "model_id": version.model_id, "status": version.status, "aliases": sorted(version.aliases),
        "tags": dict(sorted(version.tags.items())),
    }  # fmt: skip


def model_dict(model: Any) -> dict[str, Any]:
    return {
        "name": model.name, "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp, "description": model.description,
        "aliases": dict(sorted(model.aliases.items())), "tags": dict(sorted(model.tags.items())),
        "latest_versions": [version_dict(v) for v in sorted(model.latest_versions, key=lambda v: v.version)],
    }  # fmt: skip


def _all_models(client: Any, filter_string: str | None, order_by: list[str] | None, limit: int | None) -> list[Any]:
    found: list[Any] = []
    token = None
    while limit is None or len(found) < limit:
        size = MODELS_PAGE if limit is None else min(MODELS_PAGE, limit - len(found))
        page = client.search_registered_models(filter_string, size, order_by, token)
        found.extend(page)
        token = page.token
        if not token:
            break
    return found


def _latest(model: Any) -> str:
    return str(max(v.version for v in model.latest_versions)) if model.latest_versions else ""


def _list(args: argparse.Namespace) -> int:
    if args.max_results is not None and args.max_results < 1:
        raise ValueError(f"--max-results must be a positive number, got {args.max_results}")
    models = _all_models(manage._client(args), args.filter, args.order_by, args.max_results)
    if args.json:
        print(json.dumps([model_dict(m) for m in models], indent=2, ensure_ascii=False))
        return 0
    rows = [(m.name, _latest(m), " ".join(f"@{a}=v{v}" for a, v in sorted(m.aliases.items())),
             " ".join(f"{k}={v}" for k, v in sorted(m.tags.items())), manage._ms(m.last_updated_timestamp)) for m in models]  # fmt: skip
    print(manage._table(["Name", "Latest", "Aliases", "Tags", "Last Modified"], rows))
    return 0


def _describe(args: argparse.Namespace) -> int:
    client = manage._client(args)
    model = client.get_registered_model(args.name)
    quoted = f'"{args.name}"' if "'" in args.name else f"'{args.name}'"
    versions = client.search_model_versions(f"name = {quoted}", VERSIONS_PAGE, ["version_number DESC"])
    data = {**model_dict(model), "versions": [version_dict(v) for v in versions]}
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print(f"name:              {model.name}")
    print(f"created:           {manage._ms(model.creation_timestamp)}")
    print(f"last modified:     {manage._ms(model.last_updated_timestamp)}")
    print(f"description:       {(model.description or '').replace(chr(10), chr(92) + 'n')}")
    print(f"\naliases ({len(model.aliases)}):")
    for alias, version in sorted(model.aliases.items()):
        print(f"  @{alias}: version {version}")
    print(f"\ntags ({len(model.tags)}):")
    for key, value in sorted(model.tags.items()):
        print(f"  {key}: {value}")
    print(f"\nversions ({len(versions)}):")
    rows = [(v.version, v.current_stage, " ".join(f"@{a}" for a in sorted(v.aliases)), v.status, manage._ms(v.creation_timestamp),
             v.run_id or "", v.source or "") for v in versions]  # fmt: skip
    print(manage._table(["Version", "Stage", "Aliases", "Status", "Registered", "Run Id", "Source"], rows))
    return 0
