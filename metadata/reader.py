"""Reading one store: runs by id, their steps and durations, artifacts and executions.

Every lookup is an indexed query (a context by name, the contexts of one execution, the events
of a few ids); nothing walks the whole store up front, so a run's outcome is read in a few
queries however many runs the store holds.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import json
import math
import os
from typing import Any

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from metadata import names
from metadata.layout import (
    as_number,
    kubeflow_run_facts,
    layout_of,
    number,
    plain_names,
    run_parameters,
    unwrapped,
)
from metadata.store import MetadataError
from metadata.verdicts import latest_verdicts, span_of, stop_report

_Execution = metadata_store_pb2.Execution
_OUTPUTS = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)
STATES = {
    _Execution.COMPLETE: "complete",
    _Execution.CACHED: "cached",
    _Execution.FAILED: "failed",
    _Execution.RUNNING: "running",
    _Execution.CANCELED: "canceled",
    _Execution.NEW: "new",
}
NOT_RUN = "not run"
ABANDONED = "abandoned"  # canceled by the next run: the process running it died
# A run fact: the candidate's overall key metric, recorded when it was evaluated, under its
# name: AUC (binary label), accuracy (multiclass) or R² (regression).
KEY_METRICS = ("auc", "accuracy", "r_squared")
QUICK_BASELINE = "quick_baseline"  # a run fact: the quick baseline against ours (JSON)
WHY_NOT_BLESSED = "why_not_blessed"  # a run fact: each failed threshold, TFMA's and ours (JSON)
BLESSING_RULES = "blessing_rules"  # a run fact: our blessing rules' verdicts (JSON)
OUTCOMES = (  # `RunView.outcome`: what `tfxp runs` says each run ended in
    "pushed",
    "not-blessed",
    "stopped",
    "checked-in",
    "already-serving",
    "kept-out",
    "crashed",
    "interrupted",
    "running",
    "incomplete",
)
_LONG = 160  # property values longer than this are shown as their SHA-256
_HIDDEN = (  # bookkeeping on every artifact: TFX's, and Kubeflow's launcher's
    "tfx_version",
    "is_external",
    "state",
    "display_name",
    "store_session_info",
)


@dataclasses.dataclass(frozen=True)
class ArtifactView:
    id: int
    type: str
    uri: str
    producer: str | None  # node id of the execution that output it
    run: str | None
    created: str
    properties: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class ExecutionView:
    id: int
    node: str
    state: str
    run: str | None
    started: str
    seconds: float
    properties: dict[str, Any]
    inputs: dict[str, list[int]]
    outputs: dict[str, list[int]]


@dataclasses.dataclass(frozen=True)
class RunView:
    """One run, read back by its id: each step's state and time, the gate's verdict, the
    evaluation, the blessing and the push, and the facts recorded on the run. `tfxp runs`
    lists these; a local run's outcome is made of one."""

    run: str  # the run id
    pipeline: str
    started: str
    seconds: float
    nodes: dict[str, str]  # node id -> complete / cached / failed / ...; "not run" if absent
    node_seconds: dict[str, float]
    provenance: dict[str, str]  # the run's facts (`metadata.writer`), prefix removed
    gate_stopped: bool = False  # the gate failed and its report says stopped: not a crash
    gate_report_path: str | None = None  # the stop's report, or the accepted span's
    blessed: bool | None = None  # None when the Evaluator did not run
    evaluation_uri: str | None = None
    model_run_uri: str | None = None  # the Trainer's ModelRun folder
    pushed_version: int | None = None
    pushed_path: str | None = None
    already_serving_version: int | None = None  # blessed, but identical to the newest version
    older_than_served_span: int | None = None  # blessed, kept out: the served model's data is newer

    @property
    def run_id(self) -> str:
        return self.run

    @property
    def all_cached(self) -> bool:
        steps = {n: s for n, s in self.nodes.items() if not names.is_resolver(n)}
        return bool(steps) and set(steps.values()) == {"cached"}

    @property
    def outcome(self) -> str:
        """What the run ended in, one word of a fixed set (`OUTCOMES`), from what is recorded."""
        states = {s for n, s in self.nodes.items() if not names.is_resolver(n)}
        if self.gate_stopped:
            return "stopped"
        if ABANDONED in states or "canceled" in states:
            return "interrupted"  # killed or Ctrl-C: the next run closed what it left
        if "failed" in states:
            return "crashed"
        if "running" in states:
            return "running"
        if self.pushed_version is not None:
            return "pushed"
        if self.already_serving_version is not None:
            return "already-serving"
        if self.older_than_served_span is not None:
            return "kept-out"  # blessed, but the served model was trained on newer data
        if self.blessed is False:
            return "not-blessed"
        gate_passed = self.nodes.get(names.GATE) in ("complete", "cached")
        if gate_passed and self.nodes.get(names.TRAINER, NOT_RUN) == NOT_RUN:
            return "checked-in"
        return "incomplete"

    @property
    def key_metric_name(self) -> str | None:
        """Which key metric the run recorded (its label kind's), if any."""
        return next((name for name in KEY_METRICS if name in self.provenance), None)

    @property
    def key_metric(self) -> float | None:
        """The candidate's overall key metric on the eval split, as the run recorded it."""
        value = self.provenance.get(self.key_metric_name or KEY_METRICS[0])
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

    @property
    def key_metric_text(self) -> str:
        """`auc 0.9438`, or `auc -` when the run recorded none."""
        value = self.key_metric
        return f"{self.key_metric_name or KEY_METRICS[0]} " + (
            f"{value:.4f}" if value is not None else "-"
        )

    def derived(self) -> dict[str, Any]:
        """What `--json` adds to the recorded fields (the outcome word and the AUC), and the
        facts as the values they stand for (`fact_value`); `provenance` itself stays strings,
        as recorded."""
        return {
            "outcome": self.outcome,
            "auc": self.key_metric if self.key_metric_name in (None, "auc") else None,
            "key_metric": {"name": self.key_metric_name, "value": self.key_metric},
            "provenance": {k: fact_value(k, v) for k, v in self.provenance.items()},
        }


