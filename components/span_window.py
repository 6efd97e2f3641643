"""What a run takes from earlier spans: the drift baseline and the training window.

Both follow each span's *latest* gate verdict over every ingestion of that span
(`metadata.verdicts`): a span stopped after an earlier acceptance (its files replaced, or re-run
without an `--allow`) counts as stopped. TFX's own SpanRangeStrategy would take the newest
ingestions, stopped ones included.

`PreviousAcceptedSpan`: the newest accepted span before the one being run, which the gate
compares it with. `AcceptedSpanWindow`: the newest N accepted spans up to the one being run,
which Transform and Trainer see.

They read ML Metadata through the store the local orchestrator passes, so they are local-only;
on Kubeflow the gate's records on storage stand in for them (`span_records.py`).
"""

import ml_metadata as mlmd
from tfx import types
from tfx.dsl.components.common.resolver import ResolverStrategy

from metadata.verdicts import Verdict, latest_verdicts


def _verdicts(store: mlmd.MetadataStore, examples: list[types.Artifact]) -> dict[int, Verdict]:
    return latest_verdicts(store, [artifact.mlmd_artifact for artifact in examples])


class AcceptedSpanWindow(ResolverStrategy):
    """Examples of the newest `num_spans` accepted spans numbered up to `last_span`."""

    def __init__(self, num_spans: int, last_span: int):
        self.num_spans, self.last_span = num_spans, last_span

    def resolve_artifacts(
        self, store: mlmd.MetadataStore, input_dict: dict[str, list[types.Artifact]]
    ) -> dict[str, list[types.Artifact]] | None:
        examples = {artifact.id: artifact for artifact in input_dict["examples"]}
        verdicts = _verdicts(store, input_dict["examples"])
        spans = sorted(s for s, v in verdicts.items() if v.accepted and s <= self.last_span)
        chosen = [examples[verdicts[span].examples_id] for span in spans[-self.num_spans :]]
        return {"examples": chosen} if chosen else None


class PreviousAcceptedSpan(ResolverStrategy):
    """The AcceptedSpan of the newest accepted span numbered below `span`; none for the first.

    Not simply the newest AcceptedSpan: a re-run of the same span is compared with the span
    before it again, so the same data gets the same verdict and the gate's cache holds.
    """

    def __init__(self, span: int):
        self.span = span

    def resolve_artifacts(
        self, store: mlmd.MetadataStore, input_dict: dict[str, list[types.Artifact]]
    ) -> dict[str, list[types.Artifact]] | None:
        verdicts = _verdicts(store, input_dict["examples"])
        records = {a.id: a for a in input_dict["accepted"]}
        for span in sorted((s for s in verdicts if s < self.span), reverse=True):
            if verdicts[span].accepted_id in records:
                return {"accepted": [records[verdicts[span].accepted_id]], "examples": []}
        return {"accepted": [], "examples": []}
