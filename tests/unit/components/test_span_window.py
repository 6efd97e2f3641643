"""The drift baseline and the training window follow each span's latest gate verdict, read from
a real ML Metadata store (in memory) holding hand-made ingestions and gate executions."""

from __future__ import annotations

import pathlib

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as mlmd_pb2
from tfx.types import artifact_utils

from components.example_gate import AcceptedSpan, ExampleGate
from components.span_window import AcceptedSpanWindow, PreviousAcceptedSpan
from metadata.verdicts import gate_report_path

COMPLETE, CACHED, FAILED = (
    mlmd_pb2.Execution.COMPLETE,
    mlmd_pb2.Execution.CACHED,
    mlmd_pb2.Execution.FAILED,
)
RUNNING = mlmd_pb2.Execution.RUNNING


class Store:
    """A real MLMD store with Examples (by span), gate executions and their AcceptedSpans."""

    def __init__(self, root):
        self.root = root  # the pipeline root: gate reports are files under it
        config = mlmd_pb2.ConnectionConfig()
        config.fake_database.SetInParent()
        self.mlmd = metadata_store.MetadataStore(config)
        self.examples_type = self.mlmd.put_artifact_type(mlmd_pb2.ArtifactType(name="Examples"))
        self.accepted_type = self.mlmd.put_artifact_type(
            mlmd_pb2.ArtifactType(name=AcceptedSpan.TYPE_NAME)
        )
        self.gate_type = self.mlmd.put_execution_type(
            mlmd_pb2.ExecutionType(name=ExampleGate.get_class_type())
        )
        self.other_type = self.mlmd.put_execution_type(mlmd_pb2.ExecutionType(name="Transform"))
        self.examples: list = []
        self.accepted: list = []

    def ingest(self, span: int):
        uri = f"{self.root}/CsvExampleGen/examples/{len(self.examples)}"
        proto = mlmd_pb2.Artifact(type_id=self.examples_type, uri=uri)
        proto.custom_properties["span"].int_value = span
        (proto.id,) = self.mlmd.put_artifacts([proto])
        artifact = artifact_utils.deserialize_artifact(
            mlmd_pb2.ArtifactType(name="Examples", id=self.examples_type), proto
        )
        self.examples.append(artifact)
        return artifact

    def gate(self, examples, state, report=True, reuse=None, type_id=None):
        """A gate execution reading `examples`: accepted (COMPLETE/CACHED, `reuse` links an
        earlier AcceptedSpan as a cache hit does), or FAILED with (a stop) or without (a crash)
        its report file."""
        execution = mlmd_pb2.Execution(type_id=type_id or self.gate_type, last_known_state=state)
        (execution_id,) = self.mlmd.put_executions([execution])
        events = [
            mlmd_pb2.Event(
                artifact_id=examples.id, execution_id=execution_id, type=mlmd_pb2.Event.INPUT
            )
        ]
        span = examples.get_int_custom_property("span")
        if state == FAILED and report:
            path = pathlib.Path(gate_report_path(examples.uri, span, execution_id))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}")
        elif state in (COMPLETE, CACHED) and type_id is None:
            if reuse is None:
                proto = mlmd_pb2.Artifact(
                    type_id=self.accepted_type, uri=f"/accepted/{execution_id}"
                )
                proto.custom_properties["span"].int_value = span
                (proto.id,) = self.mlmd.put_artifacts([proto])
                reuse = artifact_utils.deserialize_artifact(
                    mlmd_pb2.ArtifactType(name=AcceptedSpan.TYPE_NAME, id=self.accepted_type), proto
                )
                self.accepted.append(reuse)
            events.append(
                mlmd_pb2.Event(
                    artifact_id=reuse.id, execution_id=execution_id, type=mlmd_pb2.Event.OUTPUT
                )
            )
        self.mlmd.put_events(events)
        return execution_id

    def window(self, num_spans, last_span):
        result = AcceptedSpanWindow(num_spans, last_span).resolve_artifacts(
            self.mlmd, {"examples": self.examples}
        )
        return [a.get_int_custom_property("span") for a in (result or {}).get("examples", [])]

    def previous(self, span):
        result = PreviousAcceptedSpan(span).resolve_artifacts(
            self.mlmd, {"examples": self.examples, "accepted": self.accepted}
        )
        return [a.get_int_custom_property("span") for a in result["accepted"]]


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path)
    for span in (1, 2, 3):
        store.gate(store.ingest(span), COMPLETE)
    return store


def test_the_window_is_the_newest_accepted_spans_up_to_the_one_run(store):
    assert store.window(2, 3) == [2, 3]
    assert store.window(5, 3) == [1, 2, 3]
    assert store.window(2, 2) == [1, 2]
    assert store.previous(3) == [2] and store.previous(1) == []


def test_a_stopped_span_is_skipped_by_the_window_and_the_baseline(store):
    store.gate(store.ingest(4), FAILED)
    store.gate(store.ingest(5), COMPLETE)
    assert store.window(3, 5) == [2, 3, 5]
    assert store.previous(5) == [3]


def test_a_span_stopped_after_an_earlier_acceptance_counts_as_stopped(store):
    replaced = store.ingest(2)  # span 2's files replaced; the new content fails
    store.gate(replaced, FAILED)
    assert store.window(3, 3) == [1, 3]
    assert store.previous(3) == [1]
    store.gate(store.examples[0], FAILED)  # span 1 re-run without the allow it needed
    assert store.window(3, 3) == [3]


def test_a_cached_acceptance_keeps_the_span_in(store):
    store.gate(store.examples[1], CACHED, reuse=store.accepted[1])
    assert store.window(3, 3) == [1, 2, 3] and store.previous(3) == [2]


def test_the_newest_accepted_ingestion_of_a_span_is_the_one_trained_on(store):
    fixed = store.ingest(2)
    store.gate(fixed, COMPLETE)
    (chosen,) = AcceptedSpanWindow(1, 2).resolve_artifacts(
        store.mlmd, {"examples": store.examples}
    )["examples"]
    assert chosen.id == fixed.id


def test_a_crashed_or_running_gate_and_other_readers_are_no_verdict(store):
    store.gate(store.examples[1], FAILED, report=False)  # a bug in the gate, not a stop
    store.gate(store.examples[1], RUNNING)
    store.gate(store.examples[1], COMPLETE, type_id=store.other_type)  # Transform reading it
    assert store.window(3, 3) == [1, 2, 3] and store.previous(3) == [2]


def test_nothing_accepted_resolves_to_nothing(tmp_path):
    store = Store(tmp_path)
    store.gate(store.ingest(1), FAILED)
    assert store.window(3, 1) == [] and store.previous(2) == []


def test_the_baseline_falls_back_to_an_earlier_span_whose_record_is_given(store):
    result = PreviousAcceptedSpan(3).resolve_artifacts(
        store.mlmd, {"examples": store.examples, "accepted": store.accepted[:1]}
    )
    assert [a.get_int_custom_property("span") for a in result["accepted"]] == [1]
