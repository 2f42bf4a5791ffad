"""The one exception search raises: the server maps it to HTTP 400 INVALID_PARAMETER_VALUE."""

from __future__ import annotations


class SearchError(ValueError):
    """A filter, order_by, page token or limit that MLflow would reject.

    ``message`` is the full text shown to the user; ``position`` and ``token``
    point at the offending part of the input when there is one, so a UI can
    underline it.
    """

    def __init__(self, message: str, position: int | None = None, token: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.token = token

    @classmethod
    def at(cls, what: str, position: int, token: str, detail: str) -> SearchError:
        """Build the standard 'Invalid <what> at position N ('tok'): detail' message."""
        shown = repr(token if len(token) <= 60 else token[:57] + "...") if token else "end of input"
        return cls(f"Invalid {what} at position {position} ({shown}): {detail}", position, token)
