"""A zip archive produced chunk by chunk while it is being written: no temp file, no full buffer.

``zipfile`` can write to an unseekable stream (it then uses data descriptors),
so a sink that hands over whatever was written since the last look turns
``ZipFile`` into a generator of bytes. Memory stays at one read buffer plus
zlib's window, whatever the size of the tree.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

READ_SIZE = 256 * 1024
# Already-compressed formats are stored as-is: deflating them costs CPU and saves nothing.
STORED_SUFFIXES = frozenset(
    [
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".zst",
        ".7z",
        ".parquet",
        ".pt",
        ".pth",
        ".onnx",
        ".h5",
        ".npz",
        ".mp4",
        ".mp3",
        ".pdf",
    ]
)


class _Sink(io.RawIOBase):
    """A write-only, unseekable file whose contents are taken away by ``drain``."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._written = 0
        self.pending = 0  # bytes written but not drained yet

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if data:
            self._chunks.append(bytes(data))
            self._written += len(data)
            self.pending += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = 0) -> int:
        raise io.UnsupportedOperation("unseekable zip stream")

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        self.pending = 0
        return data


def zip_chunks(files: Iterable[tuple[Path, str]], flush_at: int = 1024 * 1024) -> Iterator[bytes]:
    """Yield a zip of ``(local path, name in archive)`` pairs, in pieces of about ``flush_at`` bytes.

    Files that disappear or cannot be read before they are started are left out.
    """
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", allowZip64=True) as archive:
        for path, arcname in files:
            try:
                source = open(path, "rb")  # noqa: SIM115 - closed below, opened before the entry starts
                stat = path.stat()
            except OSError:
                continue
            with source:
                info = zipfile.ZipInfo.from_file(path, arcname)
                info.file_size = stat.st_size  # lets zipfile choose zip64 up front for big files
                stored = path.suffix.lower() in STORED_SUFFIXES
                info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                # Python < 3.13 only knows the private name; 3.13+ keeps it as an alias. typeshed declares neither
                # on 3.11 (a stub gap, not a typing error), hence the ignore.
                info._compresslevel = None if stored else 1  # type: ignore[attr-defined]  # fast: throughput over ratio
                with archive.open(info, mode="w", force_zip64=stat.st_size > 2**31) as entry:
                    while block := source.read(READ_SIZE):
                        entry.write(block)
                        if sink.pending >= flush_at:
                            yield sink.drain()
            data = sink.drain()
            if data:
                yield data
    tail = sink.drain()
    if tail:
        yield tail
