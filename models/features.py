"""What the model consumes: one record per feature, the label rule, and the `_xf` naming.

These are plain dataclasses with no TensorFlow import, so the CLI and the config loader can use
them cheaply. They travel to the Transform and Trainer executors inside `custom_config` (JSON),
which also puts them in the cache key: changing a feature re-runs what depends on it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

NUMERIC = "numeric"
CATEGORICAL = "categorical"
BUCKETIZED = "bucketized"
FEATURE_KINDS = (NUMERIC, CATEGORICAL, BUCKETIZED)

AS_IS = "as_is"
GREATER_THAN = "greater_than"
GREATER_THAN_FRACTION_OF = "greater_than_fraction_of"
EQUALS = "equals"  # a text column: 1 where it holds `positive`
LABEL_RULES = (AS_IS, GREATER_THAN, GREATER_THAN_FRACTION_OF, EQUALS)
NUMERIC_RULES = (AS_IS, GREATER_THAN, GREATER_THAN_FRACTION_OF)  # read the column as a number

BINARY = "binary"  # 0/1 by a rule: one sigmoid score, AUC
MULTICLASS = "multiclass"  # one of `classes`: a softmax score per class, accuracy
REGRESSION = "regression"  # a number: one prediction, RMSE
LABEL_KINDS = (BINARY, MULTICLASS, REGRESSION)


def transformed_name(name: str) -> str:
    """The name Transform gives a feature; the only place the `_xf` suffix is spelled."""
    return f"{name}_xf"


@dataclasses.dataclass(frozen=True)
class Feature:
    """One raw CSV column the model uses, and how Transform turns it into model input.

    numeric: z-scored over observed values; a missing value becomes 0 (the training mean).
    categorical: vocabulary of the `top_k` most frequent values plus `oov_buckets` for unseen ones;
      a missing value is a category of its own. With `hash_buckets` set, values are hashed into
      that many ids instead: no vocabulary pass over the data (each vocabulary costs Transform
      several seconds of Beam stages), at the price of collisions.
    bucketized: `buckets` quantile buckets of observed values, plus one id for missing.
    """

    name: str
    kind: str
    top_k: int = 1000
    oov_buckets: int = 1
    hash_buckets: int | None = None
    buckets: int = 10


@dataclasses.dataclass(frozen=True)
class Label:
    """What the model predicts, and how it is derived from a raw column.

    kind binary (the rules below), multiclass (the column holds one of `classes`, text or
    integer codes; the label is the class's index) or regression (the column's number).

    as_is: the column already holds 0/1.
    greater_than: 1 when column > threshold.
    greater_than_fraction_of: 1 when column > threshold * of_column (taxi: tips > 0.2 * fare).
    equals: a text column, 1 where it holds `positive` (diagnosis = "malignant"); `negative`,
      when given, is what a negative answer is written as when labelled traffic becomes a span.
    A missing value in either column gives 0; the schema gate is what refuses missing labels.
    """

    name: str
    column: str
    rule: str = AS_IS
    threshold: float = 0.0
    of_column: str | None = None
    positive: str | None = None
    negative: str | None = None
    kind: str = BINARY
    classes: tuple[str, ...] = ()  # multiclass: the values, in the order of the model's scores

    @property
    def source_columns(self) -> tuple[str, ...]:
        """Raw columns the label reads; none of them may be a model feature (that is leakage)."""
        return (self.column,) + ((self.of_column,) if self.of_column else ())

    def derive(self, row: Mapping[str, Any]) -> float | None:
        """The label of one raw row, as `preprocessing.derive_label` computes it in the graph
        (a unit test holds the two together): for clients that have no TensorFlow. A
        multiclass value outside `classes`, or a missing regression target, is None."""
        if self.kind == MULTICLASS:
            text = _class_text(row.get(self.column))
            return self.classes.index(text) if text in self.classes else None

        def number(column: str | None) -> float | None:
            value = row.get(column) if column else None
            try:
                return float(value) if value not in (None, "") else None
            except (TypeError, ValueError):
                return None

        if self.rule == EQUALS:
            return int(str(row.get(self.column, "")).strip() == self.positive)
        value = number(self.column)
        if self.kind == REGRESSION:
            return value
        if value is None:
            return 0
        if self.rule == AS_IS:
            return int(value > 0.5)
        if self.rule == GREATER_THAN:
            return int(value > self.threshold)
        of = number(self.of_column)
        return int(of is not None and value > self.threshold * of)

    def underive(self, label: float, row: Mapping[str, Any]) -> dict[str, Any] | None:
        """Raw column values that `derive` turns into `label` given the row's other columns:
        how a labelled request becomes a training row again. The threshold rules keep only
        the side of the threshold the label tells (a tipper of 25% of the fare, or none).
        None when no value can: a positive fraction of a missing `of_column`, or a negative
        text label whose `negative` value the config does not give, or a class index out of
        range."""
        if self.kind == REGRESSION:
            return {self.column: float(label)}
        if self.kind == MULTICLASS:
            index = int(label)
            return {self.column: self.classes[index]} if 0 <= index < len(self.classes) else None
        label = int(label > 0.5)
        if self.rule == EQUALS:
            text = self.positive if label else self.negative
            return {self.column: text} if text is not None else None
        if self.rule == AS_IS:
            return {self.column: float(label)}
        if self.rule == GREATER_THAN:
            return {self.column: self.threshold + 1.0 if label else min(self.threshold, 0.0)}
        of = row.get(self.of_column)
        if of in (None, "") and label:
            return None
        bound = self.threshold * (float(of) if of not in (None, "") else 0.0)
        if not label:
            return {self.column: min(0.0, bound)}
        return {self.column: round(max(bound * 1.25, bound + 0.01), 2)}


def _class_text(value: Any) -> str:
    """A multiclass cell as the graph compares it: stripped text, an integer code as its
    digits ("2" whether read as 2, 2.0 or " 2")."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value if value is not None else "").strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


@dataclasses.dataclass(frozen=True)
class TrainingParams:
    """Hyperparameters of the wide-and-deep model; steps are sized so the default run is fast."""

    train_steps: int = 1000
    eval_steps: int = 100
    batch_size: int = 128
    learning_rate: float = 0.001
    hidden_units: tuple[int, ...] = (64, 32)
    embedding_dim: int = 8
    seed: int = 42


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Everything the model code needs from the config: features, label, hyperparameters."""

    features: tuple[Feature, ...]
    label: Label
    training: TrainingParams

    def of_kind(self, kind: str) -> tuple[Feature, ...]:
        return tuple(f for f in self.features if f.kind == kind)

    def to_json_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json_dict(cls, raw: Mapping[str, Any]) -> ModelConfig:
        """Inverse of `to_json_dict`, used inside the Transform and Trainer executors.

        Transform receives no `training` (hyperparameters are not in its cache key): defaults.
        """
        training = dict(raw.get("training", {}))
        if "hidden_units" in training:
            training["hidden_units"] = tuple(training["hidden_units"])
        label = dict(raw["label"])
        label["classes"] = tuple(label.get("classes", ()))
        return cls(
            features=tuple(Feature(**f) for f in raw["features"]),
            label=Label(**label),
            training=TrainingParams(**training),
        )
