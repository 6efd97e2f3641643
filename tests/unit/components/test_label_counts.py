"""One label counter: the gate counting the tf.Examples ExampleGen wrote and `tfxp validate`
counting the CSV file give the same rows, missing labels and positives, by the training rule."""

from __future__ import annotations

import tensorflow as tf
from tfx.types import artifact_utils, standard_artifacts

from components.example_gate import _label_counts
from components.validation import LabelCounts
from datatools.validate import label_counts
from models import features as F
from pipeline.csv_table import read_csv
from pipeline.schema import read_schema
from tests.conftest import ROOT

TIPPER = F.Label(
    name="big_tipper",
    column="tips",
    rule=F.GREATER_THAN_FRACTION_OF,
    threshold=0.2,
    of_column="fare",
)
ROWS = [("10.0", "3.0"), ("10.0", "1.0"), ("20.0", ""), ("", "5.0"), ("4.0", "0.9")]


def _example(fare: str, tips: str) -> bytes:
    """As CsvExampleGen writes a row: a blank cell is a feature with no values."""

    def floats(cell):
        return tf.train.Feature(float_list=tf.train.FloatList(value=[float(cell)] if cell else []))

    features = {"fare": floats(fare), "tips": floats(tips)}
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def test_the_gate_and_validate_count_the_same_rows_the_same_way(tmp_path):
    csv = tmp_path / "trips.csv"
    csv.write_text("fare,tips\n" + "".join(f"{fare},{tips}\n" for fare, tips in ROWS))
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path / "examples")
    examples.split_names = artifact_utils.encode_split_names(["train"])
    (tmp_path / "examples" / "Split-train").mkdir(parents=True)
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    with tf.io.TFRecordWriter(
        str(tmp_path / "examples" / "Split-train" / "data.gz"), options
    ) as writer:
        for fare, tips in ROWS:
            writer.write(_example(fare, tips))
    schema = read_schema(ROOT / "schema" / "taxi" / "schema.pbtxt")

    from_examples = _label_counts(examples, "train", schema, TIPPER)
    from_csv = label_counts([read_csv(csv)], TIPPER)

    # tips > 0.2 * fare: 3.0 > 2.0 and 0.9 > 0.8 are positive; a blank tip is missing and
    # negative, a blank fare makes the comparison false.
    assert from_examples == from_csv == LabelCounts(rows=5, missing=1, positives=2)
