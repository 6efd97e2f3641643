"""Labelled answers become a span folder the pipeline reads like any other: the newest span's
columns in its order, the label's raw column derived back, integer columns kept integer,
written whole, each answer in one span only, and clear refusals."""

from __future__ import annotations

import json

import pytest

from monitoring.from_log import NOTE, export_span, last_exported
from pipeline.config import config_from_dict
from pipeline.csv_table import read_csv
from pipeline.spans import DataError
from serving.prediction_log import FEEDBACK, PREDICTIONS, PredictionLog
from tests.conftest import small_config_dict, write_sample

HEADER_SPAN = 1


@pytest.fixture
def config(tmp_path):
    write_sample(tmp_path / "data", 5)
    return config_from_dict(small_config_dict(tmp_path, tmp_path / "data"), source="t.yaml")


def _answer(log, request_id, time, features, role="live", label=None, row=0):
    log.append(
        PREDICTIONS,
        {
            "time": time,
            "request_id": request_id,
            "row": row,
            "model": "taxi",
            "version": 1,
            "role": role,
            "features": features,
            "score": 0.4,
            "latency_ms": 1.0,
        },
    )
    if label is not None:
        log.append(
            FEEDBACK, {"time": time + 0.5, "request_id": request_id, "row": row, "label": label}
        )


def test_labelled_answers_become_the_next_span_in_the_same_layout(config):
    log = PredictionLog(config.serving_dir.parent / "predictions")
    _answer(log, "a", 10.0, {"fare": 10.0, "payment_type": "Cash", "trip_start_hour": 7.0}, label=1)
    _answer(log, "a", 10.5, {"fare": 10.0, "payment_type": "Cash"}, role="shadow")
    _answer(log, "b", 11.0, {"fare": 4.0, "company": "Flash"}, label=0)
    _answer(log, "c", 12.0, {"fare": 9.0})  # no feedback: not a training row
    log.flush()
    done = export_span(config)
    assert (done.span, done.rows, done.since, done.until) == (2, 2, None, 11.5)
    table = read_csv(done.path)
    assert table.header == read_csv(config.data_root / "span-1" / "data.csv").header
    rows = table.records()
    assert [r["fare"] for r in rows] == ["10.0", "4.0"]
    assert [r["tips"] for r in rows] == ["2.5", "0.0"]  # 25% of the fare for a tipper, else 0
    assert rows[0]["trip_start_hour"] == "7"  # an integer column stays integer
    assert rows[0]["company"] == "" and rows[1]["payment_type"] == ""  # not logged: blank
    assert json.loads((done.path.parent / NOTE).read_text())["until"] == 11.5
    assert last_exported(config) == 11.5
    assert not [p for p in config.data_root.iterdir() if p.name.startswith(".")]


def test_the_next_export_takes_only_newer_answers_and_refuses_when_there_are_none(config):
    log = PredictionLog(config.serving_dir.parent / "predictions")
    _answer(log, "a", 10.0, {"fare": 3.0}, label=1)
    log.flush()
    export_span(config)
    with pytest.raises(DataError, match="no answered request with feedback since the last"):
        export_span(config)
    _answer(log, "b", 20.0, {"fare": 5.0}, label=0)
    log.flush()
    done = export_span(config)
    assert (done.span, done.rows, done.since) == (3, 1, 10.5)


def test_a_label_that_arrives_after_an_export_goes_into_the_next(config):
    log = PredictionLog(config.serving_dir.parent / "predictions")
    _answer(log, "early", 10.0, {"fare": 3.0})  # answered first, labelled last
    _answer(log, "b", 20.0, {"fare": 5.0}, label=0)
    log.flush()
    assert export_span(config).rows == 1
    log.append(FEEDBACK, {"time": 30.0, "request_id": "early", "row": 0, "label": 1})
    log.flush()
    late = export_span(config)
    assert late.rows == 1 and read_csv(late.path).records()[0]["fare"] == "3.0"


def test_an_existing_span_is_never_overwritten(config):
    log = PredictionLog(config.serving_dir.parent / "predictions")
    _answer(log, "a", 10.0, {"fare": 3.0}, label=1)
    log.flush()
    before = (config.data_root / "span-1" / "data.csv").read_bytes()
    with pytest.raises(DataError, match="span 1 exists already"):
        export_span(config, span=1)
    assert (config.data_root / "span-1" / "data.csv").read_bytes() == before


def test_a_positive_without_the_fare_cannot_be_written_back_and_is_left_out(config):
    log = PredictionLog(config.serving_dir.parent / "predictions")
    _answer(log, "a", 10.0, {"payment_type": "Cash"}, label=1)
    _answer(log, "b", 11.0, {"fare": 6.0}, label=1)
    log.flush()
    done = export_span(config)
    assert (done.rows, done.skipped) == (1, 1)
