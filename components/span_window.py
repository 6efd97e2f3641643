"""What a run takes from earlier spans: the drift baseline and the training window.

Both follow each span's *latest* gate verdict, over every ingestion of that span: a span stopped
after an earlier acceptance (its files replaced, or re-run without an `--allow`) counts as
stopped. TFX's own SpanRangeStrategy would take the newest ingestions, stopped ones included.

`PreviousAcceptedSpan`: the newest accepted span before the one being run, which the gate
compares it with. `AcceptedSpanWindow`: the newest N accepted spans up to the one being run,
which Transform and Trainer see.

They read ML Metadata through the store the local orchestrator passes, so they are local-only:
Kubeflow V2 compiles just the latest / latest-blessed strategies (`kubeflow/compile.py` refuses
any other).
"""

import dataclasses
from typing import Dict, List, Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2
from tfx import types
from tfx.dsl.components.common.resolver import ResolverStrategy
from tfx.dsl.io import fileio

from components.example_gate import AcceptedSpan, ExampleGate, report_file, span_of

_Execution = metadata_store_pb2.Execution
_VERDICT_STATES = (_Execution.COMPLETE, _Execution.CACHED, _Execution.FAILED)


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The newest gate execution over a span: the ingestion it read, its AcceptedSpan if any."""

    examples: types.Artifact
    accepted_id: int | None


def _type_id(get, name: str) -> int | None:
    try:
        return get(name).id
    except mlmd.errors.NotFoundError:
        return None


def latest_verdicts(store: mlmd.MetadataStore, examples: List[types.Artifact],
                    before: int | None = None) -> Dict[int, Verdict]:
    """Per span number, the latest verdict of the gate on any of its ingestions in `examples`.

    A failed gate execution is a stop only if it wrote its report: a crash (a bug, a full
    disk) is no verdict on the data. `before`: only executions older than that execution id
    (the verdict a consumer saw).
    """
    gate_type = _type_id(store.get_execution_type, ExampleGate.get_class_type())
    accepted_type = _type_id(store.get_artifact_type, AcceptedSpan.TYPE_NAME)
    by_id = {artifact.id: artifact for artifact in examples}
    if gate_type is None or not by_id:
        return {}
    reads = [e for e in store.get_events_by_artifact_ids(sorted(by_id))
             if e.type == metadata_store_pb2.Event.INPUT]
    gates = {e.id: e for e in store.get_executions_by_id(sorted({r.execution_id for r in reads}))
             if e.type_id == gate_type and e.last_known_state in _VERDICT_STATES
             and (before is None or e.id < before)}
    accepted: dict[int, int] = {}  # gate execution id -> its AcceptedSpan id
    outputs = [e for e in store.get_events_by_execution_ids(sorted(gates))
               if e.type == metadata_store_pb2.Event.OUTPUT] if gates else []
    if outputs and accepted_type is not None:
        produced = store.get_artifacts_by_id(sorted({e.artifact_id for e in outputs}))
        kinds = {a.id: a.type_id for a in produced}
        accepted = {e.execution_id: e.artifact_id for e in outputs
                    if kinds.get(e.artifact_id) == accepted_type}
    newest: dict[int, tuple[int, Verdict]] = {}
    for read in reads:
        execution = gates.get(read.execution_id)
        if execution is None:
            continue
        ingestion = by_id[read.artifact_id]
        span = span_of(ingestion)
        if execution.last_known_state == _Execution.FAILED:
            if not fileio.exists(report_file(ingestion.uri, span, execution.id)):
                continue
            verdict = Verdict(ingestion, None)
        else:
            verdict = Verdict(ingestion, accepted.get(execution.id))
        if span not in newest or execution.id > newest[span][0]:
            newest[span] = (execution.id, verdict)
    return {span: verdict for span, (_, verdict) in newest.items()}


class AcceptedSpanWindow(ResolverStrategy):
    """Examples of the newest `num_spans` accepted spans numbered up to `last_span`."""

    def __init__(self, num_spans: int, last_span: int):
        self.num_spans, self.last_span = num_spans, last_span

    def resolve_artifacts(
        self, store: mlmd.MetadataStore, input_dict: Dict[str, List[types.Artifact]]
    ) -> Optional[Dict[str, List[types.Artifact]]]:
        verdicts = latest_verdicts(store, input_dict["examples"])
        spans = sorted(s for s, v in verdicts.items() if v.accepted_id and s <= self.last_span)
        chosen = [verdicts[span].examples for span in spans[-self.num_spans:]]
        return {"examples": chosen} if chosen else None


class PreviousAcceptedSpan(ResolverStrategy):
    """The AcceptedSpan of the newest accepted span numbered below `span`; none for the first.

    Not simply the newest AcceptedSpan: a re-run of the same span is compared with the span
    before it again, so the same data gets the same verdict and the gate's cache holds.
    """

    def __init__(self, span: int):
        self.span = span

    def resolve_artifacts(
        self, store: mlmd.MetadataStore, input_dict: Dict[str, List[types.Artifact]]
    ) -> Optional[Dict[str, List[types.Artifact]]]:
        verdicts = latest_verdicts(store, input_dict["examples"])
        records = {a.id: a for a in input_dict["accepted"]}
        for span in sorted((s for s in verdicts if s < self.span), reverse=True):
            if verdicts[span].accepted_id in records:
                return {"accepted": [records[verdicts[span].accepted_id]], "examples": []}
        return {"accepted": [], "examples": []}
