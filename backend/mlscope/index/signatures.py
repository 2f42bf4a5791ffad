"""Cheap file signatures: how the index tells what changed without reading.

A signature is (mtime_ns, size, inode); many are packed into one ``bytes``
(three int64 each) so a run's watched files cost one small object, compare
with one ``==`` and go into the persistent cache as they are.
"""

from __future__ import annotations

import os
from array import array

Signature = tuple[int, int, int]  # (mtime_ns, size, inode)
MISSING: Signature = (0, -1, 0)
UNSETTLED: Signature = (-1, -1, -1)  # never a real signature: whatever is found next differs from it
# mtimes are coarse (a kernel tick; seconds on some network filesystems): a change within this long of a stat
# may leave the signature as it was, so such a signature is not trusted to cover what was read after it.
RACY_NS = 2_000_000_000
SIG_BYTES = 24  # one packed signature
INODE_MASK = (1 << 63) - 1  # inodes above 2**63 (some network filesystems) still fit an int64
_DIR_FD = os.stat in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")


def signature(path: str | os.PathLike[str]) -> Signature:
    try:
        st = os.stat(path)
    except OSError:
        return MISSING
    return (st.st_mtime_ns, st.st_size, st.st_ino & INODE_MASK)


def settled(sig: Signature, taken_ns: int) -> Signature:
    """sig, or UNSETTLED when its mtime is within RACY_NS before when it was taken (so the next check looks again).

    An mtime in the future (another machine's clock) is trusted: waiting would not settle it.
    """
    return UNSETTLED if taken_ns - RACY_NS <= sig[0] <= taken_ns else sig


def packed_signatures(base: str, paths: tuple[str, ...] | list[str]) -> bytes:
    """The signatures of base + each path, packed in order (a missing file packs as MISSING).

    Paths are stat'ed relative to base's open folder: a shorter lookup per
    file than the full path, which counts when a restart checks 100,000 runs.
    """
    if not _DIR_FD:
        return pack([signature(base + path) for path in paths])
    flat: list[int] = []
    extend = flat.extend
    stat = os.stat
    try:
        folder = os.open(base, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return array("q", MISSING * len(paths)).tobytes()
    try:
        for path in paths:
            try:
                st = stat(path, dir_fd=folder)
            except OSError:
                extend(MISSING)
                continue
            extend((st.st_mtime_ns, st.st_size, st.st_ino & INODE_MASK))
    finally:
        os.close(folder)
    return array("q", flat).tobytes()


def pack(signatures: list[Signature] | tuple[Signature, ...]) -> bytes:
    return array("q", [n for sig in signatures for n in sig]).tobytes()


def unpack(packed: bytes) -> list[Signature]:
    flat = array("q")
    flat.frombytes(packed)
    return [(flat[i], flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3)]


def newest_mtime(packed: bytes) -> int:
    """The latest mtime_ns among packed signatures (0 when there are none)."""
    flat = array("q")
    flat.frombytes(packed)
    return max(flat[0::3], default=0)


class FolderStats:
    """Signatures of files below many folders, each folder opened once (a shorter lookup per file)."""

    def __init__(self) -> None:
        self._folders: dict[object, int | None] = {}

    def __enter__(self) -> FolderStats:
        return self

    def __exit__(self, *exc: object) -> None:
        for fd in self._folders.values():
            if fd is not None:
                os.close(fd)
        self._folders.clear()

    def signature(self, folder: str | os.PathLike[str], relative: str) -> Signature:
        if not _DIR_FD:
            return signature(os.path.join(folder, relative))
        fd = self._folders.get(folder, -1)
        if fd == -1:
            try:
                fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            except OSError:
                fd = None
            self._folders[folder] = fd
        if fd is None:
            return MISSING
        try:
            st = os.stat(relative, dir_fd=fd)
        except OSError:
            return MISSING
        return (st.st_mtime_ns, st.st_size, st.st_ino & INODE_MASK)
