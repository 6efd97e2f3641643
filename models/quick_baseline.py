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


def compare(
    train_batches: Iterable[tuple[dict, Any]],
    eval_batches: list[tuple[dict, Any]],
    our_scores: np.ndarray,
    inputs: F.ModelConfig,
    sizes: Mapping[str, int],
) -> dict[str, Any]:
    """Fit the baseline on `train_batches`; AUC of it and of `our_scores` on `eval_batches`."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    x_train, y_train = _design(train_batches, inputs, sizes)
    x_eval, y_eval = _design(eval_batches, inputs, sizes)
    both_classes = len(set(y_train)) > 1 and len(set(y_eval)) > 1
    if not both_classes:  # nothing to learn or to rank: say so rather than guess
        return {"model": "logistic regression", "eval_rows": int(len(y_eval)), "auc": None}
    baseline = LogisticRegression(max_iter=500).fit(x_train, y_train)
    return {
        "model": "logistic regression on the same transformed features",
        "train_rows": int(len(y_train)),
        "eval_rows": int(len(y_eval)),
        "auc": float(roc_auc_score(y_eval, baseline.predict_proba(x_eval)[:, 1])),
        "ours_auc": float(roc_auc_score(y_eval, our_scores)),
    }


def to_json(result: Mapping[str, Any]) -> str:
    return json.dumps(dict(result), sort_keys=True)
