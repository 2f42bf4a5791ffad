"""Cheap file signatures: how the index tells what changed without reading."""

from __future__ import annotations

import os

Signature = tuple[int, int, int]  # (mtime_ns, size, inode)
MISSING: Signature = (0, -1, 0)


def signature(path: str | os.PathLike[str]) -> Signature:
    try:
        st = os.stat(path)
    except OSError:
        return MISSING
    return (st.st_mtime_ns, st.st_size, st.st_ino)
