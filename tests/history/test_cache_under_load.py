"""The history cache while writers append (issue 18, under load): nothing is read or sorted again whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlscope.history import HistoryCache
from mlscope.history.cache import _grew, _not_newer

INODE = 7


def _append(path: Path, lines: list[tuple[int, float, int]]) -> None:
    with open(path, "a") as out:
        out.write("".join(f"{t} {v} {s}\n" for t, v, s in lines))


def test_points_appended_out_of_order_are_merged_into_the_sorted_view(tmp_path: Path) -> None:
    (tmp_path / "metrics").mkdir()
    loss = tmp_path / "metrics" / "loss"
    _append(loss, [(100 + s, s * 0.5, s) for s in range(0, 100, 2)])
    cache = HistoryCache()
    before = cache.snapshot(tmp_path, "loss")
    assert before is not None
    kept = list(before.steps[: before.length])
    _append(loss, [(500, 9.0, 51), (501, 8.0, 1), (90, 7.0, 1)])  # a second writer's steps land among the first's
    after = cache.snapshot(tmp_path, "loss")
    assert after is not None
    pairs = [(after.steps[i], after.timestamps[i]) for i in range(after.length)]
    assert pairs == sorted(pairs) and after.length == 53
    assert list(before.steps[: before.length]) == kept  # a snapshot taken before stays as it was


def test_an_append_seen_by_a_stat_older_than_the_last_read_is_still_an_append() -> None:
    # The last read was stat'ed at 100 bytes but read on to 180; the file is now 150 bytes by another stat.
    assert _grew(seen=(2, 150, INODE), held=(1, 100, INODE), offset=180)
    assert not _grew(seen=(2, 150, INODE + 1), held=(1, 100, INODE), offset=180)  # replaced: read again


def test_a_request_that_stated_the_file_before_the_last_read_does_not_take_the_cache_back() -> None:
    assert _not_newer(seen=(1, 100, INODE), held=(2, 150, INODE))
    assert not _not_newer(seen=(3, 90, INODE), held=(2, 150, INODE))  # rewritten shorter since: read again


def _render(steps: Any, values: Any, stamps: Any, datasets: Any, start: int, end: int, length: int) -> bytes:
    return repr([(steps[i], values[i]) for i in range(start, end)]).encode()


def test_a_full_history_page_is_rendered_once_and_the_last_page_follows_appends(tmp_path: Path) -> None:
    (tmp_path / "metrics").mkdir()
    loss = tmp_path / "metrics" / "loss"
    _append(loss, [(100 + s, float(s), s) for s in range(10)])
    cache = HistoryCache()
    first = cache.history_page(tmp_path, "loss", 0, 5, _render)
    last = cache.history_page(tmp_path, "loss", 5, 10, _render)
    _append(loss, [(200, 10.0, 10)])
    assert cache.history_page(tmp_path, "loss", 0, 5, _render) is first
    assert cache.history_page(tmp_path, "loss", 5, 10, _render) == last[:-1] + b", (10, 10.0)]"
