"""CsvExampleGen's executor, resolving the span itself when no driver ran before it.

TFX 1.16 resolves `{SPAN}` in the input pattern in a driver: locally in-process, on Vertex AI
Pipelines as the task's `lifecycle` pre-cache-check container. Open-source Kubeflow Pipelines
ignores `lifecycle`, so there the executor would read the literal pattern `span-{SPAN}/*.csv`
and fail. This executor does the driver's work when the execution properties lack a span, with
TFX's own input processor, and always stamps span, version and fingerprint on the output, which
the Kubeflow entrypoint would otherwise leave to the backend.
"""

from __future__ import annotations

import json
import os

import apache_beam as beam
from tfx.components.example_gen import driver, input_processor, utils
from tfx.components.example_gen.csv_example_gen import executor as csv_executor
from tfx.dsl.components.base import executor_spec
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2, range_config_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils
from tfx_bsl.coders import csv_decoder

NA_VALUES = "na_values"  # in the custom config: cells that mean "missing", as the config says
FINGERPRINT = "fingerprint"


def resolve_span(exec_properties: dict) -> dict:
    """`exec_properties` with the span, version and fingerprint the driver would have added,
    and the input pattern filled in."""
    resolved = dict(exec_properties)
    input_config = example_gen_pb2.Input()
    proto_utils.json_to_proto(resolved[standard_component_specs.INPUT_CONFIG_KEY], input_config)
    range_config = None
    if resolved.get(standard_component_specs.RANGE_CONFIG_KEY):
        range_config = range_config_pb2.RangeConfig()
        proto_utils.json_to_proto(resolved[standard_component_specs.RANGE_CONFIG_KEY], range_config)
    processor = input_processor.FileBasedInputProcessor(
        resolved[standard_component_specs.INPUT_BASE_KEY], input_config.splits, range_config
    )
    span, version = processor.resolve_span_and_version()
    resolved[utils.SPAN_PROPERTY_NAME] = span
    resolved[utils.VERSION_PROPERTY_NAME] = version
    resolved[utils.FINGERPRINT_PROPERTY_NAME] = processor.get_input_fingerprint(span, version)
    for split in input_config.splits:
        split.pattern = processor.get_pattern_for_span_version(split.pattern, span, version)
    resolved[standard_component_specs.INPUT_CONFIG_KEY] = proto_utils.proto_to_json(input_config)
    return resolved


def custom_config(fingerprint: str | None, na_values: tuple[str, ...]) -> str:
    """What the pipeline tells this executor, as the JSON its custom config carries: the
    span's content hash (it keys the cache) and the missing-value tokens."""
    return json.dumps({FINGERPRINT: fingerprint, NA_VALUES: list(na_values)}, sort_keys=True)


def _na_values(exec_properties: dict) -> tuple[str, ...]:
    from google.protobuf import wrappers_pb2

    packed = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
    if not packed:
        return ("",)
    config = example_gen_pb2.CustomConfig()
    proto_utils.json_to_proto(packed, config)
    text = wrappers_pb2.StringValue()
    config.custom_config.Unpack(text)
    try:
        return tuple(json.loads(text.value).get(NA_VALUES, [""]))
    except ValueError:  # a custom config from before NA tokens: "sha256:..."
        return ("",)


def _blank_na(cells: list, na_values: frozenset) -> list:
    """A cell that is a missing-value token becomes empty: what CSV reading calls missing."""
    return [b"" if cell.strip() in na_values else cell for cell in cells]


class CsvToExamples(beam.PTransform):
    """CSV files to tf.Examples as TFX's CsvExampleGen reads them (its line reader, parser,
    type inference and example builder), with the config's missing-value tokens ("NA",
    "null", ...) read as missing before the types are inferred, so a numeric column with
    "NA" stays numeric."""

    def __init__(
        self, exec_properties: dict, split_pattern: str, na_values: tuple[str, ...] | None = None
    ):
        super().__init__()
        base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
        self._pattern = os.path.join(base, split_pattern)
        na = na_values if na_values is not None else _na_values(exec_properties)
        self._na = frozenset(v.strip().encode() for v in na)

    def expand(self, pipeline):
        files = fileio.glob(self._pattern)
        if not files:
            raise RuntimeError(f"Split pattern {self._pattern} does not match any files.")
        columns = io_utils.load_csv_column_names(files[0])
        if any(io_utils.load_csv_column_names(f) != columns for f in files[1:]):
            raise RuntimeError(f"Files in same split {self._pattern} have different header.")
        na = self._na
        cells = (
            pipeline
            | "CreateFilenames" >> beam.Create(files)
            | "ReadFromText" >> beam.ParDo(csv_executor._ReadCsvRecordsFromTextFile())
            | "ParseCSVLine" >> beam.ParDo(csv_decoder.ParseCSVLine(delimiter=","))
            | "ExtractParsedCSVLines" >> beam.Keys()
            | "BlankMissingTokens" >> beam.Map(_blank_na, na)
        )
        types = beam.pvalue.AsSingleton(
            cells
            | "InferColumnTypes"
            >> beam.CombineGlobally(csv_decoder.ColumnTypeInferrer(columns, skip_blank_lines=True))
        )
        return cells | "ToTFExample" >> beam.ParDo(csv_executor._ParsedCsvToTfExample(), types)


class Executor(csv_executor.Executor):
    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        return CsvToExamples

    def Do(self, input_dict, output_dict, exec_properties):
        if utils.SPAN_PROPERTY_NAME not in exec_properties:
            exec_properties = resolve_span(exec_properties)
        else:  # from the driver's output file, where numbers are JSON doubles
            exec_properties = dict(exec_properties)
            exec_properties[utils.SPAN_PROPERTY_NAME] = int(
                exec_properties[utils.SPAN_PROPERTY_NAME]
            )
            version = exec_properties.get(utils.VERSION_PROPERTY_NAME)
            exec_properties[utils.VERSION_PROPERTY_NAME] = None if version is None else int(version)
        examples = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.EXAMPLES_KEY]
        )
        driver.update_output_artifact(exec_properties, examples.mlmd_artifact)
        super().Do(input_dict, output_dict, exec_properties)


EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
