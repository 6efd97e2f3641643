"""The one pipeline definition: every runner (local, Kubeflow) builds it with `build_pipeline`.

TFX is imported module by module: `tfx.v1` also imports the Vertex AI client (~3.5 s).

It reads as the chain: ExampleGen (one span) -> StatisticsGen -> curated schema ->
ExampleValidator -> gate (schema, drift against the last accepted span, skew against serving
data, label health) -> Transform and Trainer (on the window of accepted spans) -> Evaluator (the
new span, against the latest blessed model; TFMA's thresholds and our blessing rules) ->
BlessedPusher. Where each runner reads, writes and computes is its `Placement`
(`local_runner.local_placement`, `kubeflow.compile`).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import tensorflow_model_analysis as tfma
from google.protobuf import wrappers_pb2
from tfx.components.example_gen.component import FileBasedExampleGen
from tfx.components.example_validator.component import ExampleValidator
from tfx.components.trainer.component import Trainer
from tfx.components.transform.component import Transform
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy,
)
from tfx.orchestration import pipeline as tfx_pipeline
from tfx.proto import example_gen_pb2, range_config_pb2, trainer_pb2
from tfx.types import Channel, standard_artifacts

from components import eval_sample, model_metrics
from components import example_gen as span_example_gen
from components.artifact_types import AcceptedSpan
from components.evaluator import RuledEvaluator
from components.example_gate import ExampleGate
from components.fingerprint import code_fingerprint
from components.pusher import BlessedPusher
from components.schema_importer import CuratedSchemaImporter
from components.served_baseline import ServedModel
from components.span_records import SpanWindow
from components.span_window import AcceptedSpanWindow, PreviousAcceptedSpan
from components.statistics_gen import statistics_gen_node
from metadata import names
from models import MODEL_MODULE, PREPROCESSING_FN, PREPROCESSING_MODULE, RUN_FN
from models import features as F
from models.model import TRANSFORM_SIGNATURE
from pipeline import PROJECT_ROOT
from pipeline.config import (
    AREA_METRICS,
    LOWER_IS_BETTER,
    METRICS,
    OUR_METRICS,
    PipelineConfig,
    Threshold,
)
from pipeline.schema import check_schema_covers_config, read_schema, with_label_classes
from pipeline.spans import SPAN_PATTERN

GATE_MODULE = ExampleGate.__module__
# What the Evaluator runs of ours beside TFMA: the step (with its rules and the evaluation
# reader it imports) and our metrics, which TFMA loads by name.
EVALUATOR_MODULES = (RuledEvaluator.__module__, model_metrics.__name__, eval_sample.__name__)
CODE_ROOT = PROJECT_ROOT  # where code fingerprints find modules (a test points it at a copy)


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where one run reads, writes and computes: the only thing that differs between runners.

    Values may be TFX RuntimeParameters on Kubeflow. Fingerprints are None where the data
    cannot be read at build time (object storage): caching is then off, see `kubeflow/`.
    `span` None lets ExampleGen take the newest span it finds; on Kubeflow it is a
    RuntimeParameter holding a RangeConfig as JSON. `span_resolvers` wires the local-only
    resolvers that read ML Metadata in-process: the gate's drift baseline and the training
    window. `records_dir` instead keeps the gate's verdicts on storage and takes the baseline
    model from the serving folder, which is what Kubeflow can execute (`components/span_records`,
    `components/served_baseline`).
    """

    pipeline_root: Any
    data_root: Any
    serving_dir: Any
    beam_args: list[str]
    metadata_connection: Any  # MLMD connection config; None on Kubeflow (the cluster's own)
    enable_cache: bool
    data_fingerprint: str | None
    train_args: Any  # trainer_pb2.TrainArgs, or a RuntimeParameter holding its JSON
    span: int | None = None
    span_resolvers: bool = False
    serving_data_root: Any = None  # CSV files seen at serving time; None: no skew check
    serving_data_fingerprint: str | None = None
    records_dir: str | None = None
    served_state: str = ""  # the serving folder's versions (`pipeline.recovery.served_state`)
    served_span: int = 0  # the span the served model was trained up to; 0: unknown, or replace


