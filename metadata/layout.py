"""Two layouts of the same runs in ML Metadata, and the one place that tells them apart.

Local runs are recorded by TFX's orchestrator: a node context per step, a `pipeline_run` context
holding our run facts, artifact types named "Examples", integer properties. A run of the
compiled spec on open-source Kubeflow Pipelines is recorded by KFP's v2 driver and launcher
instead: each task an execution carrying its task name, the run's parameters on a root DAG
execution, types named by schema title ("tfx.Examples"), every number a double. The reader asks
its `Layout`, so `tfxp runs` and `tfxp lineage` read either store the same way.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from metadata import names


@dataclasses.dataclass(frozen=True)
class Layout:
    kubeflow: bool  # recorded by Kubeflow Pipelines' launcher, not TFX's orchestrator
    pipeline_context: str
    run_context: str

    def stored_type(self, type_name: str) -> str:
        """The store's name for an artifact type: "Examples" is "tfx.Examples" on Kubeflow;
        our own types ("tfxp.AcceptedSpan") are named alike in both."""
        if self.kubeflow and "." not in type_name:
            return names.KFP_TFX_TYPE_PREFIX + type_name
        return type_name

    def type_name(self, stored: str) -> str:
        """The inverse of `stored_type`."""
        if self.kubeflow and stored.startswith(names.KFP_TFX_TYPE_PREFIX):
            return stored[len(names.KFP_TFX_TYPE_PREFIX) :]
        return stored

    def task_of(self, execution: metadata_store_pb2.Execution) -> str | None:
        """Kubeflow: the task an execution ran; None for DAG executions (the run itself)."""
        task = execution.custom_properties.get(names.KFP_TASK_NAME)
        return task.string_value or None if task is not None else None

    def report_key(self, gate: metadata_store_pb2.Execution) -> str:
        """The key a gate execution named its report with: its execution id locally, the pod
        it ran in on Kubeflow (`example_gate._report_key`)."""
        if self.kubeflow:
            pod = gate.custom_properties.get(names.KFP_POD_UID)
            return pod.string_value if pod is not None else ""
        return str(gate.id)

    def is_root_dag(self, execution: metadata_store_pb2.Execution, run_id: str) -> bool:
        return self.kubeflow and execution.name == f"{names.KFP_ROOT_DAG_PREFIX}{run_id}"


TFX = Layout(kubeflow=False, pipeline_context=names.PIPELINE, run_context=names.PIPELINE_RUN)
KFP = Layout(kubeflow=True, pipeline_context=names.KFP_PIPELINE, run_context=names.KFP_PIPELINE_RUN)


def layout_of(store: metadata_store.MetadataStore) -> Layout:
    """KFP's layout when the store has KFP's run contexts and no TFX ones; TFX's otherwise
    (an empty store included)."""
    kinds = {t.name for t in store.get_context_types()}
    if names.KFP_PIPELINE_RUN in kinds and names.PIPELINE_RUN not in kinds:
        return KFP
    return TFX


def number(properties, key: str) -> int | float | None:
    """A numeric property as either layout writes it: an int locally; a double on Kubeflow,
    where TFX's entrypoint also renames a custom property that shares a property's name to
    "custom:<name>" (that one is what TFX's getters read, so it wins)."""
    for name in (names.KFP_CUSTOM_PREFIX + key, key):
        if name in properties:
            return as_number(properties[name])
    return None


def as_number(value: metadata_store_pb2.Value) -> int | float | None:
    """An int or a double value; a whole double (Kubeflow writes every number so) as an int."""
    kind = value.WhichOneof("value")
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        double = value.double_value
        return int(double) if double.is_integer() else double
    return None


def plain_names(properties: dict[str, Any]) -> dict[str, Any]:
    """Kubeflow's "custom:<name>" keys under their plain name, replacing the property's."""
    plain = {k: v for k, v in properties.items() if not k.startswith(names.KFP_CUSTOM_PREFIX)}
    for key, value in properties.items():
        if key.startswith(names.KFP_CUSTOM_PREFIX):
            plain[key[len(names.KFP_CUSTOM_PREFIX) :]] = value
    return plain


def unwrapped(value: dict[str, Any]) -> Any:
    """A list or mapping as it was: KFP's converter wraps them as {"list": ...} and
    {"struct": ...}; its whole numbers are doubles."""
    if len(value) == 1 and next(iter(value)) in ("list", "struct"):
        value = next(iter(value.values()))
    if isinstance(value, dict):
        return {
            k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in value.items()
        }
    return value


def run_parameters(root_dag: metadata_store_pb2.Execution) -> dict[str, Any]:
    """Kubeflow: the parameter values a run was started with (on its root DAG execution)."""
    from google.protobuf import json_format

    inputs = root_dag.custom_properties.get(names.KFP_INPUTS)
    if inputs is None or inputs.WhichOneof("value") != "struct_value":
        return {}
    return json_format.MessageToDict(inputs.struct_value)


def kubeflow_run_facts(parameters: dict[str, Any]) -> dict[str, str]:
    """A Kubeflow run's facts as the reader shows a local run's: what `tfxp compile` and
    `tfxp submit` put in the provenance parameter, then each other parameter as
    "parameter.<name>"."""
    facts: dict[str, str] = {}
    try:
        recorded = json.loads(parameters.get(names.PROVENANCE_PARAMETER) or "{}")
    except ValueError:
        recorded = {}
    if isinstance(recorded, dict):
        facts.update({str(k): str(v) for k, v in recorded.items()})
    for name, value in sorted(parameters.items()):
        if name != names.PROVENANCE_PARAMETER:
            facts[f"parameter.{name}"] = value if isinstance(value, str) else json.dumps(value)
    return facts
