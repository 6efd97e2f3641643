"""CsvExampleGen's executor, resolving the span itself when no driver ran before it.

TFX 1.16 resolves `{SPAN}` in the input pattern in a driver: locally in-process, on Vertex AI
Pipelines as the task's `lifecycle` pre-cache-check container. Open-source Kubeflow Pipelines
ignores `lifecycle`, so there the executor would read the literal pattern `span-{SPAN}/*.csv`
and fail. This executor does the driver's work when the execution properties lack a span, with
TFX's own input processor, and always stamps span, version and fingerprint on the output, which
the Kubeflow entrypoint would otherwise leave to the backend. The CSV files are read by
`csv_examples` (pyarrow, a block at a time) into the records TFX's own Beam reading would write.
"""

from __future__ import annotations

import itertools
import json
import logging

from tfx.components.example_gen import driver, input_processor, utils
from tfx.components.example_gen.csv_example_gen import executor as csv_executor
from tfx.components.util import examples_utils
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2, range_config_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from components import csv_examples

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


def write_examples(exec_properties: dict, examples) -> dict[str, int]:
    """The span's CSV files as the Examples artifact's splits (`csv_examples`: TFX's records,
    read at I/O speed); returns the rows written per split."""
    input_config = example_gen_pb2.Input()
    proto_utils.json_to_proto(
        exec_properties[standard_component_specs.INPUT_CONFIG_KEY], input_config
    )
    output_config = example_gen_pb2.Output()
    proto_utils.json_to_proto(
        exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY], output_config
    )
    split_config = output_config.split_config
    if split_config.partition_feature_name:
        raise ValueError("splitting by partition_feature_name is not supported")
    names = utils.generate_output_split_names(input_config, output_config)
    examples.split_names = artifact_utils.encode_split_names(names)
    base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
    na_values = _na_values(exec_properties)
    written = {}
    if split_config.splits:
        (source,) = input_config.splits  # TFX: one input split when output splits are given
        buckets = list(itertools.accumulate(split.hash_buckets for split in split_config.splits))
        folders = [artifact_utils.get_split_uri([examples], name) for name in names]
        counts = csv_examples.write_splits(
            csv_examples.matching_files(base, source.pattern), folders, na_values, buckets
        )
        written.update(zip(names, counts, strict=True))
    else:
        for source, name in zip(input_config.splits, names, strict=True):
            folder = artifact_utils.get_split_uri([examples], name)
            (count,) = csv_examples.write_splits(
                csv_examples.matching_files(base, source.pattern), [folder], na_values
            )
            written[name] = count
    payload = exec_properties.get(standard_component_specs.OUTPUT_DATA_FORMAT_KEY)
    if payload:
        examples_utils.set_payload_format(examples, payload)
    if exec_properties.get(standard_component_specs.OUTPUT_FILE_FORMAT_KEY):
        examples_utils.set_file_format(examples, "tfrecords_gzip")
    return written


class Executor(csv_executor.Executor):
    """CsvExampleGen's executor with the span resolved here when needed, and the CSV read by
    `csv_examples` instead of a Beam pipeline."""

    def GetInputSourceToExamplePTransform(self):
        raise NotImplementedError("this executor reads CSV itself: see write_examples")

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
        written = write_examples(exec_properties, examples)
        logging.info("Examples written: %s", written)


EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
