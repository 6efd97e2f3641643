"""StatisticsGen's executor: TFDV's statistics of a split computed in this process, a batch at a
time, when the pipeline's Beam runner is in-process anyway (and the examples are gzipped
tf.Examples, as our ExampleGen writes them).

TFX's executor builds a Beam pipeline per run, which costs about 3 s before the first row on
the bundled spans (four times in a cold `make run`), and reads each row through Beam's
per-element machinery. With an in-process runner (FnApiRunner, DirectRunner in memory) that
buys nothing: the same TFDV generators are fed here Arrow batches decoded by tfx_bsl, as TFXIO
decodes them, and memory holds a few batches. A runner that spreads work (Dataflow, Flink, Spark,
Beam's multi-processing mode) gets TFX's own Beam path unchanged.

The one difference is TFDV's own: without Beam it counts top values and uniques with its
sketches (Misra-Gries with 1,024 counters, KMV with 16,384), exact below those many distinct
values of a categorical feature and estimates above (each count within rows/1,025, far inside
the drift and skew thresholds); Beam counts them exactly
(`tests/unit/components/test_statistics_gen.py` holds the two equal on the bundled spans).
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Iterable, Iterator, Sequence

from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx.components.statistics_gen import executor as statistics_executor
from tfx.components.statistics_gen.component import StatisticsGen
from tfx.components.util import examples_utils
from tfx.dsl.components.base import executor_spec
from tfx.dsl.io import fileio
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, json_utils

from components.tfrecords import records
from components.work_ahead import results_in_order

BATCH_ROWS = 10_000  # examples decoded and fed to TFDV at once
DECODING_THREADS = 2  # batches decoded at once, ahead of the one being fed to TFDV
IN_PROCESS_RUNNERS = ("FnApiRunner", "DirectRunner", "BundleBasedDirectRunner")


def runs_in_process(beam_args: Sequence[str]) -> bool:
    """Whether these Beam flags would run the pipeline in this process, as Beam itself reads
    them (`--runner X` or `--runner=X`; Beam's default runner and mode when absent)."""
    from apache_beam.options.pipeline_options import (
        DirectOptions,
        PipelineOptions,
        StandardOptions,
    )

    options = PipelineOptions(list(beam_args))
    runner = options.view_as(StandardOptions).runner or "DirectRunner"
    mode = options.view_as(DirectOptions).direct_running_mode or "in_memory"
    return runner in IN_PROCESS_RUNNERS and mode == "in_memory"


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


def _decoded(batch: list[bytes]):
    """One batch as an Arrow record batch: no schema, as StatisticsGen's TFXIO decodes it (a
    decoder per batch costs ~1 us)."""
    from tfx_bsl.coders import example_coder

    return example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(batch)


def _record_batches(files: Iterable[str]) -> Iterator:
    """The files' examples as Arrow record batches, in file order. Decoding is most of the
    work (~15 us a taxi row) and lets go of the GIL: `DECODING_THREADS` decode the next
    batches while the caller's thread reads records and uses the batch before."""
    with concurrent.futures.ThreadPoolExecutor(DECODING_THREADS) as pool:
        yield from results_in_order(pool, _decoded, _batches(files, BATCH_ROWS), DECODING_THREADS)


def statistics_of_tfrecord_files(
    files: Iterable[str], options
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV's statistics of the tf.Examples in these gzipped TFRecord files, without Beam; the
    batches are fed in file order, so the statistics are the same however they were decoded."""
    from tensorflow_data_validation.statistics import stats_impl

    generators = stats_impl.get_generators(options, in_memory=True)
    for generator in generators:  # as Beam's path does: some load what they need here
        generator.setup()
    accumulators = [generator.create_accumulator() for generator in generators]
    for record_batch in _record_batches(files):
        accumulators = [
            generator.add_input(accumulator, record_batch)
            for generator, accumulator in zip(generators, accumulators, strict=True)
        ]
    return stats_impl.extract_statistics_output(accumulators, generators)


class Executor(statistics_executor.Executor):
    """TFX's StatisticsGen executor, without Beam when Beam would run in this process."""

    def Do(self, input_dict, output_dict, exec_properties):
        examples = artifact_utils.get_single_instance(
            input_dict[standard_component_specs.EXAMPLES_KEY]
        )
        if (
            not runs_in_process(self._beam_pipeline_args)
            or self._make_beam_pipeline_fn is not None  # an orchestrator's own pipeline
            or _asks_beam_only(exec_properties)
            or not _gzipped_tf_examples(examples)
        ):
            return super().Do(input_dict, output_dict, exec_properties)
        import tensorflow_data_validation as tfdv

        excluded = (
            json_utils.loads(
                exec_properties.get(standard_component_specs.EXCLUDE_SPLITS_KEY) or "null"
            )
            or []
        )
        if not isinstance(excluded, list):
            raise ValueError(f"exclude_splits must be a list, got {excluded!r}")
        splits = [
            split
            for split in artifact_utils.decode_split_names(examples.split_names)
            if split not in excluded
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
            (pattern,) = examples_utils.get_split_file_patterns([examples], split)
            files = sorted(fileio.glob(pattern))
            if not files:  # as TFX's reading fails: a lost split is not an empty one
                raise OSError(f"No files found based on the file pattern {pattern}")
            result = statistics_of_tfrecord_files(files, options)
            output = artifact_utils.get_split_uri([statistics], split)
            fileio.makedirs(output)
            io_utils.write_bytes_file(
                os.path.join(output, statistics_executor.DEFAULT_FILE_NAME),
                result.SerializeToString(),
            )


def _gzipped_tf_examples(examples) -> bool:
    """What this executor reads (what our ExampleGen writes); anything else goes to TFX's."""
    from tfx.proto import example_gen_pb2

    return (
        examples_utils.get_payload_format(examples) == example_gen_pb2.FORMAT_TF_EXAMPLE
        and examples_utils.get_file_format(examples) == "tfrecords_gzip"
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
