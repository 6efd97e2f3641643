"""The gate's decisions: anomalies, row counts, drift values and label health become findings;
findings listed in `allow` are accepted and reported as such."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2

from cli.render import gate_report, gate_stop
from components.example_gate import stop_message
from components.validation import (
    Finding,
    GateReport,
    LabelCounts,
    LabelLimits,
    Validation,
    anomaly_findings,
    count_findings,
    label_findings,
    measurements,
    with_quantile_histograms,
)

LIMITS = LabelLimits(max_missing_rate=0.0, max_rate_change=0.1, max_split_gap=0.05)


def _anomalies() -> anomalies_pb2.Anomalies:
    anomalies = anomalies_pb2.Anomalies()
    info = anomalies.anomaly_info["payment_type"]
    info.description = "Examples contain values missing from the schema: Bitcoin (~3%)."
    reason = info.reason.add()
    reason.type = anomalies_pb2.AnomalyInfo.ENUM_TYPE_UNEXPECTED_STRING_VALUES
    reason.description = "Examples contain values missing from the schema: Bitcoin (~3%)."
    return anomalies


def test_each_anomaly_reason_becomes_a_finding_naming_split_feature_and_kind():
    (finding,) = anomaly_findings("eval", _anomalies())
    assert (finding.split, finding.feature, finding.kind) == (
        "eval",
        "payment_type",
        "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
    )
    assert "Bitcoin" in str(finding)


def test_no_anomalies_no_findings():
    assert anomaly_findings("train", anomalies_pb2.Anomalies()) == []


def test_a_split_with_too_few_examples_is_a_finding():
    assert count_findings("train", 0, 100)[0].kind == "TOO_FEW_EXAMPLES"
    assert count_findings("train", 100, 100) == []


def test_a_small_file_that_misses_by_chance_is_told_the_minimum_that_fits_it():
    """344 rows split 2:1 by hash: eval expects about 115, got 90 this time."""
    [finding] = count_findings("eval", 90, 100, span_rows=344, share=1 / 3)
    assert finding.description == (
        "90 examples, at least 100 required (by chance: the span's 344 rows give eval about "
        "115 ± 26 by hash; a validation.min_examples_per_split of at most 88 fits a file "
        "this size)"
    )
    [far_below] = count_findings("eval", 10, 100, span_rows=344, share=1 / 3)
    assert "(the span's 344 rows" in far_below.description  # 10 against 115 ± 26: not chance
    [tiny] = count_findings("eval", 1, 100, span_rows=3, share=1 / 3)
    assert tiny.description.endswith("the span is too small for this split: add rows)")
    [too_small] = count_findings("eval", 20, 100, span_rows=60, share=1 / 3)
    assert "(the span's 60 rows give eval about 20 ± 11" in too_small.description
    assert "at most 9 fits" in too_small.description


def test_label_missing_rate_change_and_split_gap_are_findings_with_their_figures():
    counts = {
        "train": LabelCounts(rows=1000, missing=10, positives=400),
        "eval": LabelCounts(rows=500, missing=0, positives=100),
    }
    findings = label_findings(
        "big_tipper", counts, previous_rate=0.2, previous_span=3, limits=LIMITS
    )
    assert [(f.split, f.kind) for f in findings] == [
        ("train", "LABEL_MISSING"),
        ("train", "LABEL_RATE_CHANGE"),
        ("eval", "LABEL_SPLIT_GAP"),
    ]
    assert "0.400 against 0.200 in span 3" in findings[1].description
    assert "0.200 in eval against 0.400 in train" in findings[2].description


def test_a_healthy_label_has_no_findings_and_the_first_span_has_no_rate_change():
    counts = {"train": LabelCounts(1000, 0, 250), "eval": LabelCounts(500, 0, 120)}
    assert label_findings("y", counts, previous_rate=0.27, previous_span=1, limits=LIMITS) == []
    assert label_findings("y", counts, previous_rate=None, previous_span=None, limits=LIMITS) == []


def test_allow_accepts_exactly_the_named_kind_and_feature():
    finding = Finding("train", "company", "COMPARATOR_L_INFTY_HIGH", "0.3 > 0.12")
    assert (
        finding.allowed_by(["COMPARATOR_L_INFTY_HIGH:company"]) == "COMPARATOR_L_INFTY_HIGH:company"
    )
    assert finding.allowed_by(["COMPARATOR_L_INFTY_HIGH:*"]) == "COMPARATOR_L_INFTY_HIGH:*"
    assert finding.allowed_by(["COMPARATOR_L_INFTY_HIGH:fare", "LABEL_MISSING:company"]) is None


def _report(allow: list[str]) -> GateReport:
    findings = anomaly_findings("eval", _anomalies()) + count_findings("train", 0, 1)
    return GateReport(
        span=5,
        previous_span=4,
        label="big_tipper",
        label_counts={"train": LabelCounts(0, 0, 0)},
        previous_label_rate=0.27,
        measurements=[],
        findings=findings,
        allow=allow,
    )


@pytest.mark.parametrize("message", [stop_message, gate_stop], ids=["in-the-log", "tfxp-run"])
def test_a_stop_lists_every_blocking_finding_and_where_the_report_is(message):
    text = message(_report([]), "/runs/reports/span-5.json")
    assert "2 findings" in text
    assert "split 'eval', feature 'payment_type'" in text
    assert "split 'train', feature '<dataset>': TOO_FEW_EXAMPLES" in text
    assert "/runs/reports/span-5.json" in text


def test_allowed_findings_do_not_block_and_unused_entries_are_noted():
    report = _report(["ENUM_TYPE_UNEXPECTED_STRING_VALUES:payment_type", "LABEL_MISSING:tips"])
    assert [f.kind for f in report.blocking] == ["TOO_FEW_EXAMPLES"]
    text = "\n".join(gate_report(report))
    assert "ALLOWED by ENUM_TYPE_UNEXPECTED_STRING_VALUES:payment_type" in text
    assert "allow entry LABEL_MISSING:tips matched nothing" in text


def test_the_report_survives_json_and_an_older_report_still_reads():
    report = dataclasses.replace(_report(["LABEL_MISSING:tips"]), unmeasured=["trip_seconds"])
    assert GateReport.from_json(report.to_json()) == report
    older = json.loads(report.to_json())
    del older["unmeasured"]  # written before the field existed
    assert GateReport.from_json(json.dumps(older)).unmeasured == []


def test_features_without_a_drift_comparator_are_said_to_be_unmeasured():
    report = dataclasses.replace(_report([]), unmeasured=["company", "trip_seconds"])
    text = "\n".join(gate_report(report))
    assert (
        "  drift not measured for company, trip_seconds (no drift_comparator in the schema)" in text
    )
    first = dataclasses.replace(report, previous_span=None)  # nothing to measure against yet
    assert "drift not measured for company" not in "\n".join(gate_report(first))


def test_the_validation_limits_cross_into_the_gate_typed():
    limits = Validation(
        min_examples_per_split=100,
        label=LIMITS,
        allow=("LABEL_MISSING:tips",),
        split_shares=(("train", 2 / 3), ("eval", 1 / 3)),
    )
    assert Validation.from_json(limits.to_json()) == limits


def _stats(values: np.ndarray):
    return tfdv.generate_statistics_from_dataframe(pd.DataFrame({"fare": values}))


def _fare_schema() -> schema_pb2.Schema:
    schema = schema_pb2.Schema()
    feature = schema.feature.add(name="fare", type=schema_pb2.FLOAT)
    feature.drift_comparator.jensen_shannon_divergence.threshold = 0.2
    return schema


def _divergence(current, previous) -> float:
    anomalies = tfdv.validate_statistics(current, _fare_schema(), previous_statistics=previous)
    (row,) = measurements(anomalies)
    return row.value


@pytest.fixture(scope="module")
def fares():
    rng = np.random.default_rng(0)
    return rng.lognormal(2.0, 0.5, 2000), rng.lognormal(2.0, 0.5, 2000)


def test_one_outlier_is_not_drift_on_quantile_histograms(fares):
    before, after = fares
    with_outlier = np.append(after, 700.0)
    raw = _divergence(_stats(with_outlier), _stats(before))
    quantile = _divergence(
        with_quantile_histograms(_stats(with_outlier)), with_quantile_histograms(_stats(before))
    )
    assert raw > 0.4  # TFDV's equal-width histograms: 0.54 here
    assert quantile < 0.15


def test_a_shifted_distribution_is_drift_on_quantile_histograms(fares):
    before, after = fares
    value = _divergence(
        with_quantile_histograms(_stats(after * 2)), with_quantile_histograms(_stats(before))
    )
    assert value > 0.25  # 0.31; unshifted: 0.02


def test_a_split_gap_within_sampling_noise_of_a_small_span_is_not_a_finding():
    """535 train / 298 eval rows (span 4): 3 standard errors of the gap are ~0.096."""
    train, evaluation = LabelCounts(535, 0, 148), LabelCounts(298, 0, 62)  # 0.277 vs 0.208
    assert 0.05 < train.positive_rate - evaluation.positive_rate < 0.096
    assert label_findings("y", {"train": train, "eval": evaluation}, None, None, LIMITS) == []
    large = {"train": LabelCounts(53500, 0, 14800), "eval": LabelCounts(29800, 0, 6200)}
    (finding,) = label_findings("y", large, None, None, LIMITS)
    assert finding.kind == "LABEL_SPLIT_GAP" and "3 standard errors" in finding.description


def test_skew_findings_get_their_own_kind_so_allowing_drift_leaves_them():
    anomalies = anomalies_pb2.Anomalies()
    reason = anomalies.anomaly_info["company"].reason.add()
    reason.type = anomalies_pb2.AnomalyInfo.COMPARATOR_L_INFTY_HIGH
    reason.description = "The Linfty distance between training and serving is 0.3"
    (skew,) = anomaly_findings("train", anomalies, only_comparators=True, kind_prefix="SKEW_")
    assert skew.kind == "SKEW_COMPARATOR_L_INFTY_HIGH"
    assert skew.allowed_by(["COMPARATOR_L_INFTY_HIGH:company"]) is None
    assert skew.allowed_by(["SKEW_COMPARATOR_L_INFTY_HIGH:company"])


def test_only_comparator_findings_are_kept_from_a_drift_comparison():
    anomalies = _anomalies()
    assert anomaly_findings("train", anomalies, only_comparators=True) == []


def test_reports_are_named_after_the_execution_locally_its_pod_on_kfp_and_unique_on_vertex(
    monkeypatch,
):
    from components.example_gate import AcceptedSpan, _report_key
    from metadata.names import KFP_POD_UID_ENV
    from metadata.verdicts import gate_report_path

    local, remote_a, remote_b = AcceptedSpan(), AcceptedSpan(), AcceptedSpan()
    local.uri = "/out/pipeline_root/ExampleGate/accepted/17"
    remote_a.uri = "gs://b/root/taxi-20261123/ExampleGate_123/accepted"
    remote_b.uri = "gs://b/root/taxi-20261124/ExampleGate_456/accepted"
    monkeypatch.delenv(KFP_POD_UID_ENV, raising=False)
    assert _report_key(local) == "17"
    assert _report_key(remote_a) != _report_key(remote_b)
    monkeypatch.setenv(KFP_POD_UID_ENV, "0f5c-pod")
    assert _report_key(remote_a) == "0f5c-pod"
    assert _report_key(local) == "17"
    assert gate_report_path("/out/pipeline_root/CsvExampleGen/examples/3", 4, "17") == (
        "/out/pipeline_root/ExampleGate/reports/span-4-17.json"
    )


def test_inf_or_nan_in_a_numeric_feature_is_a_finding_naming_it():
    from components.validation import NON_FINITE, non_finite_findings

    frame = pd.DataFrame({"fare": [1.0, float("inf"), 3.0], "miles": [1.0, 2.0, 3.0]})
    stats = tfdv.generate_statistics_from_dataframe(frame)
    [finding] = non_finite_findings("train", stats)
    assert (finding.split, finding.feature, finding.kind) == ("train", "fare", NON_FINITE)
    assert "inf" in finding.description
    finite = tfdv.generate_statistics_from_dataframe(frame.replace(float("inf"), 2.0))
    assert non_finite_findings("train", finite) == []


def _classes(rows: int, counts: tuple[int, ...], unknown: int = 0) -> LabelCounts:
    return LabelCounts(
        rows, 0, 0, classes=counts, unknown=unknown, kind="multiclass", class_names=("a", "b", "c")
    )


def test_a_multiclass_label_outside_its_classes_is_a_finding_per_split():
    counts = {
        "train": _classes(600, (200, 200, 190), unknown=10),
        "eval": _classes(300, (100,) * 3),
    }
    [finding] = label_findings("grade", counts, None, None, LIMITS)
    assert (finding.split, finding.kind) == ("train", "LABEL_UNKNOWN_CLASS")
    assert "10 of 600 rows" in finding.description


def test_each_class_share_is_compared_across_splits_allowing_for_three_comparisons():
    balanced = {"train": _classes(600, (200, 200, 200)), "eval": _classes(300, (100, 100, 100))}
    assert label_findings("grade", balanced, None, None, LIMITS) == []
    # 0.333 against 0.467: 3.9 standard errors, beyond what three classes explain by chance.
    moved = {"train": _classes(600, (200, 200, 200)), "eval": _classes(300, (140, 85, 75))}
    [finding] = label_findings("grade", moved, None, None, LIMITS)
    assert finding.kind == "LABEL_SPLIT_GAP" and "class 'a' share 0.467" in finding.description
    # 0.333 against 0.443 is 3.2 standard errors: stopped for one rate, not among three.
    within = {"train": _classes(600, (200, 200, 200)), "eval": _classes(300, (133, 90, 77))}
    assert label_findings("grade", within, None, None, LIMITS) == []
