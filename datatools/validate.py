"""`tfxp validate FILE.csv`: check one file against the curated schema without a pipeline run.

The file is read once (`csv_table`): structural problems (encoding, quotes, ragged rows,
columns, empty file, NaN/inf) are reported with their row and column, and the label is counted
from the same rows. Then TFDV checks the file's statistics against the schema (read as
ExampleGen reads it) and, against a span, for drift, as the gate does.
"""

from __future__ import annotations

import pathlib

from components.validation import (
    Finding,
    LabelCounts,
    anomaly_findings,
    comparison,
    count_labels,
    label_findings,
    training_environment,
)
from datatools.statistics import example_statistics
from models.features import MULTICLASS, NUMERIC_RULES
from pipeline import SETUP_FILE
from pipeline.config import PipelineConfig
from pipeline.csv_table import CsvProblem, CsvTable, read_csv
from pipeline.schema import read_schema, with_label_classes
from pipeline.span_check import structural_findings
from pipeline.spans import DataError, span_files


def validate_file(
    config: PipelineConfig, path: pathlib.Path, against: int | None = None
) -> list[Finding]:
    """Findings for one CSV file against the curated schema and the label limits and, given
    `against`, for drift and label-rate change from that span of the config's data, by the
    schema's comparators and the config's limits, as the gate measures them (empty: it passes).
    """
    import tensorflow_data_validation as tfdv

    schema = read_schema(config.schema_file)
    config = with_label_classes(schema, config)
    beam_args = config.beam.args(SETUP_FILE)
    span_csvs = span_files(config.data_root, against)[1] if against is not None else []
    try:
        table = read_csv(path, config.na_values)
    except CsvProblem as problem:
        return [Finding(str(path), "<file>", problem.kind, str(problem))]
    findings = structural_findings(table, schema)
    if findings:  # the span's statistics are computed only for a file worth comparing
        return findings
    stats = example_statistics(path.parent, path.name, beam_args, schema, config.na_values)
    findings = anomaly_findings(
        "file", tfdv.validate_statistics(stats, schema, environment=training_environment(schema))
    )
    previous_rate = None
    if span_csvs:
        previous = example_statistics(
            span_csvs[0].parent, "*.csv", beam_args, schema, config.na_values
        )
        findings += comparison(stats, schema, previous, "drift")[0]
        tables = _span_tables(span_csvs, config.na_values)
        previous_rate = label_counts(tables, config.model.label).positive_rate
    label = config.model.label
    findings += label_findings(
        label.name,
        {"train": label_counts([table], label)},
        previous_rate,
        against,
        config.validation.label,
    )
    return [Finding(str(path), f.feature, f.kind, f.description) for f in findings]


def _span_tables(files: list[pathlib.Path], na_values: tuple[str, ...]) -> list[CsvTable]:
    """A span's files, read; one that is not readable CSV is a data error, named."""
    try:
        return [read_csv(path, na_values) for path in files]
    except CsvProblem as problem:
        raise DataError(f"{problem.path}: {problem.kind}: {problem}") from None


def label_counts(tables: list[CsvTable], label) -> LabelCounts:
    """The label counted over the rows of CSV files that passed the structural checks: a
    blank cell is a missing value."""
    import numpy as np
    import tensorflow as tf

    records = [record for table in tables for record in table.records()]

    # The column holds words (or class codes, compared as text), not numbers.
    text = label.rule not in NUMERIC_RULES or label.kind == MULTICLASS

    def present(column: str) -> tf.SparseTensor:
        rows = [
            (i, r[column].strip() if text else float(r[column]))
            for i, r in enumerate(records)
            if (r.get(column) or "").strip()
        ]
        indices = np.array([[i, 0] for i, _ in rows], dtype=np.int64).reshape(-1, 2)
        values = np.array([v for _, v in rows], dtype=object if text else np.float32)
        return tf.SparseTensor(indices, values, dense_shape=[len(records), 1])

    columns = {name: present(name) for name in label.source_columns}
    return count_labels([(len(records), columns)], label)
