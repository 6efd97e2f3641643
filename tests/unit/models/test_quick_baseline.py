"""The quick baseline is a real logistic regression on the transformed features, scored on
the very rows our model is scored on: a linear signal it finds, and it says when there is
nothing to rank rather than inventing an AUC."""

from __future__ import annotations

import numpy as np

from models import features as F
from models.quick_baseline import compare, read

INPUTS = F.ModelConfig(
    features=(F.Feature("fare", F.NUMERIC), F.Feature("payment_type", F.CATEGORICAL)),
    label=F.Label("big_tipper", "tips"),
    training=F.TrainingParams(),
)
SIZES = {"payment_type": 3}


def _batches(rows: int, seed: int, batch: int = 50) -> list:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(0, rows, batch):
        fare = rng.normal(size=(batch, 1)).astype(np.float32)
        payment = rng.integers(0, 3, size=(batch, 1))
        odds = 2.0 * fare[:, 0] + np.where(payment[:, 0] == 1, 2.0, -1.0)
        label = (rng.random(batch) < 1 / (1 + np.exp(-odds))).astype(np.int64)
        out.append(({"fare_xf": fare, "payment_type_xf": payment}, label.reshape(-1, 1)))
    return out


def test_a_linear_signal_is_found_and_both_are_scored_on_the_same_rows():
    train, evaluation = _batches(2000, seed=1), _batches(500, seed=2)
    ours = np.concatenate([2.0 * f["fare_xf"][:, 0] for f, _ in evaluation])  # fare only
    result = compare(train, evaluation, ours, INPUTS, SIZES)
    assert result["train_rows"] == 2000 and result["eval_rows"] == 500
    assert result["metric"] == "auc"
    assert result["baseline"] > 0.8 and result["baseline"] > result["ours"]  # it uses payment too


def test_one_class_gives_no_auc_rather_than_a_made_up_one():
    train, evaluation = _batches(200, seed=1), _batches(100, seed=2)
    one_class = [(f, np.zeros_like(y)) for f, y in evaluation]
    result = compare(train, one_class, np.zeros(100), INPUTS, SIZES)
    assert result["baseline"] is None and result["ours"] is None and result["eval_rows"] == 100


def test_a_comparison_written_before_figures_were_named_reads_as_auc():
    old = {"model": "logistic regression", "eval_rows": 9, "auc": 0.93, "ours_auc": 0.94}
    assert (read(old)["metric"], read(old)["baseline"], read(old)["ours"]) == ("auc", 0.93, 0.94)
    assert read(None) is None


def test_rows_without_a_valid_label_are_left_out_of_both_scores():
    inputs = F.ModelConfig(
        features=INPUTS.features,
        label=F.Label("grade", "g", kind=F.MULTICLASS, classes=("a", "b", "c")),
        training=F.TrainingParams(),
    )
    train, evaluation = _batches(600, seed=1), _batches(100, seed=2)
    # Class "c" is never seen, and half the "a" rows hold a value outside the classes (-1).
    train = [
        (f, np.where((y == 0) & (np.arange(len(y)) % 2 == 0)[:, None], -1, y)) for f, y in train
    ]
    ours = np.tile([0.2, 0.5, 0.3], (100, 1))
    result = compare(train, evaluation, ours, inputs, SIZES)
    assert result["metric"] == "accuracy" and result["baseline"] is not None
    assert result["train_rows"] < 600  # the -1 rows are not learnt from
