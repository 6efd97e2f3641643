"""What open-source Kubeflow Pipelines' v2 driver and launcher write to ML Metadata, for tests.

Follows kubeflow/pipelines backend/src/v2/metadata/client.go and converter.go (KFP 2.x), writing
to a real store: a `system.Pipeline` context named after the pipeline and its child
`system.PipelineRun` context named after the run id; a root `system.DAGExecution` "run/<id>"
holding the run's parameter values; per task a `system.ContainerExecution` with its task name,
pod and parameter values, INPUT events for the artifacts it read and, when it ends, OUTPUT events
for new artifacts typed by the spec's schema title, their metadata as custom properties
(numbers as doubles, booleans as ints, lists and structs wrapped, as KFP's converter does).
"""

from __future__ import annotations

import pathlib
import threading

from google.protobuf import struct_pb2
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as mlmd

_Execution = mlmd.Execution


def _string(text: str) -> mlmd.Value:
    return mlmd.Value(string_value=text)


def _value(value) -> mlmd.Value:
    """KFP's StructValueToMLMDValue."""
    if isinstance(value, bool):
        return mlmd.Value(int_value=int(value))
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (int, float)):
        return mlmd.Value(double_value=float(value))
    wrapped = struct_pb2.Struct()
    wrapped.update({"list" if isinstance(value, list) else "struct": value})
    return mlmd.Value(struct_value=wrapped)


def _struct(values: dict) -> mlmd.Value:
    struct = struct_pb2.Struct()
    struct.update(values)
    return mlmd.Value(struct_value=struct)


def schema_title(artifact_type: dict) -> str:
    """The type name KFP gives an artifact: its schema title."""
    if "schemaTitle" in artifact_type:
        return artifact_type["schemaTitle"]
    for line in artifact_type.get("instanceSchema", "").splitlines():
        if line.startswith("title:"):
            return line.split(":", 1)[1].strip()
    raise ValueError(f"no schema title in {artifact_type}")


