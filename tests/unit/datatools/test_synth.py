"""`tfxp data synth` writes spans of taxi-like rows with exactly the drift asked for."""

from __future__ import annotations

import csv

import pytest

from cli.exits import EXIT_USER_ERROR
from cli.main import main
from datatools.synth import SynthError, parse_drift, synthesize

COLUMNS = ["fare", "payment_type", "tips", "trip_miles"]


def _rows(path):
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_rows_are_split_into_spans_a_quarter_apart(tmp_path):
    paths = synthesize(tmp_path, rows=1001, spans=3, seed=1)
    tables = [_rows(p) for p in paths]
    assert [len(t) for t in tables] == [334, 334, 333]
    assert [p.parent.name for p in paths] == ["span-1", "span-2", "span-3"]
    first = min(int(r["trip_start_timestamp"]) for r in tables[0])
    assert min(int(r["trip_start_timestamp"]) for r in tables[2]) > first


def test_same_seed_same_data(tmp_path):
    a = synthesize(tmp_path / "a", rows=200, spans=2, seed=7)
    b = synthesize(tmp_path / "b", rows=200, spans=2, seed=7)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_drift_applies_from_its_span_on(tmp_path):
    paths = synthesize(
        tmp_path,
        rows=3000,
        spans=3,
        seed=3,
        drift="new:payment_type=Bitcoin:0.3@2,vanish:payment_type=Cash@3,missing:trip_miles:0.5@3",
    )
    span1, span2, span3 = (_rows(p) for p in paths)
    assert not any(r["payment_type"] == "Bitcoin" for r in span1)
    assert 0.2 < sum(r["payment_type"] == "Bitcoin" for r in span2) / len(span2) < 0.4
    assert not any(r["payment_type"] == "Cash" for r in span3)
    assert 0.4 < sum(r["trip_miles"] == "" for r in span3) / len(span3) < 0.6


@pytest.mark.parametrize(
    "spec, message",
    [
        ("shift:fare+1@2", "is not one of"),
        ("scale:fares*2@2", "no column 'fares'"),
        ("missing:trip_miles:1.5@2", "fraction must be within 0..1"),
    ],
)
def test_bad_drift_items_are_named(spec, message):
    with pytest.raises(SynthError, match=message):
        parse_drift(spec, COLUMNS)


def test_cli_reports_a_bad_spec_in_one_line(tmp_path, capsys):
    code = main(["data", "synth", "--rows", "10", "--drift", "oops", "--out", str(tmp_path)])
    assert code == EXIT_USER_ERROR
    assert "drift item 'oops'" in capsys.readouterr().err
