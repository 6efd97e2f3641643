"""`tfxp predict --csv FILE`: score a CSV file with the served model, no server needed; the
scores are written beside the rows, in a new CSV file.

Cells are typed by the curated schema as a request's values are (an empty cell is a missing
value); the label column, if present, is carried over and not scored. Rows are scored in
batches, and the output is written under a temporary name and renamed, so it is whole or absent.
"""

from __future__ import annotations

import csv
import os
import pathlib

from pipeline.csv_table import NA_VALUES, CsvProblem, read_csv
from serving.examples import RequestError, RequestSchema, to_examples
from serving.repository import ModelRepository

BATCH = 1024
SCORE_COLUMN = "score"
PREDICTED_CLASS = "predicted_class"


def score_csv(
    path: pathlib.Path,
    output: pathlib.Path,
    repository: ModelRepository,
    request: RequestSchema,
    version: int,
    na_values: tuple[str, ...] = NA_VALUES,
    classes: tuple[str, ...] = (),
) -> int:
    """Score every row of `path` with `version`; returns the number of rows written. A
    multiclass model's rows get a `score_<class>` column per class, in `classes` order, and
    the `predicted_class`; others one `score` (a regression's: the predicted number)."""
    try:
        table = read_csv(path, na_values)
    except CsvProblem as problem:
        raise RequestError(f"{path}: {problem.kind}: {problem}") from None
    scored = [c for c in table.header if c in request.types]
    carried = [c for c in table.header if c not in request.types]
    unknown = [c for c in carried if c not in request.known]
    if unknown:
        raise RequestError(f"{path}: column '{unknown[0]}' is not in the schema")
    rows = []
    for line, cells in table.rows:
        if len(cells) != len(table.header):
            raise RequestError(
                f"{path}: line {line}: {len(cells)} fields, the header has {len(table.header)}"
            )
        record = dict(zip(table.header, cells, strict=True))
        row = {}
        for column in scored:
            try:
                row[column] = typed_cell(record[column], request.types[column])
            except ValueError:
                raise RequestError(
                    f"{path}: line {line}: feature '{column}': expected a number, "
                    f"got {record[column]!r}"
                ) from None
        rows.append(row)
    if not output.parent.is_dir():
        raise RequestError(f"{output}: no folder {output.parent} to write the scores in")
    scores = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        try:
            examples = to_examples(batch, request)
        except RequestError as err:  # "row N" of the batch, as the file's line
            raise RequestError(f"{path}: {_line_of(str(err), start, table.rows)}") from None
        scores += repository.scores(version, examples)
    columns = (
        [f"{SCORE_COLUMN}_{c}" for c in classes] + [PREDICTED_CLASS] if classes else [SCORE_COLUMN]
    )
    partial = output.with_name(f".{output.name}.partial")
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*table.header, *columns])
        for (_, cells), score in zip(table.rows, scores, strict=True):
            figures = [f"{value:.6f}" for value in score]
            if classes:
                figures.append(classes[max(range(len(score)), key=score.__getitem__)])
            writer.writerow([*cells, *figures])
    os.replace(partial, output)
    return len(scores)


def typed_cell(cell: str, kind: int):
    """A CSV cell as a request's value for a feature of schema type `kind` ("" is missing)."""
    if cell == "":
        return None
    if kind == 1:  # BYTES
        return cell
    value = float(cell)
    return int(value) if kind == 2 and value.is_integer() else value


def _line_of(message: str, start: int, rows) -> str:
    if message.startswith("row "):
        number, _, rest = message[4:].partition(":")
        if number.isdigit():
            return f"line {rows[start + int(number)][0]}:{rest}"
    return message
