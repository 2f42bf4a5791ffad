"""Reading one run folder for the index, as plain records: the info pass and the details pass.

On a first open both passes run in worker processes (``read_pool``), so what
they return is plain data (tuples, dicts, strings, numbers, bytes) that
``marshal`` ships back to the parent with keys interned once; the persistent
cache stores the same records. At runtime a changed run is re-read in-process
by the same functions, given its previous state so only what moved is read
(a metric file that grew is read from where the last read stopped).

Every signature is taken before what it covers is read: if a file changes
in between, the stored signature is older than the data and the next check
reads it again, never the other way round.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

from ..store import metric_files, reader
from ..store.atomic import TMP_PREFIX
from ..store.errors import MalformedError
from ..store.meta_yaml import read_yaml
from ..store.model import RunInfo
from ..store.tree_names import disk_name, shown_name
from .layout import BASE_FOLDERS, Layout, layout_of
from .signatures import MISSING, SIG_BYTES, Signature, pack, packed_signatures, signature, unpack

InfoRecord = tuple  # (folder name, meta signature, info fields | None, problem | None, wall time of the stat in ns)
DetailsRecord = tuple  # see read_details


class Previous(NamedTuple):
    """A run's details as last read: what read_details may reuse."""

    layout: Layout
    sigs: bytes
    offsets: tuple[int, ...] | None
    read_ns: int
    params: dict[str, str]
    tags: dict[str, str]
    latest: tuple[Any, ...]  # per layout.metric_keys: a metric_files.Point or None
    inputs: tuple[tuple[Any, ...], tuple[str, ...]]
    outputs: tuple[tuple[str, int | None], ...]


# ------------------------------------------------------------------- info


def info_fields(info: RunInfo) -> tuple[Any, ...]:
    return (info.run_id, info.experiment_id, info.run_name, info.user_id, info.status, info.start_time, info.end_time,
            info.lifecycle_stage, info.artifact_uri, info.deleted_time)


def read_info(run_dir: str, experiment_id: str) -> InfoRecord:
    """Pass one for one run folder: its meta.yaml signature and RunInfo fields, or why it cannot be read."""
    name = os.path.basename(run_dir)
    now = time.time_ns()
    meta_sig = signature(run_dir + "/meta.yaml")
    try:
        reader.check_run_layout(run_dir)
        meta = read_yaml(run_dir + "/meta.yaml")
        fields = info_fields(reader.run_info_from_meta(meta, name, experiment_id))
    except MalformedError as exc:
        return (name, meta_sig, None, str(exc), now)
    run_id, exp_id, run_name, user_id, status, start, end, stage, *rest = fields
    intern = sys.intern
    warning = reader.meta_warnings(meta)  # values read as defaults: the run is served and the problem reported
    return (name, meta_sig, (run_id, intern(exp_id), run_name, intern(user_id), intern(status), start, end, intern(stage), *rest), warning, now)


def read_infos(tasks: list[tuple[str, str]]) -> list[InfoRecord]:
    return [read_info(run_dir, exp_id) for run_dir, exp_id in tasks]


# ---------------------------------------------------------------- details

# What one run may cost (issue 18): a params/, tags/ or metrics/ folder with more entries than this (a damaged
# or generated tree with 1,000,000 params) makes the run a reported problem instead of millions of reads.
MAX_KEYS_PER_FOLDER = 100_000


def _walk(base: str, folder: str) -> tuple[list[str], list[Signature], list[str]]:
    """(folders below base incl. folder itself, their signatures, file keys) of one key folder.

    Folders come sorted; keys in os.walk's order (each folder's files as listed, then its sub-folders as listed),
    which is how MLflow's FileStore lists a run's params, tags and metrics: its REST answers, and the columns of
    ``mlflow experiments csv`` / ``search_runs``, follow that order.

    Each folder is stat'ed before it is listed; writers' temp files are skipped. Symlinks are never
    followed (a crafted ``params/x -> /etc/passwd`` or a loop would read outside the tree or invent keys)
    and only regular files are keys (a FIFO would block ``open`` forever).
    """
    top = _lstat_signature(base + folder)  # one lstat: the signature, and whether the folder is a symlink (never followed)
    folders, sigs = [folder], [MISSING if top is None else top]
    files_of: dict[str, list[str]] = {}
    subfolders_of: dict[str, list[str]] = {}
    budget = MAX_KEYS_PER_FOLDER
    stack = [(folder, "")] if top is not None else []
    while stack:
        path, prefix = stack.pop()
        try:
            with os.scandir(base + path) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        sub = path + "/" + entry.name
                        folders.append(sub)
                        sigs.append(signature(base + sub))
                        stack.append((sub, prefix + entry.name + "/"))
                        subfolders_of.setdefault(path, []).append(sub)
                    elif entry.is_file(follow_symlinks=False) and not entry.name.startswith(TMP_PREFIX):
                        files_of.setdefault(path, []).append(shown_name(prefix + entry.name))  # served as text; disk_name maps it back
                    budget -= 1
                    if budget < 0:  # listing stops here: a run's cost is bounded, the run is reported
                        raise MalformedError(f"{folder}/ holds more than {MAX_KEYS_PER_FOLDER:,} entries; "
                                             "mlscope reads at most that many params, tags or metrics per run")
        except OSError:
            continue
    if len(folders) == 1:  # the common case: a flat folder, its files as listed
        return folders, sigs, files_of.get(folder, [])
    order = sorted(range(1, len(folders)), key=folders.__getitem__)
    keys: list[str] = []
    pending = [folder]
    while pending:  # pre-order: a folder's files, then each sub-folder in listing order
        current = pending.pop()
        keys.extend(files_of.get(current, ()))
        pending.extend(reversed(subfolders_of.get(current, ())))
    return [folders[0], *(folders[i] for i in order)], [sigs[0], *(sigs[i] for i in order)], keys


