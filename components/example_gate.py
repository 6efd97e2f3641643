"""ExampleGate: the stop between data and training.

TFX 1.16's ExampleValidator only records anomalies; nothing downstream reads them. This gate
fails the run, before Transform, when the span breaks the schema, drifts from the last accepted
span, skews from serving data, has too few rows, or its label is unhealthy (`validation.py`).
Findings listed in the validation's `allow` are accepted on purpose and recorded.

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

from components import span_records
from components.artifact_types import AcceptedSpan
from components.validation import (
    TRAINING,
    Finding,
    GateReport,
    LabelCounts,
    Validation,
    anomaly_findings,
    comparison,
    count_findings,
    count_labels,
    label_findings,
    non_finite_findings,
)
from metadata import names, verdicts

DRIFT_SPLIT = "train"  # drift and skew compare train splits: the eval split is a third the size
SERVING_SPLIT = "serving"  # the serving ExampleGen's one split


class DataGateError(RuntimeError):
    """The data failed the gate: the blocking findings and where the whole report is."""


def span_of(artifact: types.Artifact) -> int:
    """Through TFX's getter, which also reads the struct values Kubeflow V2's entrypoint
    passes every custom property back as."""
    return artifact.get_int_custom_property(names.SPAN)


def stop_message(report: GateReport, report_path: str) -> str:
    """What the failed execution says in the orchestrator's log (on Kubeflow, the pod's): each
    blocking finding and the report's place. `tfxp run` shows the whole report."""
    blocking = report.blocking
    lines = [
        f"the data gate stopped span {report.span} with {len(blocking)} "
        f"finding{'s' if len(blocking) != 1 else ''}:"
    ]
    lines += [f"  - {finding}" for finding in blocking]
    lines.append(f"report: {report_path}")
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

    return tfdv.load_stats_binary(os.path.join(_split_dir(artifact, split), names.STATISTICS_FILE))


def _label_counts(
    examples: types.Artifact, split: str, schema: schema_pb2.Schema, label
) -> LabelCounts:
    """The label counted over one split of the examples ExampleGen wrote (gzipped tf.Examples)."""
    import tensorflow as tf

    kinds = {f.name: f.type for f in schema.feature}
    dtype = {schema_pb2.FLOAT: tf.float32, schema_pb2.INT: tf.int64}
    spec = {
        c: tf.io.VarLenFeature(dtype.get(kinds.get(c), tf.string)) for c in label.source_columns
    }
    files = fileio.glob(os.path.join(artifact_utils.get_split_uri([examples], split), "*"))
    batches = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(4096)
    return count_labels(
        ((int(tf.shape(batch)[0]), tf.io.parse_example(batch, spec)) for batch in batches), label
    )


def _report_key(accepted: types.Artifact) -> str:
    """What the report is named after, so a reader of ML Metadata finds it from the execution
    (`metadata.layout.Layout.report_key`): the execution id locally (TFX names output folders
    after it); on open-source Kubeflow the pod's uid, which KFP records on the execution; on
    Vertex (no reader yet) a digest of the output's unique URI."""
    name = os.path.basename(accepted.uri.rstrip("/"))
    if name.isdigit():
        return name
    return (
        os.environ.get(names.KFP_POD_UID_ENV)
        or hashlib.sha256(accepted.uri.encode()).hexdigest()[:16]
    )


