"""Several processes logging to the same tree at once lose nothing and tear nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mlscope import MlscopeClient
from mlscope.store import metric_files

WORKER = """
import sys
from mlscope import MlscopeClient
from mlscope.tracking import fluent, fluent_logging
root, run_id, worker = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = MlscopeClient(root)
for i in range(150):
    client.log_metric(run_id, "shared", worker * 1000 + i, timestamp=1, step=i)
client.log_batch(run_id, metrics=[("bulk", float(i), 2, i) for i in range(3000)])
client.log_param(run_id, f"worker_{worker}", worker)
fluent.set_tracking_uri(root)
fluent.set_experiment("race")
with fluent.start_run():
    fluent_logging.log_metric("own", worker)
"""

WORKERS = 4


def test_concurrent_processes_lose_no_metric_line(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    client = MlscopeClient(str(root))
    run_id = client.create_run("0").info.run_id
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(root), run_id, str(w)]) for w in range(WORKERS)]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    run_dir = root / "0" / run_id
    shared = metric_files.read_metric_history(run_dir, "shared")
    assert sorted(m.value for m in shared) == sorted(float(w * 1000 + i) for w in range(WORKERS) for i in range(150))
    assert len(metric_files.read_metric_history(run_dir, "bulk")) == WORKERS * 3000
    assert (run_dir / "metrics" / "bulk").read_bytes().endswith(b"\n")
    assert set(client.get_run(run_id).data.params) == {f"worker_{w}" for w in range(WORKERS)}


def test_concurrent_set_experiment_creates_one_experiment(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    client = MlscopeClient(str(root))
    run_id = client.create_run("0").info.run_id
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(root), run_id, str(w)]) for w in range(WORKERS)]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    races = [e for e in client.search_experiments() if e.name == "race"]
    assert len(races) == 1
    assert len(client.search_runs([races[0].experiment_id])) == WORKERS
