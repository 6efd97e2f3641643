"""ExampleGate: the stop between data and training.

TFX 1.16's ExampleValidator only records anomalies; nothing downstream reads them. This gate
fails the run, before Transform, when the span breaks the schema, drifts from the last accepted
span, skews from serving data, has too few rows, or its label is unhealthy (`data_checks.py`).
Findings listed in the policy's `allow` are accepted on purpose and recorded.

A span that passes becomes an `AcceptedSpan` artifact: its statistics and label rate are what
the next span is compared with, and only accepted spans enter a training window.
"""

import hashlib
import json
import os

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2
from tfx import types
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.dsl.io import fileio
from tfx.types import artifact_utils, standard_artifacts

from components.data_checks import (
    Finding, GateReport, LabelCounts, anomaly_findings, comparison, count_findings,
    label_findings,
)

GATE_ID = "ExampleGate"  # the gate's node id in every pipeline
DRIFT_SPLIT = "train"  # drift and skew compare train splits: the eval split is a third the size
SERVING_SPLIT = "serving"  # the serving ExampleGen's one split
REPORT_FILE = "report.json"
STATS_FILE = "FeatureStats.pb"  # StatisticsGen's binary statistics, one per split


class DataGateError(RuntimeError):
    """The data failed the gate; the message is the whole report."""


class AcceptedSpan(types.Artifact):
    """A span the gate let through: its statistics, label rate and report (report.json)."""

    TYPE_NAME = "tfxp.AcceptedSpan"
    # Facts are custom properties (span, split_names, label_positive_rate, allowed): Kubeflow V2
    # compiles custom artifact types only without declared PROPERTIES.


def span_of(artifact: types.Artifact) -> int:
    """The span number: ExampleGen (1.16) and the gate record it as a custom property."""
    return artifact.get_int_custom_property("span")


def gate_message(report: GateReport, report_path: str) -> str:
    blocking = report.blocking
    lines = [f"Data gate failed with {len(blocking)} finding{'s' if len(blocking) != 1 else ''}"
             " (listed under the verdict); nothing was transformed, trained or pushed."]
    lines += report.lines()
    lines.append(f"Report written to {report_path}. A finding you accept on purpose can be "
                 "allowed with --allow KIND:FEATURE (recorded in ML Metadata).")
    return "\n".join(lines)


def _load_anomalies(anomalies: types.Artifact, split: str) -> anomalies_pb2.Anomalies:
    path = os.path.join(artifact_utils.get_split_uri([anomalies], split), "SchemaDiff.pb")
    with fileio.open(path, "rb") as handle:
        return anomalies_pb2.Anomalies.FromString(handle.read())


def _load_schema(schema: types.Artifact) -> schema_pb2.Schema:
    from tfx.utils import io_utils

    return io_utils.SchemaReader().read(io_utils.get_only_uri_in_dir(schema.uri))


def _split_dir(artifact: types.Artifact, split: str) -> str:
    """TFX's split layout; AcceptedSpan has no split_names property for artifact_utils to read."""
    return os.path.join(artifact.uri, f"Split-{split}")


def _statistics(artifact: types.Artifact, split: str):
    """One split's statistics, from StatisticsGen's output or an AcceptedSpan (same layout)."""
    import tensorflow_data_validation as tfdv

    return tfdv.load_stats_binary(os.path.join(_split_dir(artifact, split), STATS_FILE))


def _label_counts(examples: types.Artifact, split: str, schema: schema_pb2.Schema,
                  label_json: str) -> LabelCounts:
    """Rows, rows without the label column, positives by the training rule (`derive_label`)."""
    import tensorflow as tf

    from models import features as F
    from models.preprocessing import derive_label

    label = F.Label(**json.loads(label_json))
    kinds = {f.name: f.type for f in schema.feature}
    dtype = {schema_pb2.FLOAT: tf.float32, schema_pb2.INT: tf.int64}
    spec = {c: tf.io.VarLenFeature(dtype.get(kinds.get(c), tf.string)) for c in label.source_columns}
    files = fileio.glob(os.path.join(artifact_utils.get_split_uri([examples], split), "*"))
    rows = missing = positives = 0
    for batch in tf.data.TFRecordDataset(files, compression_type="GZIP").batch(4096):
        parsed = tf.io.parse_example(batch, spec)
        size = int(tf.shape(batch)[0])
        present = len(set(parsed[label.column].indices[:, 0].numpy().tolist()))
        rows, missing = rows + size, missing + size - present
        positives += int(tf.reduce_sum(derive_label(parsed, label)))
    return LabelCounts(rows=rows, missing=missing, positives=positives)


