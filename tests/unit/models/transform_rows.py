"""Four taxi-like rows and a real tf.Transform run over them, shared by the unit tests."""

from __future__ import annotations

import json

import apache_beam as beam
import numpy as np
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from apache_beam.options.pipeline_options import PipelineOptions
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from models import features as F
from models.preprocessing import preprocessing_fn

INPUTS = F.ModelConfig(
    features=(
        F.Feature("fare", F.NUMERIC),
        F.Feature("trip_miles", F.NUMERIC),
        F.Feature("payment_type", F.CATEGORICAL, top_k=1, oov_buckets=1),
        F.Feature("company", F.CATEGORICAL),
        F.Feature("trip_start_hour", F.CATEGORICAL, hash_buckets=8),
        F.Feature("pickup_latitude", F.BUCKETIZED, buckets=2),
    ),
    label=F.Label("big_tipper", "tips", F.GREATER_THAN_FRACTION_OF, 0.2, "fare"),
    training=F.TrainingParams(),
)

SPEC = {
    "fare": tf.io.FixedLenFeature([], tf.float32),
    "tips": tf.io.FixedLenFeature([], tf.float32),
    "trip_miles": tf.io.VarLenFeature(tf.float32),
    "payment_type": tf.io.FixedLenFeature([], tf.string),
    "company": tf.io.VarLenFeature(tf.string),
    "trip_start_hour": tf.io.FixedLenFeature([], tf.int64),
    "pickup_latitude": tf.io.VarLenFeature(tf.float32),
}

ROWS = [  # tips > 0.2 * fare gives the label: 1, 0, 1, 0
    dict(
        fare=10.0,
        tips=3.0,
        trip_miles=[1.0],
        payment_type=b"Credit Card",
        company=[b"A"],
        trip_start_hour=5,
        pickup_latitude=[41.0],
    ),
    dict(
        fare=20.0,
        tips=0.0,
        trip_miles=[3.0],
        payment_type=b"Cash",
        company=[b"A"],
        trip_start_hour=6,
        pickup_latitude=[42.0],
    ),
    dict(
        fare=30.0,
        tips=9.0,
        trip_miles=[],
        payment_type=b"Credit Card",
        company=[],
        trip_start_hour=5,
        pickup_latitude=[],
    ),
    dict(
        fare=40.0,
        tips=1.0,
        trip_miles=[float("nan")],
        payment_type=b"Dispute",
        company=[b"B"],
        trip_start_hour=23,
        pickup_latitude=[43.0],
    ),
]
UNSEEN = [
    dict(
        fare=10.0,
        tips=0.0,
        trip_miles=[2.0],
        payment_type=b"Bitcoin",
        company=[b"Z"],
        trip_start_hour=1,
        pickup_latitude=[40.0],
    )
]


def analyse_and_transform(tmp_path, rows, new_rows):
    """Analyse `rows`, then transform `rows` and `new_rows`; the transform graph goes to
    `tmp_path / "transform_fn"` as Transform would write it."""
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(SPEC))

    def fn(inputs):
        return preprocessing_fn(inputs, {"model": INPUTS.to_json_dict()})

    options = PipelineOptions(["--runner=FnApiRunner", "--direct_running_mode=in_memory"])

    def as_json(row):
        return json.dumps({k: np.asarray(v).tolist() for k, v in row.items()})

    with beam.Pipeline(options=options) as pipeline, tft_beam.Context(temp_dir=str(tmp_path)):
        raw = pipeline | "Rows" >> beam.Create(rows)
        new = pipeline | "New" >> beam.Create(new_rows)
        (transformed, _), transform_fn = (raw, metadata) | tft_beam.AnalyzeAndTransformDataset(fn)
        transformed_new, _ = ((new, metadata), transform_fn) | tft_beam.TransformDataset()
        _ = transform_fn | tft_beam.WriteTransformFn(str(tmp_path / "transform_fn"))
        _ = metadata | tft_beam.WriteMetadata(str(tmp_path / "transform_fn" / "metadata"), pipeline)
        for name, pcoll in (("rows", transformed), ("new", transformed_new)):
            _ = (
                pcoll
                | f"Json{name}" >> beam.Map(as_json)
                | f"Write{name}"
                >> beam.io.WriteToText(str(tmp_path / name), shard_name_template="")
            )
    results = {
        name: [json.loads(line) for line in (tmp_path / name).read_text().splitlines()]
        for name in ("rows", "new")
    }
    order = {float(r["fare_xf"]): i for i, r in enumerate(results["rows"])}
    ordered = [results["rows"][order[k]] for k in sorted(order)]  # by fare, i.e. input order
    return ordered, results["new"]