def _lstat_signature(path: str) -> Signature | None:
    """The signature of a folder not reached through a symlink; MISSING when absent, None when it is a symlink."""
    try:
        st = os.lstat(path)
    except OSError:
        return MISSING
    if stat.S_ISLNK(st.st_mode):
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino & ((1 << 63) - 1))


def _read_values(base: str, folder: str, keys: list[str], with_sigs: bool) -> tuple[dict[str, str], list[Signature]]:
    """Values of key files (keys and short values interned: they repeat across thousands of runs)."""
    values: dict[str, str] = {}
    sigs: list[Signature] = []
    intern = sys.intern
    for key in keys:
        try:
            fd = os.open(base + folder + "/" + disk_name(key), SAFE_OPEN)
        except OSError:
            if with_sigs:
                sigs.append(MISSING)
            continue
        try:
            # Listed as a regular file; fstat'ed before reading when a signature is kept or the value is long
            # (a file swapped for a FIFO or device since the listing is never read past 64 KiB).
            if with_sigs:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):
                    sigs.append(MISSING)
                    continue
                sigs.append((st.st_mtime_ns, st.st_size, st.st_ino & ((1 << 63) - 1)))
            try:
                data = os.read(fd, 65536)
            except OSError:  # a FIFO (O_NONBLOCK: EAGAIN) swapped in since the listing
                continue
            if len(data) == 65536:
                if not with_sigs and not stat.S_ISREG(os.fstat(fd).st_mode):
                    continue
                data += read_rest(fd)
        finally:
            os.close(fd)
        text = data.decode("utf-8", errors="replace")
        values[intern(key)] = intern(text) if len(text) <= 64 else text
    return values, sigs


