"""Reading a CSV file once, for the checks and tools that look at cells themselves.

Problems a CSV reader would trip on (no file, no bytes, bytes that are not UTF-8, a quoted field
never closed) are raised with the line they are on. TFDV statistics read files separately, as
ExampleGen does (`datatools.statistics`): that is the point of them.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import pathlib

NA_VALUES = ("", "NA", "N/A", "null")  # cells that mean "missing" unless the config says others


class CsvProblem(ValueError):
    """The file cannot be read as CSV at all; `kind` names the problem, the message where."""

    def __init__(self, path: pathlib.Path, kind: str, message: str):
        super().__init__(message)
        self.path, self.kind = path, kind


@dataclasses.dataclass(frozen=True)
class CsvTable:
    """A file's header and rows; blank lines are skipped, each row keeps the line it starts on
    (a quoted field may span lines)."""

    path: pathlib.Path
    header: list[str]
    rows: list[tuple[int, list[str]]]

    def records(self) -> list[dict[str, str]]:
        """Rows as {column: cell}; rows with a field too few or too many are left out."""
        width = len(self.header)
        return [
            dict(zip(self.header, cells, strict=True))
            for _, cells in self.rows
            if len(cells) == width
        ]


def read_csv(path: pathlib.Path, na_values: tuple[str, ...] = NA_VALUES) -> CsvTable:
    """The file's rows, each missing-value token (`na_values`) read as an empty cell: missing,
    as ExampleGen reads it."""
    if not path.is_file():
        raise CsvProblem(path, "FILE_NOT_FOUND", "no such file")
    raw = path.read_bytes()
    if not raw.strip():
        raise CsvProblem(path, "EMPTY_FILE", "the file is empty: no header, no rows")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise CsvProblem(
            path, "NOT_UTF8", f"line {line}: byte {raw[err.start]:#04x} is not UTF-8"
        ) from None
    if text.count('"') % 2:
        line = next(i for i, cells in enumerate(text.splitlines(), 1) if cells.count('"') % 2)
        raise CsvProblem(path, "UNBALANCED_QUOTES", f"line {line}: a quoted field is never closed")
    reader = csv.reader(io.StringIO(text))
    rows, last_line = [], 0
    for cells in reader:
        rows.append((last_line + 1, cells))
        last_line = reader.line_num
    missing = {token.strip() for token in na_values}
    return CsvTable(
        path,
        rows[0][1],
        [(n, ["" if c.strip() in missing else c for c in cells]) for n, cells in rows[1:] if cells],
    )
