"""The gate turns ExampleValidator's anomalies and too-small splits into findings."""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import anomalies_pb2

from components.example_gate import anomaly_findings, count_findings, gate_message


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
        "eval", "payment_type", "ENUM_TYPE_UNEXPECTED_STRING_VALUES")
    assert "Bitcoin" in str(finding)


def test_no_anomalies_no_findings():
    assert anomaly_findings("train", anomalies_pb2.Anomalies()) == []


def test_a_split_with_too_few_examples_is_a_finding():
    assert count_findings("train", 0, 100)[0].kind == "TOO_FEW_EXAMPLES"
    assert count_findings("train", 100, 100) == []


def test_message_lists_every_finding_and_where_the_anomalies_are():
    findings = anomaly_findings("eval", _anomalies()) + count_findings("train", 0, 1)
    message = gate_message(findings, "/runs/anomalies/7")
    assert "2 anomalies" in message
    assert "split 'eval', feature 'payment_type'" in message
    assert "split 'train', feature '<dataset>': TOO_FEW_EXAMPLES" in message
    assert message.endswith("/runs/anomalies/7")
