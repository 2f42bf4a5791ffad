"""Metric histories for charts: cached reads and spike-preserving downsampling."""

from .cache import HistoryCache, SeriesData, Snapshot
from .downsample import downsample, window

__all__ = ["HistoryCache", "SeriesData", "Snapshot", "downsample", "window"]
