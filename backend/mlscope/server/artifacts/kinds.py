"""Which preview a file gets, from its name alone (no read per listed file).

Kinds: image, pdf, html, markdown, json, yaml, csv, table (a ``log_table``
artifact), mlmodel, text, binary, and unknown (the text endpoint sniffs it).
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath

IMAGE_SUFFIXES = frozenset([".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".svg"])
TEXT_SUFFIXES = frozenset(
    [
        ".txt",
        ".log",
        ".err",
        ".out",
        ".cfg",
        ".conf",
        ".cnf",
        ".cf",
        ".ini",
        ".properties",
        ".prop",
        ".hocon",
        ".toml",
        ".py",
        ".py3",
        ".pyi",
        ".sh",
        ".bash",
        ".zsh",
        ".jsonl",
        ".ndjson",
        ".xml",
        ".js",
        ".mjs",
        ".ts",
        ".css",
        ".rst",
        ".ipynb",
        ".sql",
        ".r",
        ".java",
        ".c",
        ".h",
        ".cpp",
        ".hpp",
        ".cc",
        ".go",
        ".rs",
        ".scala",
        ".kt",
        ".rb",
        ".pl",
        ".lua",
        ".jl",
        ".env",
        ".tex",
        ".diff",
        ".patch",
        ".dockerfile",
        ".proto",
        ".pbtxt",
        ".gitignore",
        ".lock",
        ".mlproject",
        ".tf",
        ".hcl",
    ]
)
TEXT_NAMES = frozenset({"MLproject", "Dockerfile", "Makefile", "LICENSE", "README", "requirements", "Pipfile"})
BINARY_SUFFIXES = frozenset(
    [
        ".pkl",
        ".pickle",
        ".joblib",
        ".pt",
        ".pth",
        ".ckpt",
        ".bin",
        ".safetensors",
        ".onnx",
        ".h5",
        ".hdf5",
        ".keras",
        ".pb",
        ".tflite",
        ".npy",
        ".npz",
        ".parquet",
        ".feather",
        ".arrow",
        ".avro",
        ".orc",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".zst",
        ".7z",
        ".tar",
        ".whl",
        ".egg",
        ".so",
        ".dll",
        ".exe",
        ".dylib",
        ".o",
        ".a",
        ".class",
        ".jar",
        ".db",
        ".sqlite",
        ".mp3",
        ".mp4",
        ".wav",
        ".ogg",
        ".flac",
        ".mov",
        ".avi",
        ".mkv",
        ".webm",
        ".ico",
        ".tif",
        ".tiff",
        ".psd",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".xlsx",
        ".xls",
        ".docx",
        ".pptx",
        ".cbm",
        ".model",
        ".weights",
        ".index",
        ".data-00000-of-00001",
    ]
)
KIND_BY_SUFFIX = {
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".csv": "csv",
    ".tsv": "csv",
}


def logged_tables(tags: dict[str, str]) -> frozenset[str]:
    """Paths registered by ``log_table`` in the run's ``mlflow.loggedArtifacts`` tag."""
    try:
        entries = json.loads(tags.get("mlflow.loggedArtifacts") or "[]")
    except ValueError:
        return frozenset()
    if not isinstance(entries, list):
        return frozenset()
    return frozenset(
        str(e["path"])
        for e in entries
        if isinstance(e, dict) and e.get("type") == "table" and isinstance(e.get("path"), str)
    )


def preview_kind(path: str, tables: frozenset[str] = frozenset()) -> str:
    name = PurePosixPath(path).name
    suffix = PurePosixPath(name).suffix.lower()
    if name == "MLmodel":
        return "mlmodel"
    if name == "MLproject":
        return "yaml"
    if path in tables:
        return "table"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in KIND_BY_SUFFIX:
        return KIND_BY_SUFFIX[suffix]
    if suffix in TEXT_SUFFIXES or name in TEXT_NAMES:
        return "text"
    if suffix in BINARY_SUFFIXES:
        return "binary"
    return "unknown"


def highlight_language(path: str) -> str | None:
    """The highlight.js language the frontend registers for this file, if any."""
    name = PurePosixPath(path).name
    suffix = PurePosixPath(name).suffix.lower()
    return {
        ".py": "python",
        ".py3": "python",
        ".pyi": "python",
        ".sh": "bash",
        ".bash": "bash",
        ".zsh": "bash",
        ".json": "json",
        ".jsonl": "json",
        ".ipynb": "json",
        ".yaml": "yaml",
        ".yml": "yaml",
        ".toml": "ini",
        ".ini": "ini",
        ".cfg": "ini",
        ".conf": "ini",
        ".xml": "xml",
        ".html": "xml",
        ".htm": "xml",
        ".js": "javascript",
        ".mjs": "javascript",
        ".ts": "typescript",
        ".sql": "sql",
        ".md": "markdown",
        ".css": "css",
        ".r": "r",
        ".diff": "diff",
        ".patch": "diff",
    }.get(suffix) or ("yaml" if name in ("MLmodel", "MLproject") else "dockerfile" if name == "Dockerfile" else None)
