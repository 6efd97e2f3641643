"""A quick baseline beside our model: logistic regression on the same transformed features
(numbers as Transform scaled them, one column per category id), trained and scored on the same
batches as ours. The practice asks for one first: a wide-and-deep model that does not beat a
linear one on the same split is not earning its cost.

Written by the Trainer to its ModelRun folder (`QUICK_BASELINE_FILE`), read back with the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from models import features as F

QUICK_BASELINE_FILE = "quick_baseline.json"
MAX_TRAIN_BATCHES = 100  # enough rows for a linear model; bounded for big spans
# The one figure ours and the baseline are compared on, per label kind (higher is better).
KEY_METRICS = {F.BINARY: "auc", F.MULTICLASS: "accuracy", F.REGRESSION: "r_squared"}


def _design(
    batches: Iterable[tuple[dict, Any]], inputs: F.ModelConfig, sizes: Mapping[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(matrix, labels) of the batches: a column per number, one per category id. Dense
    float32 (numpy only: the Kubeflow image has no more than TFX's pins): 100 batches of
    the taxi features are 12,800 x 620, 32 MB."""
    blocks, labels = [], []
    for features, batch_labels in batches:
        columns = []
        for feature in inputs.features:
            values = np.asarray(features[F.transformed_name(feature.name)]).reshape(-1)
            if feature.kind == F.NUMERIC:
                columns.append(values.astype(np.float32).reshape(-1, 1))
                continue
            size = sizes[feature.name]
            ids = np.clip(values.astype(np.int64), 0, size - 1)
            columns.append(np.eye(size, dtype=np.float32)[ids])
        blocks.append(np.hstack(columns))
        labels.append(np.asarray(batch_labels).reshape(-1))
    return np.vstack(blocks), np.concatenate(labels)


def labelled(kind: str, y: np.ndarray) -> np.ndarray:
    """Which rows hold a valid label: a class index (not -1, a value outside the classes) or a
    finite target; only rows the gate was told to allow lack one."""
    if kind == F.MULTICLASS:
        return y >= 0
    return np.isfinite(y.astype(np.float64)) if kind == F.REGRESSION else np.ones(len(y), bool)


def score(kind: str, y_true: np.ndarray, y_score: np.ndarray) -> float | None:
    """The kind's key metric of scores against labels; None when it is undefined (one class
    only, or a constant target)."""
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

    if kind == F.MULTICLASS:
        return float(accuracy_score(y_true, y_score.argmax(axis=1))) if len(y_true) else None
    if kind == F.REGRESSION:
        return float(r2_score(y_true, y_score)) if len(set(y_true)) > 1 else None
    return float(roc_auc_score(y_true, y_score)) if len(set(y_true)) > 1 else None


def compare(
    train_batches: Iterable[tuple[dict, Any]],
    eval_batches: list[tuple[dict, Any]],
    our_scores: np.ndarray,
    inputs: F.ModelConfig,
    sizes: Mapping[str, int],
) -> dict[str, Any]:
    """Fit the baseline on `train_batches`: a logistic regression (binary, multinomial for
    classes) or a ridge regression; the key metric of it and of `our_scores` on
    `eval_batches`."""
    from sklearn.linear_model import LogisticRegression, Ridge

    kind = inputs.label.kind
    x_train, y_train = _design(train_batches, inputs, sizes)
    x_eval, y_eval = _design(eval_batches, inputs, sizes)
    known = labelled(kind, y_train)
    x_train, y_train = x_train[known], y_train[known]
    known = labelled(kind, y_eval)
    x_eval, y_eval, our_scores = x_eval[known], y_eval[known], our_scores[known]
    result: dict[str, Any] = {
        "metric": KEY_METRICS[kind],
        "train_rows": int(len(y_train)),
        "eval_rows": int(len(y_eval)),
        "baseline": None,
        "ours": score(kind, y_eval, our_scores),
    }
    if kind == F.REGRESSION:
        model = Ridge(alpha=1.0).fit(x_train, y_train)
        result["model"] = "ridge regression on the same transformed features"
        result["baseline"] = score(kind, y_eval, model.predict(x_eval))
        return result
    result["model"] = "logistic regression on the same transformed features"
    if len(set(y_train)) < 2:  # nothing to learn: say so rather than guess
        return result
    model = LogisticRegression(max_iter=500).fit(x_train, y_train)
    predicted = model.predict_proba(x_eval)
    if kind == F.MULTICLASS:  # a class absent from the baseline's rows scores 0
        full = np.zeros((len(y_eval), len(inputs.label.classes)))
        full[:, model.classes_.astype(int)] = predicted
        result["baseline"] = score(kind, y_eval, full)
    else:
        result["baseline"] = score(kind, y_eval, predicted[:, 1])
    return result


def read(result: Any) -> dict[str, Any] | None:
    """A comparison as `compare` returns it, also from a file or run fact written before the
    figures were named by metric (`auc`, `ours_auc`: a binary label's); None if not one."""
    if not isinstance(result, Mapping):
        return None
    if "metric" in result or "auc" not in result:
        return dict(result)
    old = dict(result)
    return {**old, "metric": "auc", "baseline": old.pop("auc"), "ours": old.pop("ours_auc", None)}


def save(model_run_dir: str, result: Mapping[str, Any]) -> None:
    """Write the comparison to the Trainer's ModelRun folder (any filesystem TF reads)."""
    import tensorflow as tf

    tf.io.gfile.makedirs(model_run_dir)
    with tf.io.gfile.GFile(f"{model_run_dir}/{QUICK_BASELINE_FILE}", "w") as f:
        f.write(json.dumps(dict(result), sort_keys=True))


def load(model_run_uri: str | None) -> dict[str, Any] | None:
    """The comparison the Trainer wrote to its ModelRun folder; None when it wrote none."""
    import tensorflow as tf

    path = f"{model_run_uri}/{QUICK_BASELINE_FILE}" if model_run_uri else None
    if path is None or not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as f:
        return read(json.loads(f.read()))
