"""The in-memory, incrementally refreshed picture of every run."""

from .run_index import Progress, RunIndex

__all__ = ["Progress", "RunIndex"]
