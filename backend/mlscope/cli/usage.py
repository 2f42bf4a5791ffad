"""The one error a command line mistake raises: printed as one line, exit code 2."""

from __future__ import annotations


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit code 2."""
