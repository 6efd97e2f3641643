"""TFDV statistics of CSV files exactly as CsvExampleGen reads them.

TFDV's own CSV reader sees an empty cell as absent, CsvExampleGen as an empty value list: a
schema inferred or a file checked the first way would disagree with the pipeline's data, so
this reads through ExampleGen's own reader (`components.csv_examples`), and computes them as
StatisticsGen does (`components.statistics_gen`).
"""

from __future__ import annotations

import os
import pathlib
import tempfile

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from pipeline.csv_table import NA_VALUES


def example_statistics(
    folder: pathlib.Path,
    pattern: str,
    beam_args: list[str],
    schema: schema_pb2.Schema | None = None,
    na_values: tuple[str, ...] = NA_VALUES,
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Statistics of the files matching `pattern` in `folder`; with a schema, integer codes it
    calls categorical get value counts, as in StatisticsGen."""
    import tensorflow_data_validation as tfdv
    from apache_beam.options.pipeline_options import PipelineOptions

    from components import csv_examples, statistics_gen

    files = csv_examples.matching_files(str(folder), pattern)
    with tempfile.TemporaryDirectory() as tmp:
        csv_examples.write_splits(files, [tmp], na_values)
        options_for_stats = tfdv.StatsOptions(schema=schema) if schema else tfdv.StatsOptions()
        written = f"{csv_examples.FILE_PREFIX}-*"
        if statistics_gen.runs_in_process(beam_args):  # as StatisticsGen computes them
            return statistics_gen.statistics_of_tfrecord_files(
                csv_examples.matching_files(tmp, written),
                options_for_stats,
            )
        return tfdv.generate_statistics_from_tfrecord(
            os.path.join(tmp, written),
            output_path=os.path.join(tmp, "statistics.tfrecord"),  # TFDV's default: a new
            stats_options=options_for_stats,  # folder in /tmp per call, never removed
            pipeline_options=PipelineOptions(beam_args),
        )
