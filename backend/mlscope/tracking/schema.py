"""MLflow's schema inference for dataset inputs (``mlflow.types.utils._infer_schema``), as JSON.

Only what ``mlflow.data.from_pandas`` / ``from_numpy`` need: column specs for
DataFrames (scalars, lists as arrays, dicts as objects, missing values making a
column optional) and tensor specs for numpy arrays. The JSON is byte-for-byte
MLflow's, so a dataset logged by mlscope and by MLflow compares equal.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any


class SchemaError(ValueError):
    """Data MLflow could not infer a schema for (MLflow then logs the dataset without one)."""


@dataclass(frozen=True)
class AnyT:
    def to_dict(self) -> dict[str, Any]:
        return {"type": "any"}


@dataclass(frozen=True)
class ArrayT:
    items: Type

    def to_dict(self) -> dict[str, Any]:
        return {"type": "array", "items": _type_dict(self.items)}


@dataclass(frozen=True)
class ObjectT:
    properties: tuple[tuple[str, Type, bool], ...]  # (name, type, required), sorted by name

    def to_dict(self) -> dict[str, Any]:
        return {"type": "object", "properties": {name: {**_type_dict(t), "required": req} for name, t, req in self.properties}}


Type = str | AnyT | ArrayT | ObjectT  # a str is a DataType name: "string", "long", "double", ...


def _type_dict(t: Type) -> dict[str, Any]:
    return {"type": t} if isinstance(t, str) else t.to_dict()


def _object(properties: list[tuple[str, Type, bool]]) -> ObjectT:
    return ObjectT(tuple(sorted(properties, key=lambda p: p[0])))


def _merge(a: Type, b: Type) -> Type:
    """Two element types of one column or list, as MLflow's ``_merge`` combines them."""
    if isinstance(a, AnyT):
        return b if isinstance(b, (str, AnyT)) else _merge(b, a)
    if isinstance(a, str):
        if isinstance(b, AnyT) or a == b:
            return a
        raise SchemaError(f"incompatible types {a} and {b}")
    if isinstance(a, ArrayT):
        if isinstance(b, AnyT) or a == b:
            return a
        if not isinstance(b, ArrayT):
            raise SchemaError("can't merge array with non-array type")
        return ArrayT(_merge(a.items, b.items)) if not isinstance(a.items, str) else ArrayT(_merge(a.items, b.items))
    if isinstance(b, AnyT):
        return _object([(n, t, False) for n, t, _ in a.properties])
    if not isinstance(b, ObjectT):
        raise SchemaError("can't merge object with non-object type")
    if a == b:
        return a
    left = {n: (t, r) for n, t, r in a.properties}
    right = {n: (t, r) for n, t, r in b.properties}
    merged = [(n, left[n][0], False) for n in left.keys() - right.keys()]
    merged += [(n, _merge_property(left[n], right[n]), left[n][1] and right[n][1]) for n in left.keys() & right.keys()]
    merged += [(n, right[n][0], False) for n in right.keys() - left.keys()]
    return _object(merged)


def _merge_property(a: tuple[Type, bool], b: tuple[Type, bool]) -> Type:
    if isinstance(a[0], str):
        if a[0] == b[0] or isinstance(b[0], AnyT):
            return a[0]
        raise SchemaError(f"Properties are incompatible for {a[0]} and {b[0]}")
    return _merge(a[0], b[0])


def _is_missing(value: Any) -> bool:
    import pandas as pd

    if isinstance(value, float):
        return value != value
    return value is None or value is pd.NA or value is pd.NaT


def _scalar_type(value: Any) -> str:
    import numpy as np
    import pandas as pd

    scalars = {bool: "boolean", np.bool_: "boolean", int: "long", np.int64: "long", np.int32: "integer", float: "double",
               np.float64: "double", np.float32: "float", str: "string", np.str_: "string", object: "string",
               bytes: "binary", np.bytes_: "binary", bytearray: "binary"}  # fmt: skip
    found = scalars.get(type(value))
    if found:
        return found
    if type(value) in (pd.Timestamp, dt.date, dt.datetime, np.datetime64):
        return "datetime"
    raise SchemaError(f"Data {value} is not one of the supported DataType")


