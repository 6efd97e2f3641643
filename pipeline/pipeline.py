"""The one pipeline definition: every runner (local, Kubeflow) builds it with `build_pipeline`.

TFX is imported module by module: `tfx.v1` also imports the Vertex AI client (~3.5 s).

It reads as the chain: ExampleGen -> StatisticsGen -> curated schema -> ExampleValidator ->
gate -> Transform -> Trainer -> Evaluator (against the latest blessed model) -> BlessedPusher.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import tensorflow_model_analysis as tfma
from google.protobuf import wrappers_pb2
from tfx.components.evaluator.component import Evaluator
from tfx.components.example_gen.component import FileBasedExampleGen
from tfx.components.example_gen.csv_example_gen.component import CsvExampleGen
from tfx.components.example_validator.component import ExampleValidator
from tfx.components.statistics_gen.component import StatisticsGen
from tfx.components.trainer.component import Trainer
from tfx.components.transform.component import Transform
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy,
)
from tfx.orchestration import metadata
from tfx.orchestration import pipeline as tfx_pipeline
from tfx.proto import example_gen_pb2, trainer_pb2
from tfx.types import Channel, standard_artifacts

from components.example_gate import ExampleGate
from components.pusher import BlessedPusher
from components.schema_importer import CuratedSchemaImporter
from models import features as F
from models.model import TRANSFORM_SIGNATURE
from pipeline import PROJECT_ROOT, SETUP_FILE
from pipeline.config import METRICS, PipelineConfig, Threshold
from pipeline.data import code_fingerprint, content_fingerprint, csv_files
from pipeline.schema import check_schema_covers_config, read_schema

MODELS_DIR = PROJECT_ROOT / "models"
PREPROCESSING_FN = "models.preprocessing.preprocessing_fn"
PREPROCESSING_CODE = ("preprocessing.py", "features.py")  # what preprocessing_fn runs
RUN_FN = "models.model.run_fn"


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where one run reads, writes and computes: the only thing that differs between runners.

    Values may be TFX RuntimeParameters on Kubeflow. `data_fingerprint` is None where the data
    cannot be read at build time (object storage): caching is then off, see `kubeflow/`.
    """

    pipeline_root: Any
    data_root: Any
    serving_dir: Any
    beam_args: list[str]
    metadata_connection: Any  # MLMD connection config; None on Kubeflow (the cluster's own)
    enable_cache: bool
    data_fingerprint: str | None
    train_args: Any  # trainer_pb2.TrainArgs, or a RuntimeParameter holding its JSON


def local_placement(config: PipelineConfig) -> Placement:
    """Local files, SQLite ML Metadata, Beam in this process, caching on."""
    return Placement(
        pipeline_root=str(config.pipeline_root),
        data_root=str(config.data_root),
        serving_dir=str(config.serving_dir),
        beam_args=config.beam.args(SETUP_FILE),
        metadata_connection=metadata.sqlite_metadata_connection_config(str(config.metadata_path)),
        enable_cache=True,
        data_fingerprint=content_fingerprint(csv_files(config.data_root), root=config.data_root),
        train_args=trainer_pb2.TrainArgs(num_steps=config.model_inputs.training.train_steps),
    )


