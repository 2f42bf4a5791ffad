"""The user's cache directory, where mlscope keeps what it can always rebuild (index snapshots, reduced
histories), and digests of the code that shapes those files, so a change to that code retires them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


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
