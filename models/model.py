"""The wide-and-deep Keras model, its serving signatures, and the TFX Trainer `run_fn`.

Keras 2 (`tf_keras`) is used on purpose: TF 2.16 maps `tf.keras` to Keras 3, while the
Transform layer of tensorflow-transform 1.16 is a `tf_keras` model and must live in the same
SavedModel.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from absl import logging
from tfx_bsl.public import tfxio

from models import features as F
from models import quick_baseline

SERVING_SIGNATURE = "serving_default"
TRANSFORM_SIGNATURE = "transform_features"
SCORE_OUTPUT = "scores"


def build_keras_model(
    inputs: F.ModelConfig,
    vocabulary_sizes: Mapping[str, int],
    target_scale: tuple[float, float] = (0.0, 1.0),
) -> keras.Model:
    """Wide (one-hot of every categorical and bucket id) and deep (numeric + embeddings) model.

    `vocabulary_sizes` maps each categorical or bucketized feature name to its number of ids,
    as Transform computed them (vocabulary plus OOV buckets, or bucket count). The head
    follows the label's kind: a sigmoid score (binary), a softmax score per class
    (multiclass), or a number (regression), learnt as a z-score and put back in the target's
    units by `target_scale` (mean, standard deviation), so the served answer is in them.
    """
    params = inputs.training
    model_inputs: dict[str, keras.layers.Input] = {}
    deep_parts, wide_parts = [], []
    for feature in inputs.features:
        name = F.transformed_name(feature.name)
        if feature.kind == F.NUMERIC:
            model_inputs[name] = keras.layers.Input(shape=(1,), name=name, dtype=tf.float32)
            deep_parts.append(model_inputs[name])
            continue
        size = vocabulary_sizes[feature.name]
        model_inputs[name] = keras.layers.Input(shape=(1,), name=name, dtype=tf.int64)
        wide_parts.append(
            keras.layers.CategoryEncoding(num_tokens=size, output_mode="one_hot")(
                model_inputs[name]
            )
        )
        embedded = keras.layers.Embedding(size, params.embedding_dim)(model_inputs[name])
        deep_parts.append(keras.layers.Flatten()(embedded))

    deep = keras.layers.concatenate(deep_parts) if len(deep_parts) > 1 else deep_parts[0]
    for units in params.hidden_units:
        deep = keras.layers.Dense(units, activation="relu")(deep)
    joined = keras.layers.concatenate([deep] + wide_parts) if wide_parts else deep
    label = inputs.label
    if label.kind == F.MULTICLASS:
        score = keras.layers.Dense(len(label.classes), activation="softmax", name=SCORE_OUTPUT)(
            joined
        )
    elif label.kind == F.REGRESSION:
        mean, std = target_scale
        score = keras.layers.Rescaling(scale=std, offset=mean, name=SCORE_OUTPUT)(
            keras.layers.Dense(1)(joined)
        )
    else:
        score = keras.layers.Dense(1, activation="sigmoid", name=SCORE_OUTPUT)(joined)
    return keras.Model(model_inputs, score)


def target_scale(batches: list) -> tuple[float, float]:
    """Mean and standard deviation of a regression target over training batches."""
    labels = np.concatenate([np.asarray(y, dtype=np.float64).reshape(-1) for _, y in batches])
    labels = labels[np.isfinite(labels)]  # a missing target (allowed through the gate)
    if not len(labels):
        return 0.0, 1.0
    return float(labels.mean()), float(labels.std()) or 1.0


def vocabulary_sizes(
    inputs: F.ModelConfig, transform_output: tft.TFTransformOutput
) -> dict[str, int]:
    """Number of ids of every categorical and bucketized feature.

    Vocabularies are sized by Transform (kept values plus OOV buckets), hashed features by their
    bucket count; bucketized features have their buckets plus the id for a missing value.
    """
    sizes = {}
    for f in inputs.features:
        if f.kind == F.CATEGORICAL and f.hash_buckets:
            sizes[f.name] = f.hash_buckets
        elif f.kind == F.CATEGORICAL:
            sizes[f.name] = transform_output.num_buckets_for_transformed_feature(
                F.transformed_name(f.name)
            )
        elif f.kind == F.BUCKETIZED:
            sizes[f.name] = f.buckets + 1
    return sizes


class RawTransform(tf.Module):
    """The Transform layer behind one traced function, for every caller in a Trainer run: the
    training and evaluation datasets and both exported signatures.

    Transform writes TF1 graphs (`force_tf_compat_v1`), and each trace of its layer prunes that
    graph for the inputs given, ~0.3-0.9 s on these machines. Traced once, for a batch of any
    size of every raw column, it is pruned once a run, not once per dataset and signature.
    """

    def __init__(self, transform_output: tft.TFTransformOutput):
        super().__init__()
        self.layer = transform_output.transform_features_layer()
        self.raw_spec = transform_output.raw_feature_spec()
        self.raw_schema = transform_output.raw_metadata.schema
        # A concrete function: a `tf.function` would be traced again under `saved_model.save`.
        self.apply = tf.function(self.layer, autograph=False).get_concrete_function(
            {k: _batch_spec(k, v) for k, v in self.raw_spec.items()}
        )

    def absent(self, name: str, rows: tf.Tensor) -> tf.Tensor | tf.SparseTensor:
        """Column `name` missing from `rows` examples: what parsing yields for absent values
        (the label's columns of a serving request, whose derived label nobody reads)."""
        spec = self.raw_spec[name]
        if isinstance(spec, tf.io.VarLenFeature):
            return tf.SparseTensor(
                tf.zeros([0, 2], tf.int64), tf.zeros([0], spec.dtype), tf.stack([rows, 0])
            )
        fill = spec.default_value
        if fill is None:
            fill = {tf.string: "", tf.float32: float("nan")}.get(spec.dtype, 0)
        shape = tf.concat([[rows], tf.constant(spec.shape, tf.int64)], 0)
        return tf.broadcast_to(tf.constant(fill, spec.dtype), shape)


def _batch_spec(name: str, spec: Any) -> tf.TypeSpec:
    """The tensor spec of a batch of one raw column, as parsing and tfxio yield it."""
    if isinstance(spec, tf.io.VarLenFeature):
        return tf.SparseTensorSpec([None, None], spec.dtype)
    if isinstance(spec, tf.io.FixedLenFeature):
        return tf.TensorSpec([None, *spec.shape], spec.dtype)
    raise ValueError(f"raw column {name!r}: {type(spec).__name__} is not a CSV column's spec")


class ServingModule(tf.Module):
    """What is exported: the trained model, the Transform layer, and two signatures.

    A plain `tf.Module` rather than the Keras model itself: saving a Keras model also traces
    and AutoGraph-converts Keras' own call functions, which costs tens of seconds and is not
    needed to serve. `serving_default` takes serialized raw tf.Examples (no label columns)
    and returns scores; `transform_features` takes raw examples with the label and returns
    the transformed features, so TFMA derives the label exactly as training did.
    """

    def __init__(self, model: keras.Model, transform: RawTransform, inputs: F.ModelConfig):
        super().__init__()
        self.model_variables = model.variables
        self.transform = transform
        raw_spec = transform.raw_spec
        feature_names = {f.name for f in inputs.features}
        # The label's reference column (taxi: fare) may also be a feature: kept.
        unasked = [k for k in inputs.label.source_columns if k not in feature_names]
        serving_spec = {k: v for k, v in raw_spec.items() if k not in unasked}
        names = [F.transformed_name(f.name) for f in inputs.features]
        transformed = transform.apply.structured_outputs
        # The model's scores of transformed features, traced once (a trace of a Keras model's
        # call costs ~0.4 s here) for the serving signature and the Trainer's own evaluation.
        self.score = tf.function(
            lambda features: model(features, training=False), autograph=False
        ).get_concrete_function(
            {k: tf.TensorSpec(transformed[k].shape, transformed[k].dtype) for k in names}
        )
        score = self.score

        @tf.function(
            input_signature=[tf.TensorSpec([None], tf.string, name="examples")], autograph=False
        )
        def serve(serialized: tf.Tensor) -> dict[str, tf.Tensor]:
            raw = tf.io.parse_example(serialized, serving_spec)
            rows = tf.shape(serialized, out_type=tf.int64)[0]
            raw.update({k: transform.absent(k, rows) for k in unasked})
            transformed = transform.apply(raw)
            return {SCORE_OUTPUT: score({k: transformed[k] for k in names})}

        @tf.function(
            input_signature=[tf.TensorSpec([None], tf.string, name="examples")], autograph=False
        )
        def transform_features(serialized: tf.Tensor) -> dict[str, tf.Tensor]:
            return transform.apply(tf.io.parse_example(serialized, raw_spec))

        self.serving_functions = {
            SERVING_SIGNATURE: serve,
            TRANSFORM_SIGNATURE: transform_features,
        }

    def save(self, directory: str) -> None:
        # The Transform layer is a tf_keras model; with traces on, saving would also trace and
        # AutoGraph-convert its Keras call functions (~10 s). Serving uses the signatures only.
        from tf_keras.src.saving.legacy.saved_model.utils import keras_option_scope

        with keras_option_scope(save_traces=False):
            tf.saved_model.save(self, directory, signatures=self.serving_functions)


class _Batches:
    """Datasets of raw example batches through the transform graph, as (features, label)."""

    def __init__(self, fn_args: Any, inputs: F.ModelConfig, transform: RawTransform):
        self._fn_args = fn_args
        self._inputs = inputs
        self._raw_schema = transform.raw_schema
        label = F.transformed_name(inputs.label.name)

        # Not AutoGraph-converted: tf.data would transpile the Transform layer's Keras call
        # functions (~2.7 s); they hold no Python control flow over tensors.
        @tf.autograph.experimental.do_not_convert
        def transformed(features):
            features = dict(transform.apply(features))
            return features, features.pop(label)

        self._transformed = transformed

    def of(self, files: list[str], num_epochs: int | None = None) -> tf.data.Dataset:
        """The files' batches, repeated for ever unless `num_epochs` is given."""
        raw = self._fn_args.data_accessor.tf_dataset_factory(
            files,
            tfxio.TensorFlowDatasetOptions(
                batch_size=self._inputs.training.batch_size,
                shuffle_seed=self._inputs.training.seed,
                num_epochs=num_epochs,
            ),
            self._raw_schema,
        )
        return raw.map(self._transformed, num_parallel_calls=tf.data.AUTOTUNE)


def train(
    model: keras.Model,
    train_data: tf.data.Dataset,
    steps: int,
    learning_rate: float,
    label: F.Label,
    target_scale: tuple[float, float] = (0.0, 1.0),
) -> None:
    """Minimise the label kind's loss for `steps` batches: binary or sparse categorical
    cross-entropy, or the squared error of z-scores (a target in the thousands would
    otherwise dwarf every gradient).

    A hand-written step compiled with AutoGraph off: `model.fit` transpiles Keras' training
    library through AutoGraph on its first step, which takes ~20 s on these machines (TF 2.16,
    tf_keras 2.16) against ~2 s for this loop.
    """
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    # Its slot variables made now: created inside the first step, they make TensorFlow trace
    # the step a second time (~1.5 s).
    optimizer.build(model.trainable_variables)
    mean, std = target_scale

    def loss_of(labels: tf.Tensor, scores: tf.Tensor) -> tf.Tensor:
        # A row without a valid label (a class outside `classes`, a missing target: only
        # when the gate was told to allow them) weighs nothing rather than poisoning the loss.
        if label.kind == F.MULTICLASS:
            labels = tf.reshape(labels, [-1])
            known = tf.cast(labels >= 0, tf.float32)
            return keras.losses.SparseCategoricalCrossentropy()(
                tf.maximum(labels, 0), scores, sample_weight=known
            )
        labels = tf.cast(tf.reshape(labels, [-1, 1]), tf.float32)
        if label.kind == F.REGRESSION:
            known = tf.math.is_finite(labels)
            errors = tf.where(known, (scores - labels) / std, 0.0)
            return tf.reduce_sum(tf.square(errors)) / tf.maximum(
                tf.reduce_sum(tf.cast(known, tf.float32)), 1.0
            )
        return keras.losses.BinaryCrossentropy()(labels, scores)

    @tf.function(autograph=False)
    def step(features: dict, labels: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            scores = model(features, training=True)
            loss = loss_of(labels, scores)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss

    for features, labels in train_data.take(steps):
        step(features, labels)


def evaluate(
    score: Callable[[dict], tf.Tensor], batches: list, label: F.Label
) -> tuple[dict[str, float], np.ndarray]:
    """The label kind's key metric on the eval batches, for the training log (TFMA is the
    real judge), and the scores (the quick baseline is compared on the same rows).

    scikit-learn rather than Keras metrics: their `update_state` is AutoGraph-converted on first
    use, ~10 s here.
    """
    width = len(label.classes) if label.kind == F.MULTICLASS else 1
    names = list(score.structured_input_signature[0][0])
    scores = [
        score({k: features[k] for k in names}).numpy().reshape(-1, width) for features, _ in batches
    ]
    labels = [batch_labels.numpy().reshape(-1) for _, batch_labels in batches]
    y_score, y_true = np.concatenate(scores), np.concatenate(labels)
    if width == 1:
        y_score = y_score.reshape(-1)
    known = quick_baseline.labelled(label.kind, y_true)
    y_true, y_score = y_true[known], y_score[known]
    metric = quick_baseline.KEY_METRICS[label.kind]
    return {
        metric: quick_baseline.score(label.kind, y_true, y_score),
        "examples": len(y_true),
    }, y_score


def run_fn(fn_args: Any) -> None:
    """TFX Trainer entry point: train for the configured steps and export the serving model."""
    inputs = F.ModelConfig.from_json_dict(fn_args.custom_config["model"])
    keras.utils.set_random_seed(inputs.training.seed)
    transform_output = tft.TFTransformOutput(fn_args.transform_output)
    sizes = vocabulary_sizes(inputs, transform_output)
    transform = RawTransform(transform_output)
    batches = _Batches(fn_args, inputs, transform)

    def baseline_rows() -> list:
        """The quick baseline's rows: the training rows once each (a small window is fewer
        than the batches ours trained on)."""
        return list(
            batches.of(fn_args.train_files, num_epochs=1).take(quick_baseline.MAX_TRAIN_BATCHES)
        )

    scale, train_rows = (0.0, 1.0), None
    if inputs.label.kind == F.REGRESSION:  # the target's scale, from the same rows
        train_rows = baseline_rows()
        scale = target_scale(train_rows)
    model = build_keras_model(inputs, sizes, scale)
    train(
        model,
        batches.of(fn_args.train_files),
        fn_args.train_steps,
        inputs.training.learning_rate,
        inputs.label,
        scale,
    )
    with concurrent.futures.ThreadPoolExecutor(1) as reader:
        # Read while ours is evaluated and exported, unless read already: reading is mostly
        # TensorFlow's C++, exporting mostly Python (~0.5 s of a run here).
        reading = reader.submit(baseline_rows) if train_rows is None else None
        # The eval split once, no row twice (at most `eval_steps` batches): ours and the
        # quick baseline are scored on these same rows.
        eval_data = batches.of(fn_args.eval_files, num_epochs=1)
        eval_batches = list(eval_data.take(fn_args.eval_steps))
        serving = ServingModule(model, transform, inputs)
        metrics, scores = evaluate(serving.score, eval_batches, inputs.label)
        logging.info("Trained %d steps; eval split: %s", fn_args.train_steps, metrics)
        serving.save(fn_args.serving_model_dir)
        train_rows = train_rows if reading is None else reading.result()
    compared = quick_baseline.compare(train_rows, eval_batches, scores, inputs, sizes)
    quick_baseline.save(fn_args.model_run_dir, compared)