NUMERIC_FACTS = frozenset({"span", *KEY_METRICS})  # a number elsewhere is text: "1.10", a hash


def fact_value(key: str, text: str) -> Any:
    """A recorded fact as the value it stands for: `span` and `auc` (also as a Kubeflow
    `parameter.span`) as numbers, "true"/"false" as booleans, a JSON list or object
    ("allowed", "config", a Kubeflow parameter) parsed; anything else (hashes, paths,
    revisions, a version "1.10") as the text. ML Metadata keeps run facts as strings. NaN
    and the infinities stay text: JSON has no such numbers."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, (bool, list, dict)):
        return value
    numeric = key.rsplit(".", 1)[-1] in NUMERIC_FACTS
    if numeric and isinstance(value, (int, float)) and math.isfinite(value):
        return value
    return text


@dataclasses.dataclass(frozen=True)
class PushView:
    """One version a push put in a serving folder."""

    artifact_id: int  # the PushedModel
    version: int
    destination: str
    run: str | None
    pushed_at: str


@dataclasses.dataclass(frozen=True)
class DeploymentView:
    """One rollout step (`tfxp deploy`, `promote`, `rollback`)."""

    execution_id: int
    at: str
    action: str
    version: int
    mode: str
    percent: float
    who: str
    why: str


@dataclasses.dataclass(frozen=True)
class MonitoringView:
    """One `tfxp monitor` pass over a served version's traffic."""

    execution_id: int
    at: str
    since: str
    until: str
    predictions: int
    labels: int
    findings: list[str]
    page: str


def _string(props, key: str) -> str:
    return props[key].string_value if key in props else ""


def state_of(execution: metadata_store_pb2.Execution) -> str:
    if names.ABANDONED in execution.custom_properties:
        return ABANDONED
    return STATES.get(execution.last_known_state, "unknown")


def timestamp(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).isoformat(
        timespec="seconds"
    )


