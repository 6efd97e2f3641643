"""The wide-and-deep Keras model, its serving signatures, and the TFX Trainer `run_fn`.

Keras 2 (`tf_keras`) is used on purpose: TF 2.16 maps `tf.keras` to Keras 3, while the
Transform layer of tensorflow-transform 1.16 is a `tf_keras` model and must live in the same
SavedModel.
"""

from __future__ import annotations

from typing import Any, Mapping

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tfx_bsl.public import tfxio

from models import features as F

SERVING_SIGNATURE = "serving_default"
TRANSFORM_SIGNATURE = "transform_features"
SCORE_OUTPUT = "scores"


def build_keras_model(
    inputs: F.ModelInputs, vocabulary_sizes: Mapping[str, int]
) -> keras.Model:
    """Wide (one-hot of every categorical and bucket id) and deep (numeric + embeddings) model.

    `vocabulary_sizes` maps each categorical or bucketized feature name to its number of ids,
    as Transform computed them (vocabulary plus OOV buckets, or bucket count).
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
            keras.layers.CategoryEncoding(num_tokens=size, output_mode="one_hot")(model_inputs[name])
        )
        embedded = keras.layers.Embedding(size, params.embedding_dim)(model_inputs[name])
        deep_parts.append(keras.layers.Flatten()(embedded))

    deep = keras.layers.concatenate(deep_parts) if len(deep_parts) > 1 else deep_parts[0]
    for units in params.hidden_units:
        deep = keras.layers.Dense(units, activation="relu")(deep)
    joined = keras.layers.concatenate([deep] + wide_parts) if wide_parts else deep
    score = keras.layers.Dense(1, activation="sigmoid", name=SCORE_OUTPUT)(joined)

    model = keras.Model(model_inputs, score)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=params.learning_rate),
        loss="binary_crossentropy",
        metrics=[keras.metrics.AUC(name="auc"), keras.metrics.BinaryAccuracy()],
    )
    return model


def vocabulary_sizes(
    inputs: F.ModelInputs, transform_output: tft.TFTransformOutput
) -> dict[str, int]:
    """Number of ids of every categorical and bucketized feature.

    Vocabularies are sized by Transform (kept values plus OOV buckets); bucketized features have
    their configured buckets plus the id for a missing value.
    """
    sizes = {}
    for f in inputs.features:
        if f.kind == F.CATEGORICAL:
            sizes[f.name] = transform_output.num_buckets_for_transformed_feature(
                F.transformed_name(f.name))
        elif f.kind == F.BUCKETIZED:
            sizes[f.name] = f.buckets + 1
    return sizes


def _serving_signatures(
    model: keras.Model, transform_output: tft.TFTransformOutput, inputs: F.ModelInputs
) -> dict[str, Any]:
    """`serving_default` takes serialized raw tf.Examples (no label columns) and returns scores.

    `transform_features` takes raw examples with the label and returns the transformed features,
    so TFMA computes the label exactly as training did.
    """
    model.transform_layer = transform_output.transform_features_layer()
    raw_spec = transform_output.raw_feature_spec()
    serving_spec = {k: v for k, v in raw_spec.items() if k not in inputs.label.source_columns}
    # The label's reference column (taxi: fare) may also be a feature; keep features parseable.
    for feature in inputs.features:
        serving_spec[feature.name] = raw_spec[feature.name]
    model_feature_names = [F.transformed_name(f.name) for f in inputs.features]

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(serialized: tf.Tensor) -> dict[str, tf.Tensor]:
        raw = tf.io.parse_example(serialized, serving_spec)
        transformed = model.transform_layer(raw)
        return {SCORE_OUTPUT: model({k: transformed[k] for k in model_feature_names})}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform(serialized: tf.Tensor) -> dict[str, tf.Tensor]:
        return model.transform_layer(tf.io.parse_example(serialized, raw_spec))

    return {SERVING_SIGNATURE: serve, TRANSFORM_SIGNATURE: transform}


def _dataset(fn_args: Any, files: list[str], inputs: F.ModelInputs,
             transform_output: tft.TFTransformOutput) -> tf.data.Dataset:
    return fn_args.data_accessor.tf_dataset_factory(
        files,
        tfxio.TensorFlowDatasetOptions(
            batch_size=inputs.training.batch_size,
            label_key=F.transformed_name(inputs.label.name),
            shuffle_seed=inputs.training.seed,
        ),
        transform_output.transformed_metadata.schema,
    )


def run_fn(fn_args: Any) -> None:
    """TFX Trainer entry point: train for the configured steps and export the serving model."""
    inputs = F.ModelInputs.from_json_dict(fn_args.custom_config["model_inputs"])
    keras.utils.set_random_seed(inputs.training.seed)
    transform_output = tft.TFTransformOutput(fn_args.transform_output)
    model = build_keras_model(inputs, vocabulary_sizes(inputs, transform_output))
    model.fit(
        _dataset(fn_args, fn_args.train_files, inputs, transform_output),
        steps_per_epoch=fn_args.train_steps,
        validation_data=_dataset(fn_args, fn_args.eval_files, inputs, transform_output),
        validation_steps=fn_args.eval_steps,
        epochs=1,
        verbose=2,
    )
    tf.saved_model.save(
        model,
        fn_args.serving_model_dir,
        signatures=_serving_signatures(model, transform_output, inputs),
    )
