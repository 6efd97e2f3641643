"""Lineage: what made an artifact (back to the CSV files), what it was used for, and what
changed between two runs.

Trees are plain nested dicts, ready for JSON: `{"artifact": ArtifactView, "made_by":
{"execution": ExecutionView, "from": [tree, ...], "metrics": {...}}, "gate": {...}}` upstream,
`"used_by": [{"execution": ..., "made": [tree, ...]}]` downstream; an artifact met a second time
is `{"artifact": ..., "repeated": True}`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import pathlib
from typing import Any

from metadata import names
from metadata.evaluation import overall_metrics, slice_metrics
from metadata.reader import NOT_RUN, MetadataReader, fact_value
from metadata.store import MetadataError
from metadata.verdicts import latest_verdicts, span_of

_CODE_AND_DATA_FACTS = (
    "models_sha256",
    "data_sha256",
    "schema_sha256",
    "git_revision",
    "schema_git_revision",
)


@dataclasses.dataclass(frozen=True)
class RunDiff:
    """What changed between run A and run B, and what it did."""

    runs: list[str]
    config: dict[str, list]  # dotted key -> [A, B], changed keys only
    inputs: dict[str, list]  # code, data and schema hashes, git revisions -> [A, B], changed only
    nodes: dict[str, list[str]]  # node -> [state in A, state in B]
    split_sizes: dict[str, list]  # split -> [examples in A, in B]
    schema_diff: str  # unified diff of the curated schemas; empty when identical
    metrics: dict[str, dict[str, list]]  # slice -> metric -> [A, B, B - A]
    pushed: list  # [version pushed by A, by B]


def pushed_model(reader: MetadataReader, version: str) -> int:
    """The PushedModel artifact id of `version`, or of the newest push for 'latest'."""
    versions = {push.artifact_id: push.version for push in reader.pushed_models()}
    if version != "latest":
        versions = {i: v for i, v in versions.items() if str(v) == version}
    if not versions:
        raise MetadataError(f"no pushed model {'at all' if version == 'latest' else version}")
    return max(versions, key=lambda i: (versions[i], i))


def upstream(reader: MetadataReader, artifact_id: int) -> dict:
    """Provenance tree of an artifact, with the recorded facts (config, code, git revision)
    of the run that made it."""
    tree = _walk(reader, artifact_id, set(), upstream=True)
    run = tree["artifact"].run
    if run:
        facts = reader.run(run).provenance
        tree["run"] = {
            "run": run,
            **{k: fact_value(k, v) for k, v in facts.items() if k != "config"},
        }
    if tree["artifact"].type == names.PUSHED_MODEL:  # when it went live, on trial, back
        tree["deployments"] = reader.deployments(artifact_id)
        tree["monitorings"] = reader.monitorings(artifact_id)
    return tree


def downstream(reader: MetadataReader, artifact_id: int) -> dict:
    """What was made from an artifact, transitively."""
    return _walk(reader, artifact_id, set(), upstream=False)


def gate_verdict(
    reader: MetadataReader, artifact_id: int, before: int | None = None
) -> dict | None:
    """For ingested span data, the data gate's latest verdict on it before execution `before`
    (what a consumer was given) and the findings it allowed; None for other artifacts."""
    proto = reader.artifact_proto(artifact_id)
    producer = reader.producer(artifact_id)
    if (
        reader.type_of(proto) != names.EXAMPLES
        or producer is None
        or reader.node_of(producer) != names.EXAMPLE_GEN
    ):
        return None
    found = latest_verdicts(reader.store, [proto], reader.layout, before).get(span_of(proto))
    if found is None:
        return {"verdict": "not checked"}
    if not found.accepted:
        return {"verdict": "stopped"}
    accepted = reader.artifact_proto(found.accepted_id)
    allowed = accepted.custom_properties.get(names.ALLOWED)
    return {
        "verdict": "accepted",
        "accepted_span_artifact": found.accepted_id,
        "allowed": json.loads(allowed.string_value) if allowed else [],
    }


def _walk(
    reader: MetadataReader,
    artifact_id: int,
    seen: set[int],
    upstream: bool,
    consumer: int | None = None,
) -> dict:
    node: dict[str, Any] = {"artifact": reader.artifact(artifact_id)}
    if artifact_id in seen:
        node["repeated"] = True
        return node
    seen.add(artifact_id)
    if upstream:
        producer = reader.producer(artifact_id)
        if producer is not None:
            view = reader.execution(producer.id)
            verdict = gate_verdict(reader, artifact_id, before=consumer)
            if verdict:
                node["gate"] = verdict
            node["made_by"] = {
                "execution": view,
                "from": [
                    _walk(reader, i, seen, True, consumer=view.id)
                    for ids in view.inputs.values()
                    for i in ids
                ],
            }
            for evaluation in view.outputs.get("evaluation", []):  # an Evaluator's verdict
                node["made_by"]["metrics"] = overall_metrics(reader.artifact(evaluation).uri)
    else:
        node["used_by"] = []
        for execution_id in reader.consumers(artifact_id):
            view = reader.execution(execution_id)
            node["used_by"].append(
                {
                    "execution": view,
                    "made": [
                        _walk(reader, i, seen, False) for ids in view.outputs.values() for i in ids
                    ],
                }
            )
    return node


def diff(reader: MetadataReader, run_a: str, run_b: str) -> RunDiff:
    """What changed between two runs (config, code, data, schema) and what it did."""
    a, b = reader.run(run_a), reader.run(run_b)
    config_a = _flatten(json.loads(a.provenance.get("config", "{}")))
    config_b = _flatten(json.loads(b.provenance.get("config", "{}")))
    sizes_a, sizes_b = _split_sizes(reader, a.run), _split_sizes(reader, b.run)
    return RunDiff(
        runs=[a.run, b.run],
        config={
            k: [config_a.get(k), config_b.get(k)]
            for k in sorted(set(config_a) | set(config_b))
            if config_a.get(k) != config_b.get(k)
        },
        inputs={
            k: [a.provenance.get(k), b.provenance.get(k)]
            for k in _CODE_AND_DATA_FACTS
            if a.provenance.get(k) != b.provenance.get(k)
        },
        nodes={
            n: [a.nodes.get(n, NOT_RUN), b.nodes.get(n, NOT_RUN)]
            for n in dict.fromkeys(list(a.nodes) + list(b.nodes))
        },
        split_sizes={
            split: [sizes_a.get(split), sizes_b.get(split)]
            for split in sorted(set(sizes_a) | set(sizes_b))
        },
        schema_diff=_schema_diff(reader, a.run, b.run),
        metrics=_metric_table(_metrics(reader, a.run), _metrics(reader, b.run)),
        pushed=[a.pushed_version, b.pushed_version],
    )


def _split_sizes(reader: MetadataReader, run: str) -> dict[str, int]:
    stats = reader.output_of(run, names.STATISTICS_GEN, names.STATISTICS)
    if stats is None:
        return {}
    from tensorflow_metadata.proto.v0 import statistics_pb2

    sizes = {}
    for split in json.loads(stats.properties.get(names.SPLIT_NAMES, "[]")):
        path = pathlib.Path(stats.uri) / f"Split-{split}" / names.STATISTICS_FILE
        if path.exists():
            proto = statistics_pb2.DatasetFeatureStatisticsList.FromString(path.read_bytes())
            sizes[split] = sum(d.num_examples for d in proto.datasets)
    return sizes


def _schema_diff(reader: MetadataReader, run_a: str, run_b: str) -> str:
    texts = []
    for run in (run_a, run_b):
        schema = reader.output_of(run, names.SCHEMA_IMPORTER, names.SCHEMA)
        path = pathlib.Path(schema.uri) / names.SCHEMA_FILE if schema else None
        texts.append(path.read_text().splitlines(keepends=True) if path and path.exists() else [])
    return "".join(difflib.unified_diff(texts[0], texts[1], run_a, run_b))


def _metrics(reader: MetadataReader, run: str) -> dict[str, dict[str, float]]:
    evaluation = reader.output_of(run, names.EVALUATOR, names.MODEL_EVALUATION)
    return slice_metrics(evaluation.uri) if evaluation else {}


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def _metric_table(a: dict, b: dict) -> dict[str, dict[str, list]]:
    table = {}
    for slice_name in sorted(set(a) | set(b), key=lambda s: (s != "overall", s)):
        rows = {}
        for metric in sorted(set(a.get(slice_name, {})) | set(b.get(slice_name, {}))):
            va, vb = a.get(slice_name, {}).get(metric), b.get(slice_name, {}).get(metric)
            rows[metric] = [va, vb, None if va is None or vb is None else vb - va]
        table[slice_name] = rows
    return table