def seconds(execution: metadata_store_pb2.Execution) -> float:
    return (execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 1000


def value_of(value: metadata_store_pb2.Value) -> Any:
    kind = value.WhichOneof("value")
    if kind == "struct_value":
        from google.protobuf import json_format

        return json_format.MessageToDict(value.struct_value)
    return getattr(value, kind) if kind else None


def _readable(key: str, value: Any) -> Any:
    """Property values as a person reads them: custom configs opened, long texts hashed."""
    if isinstance(value, str) and value.startswith("{") and key == "custom_config":
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        model = (
            parsed.get("model", parsed.get("model_inputs")) if isinstance(parsed, dict) else None
        )
        if isinstance(model, dict):  # Transform's and Trainer's ("model_inputs" before 2026-11)
            summary = {"code_sha256": parsed.get("code_sha256")}
            if "training" in model:
                summary["hyperparameters"] = model["training"]
            return summary
        if isinstance(parsed, dict) and "custom_config" in parsed:  # ExampleGen's data hash
            packed = parsed["custom_config"].get("value", parsed)
            try:  # since 2026-11 a JSON object: the hash and the missing-value tokens
                inner = json.loads(packed) if isinstance(packed, str) else None
            except ValueError:  # before: "sha256:<hash>"
                inner = None
            if isinstance(inner, dict) and "fingerprint" in inner:
                fingerprint = inner["fingerprint"]
                data = f"sha256:{fingerprint}" if fingerprint else None
                return {"data": data, "na_values": inner.get("na_values")}
            return packed
    if isinstance(value, str) and value.startswith("{") and len(value) <= _LONG:
        try:
            return json.loads(value)
        except ValueError:
            pass
    if isinstance(value, str) and len(value) > _LONG:
        return f"<{len(value)} chars, sha256:{hashlib.sha256(value.encode()).hexdigest()[:16]}>"
    return value


class MetadataReader:
    """Read-only questions about one store; type names are looked up once, the rest on demand."""

    def __init__(self, store: metadata_store.MetadataStore):
        self.store = store
        self.layout = layout_of(store)
        self._artifact_types = {t.id: t.name for t in store.get_artifact_types()}
        self._context_types = {t.id: t.name for t in store.get_context_types()}

    # where an execution belongs -----------------------------------------------------------
    def _where(self, execution: metadata_store_pb2.Execution) -> tuple[str | None, str | None]:
        """The node id and the run id of an execution, from its contexts (locally a node
        context is named "<pipeline>.<node>"; on Kubeflow the execution names its task)."""
        node = self.layout.task_of(execution) if self.layout.kubeflow else None
        run = None
        for context in self.store.get_contexts_by_execution(execution.id):
            kind = self._context_types.get(context.type_id)
            if kind == names.NODE and node is None:
                node = context.name.split(".", 1)[-1]
            elif kind == self.layout.run_context and run is None:
                run = context.name
        return node, run

    def node_of(self, execution: metadata_store_pb2.Execution) -> str:
        return self._where(execution)[0] or "?"

    def type_of(self, artifact: metadata_store_pb2.Artifact) -> str:
        """The artifact's type as `names` spells it, whichever layout stored it."""
        return self.layout.type_name(self._artifact_types.get(artifact.type_id, "?"))

    # runs -----------------------------------------------------------------------------------
    def _run_contexts(self, pipeline: str | None = None) -> list[metadata_store_pb2.Context]:
        """Run contexts, newest first (by when ML Metadata recorded them)."""
        runs = sorted(self.store.get_contexts_by_type(self.layout.run_context), key=lambda c: -c.id)
        return [c for c in runs if pipeline is None or self._pipeline_of(c) == pipeline]

    def run_ids(self, pipeline: str | None = None) -> list[str]:
        """Run ids, newest first."""
        return [c.name for c in self._run_contexts(pipeline)]

    def _pipeline_of(self, run: metadata_store_pb2.Context) -> str:
        parents = self.store.get_parent_contexts_by_context(run.id)
        return next(
            (
                p.name
                for p in parents
                if self._context_types.get(p.type_id) == self.layout.pipeline_context
            ),
            "",
        )

    def _run_context(self, run_id: str) -> metadata_store_pb2.Context:
        """The run named `run_id`, or the only one it is a prefix of; exact names win."""
        context = self.store.get_context_by_type_and_name(self.layout.run_context, run_id)
        if context is not None:
            return context
        runs = self._run_contexts()
        matches = [c for c in runs if c.name.startswith(run_id)]
        if len(matches) != 1:
            raise MetadataError(
                f"run {run_id!r} {'is ambiguous' if matches else 'not found'} "
                f"(newest runs: {', '.join(c.name for c in runs[:5]) or 'none'})"
            )
        return matches[0]

    def executions_of_run(self, run_id: str) -> dict[str, metadata_store_pb2.Execution]:
        """The run's executions by node id, in the order they ran."""
        return self._executions(self._run_context(run_id))

    def _executions(
        self, run: metadata_store_pb2.Context
    ) -> dict[str, metadata_store_pb2.Execution]:
        """The run's steps by node id; Kubeflow's DAG executions (the run itself) left out."""
        executions = sorted(self.store.get_executions_by_context(run.id), key=lambda e: e.id)
        found = {}
        for execution in executions:
            node = self._where(execution)[0]
            if node is not None:
                found[node] = execution
        return found

    def _facts(self, run: metadata_store_pb2.Context) -> dict[str, str]:
        """What a run was made from: our facts on a local run's context; on Kubeflow the
        parameters of the run's root DAG execution (provenance expanded)."""
        if not self.layout.kubeflow:
            return {
                k[len(names.RUN_FACT_PREFIX) :]: v.string_value
                for k, v in sorted(run.custom_properties.items())  # a proto map has no order
                if k.startswith(names.RUN_FACT_PREFIX)
            }
        for execution in self.store.get_executions_by_context(run.id):
            if self.layout.is_root_dag(execution, run.name):
                return kubeflow_run_facts(run_parameters(execution))
        return {}

    def runs(self, pipeline: str | None = None) -> list[RunView]:
        """Every run, newest first; a node a run did not reach (stopped at the gate, say) is
        listed as "not run"."""
        views = [self._view(context) for context in self._run_contexts(pipeline)]
        known = list(dict.fromkeys(n for view in reversed(views) for n in view.nodes))
        return [
            dataclasses.replace(v, nodes={n: v.nodes.get(n, NOT_RUN) for n in known}) for v in views
        ]

    def run(self, run_id: str) -> RunView:
        """One run by id (or unique prefix): what each step did, and the run's facts."""
        return self._view(self._run_context(run_id))

    def _view(self, context: metadata_store_pb2.Context) -> RunView:
        executions = self._executions(context)
        found: dict[str, Any] = {}
        for execution in executions.values():
            for artifact in self.outputs(execution.id):
                found.update(self._facts_of_output(artifact))
        gate = executions.get(names.GATE)
        if gate is not None and gate.last_known_state == _Execution.FAILED:
            examples = self.inputs(gate.id, "examples")
            key = self.layout.report_key(gate)
            stopped = stop_report(key, examples[0]) if examples and key else None
            found.update(gate_stopped=stopped is not None, gate_report_path=stopped)
        start = min(
            (e.create_time_since_epoch for e in executions.values()),
            default=context.create_time_since_epoch,
        )
        end = max((e.last_update_time_since_epoch for e in executions.values()), default=start)
        return RunView(
            run=context.name,
            pipeline=self._pipeline_of(context),
            started=timestamp(start),
            seconds=(end - start) / 1000,
            nodes={n: state_of(e) for n, e in executions.items()},
            node_seconds={n: seconds(e) for n, e in executions.items()},
            provenance=self._facts(context),
            **found,
        )

    def _facts_of_output(self, artifact: metadata_store_pb2.Artifact) -> dict[str, Any]:
        """What one output artifact tells about its run's outcome."""
        props, kind = artifact.custom_properties, self.type_of(artifact)
        if kind == names.MODEL_BLESSING:
            return {"blessed": number(props, names.BLESSED) == 1}
        if kind == names.MODEL_EVALUATION:
            return {"evaluation_uri": artifact.uri}
        if kind == names.MODEL_RUN:
            return {"model_run_uri": artifact.uri}
        if kind == names.ACCEPTED_SPAN:
            return {"gate_report_path": f"{artifact.uri}/{names.GATE_REPORT_FILE}"}
        pushed = number(props, names.PUSHED)
        if kind == names.PUSHED_MODEL and pushed is not None:
            if pushed:
                return {
                    "pushed_version": number(props, names.PUSHED_VERSION),
                    "pushed_path": props[names.PUSHED_DESTINATION].string_value,
                }
            already = number(props, names.ALREADY_SERVING_VERSION)
            if already is not None:
                return {"already_serving_version": already}
            older = number(props, names.OLDER_THAN_SERVED)
            if older is not None:
                return {"older_than_served_span": older}
        return {}

    # artifacts and executions ---------------------------------------------------------------
    def outputs(self, execution_id: int) -> list[metadata_store_pb2.Artifact]:
        ids = [
            e.artifact_id
            for e in self.store.get_events_by_execution_ids([execution_id])
            if e.type in _OUTPUTS
        ]
        return self.store.get_artifacts_by_id(ids) if ids else []

    def inputs(self, execution_id: int, key: str) -> list[metadata_store_pb2.Artifact]:
        """The artifacts an execution read under input `key`. One artifact read under two
        keys (a model that is its own baseline) is one event whose path holds both keys, in
        either order: every key of the path counts."""
        ids = [
            e.artifact_id
            for e in self.store.get_events_by_execution_ids([execution_id])
            if e.type == metadata_store_pb2.Event.INPUT
            and key in {step.key for step in e.path.steps if step.HasField("key")}
        ]
        return self.store.get_artifacts_by_id(ids) if ids else []

    def producer(self, artifact_id: int) -> metadata_store_pb2.Execution | None:
        """The execution that made an artifact (the first to output it; cache hits reuse)."""
        events = [
            e for e in self.store.get_events_by_artifact_ids([artifact_id]) if e.type in _OUTPUTS
        ]
        if not events:
            return None
        first = min(events, key=lambda e: e.execution_id)
        return self.store.get_executions_by_id([first.execution_id])[0]

    def consumers(self, artifact_id: int) -> list[int]:
        """Ids of the executions that read an artifact, oldest first."""
        return sorted(
            {
                e.execution_id
                for e in self.store.get_events_by_artifact_ids([artifact_id])
                if e.type == metadata_store_pb2.Event.INPUT
            }
        )

    def artifact_proto(self, artifact_id: int) -> metadata_store_pb2.Artifact:
        found = self.store.get_artifacts_by_id([artifact_id])
        if not found:
            raise MetadataError(f"no artifact with id {artifact_id}")
        return found[0]

    def artifact(self, artifact_id: int) -> ArtifactView:
        return self._artifact_view(self.artifact_proto(artifact_id))

    def _artifact_view(self, artifact: metadata_store_pb2.Artifact) -> ArtifactView:
        producer = self.producer(artifact.id)
        node, run = self._where(producer) if producer else (None, None)
        stored = list(artifact.properties.items()) + list(artifact.custom_properties.items())
        props = {k: self._value(k, v) for k, v in stored if k not in _HIDDEN}
        if self.layout.kubeflow:
            props = plain_names(props)
        return ArtifactView(
            artifact.id,
            self.type_of(artifact),
            artifact.uri,
            node,
            run,
            timestamp(artifact.create_time_since_epoch),
            dict(sorted(props.items())),
        )

    def _value(self, key: str, value: metadata_store_pb2.Value) -> Any:
        if self.layout.kubeflow and value.HasField("double_value"):
            return as_number(value)  # KFP writes every number as a double
        readable = _readable(key, value_of(value))
        if self.layout.kubeflow and isinstance(readable, dict):
            return unwrapped(readable)
        return readable

    def artifacts(self, type_name: str | None = None, run: str | None = None) -> list[ArtifactView]:
        """Artifacts of a type, or output by one run, or all."""
        if run:
            ids = {a.id for e in self.executions_of_run(run).values() for a in self.outputs(e.id)}
            found = self.store.get_artifacts_by_id(sorted(ids)) if ids else []
        elif type_name:
            found = self.store.get_artifacts_by_type(self.layout.stored_type(type_name))
        else:
            found = self.store.get_artifacts()
        return [
            self._artifact_view(a) for a in found if not type_name or self.type_of(a) == type_name
        ]

    def execution(self, execution_id: int) -> ExecutionView:
        found = self.store.get_executions_by_id([execution_id])
        if not found:
            raise MetadataError(f"no execution with id {execution_id}")
        execution = found[0]
        inputs: dict[str, list[int]] = {}
        outputs: dict[str, list[int]] = {}
        for event in self.store.get_events_by_execution_ids([execution.id]):
            keys = [step.key for step in event.path.steps if step.HasField("key")] or ["?"]
            for key in keys:  # one artifact under two keys is one event (see `inputs`)
                if event.type == metadata_store_pb2.Event.INPUT:
                    inputs.setdefault(key, []).append(event.artifact_id)
                elif event.type in _OUTPUTS:
                    outputs.setdefault(key, []).append(event.artifact_id)
        props = {
            k: _readable(k, value_of(v))
            for k, v in list(execution.properties.items())
            + list(execution.custom_properties.items())
            if not k.startswith("__")
        }
        if "schema_text" in execution.custom_properties:  # the full hash, not a summary
            text = execution.custom_properties["schema_text"].string_value
            props["schema_text"] = f"sha256:{hashlib.sha256(text.encode()).hexdigest()}"
        node, run = self._where(execution)
        return ExecutionView(
            execution.id,
            node or "?",
            state_of(execution),
            run,
            timestamp(execution.create_time_since_epoch),
            seconds(execution),
            dict(sorted(props.items())),
            inputs,
            outputs,
        )

    def output_of(self, run_id: str, node: str, type_name: str) -> ArtifactView | None:
        """The artifact of `type_name` that `node` output in run `run_id`, if it ran."""
        execution = self.executions_of_run(run_id).get(node)
        if execution is None:
            return None
        for artifact in self.outputs(execution.id):
            if self.type_of(artifact) == type_name:
                return self._artifact_view(artifact)
        return None

    def running_executions(self) -> list[ExecutionView]:
        """Executions recorded as running: a live run's, or a dead one's."""
        running = self.store.get_executions(
            list_options=metadata_store.ListOptions(filter_query="last_known_state = RUNNING")
        )
        return [self.execution(e.id) for e in running]

    def served_span(self, serving_dir: str) -> int | None:
        """The span the newest version still in `serving_dir` was trained up to: the span of
        the run that pushed it. None when no recorded push is there any more."""
        there = [push for push in self.pushes_into(serving_dir) if os.path.isdir(push.destination)]
        span = self.run(there[-1].run).provenance.get("span") if there and there[-1].run else None
        return int(span) if span and span.isdigit() else None

    def newest_execution_id(self) -> int:
        """The highest execution id in the store (0 for none): TFX names output folders
        after execution ids, so none on disk may be higher."""
        newest = self.store.get_executions(
            list_options=metadata_store.ListOptions(
                limit=1, order_by=metadata_store.OrderByField.ID, is_asc=False
            )
        )
        return newest[0].id if newest else 0

    def stateful_dir_index(self, execution_id: int) -> str | None:
        """TFX's name for an execution's private working folder (see `names`)."""
        found = self.store.get_executions_by_id([execution_id])
        value = found[0].custom_properties.get(names.STATEFUL_DIR_INDEX) if found else None
        return value.string_value if value is not None else None

    def _pushes(self) -> list[metadata_store_pb2.Artifact]:
        """PushedModel artifacts of pushes that happened (pushed=1, a destination)."""
        stored = self.store.get_artifacts_by_type(self.layout.stored_type(names.PUSHED_MODEL))
        return [
            a
            for a in stored
            if number(a.custom_properties, names.PUSHED)
            and names.PUSHED_DESTINATION in a.custom_properties
        ]

    def pushed_models(self) -> list[PushView]:
        """Every recorded push, oldest version first, with the run that made it."""
        views = []
        for artifact in self._pushes():
            props = artifact.custom_properties
            producer = self.producer(artifact.id)
            views.append(
                PushView(
                    artifact.id,
                    number(props, names.PUSHED_VERSION),
                    props[names.PUSHED_DESTINATION].string_value,
                    self._where(producer)[1] if producer else None,
                    timestamp(artifact.create_time_since_epoch),
                )
            )
        return sorted(views, key=lambda v: (v.version, v.artifact_id))

    def version_of_model(self, model_id: int) -> int | None:
        """The version a Model artifact was pushed as (the newest, if pushed more than once);
        None for a model never pushed (e.g. blessed while the same model was served)."""
        found = [
            number(artifact.custom_properties, names.PUSHED_VERSION)
            for execution_id in self.consumers(model_id)
            if self.node_of(self.store.get_executions_by_id([execution_id])[0]) == names.PUSHER
            for artifact in self.outputs(execution_id)
            if number(artifact.custom_properties, names.PUSHED)
        ]
        found = [v for v in found if v is not None]
        return max(found) if found else None

    def run_inputs(self, run_id: str, node: str, key: str) -> list[metadata_store_pb2.Artifact]:
        """What one step of a run read under input `key`; empty when the step did not run."""
        execution = self.executions_of_run(run_id).get(node)
        return self.inputs(execution.id, key) if execution is not None else []

    def statistics_of(self, examples_id: int) -> metadata_store_pb2.Artifact | None:
        """The statistics StatisticsGen computed of an Examples artifact (the first, if the
        span was ingested by several runs)."""
        for execution_id in self.consumers(examples_id):
            execution = self.store.get_executions_by_id([execution_id])[0]
            if self.node_of(execution) == names.STATISTICS_GEN:
                made = [
                    a for a in self.outputs(execution_id) if self.type_of(a) == names.STATISTICS
                ]
                if made:
                    return made[0]
        return None

    def _steps_on_pushed_models(
        self, execution_type: str, pushed_model_id: int | None
    ) -> list[metadata_store_pb2.Execution]:
        """Executions of one of our step types, oldest first; those reading one pushed model
        when given."""
        try:
            executions = self.store.get_executions_by_type(execution_type)
        except Exception:  # no such step was ever recorded
            return []
        if pushed_model_id is not None:
            readers = set(self.consumers(pushed_model_id))
            executions = [e for e in executions if e.id in readers]
        return sorted(executions, key=lambda e: e.id)

    def monitorings(self, pushed_model_id: int | None = None) -> list[MonitoringView]:
        """`tfxp monitor` passes, oldest first; those over one pushed model when given."""
        views = []
        for execution in self._steps_on_pushed_models(names.MONITORING, pushed_model_id):
            props = execution.custom_properties
            text = functools.partial(_string, props)

            views.append(
                MonitoringView(
                    execution.id,
                    timestamp(execution.create_time_since_epoch),
                    text(names.MONITORING_SINCE),
                    text(names.MONITORING_UNTIL),
                    number(props, names.MONITORING_PREDICTIONS) or 0,
                    number(props, names.MONITORING_LABELS) or 0,
                    json.loads(text(names.MONITORING_FINDINGS) or "[]"),
                    text(names.MONITORING_PAGE),
                )
            )
        return views

    def pushes_into(self, serving_dir: str | os.PathLike) -> list[PushView]:
        """Recorded pushes into one serving folder, oldest version first: the one way a
        version on disk is matched to the push (and run) that made it."""
        folder = os.path.realpath(serving_dir)
        return [
            push
            for push in self.pushed_models()
            if os.path.dirname(os.path.realpath(push.destination)) == folder
        ]

    def deployments(self, pushed_model_id: int | None = None) -> list[DeploymentView]:
        """Rollout steps, oldest first; those of one pushed model when given."""
        views = []
        for execution in self._steps_on_pushed_models(names.DEPLOYMENT, pushed_model_id):
            props = execution.custom_properties
            text = functools.partial(_string, props)

            views.append(
                DeploymentView(
                    execution.id,
                    timestamp(execution.create_time_since_epoch),
                    text(names.DEPLOYMENT_ACTION),
                    number(props, names.DEPLOYMENT_VERSION) or 0,
                    text(names.DEPLOYMENT_MODE),
                    float(number(props, names.DEPLOYMENT_PERCENT) or 0),
                    text(names.DEPLOYMENT_WHO),
                    text(names.DEPLOYMENT_WHY),
                )
            )
        return views

    def pushed_destinations(self) -> set[str]:
        """Every version folder a push recorded (no run lookups: called before each run)."""
        return {a.custom_properties[names.PUSHED_DESTINATION].string_value for a in self._pushes()}

    # spans ------------------------------------------------------------------------------------
    def ingested_examples(self, pipeline: str) -> list[metadata_store_pb2.Artifact]:
        """Every span ExampleGen has ingested in `pipeline`, each ingestion once."""
        context = self.store.get_context_by_type_and_name(self.layout.pipeline_context, pipeline)
        if (
            context is None
            or self.layout.stored_type(names.EXAMPLES) not in self._artifact_types.values()
        ):
            return []
        return [
            a
            for a in self.store.get_artifacts_by_context(context.id)
            if self.type_of(a) == names.EXAMPLES and span_of(a) is not None
        ]

    def judged_spans(self, pipeline: str) -> set[int]:
        """Spans of `pipeline` the data gate has given a verdict on."""
        return set(latest_verdicts(self.store, self.ingested_examples(pipeline), self.layout))