def build_pipeline(config: PipelineConfig, placement: Placement | None = None
                   ) -> tfx_pipeline.Pipeline:
    """Build the TFX pipeline for one dataset config; locally unless a placement is given."""
    placement = placement or local_placement(config)
    schema = read_schema(config.schema_file)
    check_schema_covers_config(schema, config)
    inputs = config.model_inputs.to_json_dict()
    # Each step's cache key holds exactly what it depends on: Transform the features, the label
    # and the preprocessing code; Trainer also the hyperparameters and the model code. TFX
    # hashes dotted function paths as strings, so the code's own hash is what invalidates.
    transform_config = {
        "model_inputs": {k: v for k, v in inputs.items() if k != "training"},
        "code_sha256": code_fingerprint(MODELS_DIR, PREPROCESSING_CODE),
    }
    trainer_config = {"model_inputs": inputs, "code_sha256": code_fingerprint(MODELS_DIR)}

    example_gen = _example_gen(config, placement)
    statistics_gen = StatisticsGen(examples=example_gen.outputs["examples"])
    schema_importer = CuratedSchemaImporter(
        schema_text=config.schema_file.read_text(), source_file=str(config.schema_file)
    ).with_id("CuratedSchemaImporter")
    example_validator = ExampleValidator(
        statistics=statistics_gen.outputs["statistics"],
        schema=schema_importer.outputs["schema"],
    )
    gate = ExampleGate(
        statistics=statistics_gen.outputs["statistics"],
        anomalies=example_validator.outputs["anomalies"],
        min_examples_per_split=config.min_examples_per_split,
    ).with_id("ExampleGate")
    transform = Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_importer.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN,
        custom_config=transform_config,
        # StatisticsGen already describes the raw data; Transform's own pre- and
        # post-transform statistics would double its run time on the bundled data.
        disable_statistics=True,
        # Each run analyses its whole (new) data anyway; writing the per-analyzer cache costs
        # Beam stages on every run and only pays off for incremental spans.
        disable_analyzer_cache=True,
    )
    transform.add_upstream_node(gate)  # no data flows from the gate: it only orders and stops
    trainer = Trainer(
        run_fn=RUN_FN,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_importer.outputs["schema"],
        train_args=placement.train_args,
        eval_args=trainer_pb2.EvalArgs(num_steps=config.model_inputs.training.eval_steps),
        custom_config=trainer_config,
    )
    baseline = Resolver(
        strategy_class=LatestBlessedModelStrategy,
        model=Channel(type=standard_artifacts.Model),
        model_blessing=Channel(type=standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")
    evaluator = Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        eval_config=eval_config(config),
    )
    pusher = BlessedPusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        serving_dir=placement.serving_dir,
    ).with_id("BlessedPusher")

    return tfx_pipeline.Pipeline(
        pipeline_name=config.name,
        pipeline_root=placement.pipeline_root,
        components=[example_gen, statistics_gen, schema_importer, example_validator, gate,
                    transform, trainer, baseline, evaluator, pusher],
        enable_cache=placement.enable_cache,
        metadata_connection_config=placement.metadata_connection,
        beam_pipeline_args=placement.beam_args,
    )


def _example_gen(config: PipelineConfig, placement: Placement) -> FileBasedExampleGen:
    """CsvExampleGen with hash-based splits and, where known, the data's content hash."""
    custom = None
    if placement.data_fingerprint:
        custom = example_gen_pb2.CustomConfig()
        custom.custom_config.Pack(
            wrappers_pb2.StringValue(value=f"sha256:{placement.data_fingerprint}"))
    output_config = example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(splits=[
            example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=buckets)
            for name, buckets in config.split_buckets
        ])
    )
    # CsvExampleGen's constructor has no custom_config; its base class with its executor does.
    return FileBasedExampleGen(
        input_base=placement.data_root,
        output_config=output_config,
        custom_config=custom,
        custom_executor_spec=CsvExampleGen.EXECUTOR_SPEC,
    ).with_id("CsvExampleGen")


def eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """TFMA config: the label as Transform derives it, config slices, metrics and thresholds."""
    thresholds = {t.metric: t for t in config.evaluation.thresholds}
    metrics = [tfma.MetricConfig(class_name="ExampleCount")]
    for key, class_name in METRICS.items():
        # 1,000 AUC thresholds instead of TFMA's 10,000: the same AUC to 3 decimals here, and a
        # histogram per slice and model ten times smaller.
        metric = tfma.MetricConfig(class_name=class_name,
                                   config='"num_thresholds": 1000' if key == "auc" else "")
        if key in thresholds:
            # On the overall slice only: TFMA applies `threshold` to every slice, and a rare
            # slice (3 trips paid by 'Prcard') would block every model.
            metric.per_slice_thresholds.add(
                slicing_specs=[tfma.SlicingSpec()], threshold=_metric_threshold(thresholds[key]))
        metrics.append(metric)
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(
            signature_name="serving_default",
            label_key=F.transformed_name(config.model_inputs.label.name),
            preprocessing_function_names=[TRANSFORM_SIGNATURE],
        )],
        slicing_specs=[tfma.SlicingSpec(feature_keys=list(s)) for s in config.evaluation.slices],
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)],
    )


def _metric_threshold(threshold: Threshold) -> tfma.MetricThreshold:
    result = tfma.MetricThreshold()
    if threshold.lower_bound is not None:
        result.value_threshold.lower_bound.value = threshold.lower_bound
    if threshold.upper_bound is not None:
        result.value_threshold.upper_bound.value = threshold.upper_bound
    if threshold.max_drop is not None:
        result.change_threshold.direction = tfma.MetricDirection.HIGHER_IS_BETTER
        # TFMA compares candidate - baseline against this bound; an exact tie must pass.
        result.change_threshold.absolute.value = -threshold.max_drop - 1e-10
    return result
