"""Images to PNG bytes without requiring numpy or Pillow (used when they are installed)."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence
from typing import Any

from .validation import MlscopeException

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(width: int, height: int, pixels: bytes | bytearray, channels: int = 3) -> bytes:
    """A valid 8-bit PNG from raw row-major pixel bytes (1 = gray, 3 = RGB, 4 = RGBA)."""
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    stride = width * channels
    if len(pixels) != stride * height:
        raise MlscopeException(f"expected {stride * height} pixel bytes for {width}x{height}x{channels}, got {len(pixels)}")
    raw = b"".join(b"\x00" + bytes(pixels[row * stride : (row + 1) * stride]) for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")


def png_from_rows(rows: Sequence[Sequence[Any]]) -> bytes:
    """PNG from nested lists: rows of gray values or of (r, g, b[, a]) tuples; floats in [0, 1] are scaled."""
    height = len(rows)
    width = len(rows[0]) if height else 0
    first = rows[0][0] if height and width else 0
    channels = 1 if isinstance(first, (int, float)) else len(first)
    scale = 255.0 if any(isinstance(v, float) for v in _flat(first)) else 1.0
    out = bytearray()
    for row in rows:
        for pixel in row:
            for value in _flat(pixel):
                out.append(max(0, min(255, int(round(value * scale)))))
    return encode_png(width, height, out, channels)


def _flat(pixel: Any) -> Sequence[Any]:
    return (pixel,) if isinstance(pixel, (int, float)) else tuple(pixel)


def to_png(image: Any) -> bytes:
    """PNG bytes for PNG bytes, a PIL image, a numpy array (HxW, HxWx1/3/4), or nested lists."""
    if isinstance(image, (bytes, bytearray)):
        if not bytes(image[:8]) == PNG_SIGNATURE:
            raise MlscopeException("image bytes must be a PNG (they do not start with the PNG signature)")
        return bytes(image)
    if hasattr(image, "save") and hasattr(image, "size") and hasattr(image, "mode"):  # PIL.Image.Image
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue()
    if hasattr(image, "shape") and hasattr(image, "dtype"):  # numpy.ndarray
        return _numpy_png(image)
    if isinstance(image, (list, tuple)) and image:
        return png_from_rows(image)
    raise MlscopeException(f"Unsupported image object type: {type(image)}. Use a numpy array, a PIL image or PNG bytes.")


def _numpy_png(array: Any) -> bytes:
    """MLflow's conversion rules: floats in [0, 1] are scaled by 255, ints must fit 0..255."""
    import numpy as np

    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise MlscopeException(f"Invalid array shape {array.shape}: expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)")
    if np.issubdtype(array.dtype, np.floating):
        if array.size and (array.min() < 0 or array.max() > 1):
            raise MlscopeException("Invalid array: float values must be in [0, 1]")
        array = (array * 255).round()
    elif (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_) and array.size and (array.min() < 0 or array.max() > 255):
        raise MlscopeException("Invalid array: integer values must be in [0, 255]")
    array = np.ascontiguousarray(array.astype(np.uint8))
    channels = 1 if array.ndim == 2 else array.shape[2]
    return encode_png(array.shape[1], array.shape[0], array.tobytes(), channels)


def figure_bytes(figure: Any, artifact_file: str, save_kwargs: dict[str, Any] | None = None) -> bytes:
    """A matplotlib figure saved in the format of the file extension (with savefig's keyword arguments); plotly figures as HTML."""
    if hasattr(figure, "savefig"):
        buffer = io.BytesIO()
        ext = artifact_file.rsplit(".", 1)[-1].lower() if "." in artifact_file else "png"
        figure.savefig(buffer, **{"format": ext, **(save_kwargs or {})})
        return buffer.getvalue()
    if hasattr(figure, "to_html") and artifact_file.lower().endswith(".html"):
        return str(figure.to_html(include_plotlyjs="cdn")).encode("utf-8")
    if hasattr(figure, "to_image"):
        return bytes(figure.to_image(format=artifact_file.rsplit(".", 1)[-1]))
    raise MlscopeException(f"Unsupported figure object type: {type(figure)} (expected a matplotlib or plotly figure)")
