"""Raw feature values, as a client sends them in JSON, into the serialized `tf.Example`s the
model's `serving_default` signature takes, typed by the curated schema.

A request is checked whole before anything is scored: an unknown feature, a value of the wrong
type, a required feature left out are each a `RequestError` naming the feature and the row,
the message TF Serving's 400 carries.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from tensorflow_metadata.proto.v0 import schema_pb2

SERVING = "SERVING"


class RequestError(ValueError):
    """What is wrong with a request, in one line; the server answers 400 with it."""


@dataclasses.dataclass(frozen=True)
class RequestSchema:
    """What a request may and must carry: the serving features' types, and which the model
    cannot do without."""

    types: Mapping[str, int]  # feature -> schema_pb2.FeatureType
    required: frozenset[str]
    known: frozenset[str] = frozenset()  # every column the schema declares (the label too)

    @classmethod
    def from_schema(cls, schema: schema_pb2.Schema, model_features: Sequence[str]) -> RequestSchema:
        """Features the SERVING environment has (the label is not one); required: those the
        model consumes that the schema says are always present."""
        serving = {
            f.name: f.type
            for f in schema.feature
            if SERVING not in f.not_in_environment
            and (not f.in_environment or SERVING in f.in_environment)
        }
        always = {
            f.name for f in schema.feature if f.presence.min_fraction >= 1.0 and f.name in serving
        }
        known = frozenset(f.name for f in schema.feature)
        return cls(serving, frozenset(always & set(model_features)), known)


_INT64 = (-(2**63), 2**63 - 1)


def to_examples(rows: Any, request: RequestSchema) -> list[bytes]:
    """`rows` (a list of {feature: value}) as serialized tf.Examples; `None` or "" is a missing
    value (the model's preprocessing fills it), a list is a feature with several values. A row
    `{"b64": ...}` is a serialized tf.Example already, as a client of TF Serving sends it."""
    from tensorflow.core.example import example_pb2  # the proto alone: filled in place, fast

    if not isinstance(rows, list) or not rows:
        raise RequestError("expected a non-empty list of rows, each an object of feature values")
    serialized = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise RequestError(
                f"row {index}: expected an object of feature values, got {_kind(row)}"
            )
        if set(row) == {"b64"}:
            serialized.append(_serialized_example(row["b64"], index))
            continue
        unknown = sorted(set(row) - set(request.types))
        if unknown:  # first: a misspelt name is also a missing one
            raise RequestError(f"row {index}: unknown feature '{unknown[0]}'")
        missing = sorted(request.required - set(row))
        if missing:
            raise RequestError(f"row {index}: missing required feature '{missing[0]}'")
        example = example_pb2.Example()
        feature = example.features.feature
        for name, value in row.items():
            _fill(feature[name], name, request.types[name], value, index)
        serialized.append(example.SerializeToString())
    return serialized


def _serialized_example(text: Any, row: int) -> bytes:
    import base64

    from tensorflow.core.example import example_pb2

    try:
        data = base64.b64decode(text, validate=True)
        example_pb2.Example.FromString(data)
    except Exception:  # not base64, or not a tf.Example: the client's mistake
        raise RequestError(f"row {row}: 'b64' must hold a base64 serialized tf.Example") from None
    return data


def _fill(feature, name: str, kind: int, value: Any, row: int) -> None:
    """Check `value` against the feature's type and put it in the tf.Example's `feature`."""
    values = value if isinstance(value, list) else [value]
    values = [v for v in values if v is not None and v != ""]
    if kind == schema_pb2.BYTES:
        feature.bytes_list.SetInParent()  # typed even when empty (a missing value)
        try:
            feature.bytes_list.value.extend([v.encode() for v in values])
        except AttributeError:  # not a string
            raise RequestError(
                f"{_where(row, name)}: expected a string, got {_kinds(values)}"
            ) from None
        except UnicodeEncodeError:
            raise RequestError(f"{_where(row, name)}: not valid Unicode text") from None
        return
    for v in values:
        if type(v) not in (int, float):  # bool is an int to isinstance, not here
            raise RequestError(f"{_where(row, name)}: expected a number, got {_kinds(values)}")
        if not _finite(v):
            raise RequestError(f"{_where(row, name)}: expected a finite number, got {values}")
    if kind == schema_pb2.INT:
        if not all(float(v).is_integer() and _INT64[0] <= v <= _INT64[1] for v in values):
            raise RequestError(f"{_where(row, name)}: expected a 64-bit integer, got {values}")
        feature.int64_list.SetInParent()
        feature.int64_list.value.extend([int(v) for v in values])
    else:
        feature.float_list.SetInParent()
        feature.float_list.value.extend(values)


def _where(row: int, name: str) -> str:
    return f"row {row}: feature '{name}'"


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _kind(value: Any) -> str:
    return {bool: "a boolean", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _kinds(values: list) -> str:
    return ", ".join(sorted({_kind(v) for v in values})) or "nothing"
