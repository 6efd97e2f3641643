"""Missing-value tokens: a file whose empty cells are written "NA", "null" or "N/A" (as many
exports write them) reads as the same data with empty cells, in the pipeline, `tfxp validate`
and `tfxp schema infer`; the same file read without the tokens is named cell by cell."""

from __future__ import annotations

import pytest

from cli.exits import EXIT_FINDINGS
from pipeline.schema import read_schema
from tests.conftest import small_config_dict, write_config, write_sample
from tests.e2e.conftest import run_cli

ROWS = 1500
TOKENS = ("NA", "null", "N/A")


def _tokens_for_empty_cells(index: int, line: str) -> str:
    """Each empty cell of a row written as one of the tokens, in turn (no quoted commas in
    these rows' empty cells: a plain split is exact for them)."""
    cells = line.rstrip("\n").split(",")
    cells = [TOKENS[(index + i) % 3] if cell == "" else cell for i, cell in enumerate(cells)]
    return ",".join(cells) + "\n"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    work = tmp_path_factory.mktemp("na")
    data = write_sample(work / "data", ROWS, edit=_tokens_for_empty_cells)
    assert data.read_text().count(",NA,") > 100  # dropoff coordinates, census tracts, ...
    raw = small_config_dict(work, data.parent.parent)
    return work, data, raw


def test_a_run_reads_the_tokens_as_missing_and_pushes(exported):
    work, _, raw = exported
    code, out, err = run_cli("run", "--config", str(write_config(raw, work / "c.yaml")))
    assert code == 0, err[-2000:]
    assert "BLESSED and pushed" in out


def test_validate_finds_the_file_conforming(exported):
    work, data, raw = exported
    code, out, err = run_cli("validate", str(data), "--config", str(work / "c.yaml"))
    assert code == 0, out + err
    assert "conforms to" in out


def test_schema_infer_types_the_columns_with_tokens_as_numbers(exported):
    work, _, raw = exported
    raw = {**raw, "schema": str(work / "schema" / "schema.pbtxt")}
    config = write_config(raw, work / "infer.yaml")
    code, _, err = run_cli("schema", "infer", "--config", str(config))
    assert code == 0, err
    candidate = read_schema(work / "schema" / "schema.candidate.pbtxt")
    types = {f.name: f.type for f in candidate.feature}
    assert types["dropoff_latitude"] == types["fare"]  # FLOAT, as a number
    assert types["dropoff_census_tract"] == types["trip_seconds"]  # INT


def test_without_the_tokens_each_one_is_a_cell_named_by_line(exported):
    work, data, raw = exported
    strict = {**raw, "data": {**raw["data"], "na_values": [""]}}
    config = write_config(strict, work / "no-tokens.yaml")
    code, out, _ = run_cli("validate", str(data), "--config", str(config))
    assert code == EXIT_FINDINGS
    assert f"{data}: column 'dropoff_latitude': NOT_A_NUMBER: line " in out
