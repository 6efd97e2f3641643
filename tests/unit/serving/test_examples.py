"""A request's raw feature values become the tf.Examples the model takes, typed by the curated
schema; each kind of bad value is refused naming the row and the feature."""

from __future__ import annotations

import pytest
import tensorflow as tf

from pipeline.schema import read_schema
from serving.examples import RequestError, RequestSchema, to_examples
from tests.conftest import ROOT

SCHEMA = read_schema(ROOT / "schema" / "taxi" / "schema.pbtxt")
REQUEST = RequestSchema.from_schema(SCHEMA, ["fare", "payment_type", "trip_start_hour"])
ROW = {"fare": 7.45, "payment_type": "Cash", "trip_start_hour": 21}


def _parsed(serialized: bytes) -> dict:
    features = tf.train.Example.FromString(serialized).features.feature
    return {name: features[name] for name in features}


def test_values_are_typed_by_the_schema_and_null_is_a_missing_value():
    [example] = to_examples([{**ROW, "company": None, "trip_miles": 2}], REQUEST)
    features = _parsed(example)
    assert list(features["fare"].float_list.value) == pytest.approx([7.45])
    assert list(features["payment_type"].bytes_list.value) == [b"Cash"]
    assert list(features["trip_start_hour"].int64_list.value) == [21]
    assert list(features["trip_miles"].float_list.value) == [2.0]  # an int where a float goes
    assert features["company"].WhichOneof("kind") == "bytes_list"  # typed, with no value
    assert not features["company"].bytes_list.value


def test_a_serialized_example_in_b64_passes_through_as_tf_serving_takes_it():
    import base64

    [typed] = to_examples([ROW], REQUEST)
    assert to_examples([{"b64": base64.b64encode(typed).decode()}], REQUEST) == [typed]


def test_the_label_is_not_a_serving_feature_and_only_always_present_model_features_are_required():
    assert "tips" not in REQUEST.types
    assert REQUEST.required == {"fare", "payment_type", "trip_start_hour"}


@pytest.mark.parametrize(
    "rows, message",
    [
        ([{**ROW, "faer": 1}], "row 0: unknown feature 'faer'"),
        ([{**ROW, "tips": 1.0}], "row 0: unknown feature 'tips'"),
        ([ROW, {"fare": 1.0, "payment_type": "Cash"}], "row 1: missing required feature 'trip_st"),
        ([{**ROW, "fare": "seven"}], "row 0: feature 'fare': expected a number, got a string"),
        ([{**ROW, "payment_type": 3}], "row 0: feature 'payment_type': expected a string, got a n"),
        (
            [{**ROW, "trip_start_hour": 2.5}],
            "row 0: feature 'trip_start_hour': expected a 64-bit",
        ),
        ([{**ROW, "fare": True}], "row 0: feature 'fare': expected a number, got a boolean"),
        ([{**ROW, "fare": float("inf")}], "row 0: feature 'fare': expected a finite number"),
        ([], "expected a non-empty list of rows"),
        (["fare=7"], "row 0: expected an object of feature values, got a string"),
        ({"fare": 7}, "expected a non-empty list of rows"),
        ([{**ROW, "trip_start_hour": 2**70}], "row 0: feature 'trip_start_hour': expected a 64"),
        ([{**ROW, "fare": 10**400}], "row 0: feature 'fare': expected a finite number"),
        ([{**ROW, "payment_type": "\ud800"}], "row 0: feature 'payment_type': not valid Unicode"),
        ([{"b64": "not base64!"}], "row 0: 'b64' must hold a base64 serialized tf.Example"),
    ],
)
def test_a_bad_value_is_refused_naming_row_and_feature(rows, message):
    with pytest.raises(RequestError) as refused:
        to_examples(rows, REQUEST)
    assert str(refused.value).startswith(message)
