"""The store's errors: a file it cannot read, and a write it refuses (with MLflow's error code)."""

from __future__ import annotations


class MalformedError(ValueError):
    """A file or folder of the tree that cannot be read as MLflow wrote it."""


class StoreError(Exception):
    """A tracking operation MLflow would refuse; error_code is MLflow's name for why."""

    def __init__(self, message: str, error_code: str = "INVALID_PARAMETER_VALUE") -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
