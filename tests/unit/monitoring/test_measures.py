"""What a slice of traffic measures, on real TFDV statistics: typed inputs, missing values,
unseen categories, quality against labels, and score shift by the gate's comparator."""

from __future__ import annotations

import random

import pytest

from monitoring import measures
from monitoring.traffic import Scored
from pipeline.schema import read_schema
from tests.conftest import ROOT

SCHEMA = read_schema(ROOT / "schema" / "taxi" / "schema.pbtxt")


def _scored(features=None, score=0.5, label=None) -> Scored:
    return Scored(0.0, "r", 0, 1, "live", features or {}, score, 1.0, label)


def test_inputs_are_typed_by_the_schema_and_missing_values_counted():
    rows = [
        _scored({"fare": 5, "payment_type": "Cash", "trip_start_hour": 3.0}),
        _scored({"fare": None, "payment_type": "Bitcoin", "trip_start_hour": 4}),
        _scored({"payment_type": "Cash"}),
    ]
    inputs = measures.inputs_of(rows, SCHEMA)
    stats = inputs.statistics
    features = {f.path.step[0]: f for f in stats.datasets[0].features}
    assert stats.datasets[0].num_examples == 3
    assert features["fare"].num_stats.common_stats.num_non_missing == 2  # a null is present, empty
    assert features["trip_start_hour"].type == 0  # INT, as the schema says, though sent as 3.0
    assert inputs.missing["fare"] == pytest.approx(2 / 3)  # null, and left out
    assert measures.unseen_categories(rows, SCHEMA) == {"payment_type": {"Bitcoin": 1}}
    kinds = {f.kind for f in measures.schema_findings("w", stats, SCHEMA)}
    assert "ENUM_TYPE_UNEXPECTED_STRING_VALUES" in kinds


def test_quality_is_measured_on_labelled_scored_rows_only():
    rows = [
        _scored(score=0.9, label=1),
        _scored(score=0.8, label=0),
        _scored(score=0.2, label=0),
        _scored(score=0.6, label=1),
        _scored(score=None, label=1),
        _scored(score=0.7),
    ]
    quality = measures.quality(rows)
    assert (quality.labels, quality.positives) == (4, 2)
    assert quality.auc == pytest.approx(0.75)
    assert quality.precision == pytest.approx(2 / 3) and quality.recall == 1.0
    one_class = measures.quality([_scored(score=0.4, label=0)])
    assert (one_class.auc, one_class.precision, one_class.recall) == (None, None, None)


def test_score_shift_is_small_for_the_same_distribution_and_large_for_a_moved_one():
    draw = random.Random(0)
    before = [_scored(score=draw.betavariate(2, 5)) for _ in range(2000)]
    same = [_scored(score=draw.betavariate(2, 5)) for _ in range(2000)]
    moved = [_scored(score=draw.betavariate(5, 2)) for _ in range(2000)]
    baseline = measures.score_statistics(before)
    quiet = measures.score_shift(measures.score_statistics(same), baseline, 0.1)
    loud = measures.score_shift(measures.score_statistics(moved), baseline, 0.1)
    assert quiet.value < 0.1 < loud.value and loud.exceeded and not quiet.exceeded


def test_percentile_is_nearest_rank():
    assert measures.percentile([], 99) is None
    assert measures.percentile(list(range(1, 101)), 99) == 99
    assert measures.percentile([5.0], 50) == 5.0