def value_type(value: Any) -> Type | None:
    """MLflow's ``_infer_datatype``: None/NaN/empty are Any; None means an empty numpy array (undetermined)."""
    import numpy as np

    if isinstance(value, (list, dict)) and not value:
        return AnyT()
    if not isinstance(value, (list, dict, np.ndarray)) and _is_missing(value):
        return AnyT()
    if isinstance(value, dict):
        properties = []
        for key, item in value.items():
            item_type = value_type(item)
            if item_type is None:
                raise SchemaError("Dictionary value must not be an empty numpy array.")
            properties.append((key, item_type, not isinstance(item_type, AnyT)))
        return _object(properties)
    if isinstance(value, (list, np.ndarray)):
        result: ArrayT | None = None
        for item in value:
            item_type = value_type(item)
            if item_type is None:
                continue
            if result is None:
                result = ArrayT(item_type)
            elif isinstance(result.items, str):
                if not isinstance(item_type, AnyT) and item_type != result.items:
                    raise SchemaError("Expected all values in list to be of same type")
            else:
                result = ArrayT(_merge(result.items, item_type))
        return result
    return _scalar_type(value)


def _numpy_type(dtype: Any) -> str:
    kind, size = dtype.kind, dtype.itemsize
    if kind == "b":
        return "boolean"
    if kind in ("i", "u"):
        if size < 4 or (kind == "i" and size == 4):
            return "integer"
        if size < 8 or (kind == "i" and size == 8):
            return "long"
    elif kind == "f":
        if size <= 4:
            return "float"
        if size <= 8:
            return "double"
    elif kind == "U":
        return "string"
    elif kind == "S":
        return "binary"
    elif kind == "M":
        return "datetime"
    raise SchemaError(f"Unsupported numpy data type '{dtype}', kind '{kind}'")


def _column_type(column: Any) -> Type:
    import pandas as pd

    if len(column.values.shape) > 1:
        raise SchemaError(f"Expected 1d array, got array with shape {column.shape}")
    if column.dtype.kind == "O":
        column = column.infer_objects()
    if column.dtype.kind != "O":
        return _numpy_type(column.dtype)
    try:
        found = value_type(column.to_list())
        if found is None:
            raise SchemaError("Numpy array must include at least one non-empty item.")
        assert isinstance(found, ArrayT)
        return found.items
    except SchemaError:
        if pd.api.types.is_string_dtype(column):
            return "string"
        raise


def dataframe_schema(frame: Any) -> str:
    """``{"mlflow_colspec": [...]}`` for a DataFrame, as PandasDataset.to_dict writes it."""
    specs = []
    for name in frame.columns:
        column = frame[name]
        spec = _type_dict(_column_type(column))
        spec["name"] = name
        spec["required"] = not any(_is_missing(v) for v in column)
        specs.append(spec)
    return json.dumps({"mlflow_colspec": specs})


def _tensor_specs(data: Any) -> str:
    """Schema.to_json of TensorSpecs: a numpy array or a dict of named arrays, first axis variable (-1)."""
    import numpy as np

    def spec(array: Any, name: str | None) -> dict[str, Any]:
        if not isinstance(array, np.ndarray):
            raise SchemaError(f"Expected numpy.ndarray, got '{type(array)}'.")
        dtype = array.dtype
        clean = np.dtype("str") if dtype.char == "U" else np.dtype("bytes") if dtype.char == "S" else dtype
        shape = list(array.shape)
        if shape:
            shape[0] = -1
        tensor = {"type": "tensor", "tensor-spec": {"dtype": clean.name, "shape": shape}}
        return {"name": name, **tensor} if name is not None else tensor

    if isinstance(data, dict):
        if not all(isinstance(v, np.ndarray) for v in data.values()):
            raise SchemaError("features must be numpy arrays")
        return json.dumps([spec(array, name) for name, array in data.items()])
    return json.dumps([spec(data, None)])


def tensor_schema(features: Any, targets: Any = None) -> str:
    """``{"mlflow_tensorspec": {"features": ..., "targets": ...}}``, as NumpyDataset.to_dict writes it."""
    return json.dumps({"mlflow_tensorspec": {"features": _tensor_specs(features), "targets": _tensor_specs(targets) if targets is not None else None}})