@component
def ExampleGate(
    examples: InputArtifact[standard_artifacts.Examples],
    statistics: InputArtifact[standard_artifacts.ExampleStatistics],
    anomalies: InputArtifact[standard_artifacts.ExampleAnomalies],
    schema: InputArtifact[standard_artifacts.Schema],
    accepted: OutputArtifact[AcceptedSpan],
    validation: Parameter[str],  # Validation as JSON
    label: Parameter[str],  # models.features.Label as JSON
    code_sha256: Parameter[str],  # only keys the cache: edited gate code re-runs the gate
    previous: InputArtifact[AcceptedSpan] = None,  # None: no span accepted yet
    serving_statistics: InputArtifact[standard_artifacts.ExampleStatistics] = None,
    records_dir: Parameter[str] = "",  # Kubeflow: verdicts kept on storage (span_records.py)
) -> None:
    """Fail the run (DataGateError) on any finding not allowed; else publish `accepted`."""
    from models.features import BINARY, Label

    limits = Validation.from_json(validation)
    label_rule = Label(**json.loads(label))
    schema_proto = _load_schema(schema)
    span = span_of(examples)
    if records_dir and previous is None:
        previous = span_records.previous_accepted(records_dir, span)
    splits = artifact_utils.decode_split_names(statistics.split_names)

    findings: list[Finding] = []
    by_split = {split: _statistics(statistics, split) for split in splits}
    sizes = {
        split: sum(d.num_examples for d in found.datasets) for split, found in by_split.items()
    }
    shares = dict(limits.split_shares)
    for split, split_statistics in by_split.items():
        findings += count_findings(
            split,
            sizes[split],
            limits.min_examples_per_split,
            span_rows=sum(sizes.values()),
            share=shares.get(split, 0.0),
        )
        findings += non_finite_findings(split, split_statistics)
    for split in artifact_utils.decode_split_names(anomalies.split_names):
        findings += anomaly_findings(split, _load_anomalies(anomalies, split))

    # Drift against the last accepted span, skew against serving data: TFDV measures every
    # feature the curated schema gives a drift_comparator / skew_comparator. Two comparisons,
    # so a skew finding has its own kind (SKEW_...) and allowing drift never silences skew.
    current = _statistics(statistics, DRIFT_SPLIT)
    rows = []
    for check, baseline, split in (
        ("drift", previous, DRIFT_SPLIT),
        ("skew", serving_statistics, SERVING_SPLIT),
    ):
        if baseline is not None:
            found, measured = comparison(current, schema_proto, _statistics(baseline, split), check)
            findings, rows = findings + found, rows + measured

    counts = {split: _label_counts(examples, split, schema_proto, label_rule) for split in splits}
    binary = label_rule.kind == BINARY  # a positive rate is a binary label's
    previous_rate = (
        previous.get_float_custom_property(names.LABEL_POSITIVE_RATE)
        if previous and binary
        else None
    )
    previous_span = span_of(previous) if previous else None
    findings += label_findings(label_rule.name, counts, previous_rate, previous_span, limits.label)

    report = GateReport(
        span=span,
        previous_span=previous_span,
        label=label_rule.name,
        label_counts=counts,
        previous_label_rate=previous_rate,
        measurements=rows,
        findings=findings,
        allow=list(limits.allow),
        unmeasured=sorted(  # of the features the gate should judge: not deprecated, trained on
            f.name
            for f in schema_proto.feature
            if not f.HasField("drift_comparator")
            and f.lifecycle_stage != schema_pb2.DEPRECATED
            and TRAINING not in f.not_in_environment
        ),
    )
    report_path = verdicts.gate_report_path(examples.uri, span, _report_key(accepted))
    fileio.makedirs(os.path.dirname(report_path))
    with fileio.open(report_path, "w") as handle:
        handle.write(report.to_json())
    if report.blocking:
        if records_dir:
            span_records.forget(records_dir, span)
        raise DataGateError(stop_message(report, report_path))

    accepted.set_string_custom_property(names.SPLIT_NAMES, statistics.split_names)
    for split in splits:  # the next span's baseline
        source = os.path.join(_split_dir(statistics, split), names.STATISTICS_FILE)
        target_dir = _split_dir(accepted, split)
        fileio.makedirs(target_dir)
        fileio.copy(source, os.path.join(target_dir, names.STATISTICS_FILE), overwrite=True)
    with fileio.open(os.path.join(accepted.uri, names.GATE_REPORT_FILE), "w") as handle:
        handle.write(report.to_json())
    accepted.set_int_custom_property(names.SPAN, span)
    if "train" in counts and binary:
        accepted.set_float_custom_property(names.LABEL_POSITIVE_RATE, counts["train"].positive_rate)
    accepted.set_string_custom_property(
        names.ALLOWED, json.dumps(sorted({entry for _, entry in report.allowed}))
    )
    accepted.set_int_custom_property(names.FINDINGS_ALLOWED, len(report.allowed))
    if records_dir:
        span_records.write_accepted(records_dir, accepted, examples)
