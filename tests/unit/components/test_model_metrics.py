"""Our TFMA metrics agree with scikit-learn on the same labels and predictions, fed through
TFMA's own per-example inputs as the Evaluator feeds them."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow_model_analysis as tfma
from sklearn.metrics import accuracy_score, f1_score, precision_score, r2_score, recall_score
from tensorflow_model_analysis.metrics import metric_types

from components import model_metrics

CLASSES = ["a", "b", "c"]


def _computed(metric, labels, predictions) -> dict[str, float]:
    """The metric's values by name, over examples one at a time, in two merged halves."""
    [computation] = metric.computations(eval_config=tfma.EvalConfig(model_specs=[tfma.ModelSpec()]))
    combiner = computation.combiner
    halves = []
    for part in (slice(0, len(labels) // 2), slice(len(labels) // 2, None)):
        accumulator = combiner.create_accumulator()
        for label, prediction in zip(labels[part], predictions[part], strict=True):
            inputs = metric_types.StandardMetricInputs(
                labels=np.array([label]),
                predictions=np.asarray(prediction).reshape(-1),
                example_weights=np.array([1.0]),
            )
            accumulator = combiner.add_input(accumulator, inputs)
        halves.append(accumulator)
    output = combiner.extract_output(combiner.merge_accumulators(halves))
    return {key.name: value for key, value in output.items()}


@pytest.fixture(scope="module")
def classified():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 300)
    scores = rng.random((300, 3)) + np.eye(3)[labels] * rng.random((300, 1)) * 1.5
    return labels, scores / scores.sum(axis=1, keepdims=True)


def test_accuracy_is_the_share_of_top_scores_on_the_true_class(classified):
    labels, scores = classified
    got = _computed(model_metrics.MulticlassAccuracy(classes=CLASSES), labels, scores)
    assert got["accuracy"] == pytest.approx(accuracy_score(labels, scores.argmax(axis=1)))


def test_macro_f1_and_each_class_precision_and_recall(classified):
    labels, scores = classified
    predicted = scores.argmax(axis=1)
    got = _computed(model_metrics.MacroF1Score(classes=CLASSES), labels, scores)
    assert got["macro_f1_score"] == pytest.approx(f1_score(labels, predicted, average="macro"))
    precision = precision_score(labels, predicted, average=None)
    recall = recall_score(labels, predicted, average=None)
    for index, name in enumerate(CLASSES):
        assert got[f"precision/{name}"] == pytest.approx(precision[index])
        assert got[f"recall/{name}"] == pytest.approx(recall[index])


def test_a_class_never_predicted_has_no_precision_rather_than_zero():
    labels = np.array([0, 1, 2, 2])
    scores = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.1, 0.6, 0.3]])
    got = _computed(model_metrics.MacroF1Score(classes=CLASSES), labels, scores)
    assert np.isnan(got["precision/c"]) and got["recall/c"] == 0.0


def test_r_squared_and_rmse_in_the_targets_units():
    rng = np.random.default_rng(5)
    target = rng.normal(300_000, 80_000, 400)
    predicted = target + rng.normal(0, 20_000, 400)
    r2 = _computed(model_metrics.RSquared(), target, predicted)["r_squared"]
    rmse = _computed(model_metrics.RootMeanSquaredError(), target, predicted)
    assert r2 == pytest.approx(r2_score(target, predicted))
    assert rmse["root_mean_squared_error"] == pytest.approx(
        np.sqrt(np.mean((target - predicted) ** 2))
    )


def test_a_constant_target_has_no_r_squared():
    got = _computed(model_metrics.RSquared(), np.full(10, 5.0), np.arange(10.0))
    assert np.isnan(got["r_squared"])
