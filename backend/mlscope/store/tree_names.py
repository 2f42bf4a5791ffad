"""File names that are not valid UTF-8, shown as text and mapped back to the file.

Python lists such a name with each undecodable byte as a lone surrogate
(``os.fsdecode``'s surrogateescape), which no JSON or zip encoder takes: one
``params/bad\\xff`` used to turn its run, its experiment's search and its
artifact listing into 500s. Names are served with those bytes written as
``\\xNN`` (how Python prints the bytes), and every path built from a served
name maps them back, so the value, history or file is still read.
Backslashes never occur in names MLflow writes, so the mapping is unambiguous.
"""

from __future__ import annotations

import re

_SHOWN_BYTE = re.compile(r"\\x([89a-fA-F][0-9a-fA-F])")


def shown_name(name: str) -> str:
    """``name`` as a listing serves it: undecodable bytes (lone surrogates) as ``\\xNN``."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def disk_name(name: str) -> str:
    """The file name behind a served name: ``\\xNN`` (NN >= 80) back to the byte it stands for."""
    if "\\x" not in name:
        return name
    return _SHOWN_BYTE.sub(lambda m: chr(0xDC00 + int(m.group(1), 16)), name)