def build_pipeline(
    config: PipelineConfig, placement: Placement, data_only: bool = False
) -> tfx_pipeline.Pipeline:
    """Build the TFX pipeline for one dataset config, placed by a runner.

    `data_only` builds the data half (ingest, statistics, validation, gate), with the same node
    ids and so the same ML Metadata: how earlier spans are checked in before a window is
    trained on (`tfxp run --backfill`).
    """
    schema = read_schema(config.schema_file)
    check_schema_covers_config(schema, config)
    config = with_label_classes(schema, config)
    data = _data_nodes(config, placement)
    nodes = data.nodes if data_only else data.nodes + _training_nodes(config, placement, data)
    return tfx_pipeline.Pipeline(
        pipeline_name=config.name,
        pipeline_root=placement.pipeline_root,
        components=nodes,
        enable_cache=placement.enable_cache,
        metadata_connection_config=placement.metadata_connection,
        beam_pipeline_args=placement.beam_args,
    )


@dataclasses.dataclass
class _DataNodes:
    nodes: list
    examples: Channel  # the span ingested by this run
    schema: Channel
    gate: Any


def _data_nodes(config: PipelineConfig, placement: Placement) -> _DataNodes:
    """ExampleGen (one span) -> StatisticsGen -> curated schema -> ExampleValidator -> gate."""
    example_gen = _example_gen(config, placement)
    schema_importer = CuratedSchemaImporter(
        schema_text=config.schema_file.read_text(), source_file=_project_path(config.schema_file)
    ).with_id(names.SCHEMA_IMPORTER)
    schema = schema_importer.outputs["schema"]
    # With the schema, integer codes the schema calls categorical get value counts, which
    # the drift check compares by L-infinity.
    statistics_gen = statistics_gen_node(example_gen.outputs["examples"], schema).with_id(
        names.STATISTICS_GEN
    )
    example_validator = ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema
    ).with_id(names.EXAMPLE_VALIDATOR)
    nodes = [example_gen, schema_importer, statistics_gen, example_validator]
    gate_inputs = {}
    if placement.span_resolvers and placement.span is not None:
        # The last span accepted before this one: what its drift and label rate are measured
        # against.
        previous = Resolver(
            strategy_class=PreviousAcceptedSpan,
            config={"span": placement.span},
            accepted=Channel(
                type=AcceptedSpan, producer_component_id=names.GATE, output_key="accepted"
            ),
            examples=_ingested_examples(),
        ).with_id(names.PREVIOUS_SPAN_RESOLVER)
        gate_inputs["previous"] = previous.outputs["accepted"]
        nodes.append(previous)
    serving = _serving_statistics(config, placement, schema)
    if serving:
        gate_inputs["serving_statistics"] = serving[-1].outputs["statistics"]
        nodes += serving
    gate = ExampleGate(
        examples=example_gen.outputs["examples"],
        statistics=statistics_gen.outputs["statistics"],
        anomalies=example_validator.outputs["anomalies"],
        schema=schema,
        validation=config.validation.to_json(),
        label=json.dumps(dataclasses.asdict(config.model.label), sort_keys=True),
        # The gate's own code and the label rule it counts with key its cache, as for Transform.
        code_sha256=code_fingerprint(GATE_MODULE, root=CODE_ROOT),
        **gate_inputs,
        # Absent locally: the gate's execution properties, and so its cache key, stay as before.
        **({"records_dir": placement.records_dir} if placement.records_dir else {}),
    ).with_id(names.GATE)
    nodes.append(gate)
    return _DataNodes(nodes, example_gen.outputs["examples"], schema, gate)


