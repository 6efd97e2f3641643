"""What a run takes from earlier spans: the drift baseline and the training window.

`PreviousAcceptedSpan`: the newest span the gate accepted before the one being run, which the
gate compares this span with. `AcceptedSpanWindow`: the newest N spans the gate accepted, up
to the span being run, which Transform and Trainer see.

TFX's own SpanRangeStrategy takes the newest spans ExampleGen ingested, including spans the gate
stopped; a rejected span must never reach training. This strategy keeps only Examples that were
an input of a gate execution which published an `AcceptedSpan`.

Both read ML Metadata through the store the local orchestrator passes, so they are local-only:
Kubeflow V2 compiles just the latest / latest-blessed strategies (`kubeflow/compile.py` refuses
any other).
"""

from typing import Dict, List, Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2
from tfx import types
from tfx.dsl.components.common.resolver import ResolverStrategy

from components.example_gate import AcceptedSpan, span_of

_INPUTS = (metadata_store_pb2.Event.INPUT,)
_OUTPUTS = (metadata_store_pb2.Event.OUTPUT,)


def accepted_example_ids(store: mlmd.MetadataStore, example_ids: List[int]) -> set[int]:
    """Those of `example_ids` that a gate execution read and accepted."""
    if not example_ids:
        return set()
    try:
        accepted_type = store.get_artifact_type(AcceptedSpan.TYPE_NAME).id
    except mlmd.errors.NotFoundError:  # no span was ever accepted in this store
        return set()
    reads = [e for e in store.get_events_by_artifact_ids(example_ids) if e.type in _INPUTS]
    executions = sorted({e.execution_id for e in reads})
    if not executions:
        return set()
    outputs = [e for e in store.get_events_by_execution_ids(executions) if e.type in _OUTPUTS]
    produced = {a.id: a for a in store.get_artifacts_by_id(sorted({e.artifact_id for e in outputs}))}
    accepting = {e.execution_id for e in outputs
                 if e.artifact_id in produced and produced[e.artifact_id].type_id == accepted_type}
    return {e.artifact_id for e in reads if e.execution_id in accepting}


class AcceptedSpanWindow(ResolverStrategy):
    """Examples of the newest `num_spans` accepted spans numbered up to `last_span`."""

    def __init__(self, num_spans: int, last_span: int):
        self.num_spans, self.last_span = num_spans, last_span

    def resolve_artifacts(
        self, store: mlmd.MetadataStore, input_dict: Dict[str, List[types.Artifact]]
    ) -> Optional[Dict[str, List[types.Artifact]]]:
        examples = input_dict["examples"]
        accepted = accepted_example_ids(store, [a.id for a in examples])
        newest: dict[int, types.Artifact] = {}  # per span, its newest accepted ingestion
        for artifact in examples:
            span = span_of(artifact)
            if artifact.id in accepted and span <= self.last_span:
                if span not in newest or artifact.id > newest[span].id:
                    newest[span] = artifact
        chosen = [newest[span] for span in sorted(newest)[-self.num_spans:]]
        return {"examples": chosen} if chosen else None


class PreviousAcceptedSpan(ResolverStrategy):
    """The newest `AcceptedSpan` of a span numbered below `span`; nothing for the first span.

    Not simply the newest: a re-run of the same span is compared with the span before it again,
    so the same data gets the same verdict and the gate's cache holds.
    """

    def __init__(self, span: int):
        self.span = span

    def resolve_artifacts(
        self, store: mlmd.MetadataStore, input_dict: Dict[str, List[types.Artifact]]
    ) -> Optional[Dict[str, List[types.Artifact]]]:
        earlier = [a for a in input_dict["accepted"] if span_of(a) < self.span]
        newest = max(earlier, key=lambda a: (span_of(a), a.id), default=None)
        return {"accepted": [newest] if newest else []}
