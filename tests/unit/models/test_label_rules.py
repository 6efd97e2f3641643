"""`Label.derive` (for clients without TensorFlow) gives what the graph's `derive_label` gives,
and `Label.underive` writes raw values that derive back to the label they came from."""

from __future__ import annotations

import pytest
import tensorflow as tf

from models import features as F
from models.preprocessing import derive_label

RULES = [
    F.Label("big_tipper", "tips", F.GREATER_THAN_FRACTION_OF, 0.2, "fare"),
    F.Label("long", "trip_miles", F.GREATER_THAN, 3.0),
    F.Label("flag", "flag", F.AS_IS),
    F.Label("malignant", "diagnosis", F.EQUALS, positive="malignant", negative="benign"),
]
ROWS = [
    {"tips": "2.5", "fare": "10", "trip_miles": "3.5", "flag": "1", "diagnosis": "malignant"},
    {"tips": "1.0", "fare": "10", "trip_miles": "3", "flag": "0", "diagnosis": "benign"},
    {"tips": "", "fare": "10", "trip_miles": "", "flag": "", "diagnosis": ""},
    {"tips": "0.01", "fare": "0", "trip_miles": "-1", "flag": "0.7", "diagnosis": "Malignant"},
    {"tips": "3", "fare": "", "trip_miles": "100", "flag": "0.2", "diagnosis": "malignant "},
]


def _graph_label(label: F.Label, row: dict) -> int:
    def column(name):
        value = row.get(name, "")
        present = [[0, 0]] if value != "" else []
        text = label.rule == F.EQUALS  # as ExampleGen writes a text column: as in the file
        values = [value if text else float(value)] if value != "" else []
        return tf.SparseTensor(
            tf.constant(present, tf.int64, shape=[len(present), 2]),
            tf.constant(values, tf.string if text else tf.float32),
            [1, 1],
        )

    return int(derive_label({c: column(c) for c in label.source_columns}, label)[0])


@pytest.mark.parametrize("label", RULES, ids=lambda label: label.rule)
def test_derive_agrees_with_the_graph_on_every_row(label):
    assert [label.derive(row) for row in ROWS] == [_graph_label(label, row) for row in ROWS]


@pytest.mark.parametrize("label", RULES, ids=lambda label: label.rule)
@pytest.mark.parametrize("wanted", [0, 1])
def test_underive_writes_values_that_derive_back_to_the_label(label, wanted):
    for row in ROWS:
        raw = label.underive(wanted, row)
        if raw is None:  # a positive fraction of no fare: nothing derives back to it
            assert wanted == 1 and label.of_column and row[label.of_column] == ""
            continue
        assert label.derive({**row, **raw}) == wanted, (row, raw)


KINDS = [
    F.Label("species", "species", kind=F.MULTICLASS, classes=("setosa", "virginica", "other")),
    F.Label("grade", "grade", kind=F.MULTICLASS, classes=("0", "1", "2")),  # integer codes
    F.Label("price", "price", kind=F.REGRESSION),
]
KIND_ROWS = [
    {"species": "setosa", "grade": "2", "price": "120.5"},
    {"species": " virginica ", "grade": "0", "price": "-3"},
    {"species": "", "grade": "", "price": ""},
    {"species": "Setosa", "grade": "7", "price": "0"},
    {"species": "other", "grade": "1.0", "price": "1e3"},
]


def _graph_kind_label(label: F.Label, row: dict) -> float | None:
    value = row[label.column]
    # As ExampleGen types them: text, a column of integer codes as INT, a target as FLOAT.
    dtype = {"species": tf.string, "grade": tf.int64}.get(label.column, tf.float32)
    present = [[0, 0]] if value != "" else []
    typed = {tf.string: str, tf.int64: lambda v: int(float(v)), tf.float32: float}[dtype]
    values = [typed(value)] if value != "" else []
    column = tf.SparseTensor(
        tf.constant(present, tf.int64, shape=[len(present), 2]), tf.constant(values, dtype), [1, 1]
    )
    derived = derive_label({label.column: column}, label).numpy()[0]
    if label.kind == F.MULTICLASS:
        return None if derived < 0 else int(derived)
    return None if derived != derived else float(derived)


@pytest.mark.parametrize("label", KINDS, ids=lambda label: label.name)
def test_a_class_index_or_a_number_is_derived_as_the_graph_derives_it(label):
    derived = [label.derive(row) for row in KIND_ROWS]
    assert derived == [_graph_kind_label(label, row) for row in KIND_ROWS]
    assert derived[2] is None  # missing: neither a class nor a number


@pytest.mark.parametrize("label", KINDS, ids=lambda label: label.name)
def test_a_class_or_number_underived_derives_back(label):
    for row in KIND_ROWS:
        wanted = label.derive(row)
        if wanted is None:
            continue
        assert label.derive({**row, **label.underive(wanted, row)}) == wanted
