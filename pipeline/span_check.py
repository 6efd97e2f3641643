"""Before a local run: the span's files pass the structural checks `tfxp validate` makes
(encoding, quoting, ragged rows, header against the schema, numbers that are not finite), so bad
bytes are reported with file, line and column instead of crashing inside Beam.

A file is first read by columns, a block at a time (`components.csv_examples`, as ExampleGen
reads it): one that proves clean that way (most files, at a few hundred thousand rows a second
and flat memory) is done; anything in doubt is read again line by line (`read_csv`), which
finds, with its line, what is wrong.
"""

from __future__ import annotations

import math
import pathlib

import pyarrow as pa
import pyarrow.compute as pc

from components import csv_cells, csv_examples
from components.validation import TRAINING, Finding
from pipeline.csv_table import NA_VALUES, CsvProblem, CsvTable, read_csv

_NUMERIC = (2, 3)  # schema_pb2.INT, schema_pb2.FLOAT
_DEPRECATED = 5  # schema_pb2.LifecycleStage.DEPRECATED
_MOST_FINDINGS = 50  # the first fifty say enough


def _columns_of(schema) -> tuple[dict[str, int], set[str]]:
    """Each column's type, and the columns a training file must have."""
    types = {f.name: f.type for f in schema.feature}
    required = {
        f.name
        for f in schema.feature
        if TRAINING not in f.not_in_environment and f.lifecycle_stage != _DEPRECATED
    }
    return types, required


def structural_findings(table: CsvTable, schema) -> list[Finding]:
    """What is wrong with the rows of a readable CSV file for this schema, before statistics."""
    where = str(table.path)
    findings = []
    types, required = _columns_of(schema)
    for column in sorted(required - set(table.header)):
        findings.append(Finding(where, column, "MISSING_COLUMN", "the schema expects this column"))
    for column in [c for c in table.header if c not in types]:
        findings.append(Finding(where, column, "EXTRA_COLUMN", "not in the schema"))
    if not table.rows:
        findings.append(Finding(where, "<file>", "NO_ROWS", "a header but no rows"))
    for number, row in table.rows:
        if len(row) != len(table.header):
            findings.append(
                Finding(
                    where,
                    "<file>",
                    "RAGGED_ROW",
                    f"line {number}: {len(row)} fields, the header has {len(table.header)}",
                )
            )
            continue
        for column, cell in zip(table.header, row, strict=True):
            if types.get(column) in _NUMERIC and cell.strip():
                try:
                    value = float(cell)
                except ValueError:
                    findings.append(
                        Finding(
                            where,
                            column,
                            "NOT_A_NUMBER",
                            f"line {number}: {cell!r} in a numeric column",
                        )
                    )
                    continue
                if not math.isfinite(value):
                    findings.append(
                        Finding(
                            where,
                            column,
                            "NAN_OR_INF",
                            f"line {number}: {cell!r} is not a finite number",
                        )
                    )
    return findings[:_MOST_FINDINGS]


def span_findings(
    files: list[pathlib.Path], schema, na_values: tuple[str, ...] = NA_VALUES
) -> list[Finding]:
    """Structural findings over a span's files, each naming its file (empty: it may run)."""
    findings = []
    for path in files:
        if _clean_by_columns(path, schema, na_values):
            continue
        try:
            findings += structural_findings(read_csv(path, na_values), schema)
        except CsvProblem as problem:
            findings.append(Finding(str(path), "<file>", problem.kind, str(problem)))
    return findings[:_MOST_FINDINGS]


def _clean_by_columns(path: pathlib.Path, schema, na_values: tuple[str, ...]) -> bool:
    """True when a read by columns proves the file has no structural finding; False when in
    doubt (the line-by-line check then decides)."""
    try:
        if path.stat().st_size == 0 or _odd_quotes(path):
            return False
        with open(path, "rb") as opened:
            header = csv_examples.read_header(opened)
        types, required = _columns_of(schema)
        if not header or len(set(header)) < len(header) or set(header) - set(types):
            return False
        if required - set(header):
            return False
        numeric = [c for c in header if types[c] in _NUMERIC]
        missing = csv_cells.missing_tokens(na_values)
        rows = 0
        for block in csv_examples.text_blocks(str(path), header):
            rows += block.num_rows
            for column in numeric:
                stripped, present = csv_cells.present_cells(block.column(column), missing)
                numbers = pc.cast(pc.filter(stripped, present), pa.float64())
                if pc.all(pc.is_finite(numbers)).as_py() not in (True, None):
                    return False
        return rows > 0
    except (OSError, UnicodeDecodeError, ValueError, pa.ArrowException):
        return False


def _odd_quotes(path: pathlib.Path) -> bool:
    """An odd number of quote characters: a quoted field never closed (`read_csv` says where)."""
    quotes = 0
    with open(path, "rb") as opened:
        while chunk := opened.read(1 << 24):
            quotes += chunk.count(b'"')
    return quotes % 2 == 1
