"""`tfxp validate FILE.csv`: the bad-input matrix, each with a specific message and exit 3."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

from cli.exits import EXIT_FINDINGS
from tests.conftest import ROOT, taxi_lines
from tests.e2e.conftest import run_cli

CONFIG = str(ROOT / "pipeline" / "configs" / "taxi.yaml")
HEADER, *ROWS = [line.rstrip("\n") for line in taxi_lines()[:301]]
COLUMNS = HEADER.split(",")


def _set_cell(row: str, column: str, value: str) -> str:
    cells = row.split(",")
    cells[COLUMNS.index(column)] = value
    return ",".join(cells)


def _drop_column(line: str, column: str) -> str:
    cells = line.split(",")
    del cells[COLUMNS.index(column)]
    return ",".join(cells)


def _text(header=HEADER, rows=ROWS) -> bytes:
    return ("\n".join([header] + list(rows)) + "\n").encode()


CASES = {
    "unbalanced-quotes": (
        _text(rows=ROWS[:10] + ['"unclosed,' + ROWS[10]] + ROWS[11:]),
        "UNBALANCED_QUOTES",
        "line 12: a quoted field is never closed",
    ),
    "ragged-row": (
        _text(rows=ROWS[:4] + [ROWS[4] + ",extra"] + ROWS[5:]),
        "RAGGED_ROW",
        "line 6: 19 fields, the header has 18",
    ),
    "missing-column": (
        _text(_drop_column(HEADER, "company"), [_drop_column(r, "company") for r in ROWS]),
        "MISSING_COLUMN",
        "column 'company'",
    ),
    "extra-column": (
        _text(HEADER + ",driver_id", [r + ",7" for r in ROWS]),
        "EXTRA_COLUMN",
        "column 'driver_id'",
    ),
    "text-in-numeric": (
        _text(rows=[_set_cell(ROWS[0], "fare", "twelve")] + ROWS[1:]),
        "NOT_A_NUMBER",
        "line 2: 'twelve' in a numeric column",
    ),
    "nan-and-inf": (
        _text(
            rows=[_set_cell(ROWS[0], "trip_miles", "nan"), _set_cell(ROWS[1], "fare", "inf")]
            + ROWS[2:]
        ),
        "NAN_OR_INF",
        "line 2: 'nan' is not a finite number",
    ),
    "empty-file": (b"", "EMPTY_FILE", "the file is empty"),
    "line-numbers-count-blank-lines": (
        _text(rows=ROWS[:3] + ["", _set_cell(ROWS[3], "fare", "x")] + ROWS[4:]),
        "NOT_A_NUMBER",
        "line 6: 'x' in a numeric column",
    ),
    "header-only": (_text(rows=[]), "NO_ROWS", "a header but no rows"),
    "non-utf8": (
        _text(rows=ROWS[:5]).replace(ROWS[2].encode(), b"\xff" + ROWS[2].encode(), 1),
        "NOT_UTF8",
        "line 4: byte 0xff is not UTF-8",
    ),
    "unseen-category": (
        _text(
            rows=[r.replace(",Cash,", ",Bitcoin,") if i % 5 == 0 else r for i, r in enumerate(ROWS)]
        ),
        "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
        "Bitcoin",
    ),
    "all-null-column": (
        _text(rows=[_set_cell(r, "trip_miles", "") for r in ROWS]),
        "FEATURE_TYPE_NOT_PRESENT",
        "column 'trip_miles'",
    ),
}


def test_a_clean_file_conforms(tmp_path):
    path = tmp_path / "good.csv"
    path.write_bytes(_text())
    code, out, err = run_cli("validate", str(path), "--config", CONFIG)
    assert code == 0, out + err
    assert "conforms to" in out


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_named_with_its_place(tmp_path, name):
    content, kind, detail = CASES[name]
    path = tmp_path / f"{name}.csv"
    path.write_bytes(content)

    code, out, err = run_cli("validate", str(path), "--config", CONFIG)

    assert code == EXIT_FINDINGS, out + err
    assert f"{path}: column" in out
    assert kind in out and detail in out
    assert "Traceback" not in err


def test_a_synthetic_span_with_a_new_category_is_caught(tmp_path):
    from datatools.synth import synthesize

    first, second = synthesize(
        tmp_path, rows=1000, spans=2, seed=5, drift="new:payment_type=Bitcoin:0.2@2"
    )
    assert run_cli("validate", str(first), "--config", CONFIG)[0] == 0
    code, out, _ = run_cli("validate", str(second), "--config", CONFIG)
    assert code == EXIT_FINDINGS
    assert "column 'payment_type': ENUM_TYPE_UNEXPECTED_STRING_VALUES" in out and "Bitcoin" in out


def test_validate_leaves_nothing_in_the_temporary_folder(tmp_path):
    """TFDV writes statistics to a new folder under /tmp by default and never removes it: a
    check run every hour would fill the disk (a dev machine had 400 of them in /tmp)."""
    path = tmp_path / "good.csv"
    path.write_bytes(_text())
    own_tmp = tmp_path / "tmp"
    own_tmp.mkdir()
    done = subprocess.run(
        [
            str(pathlib.Path(sys.executable).parent / "tfxp"),
            "validate",
            str(path),
            "--config",
            CONFIG,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(own_tmp)},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert list(own_tmp.iterdir()) == []
