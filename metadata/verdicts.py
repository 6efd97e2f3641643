"""The data gate's verdicts, as ML Metadata records them: per span, the latest one wins.

A span is accepted when its newest gate execution completed (or was served from cache) and
output an AcceptedSpan; stopped when that execution failed after writing a report whose verdict
is "stopped" (`stop_report`). A failed execution without one crashed (a bug, a full disk, a
failure after an accepting report): that is no verdict on the data.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
from collections.abc import Iterable

from ml_metadata import errors
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from metadata import names
from metadata.layout import TFX, Layout, number

_Execution = metadata_store_pb2.Execution
_Event = metadata_store_pb2.Event
_VERDICT_STATES = (_Execution.COMPLETE, _Execution.CACHED, _Execution.FAILED)


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The newest gate execution over a span: the ingestion it read, its AcceptedSpan if any."""

    examples_id: int
    accepted_id: int | None  # None: stopped

    @property
    def accepted(self) -> bool:
        return self.accepted_id is not None


def gate_report_path(examples_uri: str, span: int, execution_key: int | str) -> str:
    """Where gate execution `execution_key` wrote its report on `span`.

    Beside the gate's outputs (`<root>/ExampleGate/reports/`), found from the Examples' URI
    (`<root>/<ExampleGen>/examples/<id>` locally): the report is how a stop is told from a
    crash. The key is the execution id locally, the pod's uid on Kubeflow
    (`Layout.report_key`).
    """
    root = os.path.dirname(os.path.dirname(os.path.dirname(examples_uri.rstrip("/"))))
    return os.path.join(root, names.GATE, names.GATE_REPORTS, f"span-{span}-{execution_key}.json")


def stop_report(key: str, examples: metadata_store_pb2.Artifact) -> str | None:
    """The report of the failed gate execution `key` over `examples` if it stopped the span;
    None if the gate crashed. Reports written before the verdict was spelled out count as
    stops."""
    path = gate_report_path(examples.uri, span_of(examples), key)
    text = _read_text(path)
    if text is None:
        return None
    verdict = json.loads(text).get(names.GATE_VERDICT, names.GATE_STOPPED)
    return path if verdict == names.GATE_STOPPED else None


def _read_text(path: str) -> str | None:
    """A file's text, or None when absent: local files directly (no TensorFlow import for
    `tfxp lineage`), other schemes through TFX's file system layer."""
    if "://" not in path:
        return pathlib.Path(path).read_text() if os.path.isfile(path) else None
    from tfx.dsl.io import fileio

    if not fileio.exists(path):
        return None
    with fileio.open(path) as handle:
        return handle.read()


def span_of(artifact: metadata_store_pb2.Artifact) -> int | None:
    """The span number: ExampleGen (TFX 1.16) and the gate record it as a custom property."""
    return number(artifact.custom_properties, names.SPAN)


def _type_id(store: metadata_store.MetadataStore, getter: str, name: str) -> int | None:
    try:
        return getattr(store, getter)(name).id
    except errors.NotFoundError:  # nothing of that type was ever recorded
        return None


def _gate_test(store: metadata_store.MetadataStore, layout: Layout):
    """Whether an execution is the gate's: by its type locally (TFX names a component's
    execution type after it), by its task name on Kubeflow (every task has one type there)."""
    if layout.kubeflow:
        return lambda execution: layout.task_of(execution) == names.GATE
    gate_type = _type_id(store, "get_execution_type", names.GATE_EXECUTION_TYPE)
    return lambda execution: gate_type is not None and execution.type_id == gate_type


def latest_verdicts(
    store: metadata_store.MetadataStore,
    examples: Iterable[metadata_store_pb2.Artifact],
    layout: Layout = TFX,
    before: int | None = None,
) -> dict[int, Verdict]:
    """Per span number, the gate's latest verdict on any of its ingestions in `examples`.

    `before`: only executions older than that execution id (the verdict a consumer saw).
    """
    by_id = {artifact.id: artifact for artifact in examples}
    is_gate = _gate_test(store, layout)
    accepted_type = _type_id(store, "get_artifact_type", names.ACCEPTED_SPAN)
    if not by_id:
        return {}
    reads = [e for e in store.get_events_by_artifact_ids(sorted(by_id)) if e.type == _Event.INPUT]
    gates = {
        e.id: e
        for e in store.get_executions_by_id(sorted({r.execution_id for r in reads}))
        if is_gate(e)
        and e.last_known_state in _VERDICT_STATES
        and (before is None or e.id < before)
    }
    accepted: dict[int, int] = {}  # gate execution id -> its AcceptedSpan id
    outputs = (
        [e for e in store.get_events_by_execution_ids(sorted(gates)) if e.type == _Event.OUTPUT]
        if gates
        else []
    )
    if outputs and accepted_type is not None:
        produced = store.get_artifacts_by_id(sorted({e.artifact_id for e in outputs}))
        kinds = {a.id: a.type_id for a in produced}
        accepted = {
            e.execution_id: e.artifact_id
            for e in outputs
            if kinds.get(e.artifact_id) == accepted_type
        }
    newest: dict[int, tuple[int, Verdict]] = {}
    for read in reads:
        execution = gates.get(read.execution_id)
        if execution is None:
            continue
        ingestion = by_id[read.artifact_id]
        span = span_of(ingestion)
        if execution.last_known_state == _Execution.FAILED:
            key = layout.report_key(execution)
            if not key or stop_report(key, ingestion) is None:
                continue
            verdict = Verdict(ingestion.id, None)
        else:
            verdict = Verdict(ingestion.id, accepted.get(execution.id))
        if span not in newest or execution.id > newest[span][0]:
            newest[span] = (execution.id, verdict)
    return {span: verdict for span, (_, verdict) in newest.items()}
