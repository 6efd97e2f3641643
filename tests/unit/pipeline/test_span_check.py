"""The structural check reads a clean file by columns and never line by line; any file with
something wrong gets exactly the findings the line-by-line read gives, with their lines."""

from __future__ import annotations

import pytest

from pipeline import span_check
from pipeline.csv_table import NA_VALUES, CsvProblem, read_csv
from pipeline.schema import read_schema
from tests.conftest import ROOT, write_sample

SCHEMA = read_schema(ROOT / "schema" / "taxi" / "schema.pbtxt")


def _line_by_line(path):
    try:
        return span_check.structural_findings(read_csv(path, NA_VALUES), SCHEMA)
    except CsvProblem as problem:
        return [span_check.Finding(str(path), "<file>", problem.kind, str(problem))]


def _edit_fare(cell):
    def edit(i, line):
        if i != 1:
            return line
        fields = line.split(",")
        return ",".join([fields[0], cell, *fields[2:]])

    return edit


@pytest.mark.parametrize(
    "cell",
    ["abc", "nan", "-inf", "1_000", "0x10", " 7.5 ", "NA", "null", "1e400"],
)
def test_a_fare_cell_gets_the_findings_the_line_by_line_read_gives(tmp_path, cell):
    path = write_sample(tmp_path, 20, _edit_fare(cell))
    assert span_check.span_findings([path], SCHEMA) == _line_by_line(path)


def test_a_clean_file_is_never_read_line_by_line(tmp_path, monkeypatch):
    path = write_sample(tmp_path, 500)

    def refuse(*args, **kwargs):
        raise AssertionError("read line by line")

    monkeypatch.setattr(span_check, "read_csv", refuse)
    assert span_check.span_findings([path], SCHEMA) == []


def test_a_column_too_many_or_too_few_is_found_as_line_by_line(tmp_path):
    path = write_sample(tmp_path, 5)
    lines = path.read_text().splitlines()
    extra = tmp_path / "extra.csv"
    extra.write_text("\n".join(f"{line},x" for line in lines) + "\n")
    fewer = tmp_path / "fewer.csv"
    fewer.write_text("\n".join(",".join(line.split(",")[1:]) for line in lines) + "\n")
    for found in (extra, fewer):
        assert span_check.span_findings([found], SCHEMA) == _line_by_line(found) != []
