"""What the bench serves: the synthetic trees, MLflow's SQLite copy of them, and the server commands.

Trees are cached in bench/trees/ (git-ignored) and rewritten when
generate.py changes; the SQLite database is made from a tree by MLflow's own
``mlflow migrate-filestore`` and cached next to it the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import generate
from bench.measure import Server, free_port

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TREES = BENCH / "trees"
LOGS = TREES / "logs"
MLFLOW_VERSION = "3.17.2"
TREE_SHAPE = {"experiments": 5, "steps": 100, "seed": 0}


def _generator_stamp() -> str:
    return hashlib.sha256((BENCH / "generate.py").read_bytes()).hexdigest()[:16]


def tree_for(runs: int) -> Path:
    """The cached tree of `runs` runs; (re)generated when missing, half-written or made by another generator."""
    path, stamp_path = TREES / f"runs-{runs}", TREES / f"runs-{runs}.json"
    stamp = {"runs": runs, **TREE_SHAPE, "generator": _generator_stamp()}
    if path.is_dir() and stamp_path.is_file() and json.loads(stamp_path.read_text()).get("stamp") == stamp:
        return path
    stamp_path.unlink(missing_ok=True)
    shutil.rmtree(path, ignore_errors=True)
    print(f"generating {runs:,} runs into {path} ...", flush=True)
    started = time.perf_counter()
    summary = generate.generate(path, runs, **TREE_SHAPE)
    seconds = time.perf_counter() - started
    stamp_path.write_text(json.dumps({"stamp": stamp, "files": summary["files"], "seconds": round(seconds, 1)}))
    print(f"  {summary['files']:,} files in {seconds:.1f} s", flush=True)
    return path


def tree_facts(runs: int) -> dict[str, float]:
    """Files and generation seconds recorded when the tree was written."""
    data = json.loads((TREES / f"runs-{runs}.json").read_text())
    return {"files": data["files"], "seconds": data.get("seconds", 0.0)}


def mlflow_exe() -> Path | None:
    """MLflow's CLI (the full package, with its server) from the test extras in .venv, else bench/.mlflow-venv."""
    for exe in (REPO / ".venv" / "bin" / "mlflow", BENCH / ".mlflow-venv" / "bin" / "mlflow"):
        if exe.exists():
            return exe
    venv = BENCH / ".mlflow-venv"
    print(f"creating {venv} with mlflow=={MLFLOW_VERSION} (first run only) ...", flush=True)
    for cmd in ([sys.executable, "-m", "venv", "--clear", str(venv)], [str(venv / "bin" / "pip"), "install", "--quiet", f"mlflow=={MLFLOW_VERSION}"]):
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"cannot install MLflow ({' '.join(cmd[:3])} failed): {(done.stderr or done.stdout).strip()[-800:]}", flush=True)
            return None
    exe = venv / "bin" / "mlflow"
    return exe if exe.exists() else None


def sqlite_for(exe: Path, tree: Path) -> Path | None:
    """MLflow's SQLite copy of a tree, made by ``mlflow migrate-filestore`` (cached; None when migration fails)."""
    db, stamp_path = tree.with_suffix(".sqlite"), tree.with_suffix(".sqlite.json")
    stamp = {"tree": json.loads((tree.parent / f"{tree.name}.json").read_text()).get("stamp"), "mlflow": MLFLOW_VERSION}
    if db.is_file() and stamp_path.is_file() and json.loads(stamp_path.read_text()).get("stamp") == stamp:
        return db
    stamp_path.unlink(missing_ok=True)
    db.unlink(missing_ok=True)
    print(f"mlflow migrate-filestore {tree.name} -> {db.name} ...", flush=True)
    started = time.perf_counter()
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / f"migrate-{tree.name}.log", "wb") as log:
        done = subprocess.run([str(exe), "migrate-filestore", "--source", str(tree), "--target", f"sqlite:///{db}", "--no-progress"],
                              stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"})
    if done.returncode != 0 or not db.is_file():
        print(f"  migration failed (exit {done.returncode}); see {LOGS / f'migrate-{tree.name}.log'}", flush=True)
        return None
    seconds = time.perf_counter() - started
    stamp_path.write_text(json.dumps({"stamp": stamp, "seconds": round(seconds, 1), "bytes": db.stat().st_size}))
    print(f"  {db.stat().st_size / 1e6:,.0f} MB in {seconds:.0f} s", flush=True)
    return db


def compile_mlscope() -> None:
    """Byte-compile mlscope's modules, as pip does when it installs a wheel.

    The venv holds an editable install, and this machine sets
    PYTHONDONTWRITEBYTECODE: without this, every server start would compile
    ~170 modules from source first (~0.4 s), which no installed copy does.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "backend" / "mlscope")], check=True,
                   stdout=subprocess.DEVNULL)


def mlscope_server(tree: Path, cache_home: Path) -> Server:
    """``mlscope ui`` with its index cache in cache_home (XDG_CACHE_HOME), so first opens and restarts are controlled."""
    compile_mlscope()
    port = free_port()
    exe = REPO / ".venv" / "bin" / "mlscope"
    cmd = [str(exe), "ui", "--backend-store-uri", str(tree), "--port", str(port)]
    if not exe.exists():
        cmd = [sys.executable, "-m", "mlscope.cli.main", *cmd[1:]]
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    return Server("mlscope", cmd, port, LOGS / f"mlscope-{tree.name}.log", env=env)


def mlflow_server(exe: Path, store: str, name: str, tree: Path) -> Server:
    """``mlflow server`` on a store URI (the tree, or sqlite:///...), one worker, artifacts under bench/trees/mlflow-cwd."""
    port = free_port()
    cwd = TREES / "mlflow-cwd"  # MLflow puts ./mlartifacts in its working directory
    cwd.mkdir(parents=True, exist_ok=True)
    cmd = [str(exe), "server", "--backend-store-uri", store, "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    return Server(name, cmd, port, LOGS / f"{name.replace(' ', '-')}-{tree.name}.log",
                  env={**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"}, cwd=cwd)