class KfpMetadata:
    """One pipeline's runs, recorded as KFP records them; safe to call from several threads
    (the launcher runs tasks side by side)."""

    def __init__(self, store_file: pathlib.Path, pipeline: str, pipeline_root: str):
        config = mlmd.ConnectionConfig()
        config.sqlite.filename_uri = str(store_file)
        config.sqlite.connection_mode = mlmd.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        self.store = metadata_store.MetadataStore(config)
        self.pipeline, self.pipeline_root = pipeline, pipeline_root
        self.lock = threading.Lock()
        self.runs: dict[str, tuple[mlmd.Context, mlmd.Context, int]] = {}

    def _context(self, type_name: str, name: str, properties: dict) -> mlmd.Context:
        type_id = self.store.put_context_type(mlmd.ContextType(name=type_name))
        found = self.store.get_context_by_type_and_name(type_name, name)
        if found is not None:
            return found
        context = mlmd.Context(type_id=type_id, name=name)
        for key, value in properties.items():
            context.custom_properties[key].CopyFrom(_string(value))
        [context.id] = self.store.put_contexts([context])
        return context

    def start_run(self, run_id: str, parameters: dict) -> None:
        with self.lock:
            pipeline = self._context("system.Pipeline", self.pipeline, {})
            run = self._context(
                "system.PipelineRun",
                run_id,
                {
                    "namespace": "kubeflow",
                    "resource_name": f"run-resource-{run_id}",
                    "pipeline_root": f"{self.pipeline_root}/{self.pipeline}/{run_id}",
                    "store_session_info": "{}",
                },
            )
            self.store.put_parent_contexts(
                [mlmd.ParentContext(child_id=run.id, parent_id=pipeline.id)]
            )
            dag = _Execution(
                type_id=self.store.put_execution_type(
                    mlmd.ExecutionType(name="system.DAGExecution")
                ),
                name=f"run/{run_id}",
                last_known_state=_Execution.RUNNING,
            )
            dag.custom_properties["display_name"].CopyFrom(_string(""))
            dag.custom_properties["task_name"].CopyFrom(_string(""))
            dag.custom_properties["inputs"].CopyFrom(_struct(parameters))
            dag_id, _, _ = self.store.put_execution(dag, [], [pipeline, run])
            self.runs[run_id] = (pipeline, run, dag_id)

    def start_task(
        self, run_id: str, task: str, parameters: dict, inputs: dict[str, list[int]], pod_uid: str
    ) -> int:
        """The driver's execution (RUNNING) with the launcher's pod information."""
        with self.lock:
            pipeline, run, dag_id = self.runs[run_id]
            execution = _Execution(
                type_id=self.store.put_execution_type(
                    mlmd.ExecutionType(name="system.ContainerExecution")
                ),
                last_known_state=_Execution.RUNNING,
            )
            properties = {
                "display_name": _string(task),
                "task_name": _string(task),
                "parent_dag_id": mlmd.Value(int_value=dag_id),
                "pod_name": _string(f"{self.pipeline}-{task.lower()}-{pod_uid[:5]}"),
                "pod_uid": _string(pod_uid),
                "namespace": _string("kubeflow"),
                "image": _string("registry.test/tfxp/tfxp:e2e"),
                "inputs": _struct(parameters),
            }
            for key, value in properties.items():
                execution.custom_properties[key].CopyFrom(value)
            read = [(key, i) for key, ids in inputs.items() for i in ids]
            stored = {a.id: a for a in self.store.get_artifacts_by_id([i for _, i in read])}
            events = [
                (stored[i], mlmd.Event(artifact_id=i, type=mlmd.Event.INPUT, path=_path(key)))
                for key, i in read
            ]
            execution_id, _, _ = self.store.put_execution(execution, events, [pipeline, run])
            return execution_id

    def finish_task(
        self, run_id: str, execution_id: int, outputs: dict[str, dict], failed: bool
    ) -> dict[str, int]:
        """The launcher's publish: the state, and on success each output artifact (the
        runtime artifact the executor reported, with its type) recorded as a new artifact.
        Returns the new artifact ids by output key."""
        with self.lock:
            pipeline, run, _ = self.runs[run_id]
            [execution] = self.store.get_executions_by_id([execution_id])
            execution.last_known_state = _Execution.FAILED if failed else _Execution.COMPLETE
            pairs, keys = [], []
            for key, runtime in ({} if failed else outputs).items():
                type_id = self.store.put_artifact_type(
                    mlmd.ArtifactType(name=schema_title(runtime["type"]))
                )
                artifact = mlmd.Artifact(
                    type_id=type_id, uri=runtime["uri"], state=mlmd.Artifact.LIVE
                )
                for name, value in runtime.get("metadata", {}).items():
                    artifact.custom_properties[name].CopyFrom(_value(value))
                artifact.custom_properties["display_name"].CopyFrom(_string(key))
                artifact.custom_properties["store_session_info"].CopyFrom(_string("{}"))
                pairs.append((artifact, mlmd.Event(type=mlmd.Event.OUTPUT, path=_path(key))))
                keys.append(key)
            _, artifact_ids, _ = self.store.put_execution(execution, pairs, [pipeline, run])
            return dict(zip(keys, artifact_ids, strict=True))

    def finish_run(self, run_id: str, failed: bool) -> None:
        """The DAG's state once its tasks ended."""
        with self.lock:
            pipeline, run, dag_id = self.runs[run_id]
            [dag] = self.store.get_executions_by_id([dag_id])
            dag.last_known_state = _Execution.FAILED if failed else _Execution.COMPLETE
            self.store.put_execution(dag, [], [pipeline, run])


def _path(key: str) -> mlmd.Event.Path:
    return mlmd.Event.Path(steps=[mlmd.Event.Path.Step(key=key)])
