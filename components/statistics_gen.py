"""StatisticsGen's executor: TFDV's statistics of a split computed in this process, a batch at a
time, when the pipeline's Beam runner is in-process anyway.

TFX's executor builds a Beam pipeline per run, which costs about 3 s before the first row on
the bundled spans (four times in a cold `make run`), and reads each row through Beam's
per-element machinery. With an in-process runner (FnApiRunner, DirectRunner in memory) that
buys nothing: the same TFDV generators are fed here Arrow batches decoded by tfx_bsl, as TFXIO
decodes them, and memory holds one batch. A runner that spreads work (Dataflow, Flink, Spark,
Beam's multi-processing mode) gets TFX's own Beam path unchanged.

The one difference is TFDV's own: without Beam it counts top values and uniques with its
sketches (Misra-Gries with 1,024 counters, KMV with 16,384), exact below those many distinct
values per feature and estimates above; Beam counts them exactly
(`tests/unit/components/test_statistics_gen.py` holds the two equal on the bundled spans).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence

from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx.components.statistics_gen import executor as statistics_executor
from tfx.components.statistics_gen.component import StatisticsGen
from tfx.dsl.components.base import executor_spec
from tfx.dsl.io import fileio
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, json_utils

from components.tfrecords import records

BATCH_ROWS = 10_000  # examples decoded and fed to TFDV at once
IN_PROCESS_RUNNERS = ("FnApiRunner", "DirectRunner", "BundleBasedDirectRunner")


def runs_in_process(beam_args: Sequence[str]) -> bool:
    """Whether these Beam flags would run the pipeline in this process, on one worker."""
    flags = dict(arg.lstrip("-").split("=", 1) for arg in beam_args if "=" in arg)
    return (
        flags.get("runner", "DirectRunner") in IN_PROCESS_RUNNERS
        and flags.get("direct_running_mode", "in_memory") == "in_memory"
        and flags.get("direct_num_workers", "1") in ("1", "0")
    )


def _batches(files: Iterable[str], size: int) -> Iterator[list[bytes]]:
    batch = []
    for path in files:
        for record in records(path):
            batch.append(record)
            if len(batch) == size:
                yield batch
                batch = []
    if batch:
        yield batch


def statistics_of_records(
    files: Iterable[str], options
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV's statistics of the tf.Examples in these gzipped TFRecord files, without Beam."""
    from tensorflow_data_validation.statistics import stats_impl
    from tfx_bsl.coders import example_coder

    generators = stats_impl.get_generators(options, in_memory=True)
    accumulators = [generator.create_accumulator() for generator in generators]
    decoder = example_coder.ExamplesToRecordBatchDecoder()  # no schema, as StatisticsGen's TFXIO
    for batch in _batches(files, BATCH_ROWS):
        record_batch = decoder.DecodeBatch(batch)
        accumulators = [
            generator.add_input(accumulator, record_batch)
            for generator, accumulator in zip(generators, accumulators, strict=True)
        ]
    return stats_impl.extract_statistics_output(accumulators, generators)


class Executor(statistics_executor.Executor):
    """TFX's StatisticsGen executor, without Beam when Beam would run in this process."""

    def Do(self, input_dict, output_dict, exec_properties):
        if not runs_in_process(self._beam_pipeline_args or []) or _asks_beam_only(exec_properties):
            return super().Do(input_dict, output_dict, exec_properties)
        import tensorflow_data_validation as tfdv

        examples = artifact_utils.get_single_instance(
            input_dict[standard_component_specs.EXAMPLES_KEY]
        )
        excluded = json_utils.loads(
            exec_properties.get(standard_component_specs.EXCLUDE_SPLITS_KEY) or "null"
        )
        splits = [
            split
            for split in artifact_utils.decode_split_names(examples.split_names)
            if split not in (excluded or [])
        ]
        if not splits:
            raise ValueError(f"No splits for examples artifact: {examples}")
        statistics = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.STATISTICS_KEY]
        )
        # What TFX's executor records on the artifact, but the dashboard link (none locally).
        statistics.split_names = artifact_utils.encode_split_names(splits)
        statistics.span = examples.span
        statistics.set_string_custom_property(statistics_executor.STATS_DASHBOARD_LINK, "")
        statistics.set_json_value_custom_property(
            statistics_executor.SAMPLE_RATE_BY_SPLIT_PROPERTY_NAME,
            json_utils.dumps({split: 1.0 for split in splits}),
        )
        options = tfdv.StatsOptions()
        if input_dict.get(standard_component_specs.SCHEMA_KEY):
            schema_uri = artifact_utils.get_single_uri(
                input_dict[standard_component_specs.SCHEMA_KEY]
            )
            options.schema = io_utils.SchemaReader().read(io_utils.get_only_uri_in_dir(schema_uri))
        for split in splits:
            files = sorted(
                fileio.glob(os.path.join(artifact_utils.get_split_uri([examples], split), "*"))
            )
            result = statistics_of_records(files, options)
            output = artifact_utils.get_split_uri([statistics], split)
            fileio.makedirs(output)
            io_utils.write_bytes_file(
                os.path.join(output, statistics_executor.DEFAULT_FILE_NAME),
                result.SerializeToString(),
            )


def _asks_beam_only(exec_properties: dict) -> bool:
    """Options this executor leaves to TFX's own: stats options, per-split sampling, sharded
    output (the pipeline sets none of them)."""
    return bool(
        exec_properties.get(standard_component_specs.STATS_OPTIONS_JSON_KEY)
        or json_utils.loads(
            exec_properties.get(standard_component_specs.SAMPLE_RATE_BY_SPLIT_KEY) or "null"
        )
        or exec_properties.get(standard_component_specs.SHARDED_STATS_OUTPUT_KEY)
    )


EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)


def statistics_gen_node(examples, schema) -> StatisticsGen:
    """TFX's StatisticsGen (its spec, type and outputs, so its ML Metadata is TFX's) run by
    this module's executor."""
    node = StatisticsGen(examples=examples, schema=schema)
    node.executor_spec = EXECUTOR_SPEC.copy()
    return node
