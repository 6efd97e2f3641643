"""`tfxp validate FILE.csv`: check one file against the curated schema without a pipeline run.

Structural problems a CSV reader would trip on (encoding, quotes, ragged rows, columns, empty
file, NaN/inf) are found first by reading the file directly, so each is reported with its row
and column; then TFDV checks the file's statistics against the schema, as the gate does.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import pathlib

from components.data_checks import Finding, anomaly_findings
from pipeline import SETUP_FILE
from pipeline.config import PipelineConfig
from components.data_checks import TRAINING
from pipeline.schema import read_schema


def structural_findings(path: pathlib.Path, schema) -> list[Finding]:
    """What is wrong with the file as a CSV for this schema, before any statistics."""
    where = str(path)
    if not path.is_file():
        return [Finding(where, "<file>", "FILE_NOT_FOUND", "no such file")]
    raw = path.read_bytes()
    if not raw.strip():
        return [Finding(where, "<file>", "EMPTY_FILE", "the file is empty: no header, no rows")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        return [Finding(where, "<file>", "NOT_UTF8",
                        f"line {line}: byte {raw[err.start]:#04x} is not UTF-8")]
    if text.count('"') % 2:
        line = next(i for i, l in enumerate(text.splitlines(), 1) if l.count('"') % 2)
        return [Finding(where, "<file>", "UNBALANCED_QUOTES",
                        f"line {line}: a quoted field is never closed")]
    reader = csv.reader(io.StringIO(text))
    rows, last_line = [], 0
    for row in reader:  # (line where the row starts, cells); a quoted field may span lines
        rows.append((last_line + 1, row))
        last_line = reader.line_num
    header, body = rows[0][1], [(n, r) for n, r in rows[1:] if r]
    findings = []
    types = {f.name: f.type for f in schema.feature}
    required = {f.name for f in schema.feature
                if TRAINING not in f.not_in_environment and f.lifecycle_stage != 5}  # 5: DEPRECATED
    for column in sorted(required - set(header)):
        findings.append(Finding(where, column, "MISSING_COLUMN", "the schema expects this column"))
    for column in [c for c in header if c not in types]:
        findings.append(Finding(where, column, "EXTRA_COLUMN", "not in the schema"))
    if not body:
        findings.append(Finding(where, "<file>", "NO_ROWS", "a header but no rows"))
    for number, row in body:
        if len(row) != len(header):
            findings.append(Finding(where, "<file>", "RAGGED_ROW",
                                    f"line {number}: {len(row)} fields, the header has {len(header)}"))
            continue
        for column, cell in zip(header, row):
            if types.get(column) in (2, 3) and cell.strip():  # INT, FLOAT
                try:
                    value = float(cell)
                except ValueError:
                    findings.append(Finding(where, column, "NOT_A_NUMBER",
                                            f"line {number}: {cell!r} in a numeric column"))
                    continue
                if not math.isfinite(value):
                    findings.append(Finding(where, column, "NAN_OR_INF",
                                            f"line {number}: {cell!r} is not a finite number"))
    return findings[:50]  # the first fifty say enough


def validate_file(config: PipelineConfig, path: pathlib.Path, against: int | None = None
                  ) -> list[Finding]:
    """Findings for one CSV file against the curated schema and the label limits and, given
    `against`, for drift and label-rate change from that span of the config's data, by the
    schema's comparators and the config's limits, as the gate measures them (empty: it passes).
    """
    import tensorflow_data_validation as tfdv

    from components.data_checks import comparison, label_findings, training_environment
    from pipeline.data import span_files
    from pipeline.schema import example_statistics

    schema = read_schema(config.schema_file)
    previous = previous_rate = None
    if against is not None:
        _, files = span_files(config.data_root, against)  # a missing span: DataError, exit 2
        previous = example_statistics(files[0].parent, "*.csv", config.beam.args(SETUP_FILE),
                                      schema)
        previous_rate = label_counts(files, config.model_inputs.label).positive_rate
    findings = structural_findings(path, schema)
    if findings:
        return findings
    stats = example_statistics(path.parent, path.name, config.beam.args(SETUP_FILE), schema)
    findings = anomaly_findings("file", tfdv.validate_statistics(
        stats, schema, environment=training_environment(schema)))
    if previous is not None:
        findings += comparison(stats, schema, previous, "drift")[0]
    label = config.model_inputs.label
    findings += label_findings(label.name, {"train": label_counts([path], label)}, previous_rate,
                               against, dataclasses.asdict(config.policy.label))
    return [Finding(str(path), f.feature, f.kind, f.description) for f in findings]


def label_counts(paths: list[pathlib.Path], label) -> "LabelCounts":
    """Rows, rows without the label column's value, and positives by the training rule
    (`derive_label`), over CSV files that passed the structural checks."""
    import tensorflow as tf

    from components.data_checks import LabelCounts
    from models.preprocessing import derive_label

    rows: list[dict[str, str]] = []
    for path in paths:
        with path.open(newline="") as handle:
            rows += list(csv.DictReader(handle))
    columns = {name: tf.constant([float(r[name]) if (r.get(name) or "").strip() else math.nan
                                  for r in rows], tf.float32)
               for name in label.source_columns}
    positives = int(tf.reduce_sum(derive_label(columns, label))) if rows else 0
    missing = sum(1 for r in rows if not (r.get(label.column) or "").strip())
    return LabelCounts(rows=len(rows), missing=missing, positives=positives)
