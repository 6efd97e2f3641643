"""The curated schema: read from `schema/`, and checked to describe every column the config uses.

The pipeline never infers its schema: it imports this reviewed file (`datatools.schema_infer`
proposes changes for a person to review).
"""

from __future__ import annotations

import dataclasses
import pathlib

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from models import features as F
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
    _check_numeric_columns(schema, config)
    targets = declared | {model.label.name, "<dataset>", "*"}
    for entry in config.validation.allow:
        if entry.partition(":")[2] not in targets:
            raise SchemaError(
                f"allow entry {entry!r}: {config.schema_file.name} declares no "
                f"column {entry.partition(':')[2]!r} (nor is it the label, "
                "'<dataset>' or '*')"
            )


_NUMBER_TYPES = (schema_pb2.INT, schema_pb2.FLOAT)


def with_label_classes(schema: schema_pb2.Schema, config: PipelineConfig) -> PipelineConfig:
    """The config with a multiclass label's classes filled in from the curated schema's domain
    of its column, when the config lists none: the order of the model's scores is then the
    domain's. Checked at the edge, before anything runs: an integer column without a
    domain needs `label.classes`, and a listed class must be in the domain."""
    label = config.model.label
    if label.kind != F.MULTICLASS:
        return config
    feature = next((f for f in schema.feature if f.name == label.column), None)
    values = _domain_values(schema, feature) if feature is not None else []
    if label.classes:
        unknown = [c for c in label.classes if values and c not in values]
        if unknown:
            raise SchemaError(
                f"`label.classes` value {unknown[0]!r} is not among {label.column!r}'s values "
                f"in {config.schema_file.name}: {', '.join(values[:10])}"
            )
        return config
    if len(values) < 2:
        raise SchemaError(
            f"label column {label.column!r} has no domain of at least two values in "
            f"{config.schema_file.name}: list the classes in `label.classes` of "
            f"{config.config_file.name} (integer codes too)"
        )
    model = dataclasses.replace(
        config.model, label=dataclasses.replace(label, classes=tuple(values))
    )
    return dataclasses.replace(config, model=model)


def _domain_values(schema: schema_pb2.Schema, feature: schema_pb2.Feature) -> list[str]:
    """A text column's values by its schema domain (its own or a named one)."""
    domain = [d for d in schema.string_domain if d.name == feature.domain]
    return list(feature.string_domain.value) or (list(domain[0].value) if domain else [])


def _check_text_label(schema: schema_pb2.Schema, config: PipelineConfig) -> None:
    """`positive` names a value of a text column the schema knows: a number column written
    as text compares differently in the graph and in Python ("1.0" against 1.000000), and a
    value the column never holds would train on one class."""
    label = config.model.label
    feature = next(f for f in schema.feature if f.name == label.column)
    if feature.type != schema_pb2.BYTES:
        raise SchemaError(
            f"label column {label.column!r} is {schema_pb2.FeatureType.Name(feature.type)} in "
            f"{config.schema_file.name}, but `label.positive` compares text: for a numeric "
            "label use `rule: as_is` (0/1) or `greater_than`"
        )
    values = _domain_values(schema, feature)
    for given in (label.positive, label.negative):
        if values and given is not None and given not in values:
            raise SchemaError(
                f"`label` value {given!r} is not among {label.column!r}'s values in "
                f"{config.schema_file.name}: {', '.join(values[:10])}"
            )


_NUMERIC_KINDS = ("numeric", "bucketized")  # models.features: z-scored or bucketized numbers


def _check_numeric_columns(schema: schema_pb2.Schema, config: PipelineConfig) -> None:
    """Numbers where the config needs numbers: each numeric or bucketized feature, and the
    label's source columns under a rule that compares numbers. Otherwise Transform or the gate
    fails on a cast deep inside Beam."""
    types = {f.name: f.type for f in schema.feature}
    where = f"{config.schema_file.name} types"
    for feature in config.model.features:
        if feature.kind in _NUMERIC_KINDS and types[feature.name] not in _NUMBER_TYPES:
            raise SchemaError(
                f"feature {feature.name!r} is `kind: {feature.kind}` in "
                f"{config.config_file.name}, but {where} it as "
                f"{schema_pb2.FeatureType.Name(types[feature.name])}: a column with text in it "
                "(a token not in `data.na_values`, say) is read as text; clean the column, or "
                "make the feature `kind: categorical`"
            )
    label = config.model.label
    if label.kind == F.MULTICLASS:  # text or integer codes, compared as text
        kind = types[label.column]
        codes = [c for c in label.classes if not c.lstrip("-").isdigit()]
        if kind == schema_pb2.FLOAT or (kind == schema_pb2.INT and codes):
            raise SchemaError(
                f"label column {label.column!r} is {schema_pb2.FeatureType.Name(kind)} in "
                f"{config.schema_file.name}, but a multiclass label is text or integer codes"
                + (f": {codes[0]!r} is not an integer" if codes and kind == schema_pb2.INT else "")
            )
        return
    if label.kind == F.REGRESSION and types[label.column] not in _NUMBER_TYPES:
        raise SchemaError(
            f"label column {label.column!r} is {schema_pb2.FeatureType.Name(types[label.column])}"
            f" in {config.schema_file.name}, but a regression label is a number: clean the "
            "column (a token not in `data.na_values` makes it text), or make the label "
            "`kind: multiclass`"
        )
    if label.rule not in F.NUMERIC_RULES:  # `equals` compares the column's text
        _check_text_label(schema, config)
        return
    for column in label.source_columns:
        if types[column] not in _NUMBER_TYPES:
            raise SchemaError(
                f"label column {column!r} is {schema_pb2.FeatureType.Name(types[column])} in "
                f"{config.schema_file.name}, but label rule {label.rule!r} compares numbers: "
                "for a text label give `label.positive: <the value that means 1>` (rule "
                "'equals'), or derive the label from a numeric column"
            )
