"""`tfxp schema infer`: a freshly inferred candidate schema, beside the curated one, for review.

Inference only writes `<schema>.candidate.pbtxt` and shows the difference, so a person decides
what changes in the curated file and commits it.
"""

from __future__ import annotations

import dataclasses
import difflib
import pathlib

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from components.validation import SERVING, TRAINING
from datatools.statistics import example_statistics
from pipeline import SETUP_FILE
from pipeline.config import PipelineConfig
from pipeline.spans import spans


@dataclasses.dataclass(frozen=True)
class Candidate:
    path: pathlib.Path
    diff: str  # unified diff from the curated schema to the candidate; empty when identical


def with_environments(schema: schema_pb2.Schema, config: PipelineConfig) -> schema_pb2.Schema:
    """Declare TRAINING and SERVING; the label's own column is not expected at serving time."""
    curated = schema_pb2.Schema()
    curated.CopyFrom(schema)
    for env in (TRAINING, SERVING):
        if env not in curated.default_environment:
            curated.default_environment.append(env)
    for feature in curated.feature:
        if feature.name == config.model.label.column and SERVING not in feature.not_in_environment:
            feature.not_in_environment.append(SERVING)
    return curated


def infer_candidate(config: PipelineConfig) -> Candidate:
    """Infer a schema from every span's CSV files and write it beside the curated one."""
    import tensorflow_data_validation as tfdv

    spans(config.data_root)  # a clear error for a data folder without spans
    stats = example_statistics(
        config.data_root, "span-*/*.csv", config.beam.args(SETUP_FILE), na_values=config.na_values
    )
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
