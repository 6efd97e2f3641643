"""A real ML Metadata store (in memory, or a SQLite file) filled the way TFX's local
orchestrator fills it: a pipeline context, a run context per run (child of the pipeline), a node
context per step, and executions with their input and output events."""

from __future__ import annotations

import pathlib

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

from metadata import names
from metadata.store import sqlite_connection

COMPLETE, CACHED, FAILED = pb.Execution.COMPLETE, pb.Execution.CACHED, pb.Execution.FAILED


class StoreBuilder:
    def __init__(self, path: pathlib.Path | None = None, pipeline: str = "taxi"):
        if path is None:
            config = pb.ConnectionConfig()
            config.fake_database.SetInParent()
        else:
            config = sqlite_connection(path, create=True)
        self.store = metadata_store.MetadataStore(config)
        self.pipeline_name = pipeline
        self._context_types = {
            name: self.store.put_context_type(pb.ContextType(name=name))
            for name in (names.PIPELINE, names.PIPELINE_RUN, names.NODE)
        }
        (self.pipeline_id,) = self.store.put_contexts(
            [pb.Context(type_id=self._context_types[names.PIPELINE], name=pipeline)]
        )
        self._nodes: dict[str, int] = {}
        self._artifact_types: dict[str, int] = {}
        self._execution_types: dict[str, int] = {}

    def _node(self, node: str) -> int:
        if node not in self._nodes:
            (self._nodes[node],) = self.store.put_contexts(
                [
                    pb.Context(
                        type_id=self._context_types[names.NODE], name=f"{self.pipeline_name}.{node}"
                    )
                ]
            )
        return self._nodes[node]

    def artifact(self, type_name: str, uri: str = "/a", **properties) -> pb.Artifact:
        if type_name not in self._artifact_types:
            self._artifact_types[type_name] = self.store.put_artifact_type(
                pb.ArtifactType(name=type_name)
            )
        proto = pb.Artifact(type_id=self._artifact_types[type_name], uri=uri)
        for key, value in properties.items():
            field = "int_value" if isinstance(value, int) else "string_value"
            setattr(proto.custom_properties[key], field, value)
        (proto.id,) = self.store.put_artifacts([proto])
        return proto

    def run(self, run_id: str) -> int:
        (context_id,) = self.store.put_contexts(
            [pb.Context(type_id=self._context_types[names.PIPELINE_RUN], name=run_id)]
        )
        self.store.put_parent_contexts(
            [pb.ParentContext(child_id=context_id, parent_id=self.pipeline_id)]
        )
        return context_id

    def step(
        self,
        run_context: int,
        node: str,
        state=COMPLETE,
        inputs=None,
        outputs=None,
        execution_type: str | None = None,
    ) -> int:
        """An execution of `node` in a run, reading `inputs` and writing `outputs`
        ({key: [artifact, ...]})."""
        kind = execution_type or node
        if kind not in self._execution_types:
            self._execution_types[kind] = self.store.put_execution_type(pb.ExecutionType(name=kind))
        execution = pb.Execution(type_id=self._execution_types[kind], last_known_state=state)
        (execution_id,) = self.store.put_executions([execution])
        events = []
        for event_type, artifacts in (
            (pb.Event.INPUT, inputs or {}),
            (pb.Event.OUTPUT, outputs or {}),
        ):
            for key, found in artifacts.items():
                for artifact in found:
                    event = pb.Event(
                        artifact_id=artifact.id, execution_id=execution_id, type=event_type
                    )
                    event.path.steps.add().key = key
                    events.append(event)
        self.store.put_events(events)
        contexts = [run_context, self._node(node), self.pipeline_id]
        self.store.put_attributions_and_associations(
            [], [pb.Association(context_id=c, execution_id=execution_id) for c in contexts]
        )
        self.store.put_attributions_and_associations(
            [
                pb.Attribution(context_id=self.pipeline_id, artifact_id=a.id)
                for found in (outputs or {}).values()
                for a in found
            ],
            [],
        )
        return execution_id
