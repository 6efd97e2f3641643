"""CuratedSchemaImporter: the reviewed schema enters the pipeline by content, not by path.

TFX's ImportSchemaGen takes a file path as its only property, so an edited schema at the same
path is served from cache (TFX 1.16). Passing the schema text itself makes the content part of
the cache key, records exactly what was used in ML Metadata, and needs no file inside a
Kubeflow container.
"""

import os

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.dsl.component.experimental.annotations import OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.dsl.io import fileio
from tfx.types import standard_artifacts

from metadata import names


@component
def CuratedSchemaImporter(
    schema_text: Parameter[str],
    source_file: Parameter[str],
    schema: OutputArtifact[standard_artifacts.Schema],
) -> None:
    """Write the curated schema as a Schema artifact; `source_file` is kept for provenance."""
    parsed = text_format.Parse(schema_text, schema_pb2.Schema())
    fileio.makedirs(schema.uri)  # object storage needs none; a local or mounted path does
    with fileio.open(os.path.join(schema.uri, names.SCHEMA_FILE), "w") as handle:
        handle.write(text_format.MessageToString(parsed))
    schema.set_string_custom_property(names.SCHEMA_SOURCE_FILE, source_file)