def _training_nodes(config: PipelineConfig, placement: Placement, data: _DataNodes) -> list:
    """Transform and Trainer on the window of accepted spans -> Evaluator on this span -> push."""
    inputs = config.model.to_json_dict()
    # Each step's cache key holds exactly what it depends on: Transform the features, the label
    # and the preprocessing code; Trainer also the hyperparameters and the model code. TFX
    # hashes dotted function paths as strings, so the code's own hash is what invalidates.
    transform_config = {
        "model": {k: v for k, v in inputs.items() if k != "training"},
        "code_sha256": code_fingerprint(PREPROCESSING_MODULE, root=CODE_ROOT),
    }
    # The trained model embeds the transform graph: both codes key the Trainer.
    trainer_config = {
        "model": inputs,
        "code_sha256": code_fingerprint(MODEL_MODULE, PREPROCESSING_MODULE, root=CODE_ROOT),
    }
    nodes = []
    training_examples = data.examples
    if placement.span_resolvers and placement.span is not None:
        window = Resolver(
            strategy_class=AcceptedSpanWindow,
            config={"num_spans": config.window, "last_span": placement.span},
            examples=_ingested_examples(),
        ).with_id(names.SPAN_WINDOW_RESOLVER)
        window.add_upstream_node(data.gate)  # resolved after this span's verdict
        training_examples = window.outputs["examples"]
        nodes.append(window)
    elif placement.records_dir:
        window = SpanWindow(
            examples=data.examples,
            accepted=data.gate.outputs["accepted"],
            records_dir=placement.records_dir,
            num_spans=config.window,
        ).with_id(names.SPAN_WINDOW)
        training_examples = window.outputs["window"]
        nodes.append(window)
    transform = Transform(
        examples=training_examples,
        schema=data.schema,
        preprocessing_fn=PREPROCESSING_FN,
        custom_config=transform_config,
        # StatisticsGen already describes the raw data; Transform's own pre- and
        # post-transform statistics would double its run time on the bundled data.
        disable_statistics=True,
        # Each run analyses its whole window anyway; writing the per-analyzer cache costs
        # Beam stages on every run.
        disable_analyzer_cache=True,
        # The Trainer reads a few hundred batches of the raw window through the transform
        # graph: writing every transformed row was most of Transform's time on large spans.
        materialize=False,
        # TF1 graphs: TFT builds its analysis graph without TF2 tracing, 3 s of Transform's
        # 9 s on the bundled data; the same analyzers, the same model (AUC 0.9429 either
        # way), at the price of half a second in the Trainer loading the graph.
        force_tf_compat_v1=True,
    ).with_id(names.TRANSFORM)
    transform.add_upstream_node(data.gate)  # no data flows from the gate: it orders and stops
    trainer = Trainer(
        run_fn=RUN_FN,
        examples=training_examples,  # raw: the Trainer applies the transform graph
        transform_graph=transform.outputs["transform_graph"],
        schema=data.schema,
        train_args=placement.train_args,
        eval_args=trainer_pb2.EvalArgs(num_steps=config.model.training.eval_steps),
        custom_config=trainer_config,
    ).with_id(names.TRAINER)
    if placement.records_dir:
        baseline = ServedModel(serving_dir=placement.serving_dir).with_id(names.SERVED_MODEL)
    else:
        baseline = Resolver(
            strategy_class=LatestBlessedModelStrategy,
            model=Channel(type=standard_artifacts.Model),
            model_blessing=Channel(type=standard_artifacts.ModelBlessing),
        ).with_id(names.BASELINE_MODEL_RESOLVER)
    # TFMA's thresholds, then our rules (the quick baseline from the Trainer's ModelRun, named
    # slices), in one step on both placements.
    evaluator = RuledEvaluator(
        examples=data.examples,  # the newest span: what the model will meet next
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        eval_config=eval_config(config),
        model_run=trainer.outputs["model_run"],
        blessing_rules=config.evaluation.rules,
        code_sha256=code_fingerprint(*EVALUATOR_MODULES, root=CODE_ROOT),
        max_examples=config.evaluation.max_examples,
    ).with_id(names.EVALUATOR)
    pusher = BlessedPusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        serving_dir=placement.serving_dir,
        served_state=placement.served_state,
        span=placement.span if isinstance(placement.span, int) else 0,  # Kubeflow: a parameter
        served_span=placement.served_span,
    ).with_id(names.PUSHER)
    return nodes + [transform, trainer, baseline, evaluator, pusher]


def _project_path(path) -> str:
    """Relative to the project when inside it: the same pipeline, and the same compiled spec,
    from any checkout (and no machine's folder names in a spec)."""
    resolved = path.resolve()
    root = PROJECT_ROOT.resolve()
    return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(resolved)


def _ingested_examples() -> Channel:
    """Every span ExampleGen has ingested in this pipeline, as a resolver input."""
    return Channel(
        type=standard_artifacts.Examples,
        producer_component_id=names.EXAMPLE_GEN,
        output_key="examples",
    )


def _example_gen_config(
    fingerprint: str | None, na_values: tuple[str, ...]
) -> example_gen_pb2.CustomConfig:
    """The span's content hash (it keys the cache) and the missing-value tokens."""
    custom = example_gen_pb2.CustomConfig()
    text = span_example_gen.custom_config(fingerprint, na_values)
    custom.custom_config.Pack(wrappers_pb2.StringValue(value=text))
    return custom


def _serving_statistics(config: PipelineConfig, placement: Placement, schema: Channel) -> list:
    """ExampleGen and StatisticsGen over the serving-time CSV files, when the placement names
    them (the config locally, the profile on Kubeflow)."""
    if placement.serving_data_root is None:
        return []
    example_gen = FileBasedExampleGen(
        input_base=placement.serving_data_root,
        input_config=example_gen_pb2.Input(
            splits=[example_gen_pb2.Input.Split(name="single_split", pattern="*.csv")]
        ),
        output_config=example_gen_pb2.Output(
            split_config=example_gen_pb2.SplitConfig(
                splits=[example_gen_pb2.SplitConfig.Split(name="serving", hash_buckets=1)]
            )
        ),
        custom_config=_example_gen_config(placement.serving_data_fingerprint, config.na_values),
        custom_executor_spec=span_example_gen.EXECUTOR_SPEC,
    ).with_id(names.SERVING_EXAMPLE_GEN)
    statistics = statistics_gen_node(example_gen.outputs["examples"], schema).with_id(
        names.SERVING_STATISTICS_GEN
    )
    return [example_gen, statistics]


