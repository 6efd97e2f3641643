"""The curated schema: reading it, and proposing a freshly inferred candidate for review.

The pipeline never infers its schema: it imports the reviewed file in `schema/`. Inference only
writes `<schema>.candidate.pbtxt` beside it and shows the difference, so a person decides what
changes and commits it.
"""

from __future__ import annotations

import dataclasses
import difflib
import pathlib

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from components.data_checks import SERVING, TRAINING
from pipeline import SETUP_FILE
from pipeline.config import PipelineConfig



class SchemaError(ValueError):
    """The curated schema is missing, unparsable, or does not describe the config's columns."""


def read_schema(path: pathlib.Path) -> schema_pb2.Schema:
    try:
        return text_format.Parse(path.read_text(), schema_pb2.Schema())
    except FileNotFoundError:
        raise SchemaError(
            f"{path}: curated schema not found; run `tfxp schema infer` and review the candidate"
        ) from None
    except text_format.ParseError as err:
        raise SchemaError(f"{path}: not a valid schema text proto: {err}") from None


def check_schema_covers_config(schema: schema_pb2.Schema, config: PipelineConfig) -> None:
    """Every feature, label and slice column the config names must be declared in the schema.

    A misspelt slice column would otherwise yield no slice and no error from TFMA.
    """
    declared = {f.name for f in schema.feature}
    inputs = config.model_inputs
    needed = [f.name for f in inputs.features] + list(inputs.label.source_columns)
    needed += [column for columns in config.evaluation.slices for column in columns]
    missing = [name for name in needed if name not in declared]
    if missing:
        raise SchemaError(
            f"{config.schema_file}: does not declare column(s) {', '.join(missing)} "
            f"that {config.config_file.name} uses"
        )
    targets = declared | {inputs.label.name, "<dataset>", "*"}
    for entry in config.policy.allow:
        if entry.partition(":")[2] not in targets:
            raise SchemaError(f"allow entry {entry!r}: {config.schema_file.name} declares no "
                              f"column {entry.partition(':')[2]!r} (nor is it the label, "
                              "'<dataset>' or '*')")


def with_environments(schema: schema_pb2.Schema, config: PipelineConfig) -> schema_pb2.Schema:
    """Declare TRAINING and SERVING; the label's own column is not expected at serving time."""
    curated = schema_pb2.Schema()
    curated.CopyFrom(schema)
    for env in (TRAINING, SERVING):
        if env not in curated.default_environment:
            curated.default_environment.append(env)
    for feature in curated.feature:
        if feature.name == config.model_inputs.label.column and SERVING not in feature.not_in_environment:
            feature.not_in_environment.append(SERVING)
    return curated


@dataclasses.dataclass(frozen=True)
class Candidate:
    path: pathlib.Path
    diff: str  # unified diff from the curated schema to the candidate; empty when identical


def example_statistics(folder: pathlib.Path, pattern: str, beam_args: list[str],
                       schema: schema_pb2.Schema | None = None):
    """TFDV statistics of CSV files as CsvExampleGen reads them (its own transform).

    With a schema, integer codes it calls categorical get value counts, as in StatisticsGen.

    TFDV's CSV reader sees an empty cell as absent, CsvExampleGen as an empty value list; a
    schema inferred or checked the first way disagrees with the pipeline's data.
    """
    import os
    import tempfile

    import apache_beam as beam
    import tensorflow_data_validation as tfdv
    from apache_beam.options.pipeline_options import PipelineOptions
    from tfx.components.example_gen.csv_example_gen.executor import _CsvToExample

    options = PipelineOptions(beam_args)
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "examples")
        with beam.Pipeline(options=options) as pipeline:
            _ = (
                pipeline
                | "CsvToExample" >> _CsvToExample({"input_base": str(folder)}, pattern)
                | "Serialize" >> beam.Map(lambda example: example.SerializeToString())
                | "Write" >> beam.io.WriteToTFRecord(prefix)
            )
        return tfdv.generate_statistics_from_tfrecord(
            prefix + "*", stats_options=tfdv.StatsOptions(schema=schema) if schema else tfdv.StatsOptions(),
            pipeline_options=options)


def infer_candidate(config: PipelineConfig) -> Candidate:
    """Infer a schema from the dataset's CSV files and write it beside the curated one."""
    import tensorflow_data_validation as tfdv

    from pipeline.data import spans

    spans(config.data_root)  # a clear error for a data folder without spans
    stats = example_statistics(config.data_root, "span-*/*.csv", config.beam.args(SETUP_FILE))
    candidate = with_environments(tfdv.infer_schema(stats), config)
    path = config.schema_file.with_name(config.schema_file.stem + ".candidate.pbtxt")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = text_format.MessageToString(candidate)
    path.write_text(text)
    current = config.schema_file.read_text() if config.schema_file.exists() else ""
    diff = "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=str(config.schema_file),
            tofile=str(path),
        )
    )
    return Candidate(path=path, diff=diff)
