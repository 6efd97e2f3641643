"""The curated schema: read from `schema/`, and checked to describe every column the config uses.

The pipeline never infers its schema: it imports this reviewed file (`datatools.schema_infer`
proposes changes for a person to review).
"""

from __future__ import annotations

import pathlib

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

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
    """Every feature, label and slice column the config names must be declared in the schema,
    and so must every column an allow entry names.

    A misspelt slice column would otherwise yield no slice and no error from TFMA.
    """
    declared = {f.name for f in schema.feature}
    model = config.model
    needed = [f.name for f in model.features] + list(model.label.source_columns)
    needed += [column for columns in config.evaluation.slices for column in columns]
    missing = [name for name in needed if name not in declared]
    if missing:
        raise SchemaError(
            f"{config.schema_file}: does not declare column(s) {', '.join(missing)} "
            f"that {config.config_file.name} uses"
        )
    targets = declared | {model.label.name, "<dataset>", "*"}
    for entry in config.validation.allow:
        if entry.partition(":")[2] not in targets:
            raise SchemaError(
                f"allow entry {entry!r}: {config.schema_file.name} declares no "
                f"column {entry.partition(':')[2]!r} (nor is it the label, "
                "'<dataset>' or '*')"
            )