def _example_gen(config: PipelineConfig, placement: Placement) -> FileBasedExampleGen:
    """CsvExampleGen over one span, hash-split, with the span's content hash where known."""
    range_config = placement.span  # None, or a RuntimeParameter on Kubeflow
    if isinstance(placement.span, int):
        range_config = range_config_pb2.RangeConfig(
            static_range=range_config_pb2.StaticRange(
                start_span_number=placement.span, end_span_number=placement.span
            )
        )
    output_config = example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(
            splits=[
                example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=buckets)
                for name, buckets in config.split_buckets
            ]
        )
    )
    # CsvExampleGen's constructor has no custom_config; its base class with its executor does.
    return FileBasedExampleGen(
        input_base=placement.data_root,
        input_config=example_gen_pb2.Input(
            splits=[example_gen_pb2.Input.Split(name="single_split", pattern=SPAN_PATTERN)]
        ),
        output_config=output_config,
        range_config=range_config,
        custom_config=_example_gen_config(placement.data_fingerprint, config.na_values),
        custom_executor_spec=span_example_gen.EXECUTOR_SPEC,
    ).with_id(names.EXAMPLE_GEN)


def eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """TFMA config: the label as Transform derives it, config slices, the label kind's metrics
    and thresholds."""
    thresholds = {t.metric: t for t in config.evaluation.thresholds}
    label = config.model.label
    metrics = [tfma.MetricConfig(class_name="ExampleCount")]
    for key, class_name in METRICS[label.kind].items():
        # 1,000 thresholds for the areas instead of TFMA's 10,000: the same AUC to 3 decimals
        # here, and a histogram per slice and model ten times smaller (one, shared by both).
        metric = tfma.MetricConfig(
            class_name=class_name, config='"num_thresholds": 1000' if key in AREA_METRICS else ""
        )
        if class_name in OUR_METRICS:
            metric.module = model_metrics.__name__
            if label.kind == F.MULTICLASS:
                # TFMA reads `config` as the body of a JSON object: no braces.
                metric.config = json.dumps({"classes": list(label.classes)})[1:-1]
        if key in thresholds:
            # On the overall slice only: TFMA applies `threshold` to every slice, and a rare
            # slice (3 trips paid by 'Prcard') would block every model.
            metric.per_slice_thresholds.add(
                slicing_specs=[tfma.SlicingSpec()], threshold=_metric_threshold(thresholds[key])
            )
        metrics.append(metric)
    # The run page's ROC, precision-recall and calibration pictures, at 100 thresholds: TFMA
    # writes them for every slice and model, and at its default 1,000 an evaluation's plots
    # file was 5.5 MB and took a second to read.
    if label.kind == F.BINARY:
        metrics += [
            tfma.MetricConfig(class_name="ConfusionMatrixPlot", config='"num_thresholds": 100'),
            tfma.MetricConfig(class_name="CalibrationPlot", config='"num_buckets": 100'),
        ]
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default",
                label_key=F.transformed_name(config.model.label.name),
                preprocessing_function_names=[TRANSFORM_SIGNATURE],
            )
        ],
        slicing_specs=[tfma.SlicingSpec(feature_keys=list(s)) for s in config.evaluation.slices],
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)],
    )


def _metric_threshold(threshold: Threshold) -> tfma.MetricThreshold:
    result = tfma.MetricThreshold()
    if threshold.lower_bound is not None:
        result.value_threshold.lower_bound.value = threshold.lower_bound
    if threshold.upper_bound is not None:
        result.value_threshold.upper_bound.value = threshold.upper_bound
    if threshold.max_drop is not None and threshold.metric in LOWER_IS_BETTER:
        # An error may grow by at most `max_drop`: candidate - baseline <= max_drop.
        result.change_threshold.direction = tfma.MetricDirection.LOWER_IS_BETTER
        result.change_threshold.absolute.value = threshold.max_drop + 1e-10
    elif threshold.max_drop is not None:
        result.change_threshold.direction = tfma.MetricDirection.HIGHER_IS_BETTER
        # TFMA compares candidate - baseline against this bound; an exact tie must pass.
        result.change_threshold.absolute.value = -threshold.max_drop - 1e-10
    return result
