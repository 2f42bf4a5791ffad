"""File primitives that never leave a torn file for a reader to see.

Whole files are written to a temp file in the same folder and ``os.replace``d
into place (or linked, when the first writer must win); metric lines are
appended with one ``os.write`` on an ``O_APPEND`` descriptor, so concurrent
writers from several processes interleave whole lines and lose none.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from .errors import StoreError

try:  # pragma: no cover - platform dependent
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
TMP_PREFIX = ".mlscope-tmp"  # the reader skips these names


def now_ms() -> int:
    return int(time.time() * 1000)


# ------------------------------------------------------------ file primitives


def dump_yaml(data: dict[str, Any]) -> bytes:
    """YAML as MLflow's write_yaml makes it (block style, sorted keys, unicode kept)."""
    text = yaml.dump(data, default_flow_style=False, allow_unicode=True, sort_keys=True, Dumper=_Dumper)
    return text.encode("utf-8")


def tmp_name(folder: Path) -> Path:
    return folder / f"{TMP_PREFIX}-{uuid.uuid4().hex}"


def atomic_write(path: Path, data: bytes) -> None:
    """Replace path with data so readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(path.parent)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def create_exclusive(path: Path, data: bytes) -> bool:
    """Write path whole only if it does not exist yet; False when it already did."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(path.parent)
    with open(tmp, "wb") as handle:
        handle.write(data)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError:  # no hard links here (some network/FAT filesystems): best effort
        if path.exists():
            return False
        os.replace(tmp, path)
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def append_whole(path: Path, data: bytes) -> None:
    """Append data with a single write on an O_APPEND fd: concurrent appenders never split it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)


def key_path(folder: Path, key: str) -> Path:
    """The file for a param/metric/tag key; '/' in keys become folders, escapes are refused."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in key or "\\" in key:
        raise StoreError(f"Invalid key {key!r}: it would not name a file inside {folder.name}/")
    return folder.joinpath(*parts)


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on a folder, so check-then-create is safe across processes."""
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def metric_line(value: float, timestamp: int, step: int, dataset_name: str | None = None, dataset_digest: str | None = None) -> str:
    """FileStore's line: ``ts value step``, plus ``dataset_name dataset_digest`` when logged with a dataset."""
    if dataset_name is not None and dataset_digest is not None:
        return f"{timestamp} {value} {step} {dataset_name} {dataset_digest}\n"
    return f"{timestamp} {value} {step}\n"


# ---------------------------------------------------------------- the writer