def report_file(examples_uri: str, span: int, execution: int | str) -> str:
    """Where the gate execution `execution` wrote its report on `span`.

    Beside the gate's outputs (`<root>/ExampleGate/reports/`), since TFX removes a failed
    execution's outputs. Found from the Examples' URI (`<root>/<ExampleGen>/examples/<id>`, TFX's
    local layout): locally the report is how a stop is told from a crash (`span_window.py`).
    """
    root = os.path.dirname(os.path.dirname(os.path.dirname(examples_uri)))
    return os.path.join(root, GATE_ID, "reports", f"span-{span}-{execution}.json")


def _execution_key(accepted: types.Artifact) -> str:
    """The execution id locally (TFX names output folders after it); elsewhere (Kubeflow names
    them after the output) a digest of the output's unique URI."""
    name = os.path.basename(accepted.uri.rstrip("/"))
    return name if name.isdigit() else hashlib.sha256(accepted.uri.encode()).hexdigest()[:16]


@component
def ExampleGate(
    examples: InputArtifact[standard_artifacts.Examples],
    statistics: InputArtifact[standard_artifacts.ExampleStatistics],
    anomalies: InputArtifact[standard_artifacts.ExampleAnomalies],
    schema: InputArtifact[standard_artifacts.Schema],
    accepted: OutputArtifact[AcceptedSpan],
    policy: Parameter[str],
    label: Parameter[str],
    code_sha256: Parameter[str],  # only keys the cache: edited gate code re-runs the gate
    previous: InputArtifact[AcceptedSpan] = None,  # None: no span accepted yet
    serving_statistics: InputArtifact[standard_artifacts.ExampleStatistics] = None,
) -> None:
    """Fail the run (DataGateError) on any finding not allowed; else publish `accepted`."""
    rules = json.loads(policy)
    schema_proto = _load_schema(schema)
    span = span_of(examples)
    splits = artifact_utils.decode_split_names(statistics.split_names)

    findings: list[Finding] = []
    for split in splits:
        num_examples = sum(d.num_examples for d in _statistics(statistics, split).datasets)
        findings += count_findings(split, num_examples, rules["min_examples_per_split"])
    for split in artifact_utils.decode_split_names(anomalies.split_names):
        findings += anomaly_findings(split, _load_anomalies(anomalies, split))

    # Drift against the last accepted span, skew against serving data: TFDV measures every
    # feature the curated schema gives a drift_comparator / skew_comparator. Two comparisons,
    # so a skew finding has its own kind (SKEW_...) and allowing drift never silences skew.
    current = _statistics(statistics, DRIFT_SPLIT)
    rows = []
    for check, baseline, split in (("drift", previous, DRIFT_SPLIT),
                                   ("skew", serving_statistics, SERVING_SPLIT)):
        if baseline is not None:
            found, measured = comparison(current, schema_proto, _statistics(baseline, split), check)
            findings, rows = findings + found, rows + measured

    label_name = json.loads(label)["name"]
    counts = {split: _label_counts(examples, split, schema_proto, label) for split in splits}
    previous_rate = (previous.get_float_custom_property("label_positive_rate") if previous else None)
    previous_span = span_of(previous) if previous else None
    findings += label_findings(label_name, counts, previous_rate, previous_span, rules["label"])

    report = GateReport(span=span, previous_span=previous_span, label=label_name,
                        label_counts=counts, previous_label_rate=previous_rate,
                        measurements=rows, findings=findings,
                        allow=list(rules["allow"]))
    report_path = report_file(examples.uri, span, _execution_key(accepted))
    fileio.makedirs(os.path.dirname(report_path))
    with fileio.open(report_path, "w") as handle:
        handle.write(report.to_json())
    if report.blocking:
        raise DataGateError(gate_message(report, report_path))

    accepted.set_string_custom_property("split_names", statistics.split_names)
    for split in splits:  # the next span's baseline
        source = os.path.join(_split_dir(statistics, split), STATS_FILE)
        target_dir = _split_dir(accepted, split)
        fileio.makedirs(target_dir)
        fileio.copy(source, os.path.join(target_dir, STATS_FILE), overwrite=True)
    with fileio.open(os.path.join(accepted.uri, REPORT_FILE), "w") as handle:
        handle.write(report.to_json())
    accepted.set_int_custom_property("span", span)
    if "train" in counts:
        accepted.set_float_custom_property("label_positive_rate", counts["train"].positive_rate)
    accepted.set_string_custom_property(
        "allowed", json.dumps(sorted({entry for _, entry in report.allowed})))
    accepted.set_int_custom_property("findings_allowed", len(report.allowed))
