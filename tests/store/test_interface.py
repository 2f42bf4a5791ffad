"""Both stores satisfy the one storage interface the server talks to: same members, same parameters."""

from __future__ import annotations

import inspect

import pytest

from mlscope.index.run_index import RunIndex
from mlscope.index.tracking_writes import TrackingWrites
from mlscope.store.interface import RunSource, TrackingWriteService
from mlscope.store.sql.run_index import SqlRunIndex
from mlscope.store.sql.tracking_writes import SqlTrackingWrites


def _members(protocol: type) -> dict[str, object]:
    return {name: value for name, value in vars(protocol).items() if not name.startswith("_") and callable(value) or isinstance(value, property)}


def _parameters(function: object) -> list[tuple[str, object]]:
    target = function.fget if isinstance(function, property) else function
    return [(p.name, p.kind) for p in inspect.signature(target).parameters.values()]


@pytest.mark.parametrize(
    ("protocol", "implementation"),
    [(RunSource, RunIndex), (RunSource, SqlRunIndex), (TrackingWriteService, TrackingWrites), (TrackingWriteService, SqlTrackingWrites)],
    ids=["file-index", "sql-index", "file-writes", "sql-writes"],
)
def test_each_store_has_every_member_of_the_interface_with_its_parameters(protocol: type, implementation: type) -> None:
    members = _members(protocol)
    assert members
    for name, declared in members.items():
        assert hasattr(implementation, name), f"{implementation.__name__} lacks {name}"
        assert _parameters(getattr(implementation, name)) == _parameters(declared), f"{implementation.__name__}.{name}"
