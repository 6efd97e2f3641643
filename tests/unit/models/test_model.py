"""The model builds from the config, and its exported signatures take raw tf.Examples."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft

from models import features as F
from models.model import (
    SCORE_OUTPUT,
    SERVING_SIGNATURE,
    TRANSFORM_SIGNATURE,
    RawTransform,
    ServingModule,
    build_keras_model,
    train,
    vocabulary_sizes,
)
from tests.unit.models.transform_rows import INPUTS, ROWS, UNSEEN, analyse_and_transform


def _example(row: dict, drop: tuple[str, ...] = ()) -> bytes:
    feature = {}
    for name, value in row.items():
        if name in drop:
            continue
        values = value if isinstance(value, list) else [value]
        if not values:
            continue  # an empty CSV cell: the feature is absent
        if isinstance(values[0], bytes):
            feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
        elif isinstance(values[0], int):
            feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=values))
        else:
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Train on the transformed rows for a few steps and export the serving module."""
    tmp = tmp_path_factory.mktemp("model")
    transformed, _ = analyse_and_transform(tmp, ROWS, UNSEEN)
    output = tft.TFTransformOutput(str(tmp / "transform_fn"))
    model = build_keras_model(INPUTS, vocabulary_sizes(INPUTS, output))
    names = [F.transformed_name(f.name) for f in INPUTS.features]
    features = {n: tf.constant([[r[n]] for r in transformed]) for n in names}
    labels = tf.constant([r["big_tipper_xf"] for r in transformed])
    batches = tf.data.Dataset.from_tensors((features, labels)).repeat()
    train(model, batches, steps=5, learning_rate=0.01, label=INPUTS.label)
    ServingModule(model, RawTransform(output), INPUTS).save(str(tmp / "serving"))
    return model, features, tf.saved_model.load(str(tmp / "serving")), output


def test_vocabulary_sizes_come_from_transform_hashing_and_buckets(exported):
    *_, output = exported
    sizes = vocabulary_sizes(INPUTS, output)
    assert sizes == {"payment_type": 2, "company": 4, "trip_start_hour": 8, "pickup_latitude": 3}


def test_serving_signature_scores_raw_examples_without_the_label_column(exported):
    *_, loaded, _ = exported
    serialized = tf.constant([_example(r, drop=("tips",)) for r in ROWS + UNSEEN])
    scores = loaded.signatures[SERVING_SIGNATURE](examples=serialized)[SCORE_OUTPUT].numpy()
    assert scores.shape == (5, 1)
    assert np.all((scores >= 0) & (scores <= 1))


def test_serving_gives_the_scores_training_saw(exported):
    """No training/serving skew: raw examples through the export equal the trained model's view."""
    model, features, loaded, _ = exported
    serialized = tf.constant([_example(r, drop=("tips",)) for r in ROWS])
    served = loaded.signatures[SERVING_SIGNATURE](examples=serialized)[SCORE_OUTPUT].numpy()
    trained = model(features, training=False).numpy()
    np.testing.assert_allclose(served, trained, rtol=1e-5, atol=1e-6)


def test_a_label_column_in_a_serving_request_changes_no_score(exported):
    """The label's columns are filled in as absent for the one traced transform: whatever a
    request holds of them, the features and so the scores are the same."""
    *_, loaded, _ = exported
    serve = loaded.signatures[SERVING_SIGNATURE]
    without = serve(examples=tf.constant([_example(r, drop=("tips",)) for r in ROWS]))
    with_tips = serve(examples=tf.constant([_example(r) for r in ROWS]))
    np.testing.assert_array_equal(without[SCORE_OUTPUT].numpy(), with_tips[SCORE_OUTPUT].numpy())


def test_an_absent_column_is_what_parsing_yields_for_examples_without_it():
    specs = {
        "code": tf.io.FixedLenFeature([1], tf.int64, default_value=[7]),
        "note": tf.io.VarLenFeature(tf.string),
        "tips": tf.io.FixedLenFeature([1], tf.float32),  # no default: parsing would refuse
    }
    holder = SimpleNamespace(raw_spec=specs)  # `absent` reads the raw spec only
    rows = tf.constant(3, tf.int64)
    parsed = tf.io.parse_example(tf.constant([b""] * 3), {k: specs[k] for k in ("code", "note")})
    code = RawTransform.absent(holder, "code", rows)
    note = RawTransform.absent(holder, "note", rows)
    np.testing.assert_array_equal(code.numpy(), parsed["code"].numpy())
    assert note.dense_shape.numpy().tolist() == parsed["note"].dense_shape.numpy().tolist()
    assert note.values.shape == (0,)
    tips = RawTransform.absent(holder, "tips", rows).numpy()
    assert tips.shape == (3, 1) and np.isnan(tips).all()


def test_transform_signature_derives_the_label_for_evaluation(exported):
    *_, loaded, _ = exported
    serialized = tf.constant([_example(r) for r in ROWS])
    out = loaded.signatures[TRANSFORM_SIGNATURE](examples=serialized)
    assert out["big_tipper_xf"].numpy().reshape(-1).tolist() == [1, 0, 1, 0]


def test_hidden_layers_follow_the_hyperparameters(exported):
    model, *_ = exported
    dense = [layer.units for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert dense == list(INPUTS.training.hidden_units) + [1]
    assert not math.isnan(float(model.count_params()))
