"""What the latest run did, read back from ML Metadata: each node's state, metrics, blessing, push.

The CLI prints this after `tfxp run`; tests use it to assert on real runs.
"""

from __future__ import annotations

import dataclasses
import pathlib

from ml_metadata.proto import metadata_store_pb2

STATES = {
    metadata_store_pb2.Execution.COMPLETE: "complete",
    metadata_store_pb2.Execution.CACHED: "cached",
    metadata_store_pb2.Execution.FAILED: "failed",
    metadata_store_pb2.Execution.RUNNING: "running",
    metadata_store_pb2.Execution.CANCELED: "canceled",
    metadata_store_pb2.Execution.NEW: "new",
}


class MetadataError(RuntimeError):
    """The metadata store is missing or holds no run of the pipeline."""


@dataclasses.dataclass(frozen=True)
class RunSummary:
    run_id: str
    node_states: dict[str, str]  # node id -> complete / cached / failed / ...
    node_seconds: dict[str, float]
    blessed: bool | None  # None when the Evaluator did not run
    pushed_version: int | None
    pushed_path: str | None
    already_serving_version: int | None  # blessed, but identical to the newest pushed version
    evaluation_uri: str | None
    gate_report_uri: str | None = None  # the accepted span's report.json; None if not accepted

    @property
    def all_cached(self) -> bool:
        return bool(self.node_states) and all(
            state == "cached" for node, state in self.node_states.items()
            if not node.endswith("resolver")
        )


def latest_run(metadata_path: pathlib.Path, pipeline_name: str) -> RunSummary:
    """Summarise the newest run of `pipeline_name`, through the lineage reader."""
    from components.example_gate import REPORT_FILE, AcceptedSpan
    from pipeline.lineage import Metadata, connect

    metadata = Metadata(connect(sqlite=metadata_path))
    runs = metadata.runs(pipeline_name)
    if not runs:
        raise MetadataError(f"{metadata_path}: no run of pipeline '{pipeline_name}'")
    run = runs[0]
    executions = metadata.executions_of_run(run.run)
    node_states = {node: state for node, state in run.nodes.items() if node in executions}
    node_seconds = {node: (e.last_update_time_since_epoch - e.create_time_since_epoch) / 1000
                    for node, e in executions.items()}
    blessed = pushed_version = pushed_path = evaluation_uri = already_serving = None
    gate_report = None
    for execution in executions.values():
        for artifact in metadata.outputs(execution.id):
            props = artifact.custom_properties
            type_name = metadata.artifact_type(artifact)
            if type_name == "ModelBlessing":
                blessed = props["blessed"].int_value == 1 if "blessed" in props else False
            elif type_name == "ModelEvaluation":
                evaluation_uri = artifact.uri
            elif type_name == AcceptedSpan.TYPE_NAME:
                gate_report = f"{artifact.uri}/{REPORT_FILE}"
            elif type_name == "PushedModel" and "pushed" in props:
                if props["pushed"].int_value:
                    pushed_version = props["pushed_version"].int_value
                    pushed_path = props["pushed_destination"].string_value
                elif "already_serving_version" in props:
                    already_serving = props["already_serving_version"].int_value
    return RunSummary(run.run, node_states, node_seconds, blessed, pushed_version,
                      pushed_path, already_serving, evaluation_uri, gate_report)


def overall_metrics(evaluation_uri: str) -> dict[str, float]:
    """The overall slice's metrics of a TFMA evaluation (candidate model)."""
    import tensorflow_model_analysis as tfma

    result = tfma.load_eval_result(evaluation_uri)
    for slice_key, metrics in result.slicing_metrics:
        if slice_key == ():
            values = metrics.get("", {}).get("", {})
            return {name: next(iter(v.values())) for name, v in values.items()
                    if isinstance(v, dict) and v and isinstance(next(iter(v.values())), float)}
    return {}


def threshold_failures(evaluation_uri: str) -> list[str]:
    """Why a model was not blessed: one line per failed threshold on each slice."""
    import tensorflow_model_analysis as tfma

    result = tfma.load_validation_result(evaluation_uri)
    lines = []
    for per_slice in result.metric_validations_per_slice:
        keys = [f"{k.column}={k.bytes_value.decode() or k.int64_value or k.float_value}"
                for k in per_slice.slice_key.single_slice_keys] or ["overall"]
        for failure in per_slice.failures:
            value = failure.metric_value.double_value.value
            lines.append(f"{', '.join(keys)}: {failure.metric_key.name} = {value:.4f} fails "
                         f"{_describe_threshold(failure.metric_threshold)}")
    return lines


def _describe_threshold(threshold) -> str:
    parts = []
    value = threshold.value_threshold
    if value.HasField("lower_bound"):
        parts.append(f">= {value.lower_bound.value}")
    if value.HasField("upper_bound"):
        parts.append(f"<= {value.upper_bound.value}")
    if threshold.HasField("change_threshold"):
        parts.append(f"change vs baseline >= {threshold.change_threshold.absolute.value:.4f}")
    return " and ".join(parts) or str(threshold)
