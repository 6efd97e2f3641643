"""The pictures on a run's page say what the figures say: histograms of different spans are
folded into the same buckets without losing or inventing mass, calibration folds TFMA's 1,000
buckets into 10, curves stay on the unit square, and the lineage is drawn top-down from the
data with each artifact below all its inputs."""

from __future__ import annotations

import re

import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from metadata.evaluation import EvaluationView, _calibration, curves_from
from reports import html as H
from reports.run_graph import _layers, _Node
from reports.run_report import _rebinned, _short


def _buckets(*spec: tuple[float, float, float]) -> list:
    return [
        statistics_pb2.Histogram.Bucket(low_value=low, high_value=high, sample_count=count)
        for low, high, count in spec
    ]


def test_a_histogram_folded_into_its_own_buckets_is_unchanged():
    buckets = _buckets((0, 1, 10), (1, 2, 30), (2, 4, 60))
    edges = [(b.low_value, b.high_value) for b in buckets]
    assert _rebinned(buckets, edges) == pytest.approx([0.1, 0.3, 0.6])


def test_counts_spread_evenly_over_a_bucket_and_what_falls_outside_is_not_shown():
    other = _buckets((0, 2, 40), (2, 6, 60))  # 60 spread over 2..6: 30 in 2..4, 30 beyond
    edges = [(0, 1), (1, 2), (2, 4)]
    assert _rebinned(other, edges) == pytest.approx([0.2, 0.2, 0.3])


def test_a_single_value_counts_once_in_the_bucket_holding_it():
    constant = _buckets((3, 3, 50))
    assert _rebinned(constant, [(0, 3), (3, 6)]) == pytest.approx([1.0, 0.0])


def test_bucket_edges_are_short_enough_to_read_under_a_bar():
    assert [_short(v) for v in (-87.63, 7210.0, 1.39e9, 0.5)] == ["-87.6", "7.21k", "1.39G", "0.5"]


def test_calibration_folds_a_thousand_buckets_into_ten_by_score():
    buckets = [
        {
            "lowerThresholdInclusive": i / 1000 if i else "-Infinity",
            "numWeightedExamples": 2.0,
            "totalWeightedLabel": 1.0 if i >= 500 else 0.0,
            "totalWeightedRefinedPrediction": 2.0 * i / 1000,
        }
        for i in range(1000)
    ]
    bins = _calibration(buckets)
    assert len(bins) == 10 and [n for _, _, n in bins] == [200.0] * 10
    assert [rate for _, rate, _ in bins] == [0.0] * 5 + [0.5] * 5
    assert bins[0][0] == pytest.approx(0.0495, abs=1e-4)  # mean score of 0.000..0.099


def test_a_curve_stays_on_its_unit_square():
    svg = H.curve("ROC", {"candidate": [(-0.1, 0.0), (0.5, 1.2), (1.0, 1.0)]}, ("x", "y"), True)
    points = [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+),(-?[\d.]+)", svg)]
    assert len(points) == 5  # three on the curve, two on the chance line
    assert all(34 <= v <= 220 - 34 for point in points for v in point)
    assert "stroke-dasharray" in svg


def test_curves_follow_the_thresholds_from_the_highest_down():
    """TFMA's matrices in its own order (lowest threshold first), a count of 0 left out of
    its dict, NaN as text: the curves start at the strictest threshold and keep TFMA's order."""
    matrices = [
        {
            "threshold": -1e-06,
            "truePositives": 10.0,
            "falsePositives": 40.0,
            "precision": 0.2,
            "recall": 1.0,
            "falsePositiveRate": 1.0,
        },
        {
            "threshold": 0.5,
            "truePositives": 6.0,
            "falsePositives": 4.0,
            "precision": 0.6,
            "recall": 0.6,
            "falsePositiveRate": 0.1,
        },
        {"threshold": 0.9, "truePositives": 6.0, "precision": 1.0, "recall": 0.6},
        {"threshold": 1.0, "precision": "NaN"},
    ]
    curves = curves_from({"confusionMatrixAtThresholds": {"matrices": matrices}})
    assert curves.roc == [(0.0, 0.0), (0.0, 0.6), (0.1, 0.6), (1.0, 1.0)]
    assert curves.precision_recall == [(0.6, 1.0), (0.6, 0.6), (1.0, 0.2)]
    assert curves_from({}) is None  # an evaluation from before the plots


def test_slices_are_compared_with_the_baseline_where_both_are_defined():
    view = EvaluationView(
        candidate={
            "overall": {"auc": 0.90, "recall": 0.5, "example_count": 300.0},
            "hour=1": {"auc": 0.70, "recall": 0.4, "example_count": 40.0},
            "hour=2": {"auc": 0.0, "recall": float("nan"), "example_count": 9.0},
        },
        baseline={
            "overall": {"auc": 0.91, "recall": 0.5},
            "hour=1": {"auc": 0.80, "recall": 0.5},
            "hour=2": {"auc": 0.5, "recall": 0.2},
        },
        curves=None,
        baseline_curves=None,
        failures=[],
    )
    changes = view.changes()
    assert [(c.slice, c.examples, round(c.change, 4)) for c in changes] == [
        ("hour=1", 40, -0.1),
        ("overall", 300, -0.01),
    ]  # hour=2 has no positive label: its AUC is undefined, not 0


def test_each_artifact_sits_below_all_its_inputs_and_near_them():
    nodes = {i: _Node(i, f"A{i}", "", earlier=False) for i in range(1, 6)}
    # 1 -> 3, 2 -> 3, 3 -> 4, 1 -> 4, 4 -> 5: 5 is three layers below the data
    edges = {(1, 3), (2, 3), (3, 4), (1, 4), (4, 5)}
    _layers(nodes, edges)
    assert {i: n.layer for i, n in nodes.items()} == {1: 0, 2: 0, 3: 1, 4: 2, 5: 3}
    for source, target in edges:
        assert nodes[source].layer < nodes[target].layer