# Key files are opened without following a final symlink and without blocking on a FIFO.
SAFE_OPEN = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def read_rest(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _read_metric(path: str, key: str, old: tuple[Signature, int, Any] | None) -> tuple[Signature, int, Any]:
    """(signature, bytes consumed, latest point) of one metric file; reads only what was appended since `old`."""
    fd = os.open(path, SAFE_OPEN)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileNotFoundError(f"not a regular file: {key}")
        sig = (st.st_mtime_ns, st.st_size, st.st_ino & ((1 << 63) - 1))
        if old is not None and old[0] == sig:
            return old
        # the same file, grown (a read goes past the size stat'ed: a size between the two is still an append)
        appended = old is not None and sig[2] == old[0][2] and sig[1] >= min(old[1], old[0][1])
        start = old[1] if (appended and old is not None) else 0
        if sig[1] - start > metric_files.MAX_METRIC_FILE_BYTES:  # the run is reported, not read into memory
            raise metric_files.too_large(key, sig[1])
        if start:
            os.lseek(fd, start, os.SEEK_SET)
        data = os.read(fd, max(sig[1] - start, 0) + 1)
        if len(data) > sig[1] - start:  # grew since the stat: take the rest too (the next check sees the new size)
            data += read_rest(fd)
    finally:
        os.close(fd)
    consumed = data.rfind(b"\n") + 1
    if start == 0 and consumed == 0 and data.strip():
        # One line and no newline: a 1.x file, or a torn first write. Take it if it parses.
        try:
            latest = metric_files.latest_point(key, data)
        except MalformedError:
            latest = None
    else:
        latest = metric_files.latest_point(key, data[:consumed]) if consumed else None
    if appended and old is not None:
        latest = metric_files.later_point(old[2], latest)
    return sig, start + consumed, latest


def read_details(run_dir: str, exp_dir: str, previous: Previous | None = None, full: bool = True, relist: bool = False) -> DetailsRecord:
    """Pass two for one run: ("ok", layout key, sigs, offsets, read_ns, params, tags, latest, inputs, outputs),
    or ("problem", reason) when a metric file holds garbage.

    With ``previous`` (in-process, at runtime): params and tags are reused
    unless ``full`` or their folders moved, inputs/outputs unless their
    folder moved, and metric files whose signature did not move are not opened.
    ``relist`` lists metrics/ again even when its signature did not move
    (a write through mlscope may land within the signature's clock tick).
    """
    now = time.time_ns()
    base = run_dir + os.sep
    try:
        return _read_details(base, exp_dir, previous, full or previous is None, relist or full, now)
    except (MalformedError, OSError) as exc:
        return ("problem", str(exc) if isinstance(exc, MalformedError) else f"cannot read run files: {exc}")


def _read_details(base: str, exp_dir: str, previous: Previous | None, full: bool, relist: bool, now: int) -> DetailsRecord:
    old = previous.layout if previous is not None else None
    reused = False
    io_sigs = [signature(base + "inputs"), signature(base + "outputs")]

    # Params and tags: reused when no folder of theirs moved (unless full); tag files are stat'ed when read.
    if previous is not None and old is not None and not full and \
            packed_signatures(base, old.folder_paths()) == previous.sigs[: old.tags_at]:
        folders, folder_sigs = old.folders, previous.sigs[: old.tags_at]
        tag_keys, tag_sigs = old.tag_keys, previous.sigs[old.tags_at : old.metrics_at]
        params, tags = previous.params, previous.tags
        reused = True
    else:
        param_folders, param_folder_sigs, param_keys = _walk(base, "params")
        tag_folders, tag_folder_sigs, tag_key_list = _walk(base, "tags")
        params, _ = _read_values(base, "params", param_keys, with_sigs=False)
        tags, tag_file_sigs = _read_values(base, "tags", tag_key_list, with_sigs=True)
        folders = (*BASE_FOLDERS, *param_folders[1:], *tag_folders[1:])
        folder_sigs = pack([param_folder_sigs[0], tag_folder_sigs[0], *io_sigs, *param_folder_sigs[1:], *tag_folder_sigs[1:]])
        tag_keys, tag_sigs = tuple(tag_key_list), pack(tag_file_sigs)

    if previous is not None and not full and pack(io_sigs) == previous.sigs[2 * SIG_BYTES : 4 * SIG_BYTES]:
        inputs, outputs = previous.inputs, previous.outputs
        reused = True
    else:  # most runs have neither folder: their stat above said so, nothing more to read
        run_path = Path(base)
        inputs = ((), ())
        if io_sigs[0] != MISSING:
            datasets, models = reader.read_inputs(run_path, Path(exp_dir))
            inputs = (tuple((d.name, d.digest, d.source_type, d.source, d.schema, d.profile, d.tags) for d in datasets),
                      tuple(m.model_id for m in models))
        outputs = tuple((m.model_id, m.step) for m in reader.read_outputs(run_path)) if io_sigs[1] != MISSING else ()

    # Metrics: re-listed only when a metric folder moved; a file is opened only when its signature moved.
    known: dict[str, tuple[Signature, int, Any]] = {}
    if previous is not None and old is not None:
        old_sigs = unpack(previous.sigs[old.metric_files_at :])
        old_offsets = previous.offsets or tuple(sig[1] for sig in old_sigs)
        known = {k: (s, o, p) for k, s, o, p in zip(old.metric_keys, old_sigs, old_offsets, previous.latest, strict=True)}
    if previous is not None and old is not None and not relist and \
            packed_signatures(base, old.metric_folders) == previous.sigs[old.metrics_at : old.metric_files_at]:
        metric_folders, metric_keys = old.metric_folders, old.metric_keys
        metric_folder_sigs = previous.sigs[old.metrics_at : old.metric_files_at]
    else:
        folder_list, folder_sig_list, key_list = _walk(base, "metrics")
        metric_folders, metric_keys, metric_folder_sigs = tuple(folder_list), tuple(key_list), pack(folder_sig_list)
    metric_sigs: list[Signature] = []
    consumed: list[int] = []
    latest: list[Any] = []
    for key in metric_keys:
        before = known.get(key)
        reused = reused or before is not None
        try:
            sig, offset, point = _read_metric(base + "metrics/" + disk_name(key), key, before)
        except FileNotFoundError:
            sig, offset, point = MISSING, 0, None
        metric_sigs.append(sig)
        consumed.append(offset)
        latest.append(point)

    layout = layout_of(tuple(folders), tuple(tag_keys), tuple(metric_folders), tuple(metric_keys))
    sigs = folder_sigs + tag_sigs + metric_folder_sigs + pack(metric_sigs)
    offsets = None if all(o == s[1] for o, s in zip(consumed, metric_sigs, strict=True)) else tuple(consumed)
    read_ns = min(now, previous.read_ns) if (reused and previous is not None) else now
    return ("ok", layout.key, sigs, offsets, read_ns, params, tags, tuple(latest), inputs, outputs)


def read_many_details(tasks: list[tuple[str, str]]) -> list[DetailsRecord]:
    return [read_details(run_dir, exp_dir) for run_dir, exp_dir in tasks]


def probe_many(tasks: list[tuple[str, tuple[str, ...]]]) -> list[bytes]:
    """Packed signatures of each (run folder + sep, watched paths): a restart's check of cached runs."""
    return [packed_signatures(base, paths) for base, paths in tasks]
