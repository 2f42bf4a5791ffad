"""The user's cache directory, where mlscope keeps what it can always rebuild (index snapshots, reduced
histories), and digests of the code that shapes those files, so a change to that code retires them."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def user_cache_dir(kind: str) -> Path:
    """``$XDG_CACHE_HOME/mlscope/<kind>`` (else ``~/.cache/mlscope/<kind>``): never inside a served tree."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mlscope" / kind


def code_digest(modules: tuple[str, ...], salt: str = "") -> str:
    """A short digest of `salt` and the source of `modules` (paths below the mlscope package)."""
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(salt.encode(), digest_size=8)
    for name in modules:
        try:
            digest.update((package / name).read_bytes())
        except OSError:
            digest.update(name.encode())
    return digest.hexdigest()


@contextlib.contextmanager
def private_file(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A file to write that replaces path atomically when the block ends without error (temp file + rename:
    readers see the old file or the new one), in a folder made private (0700), readable only by the user
    (mkstemp's 0600). The handle may seek (a header filled in last)."""
    folder = os.path.dirname(os.fspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder)  # a leftover counts as its kind
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_private(path: str | os.PathLike[str], *chunks: bytes) -> int:
    """Replace path with chunks atomically, privately (see private_file); returns the bytes written."""
    with private_file(path) as handle:
        for chunk in chunks:
            handle.write(chunk)
    return sum(len(chunk) for chunk in chunks)
