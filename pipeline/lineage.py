"""Answers to the questions people ask of ML Metadata: runs, artifacts, provenance, run diffs.

Read-only: the store is opened READONLY and nothing here writes or migrates it. Everything is
returned as plain dataclasses (JSON-ready via `as_json`); rendering lives in the CLI's helpers
at the bottom of this module.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import hashlib
import json
import os
import pathlib
from typing import Any, Iterable

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from pipeline.data import EXAMPLE_GEN_ID
from pipeline.provenance import PREFIX
from pipeline.run_report import STATES, MetadataError

_LONG = 160  # property values longer than this are summarised by their SHA-256


class LineageError(MetadataError):
    """An unknown id or run, or a store that cannot be read; one line for the user."""


def connect(sqlite: pathlib.Path | None = None, mysql: str | None = None,
            mysql_user: str | None = None) -> metadata_store.MetadataStore:
    """Open a store READONLY: a SQLite file, or MySQL given as HOST:PORT/DATABASE.

    The MySQL password comes from the environment (MLMD_MYSQL_PASSWORD), never a flag.
    """
    config = metadata_store_pb2.ConnectionConfig()
    if mysql:
        host_port, _, database = mysql.partition("/")
        host, _, port = host_port.partition(":")
        config.mysql.host, config.mysql.database = host, database
        if port and not port.isdigit():
            raise LineageError(f"--mysql {mysql!r}: the port must be a number (HOST:PORT/DATABASE)")
        config.mysql.port = int(port or 3306)
        config.mysql.user = mysql_user or ""
        config.mysql.password = os.environ.get("MLMD_MYSQL_PASSWORD", "")
        where = f"mysql {host_port}/{database}"
    else:
        if sqlite is None or not pathlib.Path(sqlite).is_file():
            raise LineageError(f"{sqlite}: no ML Metadata store there (has the pipeline run?)")
        with open(sqlite, "rb") as handle:
            if not handle.read(16).startswith(b"SQLite format 3"):
                raise LineageError(f"{sqlite}: not an ML Metadata store (not a SQLite file)")
        config.sqlite.filename_uri = str(sqlite)
        config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
        where = str(sqlite)
    try:
        store = metadata_store.MetadataStore(config)
        store.get_context_types()
    except Exception as err:  # MLMD raises its own status errors; the user needs one line
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        if any(w in message.lower() for w in ("schema version", "database version", "migration")):
            raise LineageError(f"{where}: unsupported ML Metadata schema version ({message}); "
                               "this tool never migrates a store") from None
        raise LineageError(f"{where}: not a readable ML Metadata store ({message})") from None
    return store


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
    run: str
    pipeline: str
    started: str
    seconds: float
    nodes: dict[str, str]  # node id -> complete / cached / failed; absent: not run
    pushed_version: int | None
    provenance: dict[str, str]


def as_json(value: Any) -> str:
    return json.dumps(_plain(value), indent=2, sort_keys=True)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _time(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).isoformat(
        timespec="seconds")


def _value(value: metadata_store_pb2.Value) -> Any:
    kind = value.WhichOneof("value")
    if kind == "struct_value":
        from google.protobuf import json_format

        return json_format.MessageToDict(value.struct_value)
    return getattr(value, kind) if kind else None


def _summarised(key: str, value: Any) -> Any:
    """Readable property values: JSON custom configs opened, long texts as their hash."""
    if isinstance(value, str) and value.startswith("{") and key == "custom_config":
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and "model_inputs" in parsed:
            summary = {"code_sha256": parsed.get("code_sha256")}
            if "training" in parsed["model_inputs"]:
                summary["hyperparameters"] = parsed["model_inputs"]["training"]
            return summary
        if isinstance(parsed, dict) and "custom_config" in parsed:
            return parsed["custom_config"].get("value", parsed)
    if isinstance(value, str) and value.startswith("{") and len(value) <= _LONG:
        try:
            return json.loads(value)
        except ValueError:
            pass
    if isinstance(value, str) and len(value) > _LONG:
        return f"<{len(value)} chars, sha256:{hashlib.sha256(value.encode()).hexdigest()[:16]}>"
    return value


class Metadata:
    """A read-only view of one store, with the lookups the commands share."""

    def __init__(self, store: metadata_store.MetadataStore):
        self.store = store
        self._artifact_types = {t.id: t.name for t in store.get_artifact_types()}
        self._context_type = {t.name: t.id for t in store.get_context_types()}
        self._node_of: dict[int, str] = {}
        self._run_of: dict[int, str | None] = {}
        for name in ("node", "pipeline_run"):
            if name not in self._context_type:
                continue
            for context in store.get_contexts_by_type(name):
                for execution in store.get_executions_by_context(context.id):
                    if name == "node":
                        self._node_of[execution.id] = context.name.split(".", 1)[-1]
                    else:
                        self._run_of.setdefault(execution.id, context.name)

    # runs ---------------------------------------------------------------------------------
    def runs(self, pipeline: str | None = None) -> list[RunView]:
        """Pipeline runs, newest first."""
        if "pipeline_run" not in self._context_type:
            return []
        views = []
        for context in self.store.get_contexts_by_type("pipeline_run"):
            parents = self.store.get_parent_contexts_by_context(context.id)
            name = next((p.name for p in parents
                         if p.type_id == self._context_type.get("pipeline")), "")
            if pipeline and name != pipeline:
                continue
            views.append((context.id, self._run_view(context, name)))
        # A node missing from a run (stopped at the gate, say) is reported as "not run".
        known = list(dict.fromkeys(n for _, v in sorted(views, key=lambda v: v[0])
                                   for n in v.nodes))
        views = [(i, dataclasses.replace(v, nodes={n: v.nodes.get(n, "not run") for n in known}))
                 for i, v in views]
        return [view for _, view in sorted(views, key=lambda v: v[0], reverse=True)]

    def run(self, run_id: str) -> RunView:
        runs = self.runs()
        matches = ([r for r in runs if r.run == run_id]
                   or [r for r in runs if r.run.startswith(run_id)])  # an exact id wins
        if len(matches) != 1:
            known = ", ".join(r.run for r in self.runs()[:5])
            raise LineageError(f"run {run_id!r} {'is ambiguous' if matches else 'not found'} "
                               f"(newest runs: {known or 'none'})")
        return matches[0]

    def _run_view(self, context: metadata_store_pb2.Context, pipeline: str) -> RunView:
        executions = self.store.get_executions_by_context(context.id)
        nodes, pushed = {}, None
        for execution in sorted(executions, key=lambda e: e.id):
            nodes[self._node_of.get(execution.id, str(execution.id))] = STATES.get(
                execution.last_known_state, "unknown")
            for artifact in self.outputs(execution.id):
                props = artifact.custom_properties
                if "pushed" in props and props["pushed"].int_value:
                    pushed = props["pushed_version"].int_value
        start = min((e.create_time_since_epoch for e in executions),
                    default=context.create_time_since_epoch)
        end = max((e.last_update_time_since_epoch for e in executions), default=start)
        provenance = {k[len(PREFIX):]: v.string_value
                      for k, v in context.custom_properties.items() if k.startswith(PREFIX)}
        return RunView(context.name, pipeline, _time(start), (end - start) / 1000, nodes,
                       pushed, provenance)

    def executions_of_run(self, run_id: str) -> dict[str, metadata_store_pb2.Execution]:
        context = self.store.get_context_by_type_and_name("pipeline_run", run_id)
        return {self._node_of.get(e.id, str(e.id)): e
                for e in sorted(self.store.get_executions_by_context(context.id),
                                key=lambda e: e.id)}

    # artifacts and executions -------------------------------------------------------------
    def _events(self, execution_id: int) -> list[metadata_store_pb2.Event]:
        return self.store.get_events_by_execution_ids([execution_id])

    def artifact_type(self, artifact: metadata_store_pb2.Artifact) -> str:
        return self._artifact_types.get(artifact.type_id, "?")

    def outputs(self, execution_id: int) -> list[metadata_store_pb2.Artifact]:
        ids = [e.artifact_id for e in self._events(execution_id)
               if e.type in (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)]
        return self.store.get_artifacts_by_id(ids) if ids else []

    def _producer(self, artifact_id: int) -> metadata_store_pb2.Execution | None:
        events = [e for e in self.store.get_events_by_artifact_ids([artifact_id])
                  if e.type in (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)]
        if not events:
            return None
        first = min(events, key=lambda e: e.execution_id)  # the execution that made it
        return self.store.get_executions_by_id([first.execution_id])[0]

    def artifact(self, artifact_id: int) -> ArtifactView:
        found = self.store.get_artifacts_by_id([artifact_id])
        if not found:
            raise LineageError(f"no artifact with id {artifact_id}")
        artifact = found[0]
        producer = self._producer(artifact.id)
        props = {k: _summarised(k, _value(v)) for k, v in
                 list(artifact.properties.items()) + list(artifact.custom_properties.items())
                 if k not in ("tfx_version", "is_external", "state")}
        return ArtifactView(
            artifact.id, self._artifact_types.get(artifact.type_id, "?"), artifact.uri,
            self._node_of.get(producer.id) if producer else None,
            self._run_of.get(producer.id) if producer else None,
            _time(artifact.create_time_since_epoch), dict(sorted(props.items())))

    def artifacts(self, type_name: str | None = None, run: str | None = None) -> list[ArtifactView]:
        if run:
            ids = {a.id for e in self.executions_of_run(self.run(run).run).values()
                   for a in self.outputs(e.id)}
            found = self.store.get_artifacts_by_id(sorted(ids)) if ids else []
        elif type_name:
            found = self.store.get_artifacts_by_type(type_name)
        else:
            found = self.store.get_artifacts()
        views = [self.artifact(a.id) for a in found]
        return [v for v in views if not type_name or v.type == type_name]

    def execution(self, execution_id: int) -> ExecutionView:
        found = self.store.get_executions_by_id([execution_id])
        if not found:
            raise LineageError(f"no execution with id {execution_id}")
        execution = found[0]
        inputs: dict[str, list[int]] = {}
        outputs: dict[str, list[int]] = {}
        for event in self._events(execution.id):
            key = event.path.steps[0].key if event.path.steps else "?"
            if event.type == metadata_store_pb2.Event.INPUT:
                inputs.setdefault(key, []).append(event.artifact_id)
            elif event.type in (metadata_store_pb2.Event.OUTPUT,
                                metadata_store_pb2.Event.DECLARED_OUTPUT):
                outputs.setdefault(key, []).append(event.artifact_id)
        props = {k: _summarised(k, _value(v)) for k, v in
                 list(execution.properties.items()) + list(execution.custom_properties.items())
                 if not k.startswith("__")}
        if "schema_text" in execution.custom_properties:  # the full hash, not a summary
            text = execution.custom_properties["schema_text"].string_value
            props["schema_text"] = f"sha256:{hashlib.sha256(text.encode()).hexdigest()}"
        return ExecutionView(
            execution.id, self._node_of.get(execution.id, "?"),
            STATES.get(execution.last_known_state, "unknown"), self._run_of.get(execution.id),
            _time(execution.create_time_since_epoch),
            (execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 1000,
            dict(sorted(props.items())), inputs, outputs)

    # lineage ------------------------------------------------------------------------------
    def pushed_model(self, version: str) -> int:
        """The PushedModel artifact id of `version`, or of the newest push for 'latest'."""
        pushed = [a for a in self.store.get_artifacts_by_type("PushedModel")
                  if "pushed" in a.custom_properties and a.custom_properties["pushed"].int_value]
        if version != "latest":
            pushed = [a for a in pushed
                      if str(a.custom_properties["pushed_version"].int_value) == version]
        if not pushed:
            raise LineageError(f"no pushed model {'at all' if version == 'latest' else version}")
        return max(pushed, key=lambda a: a.custom_properties["pushed_version"].int_value).id

    def upstream(self, artifact_id: int) -> dict:
        """Provenance tree: the artifact, the execution that made it, and its inputs' trees,
        with the recorded provenance (config, code and git revision) of the run that made it."""
        tree = self._walk(artifact_id, set(), upstream=True)
        run = tree["artifact"].run
        if run:
            facts = self.run(run).provenance
            tree["run"] = {"run": run, **{k: v for k, v in facts.items() if k != "config"}}
        return tree

    def gate_verdict(self, artifact_id: int, before: int | None = None) -> dict | None:
        """For ingested span data, the data gate's latest verdict on it before execution
        `before` (what a consumer was given) and the findings it allowed; None for other
        artifacts."""
        proto = self.store.get_artifacts_by_id([artifact_id])[0]
        producer = self._producer(artifact_id)
        if (self.artifact_type(proto) != "Examples" or producer is None
                or self._node_of.get(producer.id) != EXAMPLE_GEN_ID):
            return None
        from tfx.types import artifact_utils

        from components.span_window import latest_verdicts

        kind = self.store.get_artifact_types_by_id([proto.type_id])[0]
        verdict = latest_verdicts(self.store, [artifact_utils.deserialize_artifact(kind, proto)],
                                  before=before)
        found = verdict.get(proto.custom_properties["span"].int_value)
        if found is None:
            return {"verdict": "not checked"}
        if found.accepted_id is None:
            return {"verdict": "stopped"}
        accepted = self.store.get_artifacts_by_id([found.accepted_id])[0]
        allowed = accepted.custom_properties.get("allowed")
        return {"verdict": "accepted", "accepted_span_artifact": found.accepted_id,
                "allowed": json.loads(allowed.string_value) if allowed else []}

    def downstream(self, artifact_id: int) -> dict:
        """What was made from an artifact, transitively."""
        return self._walk(artifact_id, set(), upstream=False)

    def _walk(self, artifact_id: int, seen: set[int], upstream: bool,
              consumer: int | None = None) -> dict:
        node: dict[str, Any] = {"artifact": self.artifact(artifact_id)}
        if artifact_id in seen:
            node["repeated"] = True
            return node
        seen.add(artifact_id)
        if upstream:
            producer = self._producer(artifact_id)
            if producer is not None:
                view = self.execution(producer.id)
                verdict = self.gate_verdict(artifact_id, before=consumer)
                if verdict:
                    node["gate"] = verdict
                node["made_by"] = {"execution": view, "from": [
                    self._walk(i, seen, True, consumer=view.id)
                    for ids in view.inputs.values() for i in ids]}
                for evaluation in view.outputs.get("evaluation", []):  # an Evaluator's verdict
                    from pipeline.run_report import overall_metrics

                    node["made_by"]["metrics"] = overall_metrics(self.artifact(evaluation).uri)
        else:
            consumers = sorted({e.execution_id for e in self.store.get_events_by_artifact_ids(
                [artifact_id]) if e.type == metadata_store_pb2.Event.INPUT})
            node["used_by"] = []
            for execution_id in consumers:
                view = self.execution(execution_id)
                node["used_by"].append({"execution": view, "made": [
                    self._walk(i, seen, False) for ids in view.outputs.values() for i in ids]})
        return node

    # diff ---------------------------------------------------------------------------------
    def diff(self, run_a: str, run_b: str) -> dict:
        """What changed between two runs and what it did."""
        a, b = self.run(run_a), self.run(run_b)
        config_a = _flatten(json.loads(a.provenance.get("config", "{}")))
        config_b = _flatten(json.loads(b.provenance.get("config", "{}")))
        config = {k: [config_a.get(k), config_b.get(k)]
                  for k in sorted(set(config_a) | set(config_b)) if config_a.get(k) != config_b.get(k)}
        provenance = {k: [a.provenance.get(k), b.provenance.get(k)]
                      for k in ("models_sha256", "data_sha256", "schema_sha256", "git_revision",
                                "schema_git_revision")
                      if a.provenance.get(k) != b.provenance.get(k)}
        return {
            "runs": [a.run, b.run],
            "config": config,
            "inputs": provenance,
            "nodes": {n: [a.nodes.get(n, "not run"), b.nodes.get(n, "not run")]
                      for n in dict.fromkeys(list(a.nodes) + list(b.nodes))},
            "split_sizes": {split: [sizes_a.get(split), sizes_b.get(split)]
                            for sizes_a, sizes_b in [(self._split_sizes(a.run),
                                                      self._split_sizes(b.run))]
                            for split in sorted(set(sizes_a) | set(sizes_b))},
            "schema_diff": self._schema_diff(a.run, b.run),
            "metrics": _metric_table(self._metrics(a.run), self._metrics(b.run)),
            "pushed": [a.pushed_version, b.pushed_version],
        }

    def _output_of(self, run: str, node: str, type_name: str) -> ArtifactView | None:
        execution = self.executions_of_run(run).get(node)
        if execution is None:
            return None
        for artifact in self.outputs(execution.id):
            if self._artifact_types.get(artifact.type_id) == type_name:
                return self.artifact(artifact.id)
        return None

    def _split_sizes(self, run: str) -> dict[str, int]:
        stats = self._output_of(run, "StatisticsGen", "ExampleStatistics")
        if stats is None:
            return {}
        from tensorflow_metadata.proto.v0 import statistics_pb2

        sizes = {}
        for split in json.loads(stats.properties.get("split_names", "[]")):
            path = pathlib.Path(stats.uri) / f"Split-{split}" / "FeatureStats.pb"
            if path.exists():
                proto = statistics_pb2.DatasetFeatureStatisticsList.FromString(path.read_bytes())
                sizes[split] = sum(d.num_examples for d in proto.datasets)
        return sizes

    def _schema_diff(self, run_a: str, run_b: str) -> str:
        texts = []
        for run in (run_a, run_b):
            schema = self._output_of(run, "CuratedSchemaImporter", "Schema")
            path = pathlib.Path(schema.uri) / "schema.pbtxt" if schema else None
            texts.append(path.read_text().splitlines(keepends=True) if path and path.exists() else [])
        return "".join(difflib.unified_diff(texts[0], texts[1], run_a, run_b))

    def _metrics(self, run: str) -> dict[str, dict[str, float]]:
        evaluation = self._output_of(run, "Evaluator", "ModelEvaluation")
        if evaluation is None:
            return {}
        import tensorflow_model_analysis as tfma

        result = tfma.load_eval_result(evaluation.uri)
        table: dict[str, dict[str, float]] = {}
        for slice_key, metrics in result.slicing_metrics:
            name = ", ".join(f"{k}={v}" for k, v in slice_key) or "overall"
            for metric, value in metrics.get("", {}).get("", {}).items():
                number = next(iter(value.values()), None) if isinstance(value, dict) else None
                if isinstance(number, (int, float)):
                    table.setdefault(name, {})[metric] = float(number)
        return table


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def _metric_table(a: dict, b: dict) -> dict[str, dict[str, list]]:
    table = {}
    for slice_name in sorted(set(a) | set(b), key=lambda s: (s != "overall", s)):
        rows = {}
        for metric in sorted(set(a.get(slice_name, {})) | set(b.get(slice_name, {}))):
            va, vb = a.get(slice_name, {}).get(metric), b.get(slice_name, {}).get(metric)
            rows[metric] = [va, vb, None if va is None or vb is None else vb - va]
        table[slice_name] = rows
    return table


# Rendering --------------------------------------------------------------------------------

def tree_lines(node: dict, indent: str = "") -> Iterable[str]:
    if "run" in node:
        yield f"made in run {node['run']['run']}:"
        for key, value in node["run"].items():
            if key != "run":
                yield f"  {key}: {value}"
    artifact: ArtifactView = node["artifact"]
    props = ", ".join(f"{k}={v}" for k, v in artifact.properties.items()
                      if k in ("split_names", "span", "blessed", "pushed_version",
                               "input_fingerprint", "source_file", "current_model_id"))
    yield f"{indent}{artifact.type} #{artifact.id}  {artifact.uri}" + (f"  [{props}]" if props else "")
    if node.get("gate"):
        allowed = node["gate"].get("allowed")
        yield (f"{indent}  data gate: {node['gate']['verdict']}"
               + (f", allowed {', '.join(allowed)}" if allowed else ""))
    if node.get("repeated"):
        yield f"{indent}  (shown above)"
        return

    for key, children in (("made_by", "from"), ("used_by", "made")):
        entries = node.get(key)
        if not entries:
            continue
        for entry in entries if isinstance(entries, list) else [entries]:
            execution: ExecutionView = entry["execution"]
            yield (f"{indent}  {'<-' if key == 'made_by' else '->'} {execution.node} "
                   f"(execution #{execution.id}, {execution.state}, run {execution.run})")
            if entry.get("metrics"):
                yield f"{indent}       metrics (overall): " + ", ".join(
                    f"{k}={v:.4f}" for k, v in sorted(entry["metrics"].items()))
            for name, value in execution.properties.items():
                if name in ("input_base", "input_fingerprint", "custom_config", "train_args",
                            "source_file", "schema_text", "serving_dir", "preprocessing_fn",
                            "run_fn", "min_examples_per_split"):
                    yield f"{indent}       {name}: {value}"
            for child in entry[children]:
                yield from tree_lines(child, indent + "     ")


def dot(node: dict) -> str:
    """Graphviz of a lineage tree: artifacts as boxes, executions as ellipses."""
    lines = ["digraph lineage {", "  rankdir=LR;"]
    seen: set[str] = set()

    def visit(n: dict) -> None:
        artifact = n["artifact"]
        a = f"a{artifact.id}"
        if a not in seen:
            seen.add(a)
            lines.append(f'  {a} [shape=box, label="{artifact.type} #{artifact.id}"];')
        for key, children in (("made_by", "from"), ("used_by", "made")):
            entries = n.get(key)
            for entry in (entries if isinstance(entries, list) else [entries] if entries else []):
                execution = entry["execution"]
                e = f"e{execution.id}"
                if e not in seen:
                    seen.add(e)
                    lines.append(f'  {e} [shape=ellipse, label="{execution.node} #{execution.id}"];')
                lines.append(f"  {e} -> {a};" if key == "made_by" else f"  {a} -> {e};")
                for child in entry[children]:
                    c = f"a{child['artifact'].id}"
                    lines.append(f"  {c} -> {e};" if key == "made_by" else f"  {e} -> {c};")
                    visit(child)

    visit(node)
    lines.append("}")
    return "\n".join(dict.fromkeys(lines)) + "\n"
