"""Write and delete files under one artifact folder, never torn and never outside it.

An upload is written to a hidden ``.artifact.uploading.*`` file beside its
final name (the prefix MLflow's LocalArtifactRepository uses; every listing
skips it) and renamed into place only when the whole body has arrived, so an
interrupted upload leaves no file under its final name. Paths go through the
same checks as reads (``check_relative_path``), and every folder on the way
is checked after it is made, so a symlink cannot carry a write out of the root.
Deleted folders are first renamed to a hidden name, so readers never see
them half removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import uuid
from pathlib import Path

from .artifacts import TEMP_ARTIFACT_PREFIX, UnsafePathError, check_relative_path
from .errors import StoreError


def _inside(path: str, real_root: str) -> bool:
    return path == real_root or path.startswith(real_root.rstrip(os.sep) + os.sep)


def _safe_folder(root: Path, parts: tuple[str, ...], *, create: bool) -> Path | None:
    """The real folder ``root/parts`` (made when ``create``), refusing any step that leaves the root.

    Plain folders are checked with one ``lstat`` each; only a symlink on the way is resolved.
    """
    if create:
        root.mkdir(parents=True, exist_ok=True)
    elif not root.is_dir():
        return None
    real_root = os.path.realpath(root)
    folder = real_root
    for part in parts:
        step = os.path.join(folder, part)
        try:
            info = os.lstat(step)
        except FileNotFoundError:
            if not create:
                return None
            with contextlib.suppress(FileExistsError):
                os.mkdir(step)
            info = os.lstat(step)
        if stat.S_ISLNK(info.st_mode):
            step = os.path.realpath(step)
            if not _inside(step, real_root):
                raise UnsafePathError("Invalid path: it leads outside the artifact root")
            if not os.path.exists(step):
                if create:
                    raise StoreError(f"Cannot write below '{part}': it is a link to nothing")
                return None
            info = os.stat(step)
        if not stat.S_ISDIR(info.st_mode):
            raise StoreError(f"Cannot write below '{part}': it is a file, not a folder")
        folder = step
    return Path(folder)


class StagedArtifact:
    """One upload in progress: bytes go to a hidden temp file until ``commit`` renames it into place."""

    def __init__(self, root: Path, relative: str) -> None:
        clean = check_relative_path(relative)
        if not clean.parts or relative.endswith("/"):
            raise StoreError("Artifact path must include a file name (it cannot end with '/')")
        if clean.name.startswith(TEMP_ARTIFACT_PREFIX):
            raise StoreError(f"Invalid artifact file name: '{clean.name}'. Artifact names starting with '{TEMP_ARTIFACT_PREFIX}' are reserved.")
        folder = _safe_folder(root, clean.parts[:-1], create=True)
        assert folder is not None
        self.final = folder / clean.name
        if self.final.is_dir() and not self.final.is_symlink():
            raise StoreError(f"Artifact path refers to a directory, not a file: '{clean}'")
        self.temp = folder / f"{TEMP_ARTIFACT_PREFIX}{uuid.uuid4().hex}"
        # O_EXCL: never an existing file or link; mode 0666 less the umask, as open() and MLflow give uploads.
        self._file = os.fdopen(os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb")
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self.size += len(chunk)

    def commit(self) -> None:
        """Publish the file under its final name (replacing an older one, or a symlink, never following it)."""
        try:
            self._file.close()
            os.replace(self.temp, self.final)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Drop the partial upload; the final name is left as it was."""
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temp)


def begin_upload(root: Path, relative: str) -> StagedArtifact:
    """Start writing ``relative`` under ``root``; UnsafePathError / StoreError when it may not be written."""
    return StagedArtifact(root, relative)


def write_artifact(root: Path, relative: str, data: bytes) -> Path:
    """Write a whole file atomically; the path it ended up at."""
    staged = begin_upload(root, relative)
    try:
        staged.write(data)
    except BaseException:
        staged.abort()
        raise
    staged.commit()
    return staged.final


def _remove(path: Path) -> None:
    """Remove a file or link (never what it points to), or a folder after hiding it under a temp name."""
    if path.is_symlink() or not path.is_dir():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    hidden = path.parent / f"{TEMP_ARTIFACT_PREFIX}deleting-{uuid.uuid4().hex}"
    try:
        os.rename(path, hidden)
    except FileNotFoundError:
        return
    shutil.rmtree(hidden, ignore_errors=True)


def delete_artifacts(root: Path, relative: str) -> None:
    """Delete a file or folder under ``root`` ('' empties the folder but keeps it: runs need their artifacts/).

    A path that does not exist is not an error, as in MLflow's LocalArtifactRepository.
    """
    clean = check_relative_path(relative)
    folder = _safe_folder(root, clean.parts[:-1] if clean.parts else (), create=False)
    if folder is None:
        return
    if not clean.parts:
        with os.scandir(folder) as entries:
            names = [entry.name for entry in entries if not entry.name.startswith(TEMP_ARTIFACT_PREFIX)]
        for name in names:
            _remove(folder / name)
        return
    _remove(folder / clean.name)
