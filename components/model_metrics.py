"""TFMA metrics TFMA lacks in the form a person reads: accuracy and macro-F1 (with each
class's precision and recall) of a model with a softmax score per class, and R² and RMSE of a
regression. The Evaluator loads them by name from this module (`pipeline.definition`), on any
runner: they are plain Beam combiners over TFMA's per-example label and prediction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import metric_types, metric_util


def _keys(name: str, model_name: str, output_name: str, example_weighted: bool, extra=()) -> list:
    return [
        metric_types.MetricKey(
            name=key,
            model_name=model_name,
            output_name=output_name,
            example_weighted=example_weighted,
        )
        for key in (name, *extra)
    ]


class _Combiner(beam.CombineFn):
    """Sums over (label, prediction, weight) triples; `outputs` turns them into metrics."""

    def __init__(self, keys: list, eval_config: Any, example_weighted: bool, classes: int = 0):
        self._keys, self._eval_config = keys, eval_config
        self._example_weighted, self._classes = example_weighted, classes

    def create_accumulator(self) -> np.ndarray:
        # multiclass: a confusion matrix (true x predicted); regression: n, Σy, Σy², Σ(y-p)².
        return np.zeros((self._classes, self._classes) if self._classes else 4)

    def add_input(self, accumulator: np.ndarray, element: Any) -> np.ndarray:
        for label, prediction, weight in metric_util.to_label_prediction_example_weight(
            element,
            eval_config=self._eval_config,
            model_name=self._keys[0].model_name,
            output_name=self._keys[0].output_name,
            example_weighted=self._example_weighted,
            flatten=False,
        ):
            weight = float(np.asarray(weight).reshape(-1)[0])
            if self._classes:
                true = int(np.asarray(label).reshape(-1)[0])
                if 0 <= true < self._classes:
                    accumulator[true, int(np.argmax(np.asarray(prediction).reshape(-1)))] += weight
                continue
            y = float(np.asarray(label).reshape(-1)[0])
            p = float(np.asarray(prediction).reshape(-1)[0])
            if math.isfinite(y):  # a missing target, allowed through the gate, is not scored
                accumulator += weight * np.array([1.0, y, y * y, (y - p) ** 2])
        return accumulator

    def merge_accumulators(self, accumulators: Iterable[np.ndarray]) -> np.ndarray:
        return sum(accumulators, self.create_accumulator())

    def extract_output(self, accumulator: np.ndarray) -> dict:
        return dict(zip(self._keys, self.outputs(accumulator), strict=True))

    def outputs(self, accumulator: np.ndarray) -> list[float]:
        raise NotImplementedError


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


class _Accuracy(_Combiner):
    def outputs(self, matrix: np.ndarray) -> list[float]:
        return [_ratio(np.trace(matrix), matrix.sum())]


class _MacroF1(_Combiner):
    """Macro-F1 over the classes present in the labels or predictions, then each class's
    precision and recall (NaN for a class never predicted, or never true)."""

    def outputs(self, matrix: np.ndarray) -> list[float]:
        hits = np.diag(matrix)
        predicted, true = matrix.sum(axis=0), matrix.sum(axis=1)
        precision = [_ratio(h, p) for h, p in zip(hits, predicted, strict=True)]
        recall = [_ratio(h, t) for h, t in zip(hits, true, strict=True)]
        f1 = [
            0.0 if (p != p or r != r or p + r == 0) else 2 * p * r / (p + r)
            for p, r in zip(precision, recall, strict=True)
        ]
        seen = [f for f, t, p in zip(f1, true, predicted, strict=True) if t or p]
        return [float(np.mean(seen)) if seen else math.nan, *precision, *recall]


class _RSquared(_Combiner):
    def outputs(self, sums: np.ndarray) -> list[float]:
        n, total, squares, errors = sums
        spread = squares - total * total / n if n else 0.0
        return [1.0 - errors / spread if spread > 0 else math.nan]


class _RootMeanSquaredError(_Combiner):
    def outputs(self, sums: np.ndarray) -> list[float]:
        return [math.sqrt(sums[3] / sums[0]) if sums[0] else math.nan]


def _metric(combiner: type, name: str, extra: Any = None) -> type:
    """A TFMA Metric class computing `name` (and `extra(classes)` keys) with `combiner`."""

    def computations(
        name: str = name,
        classes: tuple[str, ...] = (),
        eval_config: Any = None,
        model_name: str = "",
        output_name: str = "",
        example_weighted: bool = False,
        **_: Any,
    ) -> list:
        keys = _keys(
            name, model_name, output_name, example_weighted, extra(classes) if extra else ()
        )
        combined = combiner(keys, eval_config, example_weighted, len(classes))
        return [metric_types.MetricComputation(keys=keys, preprocessors=None, combiner=combined)]

    class Metric(metric_types.Metric):
        def __init__(self, name: str = name, classes: list[str] | None = None):
            super().__init__(
                metric_util.merge_per_key_computations(computations),
                name=name,
                classes=tuple(classes or ()),
            )

    return Metric


def _per_class(classes: tuple[str, ...]) -> list[str]:
    return [f"precision/{c}" for c in classes] + [f"recall/{c}" for c in classes]


MulticlassAccuracy = _metric(_Accuracy, "accuracy")
MacroF1Score = _metric(_MacroF1, "macro_f1_score", _per_class)
RSquared = _metric(_RSquared, "r_squared")
RootMeanSquaredError = _metric(_RootMeanSquaredError, "root_mean_squared_error")
