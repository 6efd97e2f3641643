"""ExampleGate: turns ExampleValidator's findings into a stop.

TFX 1.16's ExampleValidator only records anomalies; nothing downstream reads them, so a run with
type errors or missing labels trains and pushes anyway. This component fails the run when any
split has an anomaly or too few examples, and Transform is wired to run only after it.
"""


import dataclasses
import os

from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx import types
from tfx.dsl.io import fileio
from tfx.types import artifact_utils, standard_artifacts
from tfx.dsl.component.experimental.annotations import InputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component


class DataGateError(RuntimeError):
    """The data failed validation; the message lists every finding."""


@dataclasses.dataclass(frozen=True)
class Finding:
    split: str
    feature: str
    kind: str
    description: str

    def __str__(self) -> str:
        return f"split '{self.split}', feature '{self.feature}': {self.kind}: {self.description}"


def anomaly_findings(split: str, anomalies: anomalies_pb2.Anomalies) -> list[Finding]:
    """One finding per anomaly reason of each feature (and dataset-level anomalies)."""
    findings = []
    for feature, info in sorted(anomalies.anomaly_info.items()):
        reasons = info.reason or [None]
        for reason in reasons:
            kind = (
                anomalies_pb2.AnomalyInfo.Type.Name(reason.type) if reason else "ANOMALY"
            )
            description = (reason.description if reason else "") or info.description
            findings.append(Finding(split, feature, kind, description))
    if anomalies.HasField("dataset_anomaly_info"):
        info = anomalies.dataset_anomaly_info
        for reason in info.reason:
            findings.append(
                Finding(split, "<dataset>", anomalies_pb2.AnomalyInfo.Type.Name(reason.type),
                        reason.description or info.description)
            )
    return findings


def count_findings(split: str, num_examples: int, min_examples: int) -> list[Finding]:
    """An empty or header-only input is an anomaly: TFDV reports none for zero rows."""
    if num_examples >= min_examples:
        return []
    return [Finding(split, "<dataset>", "TOO_FEW_EXAMPLES",
                    f"{num_examples} examples, at least {min_examples} required")]


def gate_message(findings: list[Finding], anomalies_uri: str) -> str:
    lines = [f"Data validation failed with {len(findings)} anomal{'y' if len(findings) == 1 else 'ies'};"
             " nothing was transformed, trained or pushed:"]
    lines += [f"  - {finding}" for finding in findings]
    lines.append(f"Anomalies written under {anomalies_uri}")
    return "\n".join(lines)


def _load_anomalies(anomalies: types.Artifact, split: str) -> anomalies_pb2.Anomalies:
    path = os.path.join(artifact_utils.get_split_uri([anomalies], split), "SchemaDiff.pb")
    with fileio.open(path, "rb") as handle:
        return anomalies_pb2.Anomalies.FromString(handle.read())


@component
def ExampleGate(
    statistics: InputArtifact[standard_artifacts.ExampleStatistics],
    anomalies: InputArtifact[standard_artifacts.ExampleAnomalies],
    min_examples_per_split: Parameter[int],
) -> None:
    """Fail the run (DataGateError) on any anomaly or too-small split."""
    from tfx.components.statistics_gen import stats_artifact_utils

    findings: list[Finding] = []
    for split in artifact_utils.decode_split_names(statistics.split_names):
        stats = stats_artifact_utils.load_statistics(statistics, split).proto()
        num_examples = sum(d.num_examples for d in stats.datasets)
        findings += count_findings(split, num_examples, min_examples_per_split)
    for split in artifact_utils.decode_split_names(anomalies.split_names):
        findings += anomaly_findings(split, _load_anomalies(anomalies, split))
    if findings:
        raise DataGateError(gate_message(findings, anomalies.uri))
