"""The Transform `preprocessing_fn`, built from the dataset config rather than module globals.

TFX (1.16) binds `custom_config` to a `preprocessing_fn` that declares it, so the same function
serves every dataset: the config says which columns are numeric, categorical or bucketized and
how the label is derived.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tensorflow as tf
import tensorflow_transform as tft

from models import features as F

MISSING_CATEGORY = "<missing>"


def _dense(value: tf.Tensor | tf.SparseTensor, default: Any) -> tf.Tensor:
    """A rank-1 dense tensor of one value per example, `default` where the value is missing.

    CSV columns that may be empty arrive as SparseTensor (VarLenFeature) of shape [batch, 1].
    """
    if isinstance(value, tf.SparseTensor):
        value = tf.sparse.to_dense(
            tf.SparseTensor(value.indices, value.values, [value.dense_shape[0], 1]),
            default_value=tf.cast(default, value.dtype),
        )
    return tf.reshape(value, [-1])


def _cast_values(value: tf.Tensor | tf.SparseTensor, dtype: tf.DType) -> Any:
    if isinstance(value, tf.SparseTensor):
        return tf.SparseTensor(value.indices, tf.cast(value.values, dtype), value.dense_shape)
    return tf.cast(value, dtype)


def _to_float(value: tf.Tensor | tf.SparseTensor) -> tf.Tensor | tf.SparseTensor:
    return _cast_values(value, tf.float32)


def _observed(value: tf.Tensor | tf.SparseTensor) -> tf.SparseTensor:
    """Float values as a [batch, 1] SparseTensor holding only the present, non-NaN ones.

    Analysers then see observed values only, and every feature needs a single analysis phase:
    tensorflow-transform 1.16 on Beam 2.74 fails on multi-phase graphs (its deep-copy
    optimisation calls an AppliedPTransform constructor that Beam has changed).
    """
    value = _to_float(value)
    if not isinstance(value, tf.SparseTensor):
        dense = tf.reshape(value, [-1, 1])
        value = tf.sparse.from_dense(tf.ones_like(dense))  # every cell, zeros included
        value = tf.SparseTensor(value.indices, tf.reshape(dense, [-1]), value.dense_shape)
    return tf.sparse.retain(value, ~tf.math.is_nan(value.values))


def _as_strings(value: tf.Tensor | tf.SparseTensor) -> tf.Tensor:
    """Categorical values as strings (integers included); missing becomes MISSING_CATEGORY.

    Not the empty string: tf.Transform's vocabulary drops empty tokens, which would send
    missing values to the OOV bucket together with unseen ones.
    """
    if isinstance(value, tf.SparseTensor) and value.dtype != tf.string:
        value = tf.SparseTensor(
            value.indices, tf.strings.as_string(value.values), value.dense_shape
        )
    elif not isinstance(value, tf.SparseTensor) and value.dtype != tf.string:
        value = tf.strings.as_string(value)
    return _dense(value, MISSING_CATEGORY)


def derive_label(inputs: Mapping[str, Any], label: F.Label) -> tf.Tensor:
    """Per example: 0/1 by the config's rule (binary), the class's index in `classes`, -1 for
    a value outside them or missing (multiclass), or the number, NaN when missing
    (regression). The data gate counts labels with it too."""
    if label.kind == F.REGRESSION:
        return _dense(_to_float(inputs[label.column]), float("nan"))
    if label.kind == F.MULTICLASS:
        # Text, or integer codes (a FLOAT column is refused when the config is checked).
        text = tf.strings.strip(_as_strings(inputs[label.column]))
        # Compared with each class, no lookup table: a table in a Transform graph needs an
        # initializer Transform tracks, and a label has a handful of classes.
        matches = tf.stack([tf.equal(text, c) for c in label.classes], axis=1)
        index = tf.argmax(tf.cast(matches, tf.int64), axis=1)
        return tf.where(tf.reduce_any(matches, axis=1), index, tf.constant(-1, tf.int64))
    if label.rule == F.EQUALS:  # a text column: missing is MISSING_CATEGORY, never `positive`
        text = tf.strings.strip(_as_strings(inputs[label.column]))
        return tf.cast(tf.equal(text, label.positive), tf.int64)
    column = _dense(_to_float(inputs[label.column]), float("nan"))
    if label.rule == F.AS_IS:
        positive = column > 0.5
    elif label.rule == F.GREATER_THAN:
        positive = column > label.threshold
    else:
        reference = _dense(_to_float(inputs[label.of_column]), float("nan"))
        positive = column > label.threshold * reference
    # Comparisons with NaN are False, so a missing value yields the negative class.
    return tf.cast(positive, tf.int64)


def preprocessing_fn(inputs: Mapping[str, Any], custom_config: Mapping[str, Any]) -> dict:
    """Map raw CSV features to model inputs, plus the derived label, as the config says."""
    return _transform(inputs, F.ModelConfig.from_json_dict(custom_config["model"]))


@tf.autograph.experimental.do_not_convert
def _transform(inputs: Mapping[str, Any], spec: F.ModelConfig) -> dict:
    """The body of `preprocessing_fn`, kept out of AutoGraph.

    It has no tensor-dependent Python control flow, and AutoGraph would otherwise transpile it
    and every tensorflow-transform function it calls on each trace: tens of seconds of a run.
    """
    outputs: dict[str, tf.Tensor] = {}
    for feature in spec.features:
        value = inputs[feature.name]
        name = F.transformed_name(feature.name)
        if feature.kind == F.NUMERIC:
            # z-score of observed values; a missing value becomes 0, the training mean.
            outputs[name] = _dense(tft.scale_to_z_score(_observed(value)), 0.0)
        elif feature.kind == F.BUCKETIZED:
            # Quantile buckets 0..buckets-1; a missing value gets bucket id `buckets`.
            outputs[name] = _dense(
                tft.bucketize(_observed(value), feature.buckets), feature.buckets
            )
        elif feature.hash_buckets:
            outputs[name] = tf.strings.to_hash_bucket_fast(_as_strings(value), feature.hash_buckets)
        else:
            outputs[name] = tft.compute_and_apply_vocabulary(
                _as_strings(value),
                top_k=feature.top_k,
                num_oov_buckets=feature.oov_buckets,
                vocab_filename=feature.name,
            )
    outputs[F.transformed_name(spec.label.name)] = derive_label(inputs, spec.label)
    return outputs
