"""CsvExampleGen's executor, resolving the span itself when no driver ran before it.

TFX 1.16 resolves `{SPAN}` in the input pattern in a driver: locally in-process, on Vertex AI
Pipelines as the task's `lifecycle` pre-cache-check container. Open-source Kubeflow Pipelines
ignores `lifecycle`, so there the executor would read the literal pattern `span-{SPAN}/*.csv`
and fail. This executor does the driver's work when the execution properties lack a span, with
TFX's own input processor, and always stamps span, version and fingerprint on the output, which
the Kubeflow entrypoint would otherwise leave to the backend.
"""

from __future__ import annotations

from tfx.components.example_gen import driver, input_processor, utils
from tfx.components.example_gen.csv_example_gen import executor as csv_executor
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2, range_config_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils


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


class Executor(csv_executor.Executor):
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
