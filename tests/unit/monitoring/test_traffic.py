"""The prediction log read back as traffic: feedback joined to its row, windows that do not
move with the clock, `--since` in both forms, and a serialized tf.Example row read back."""

from __future__ import annotations

import base64

import pytest
import tensorflow as tf

from monitoring.traffic import parse_since, read_traffic, windows
from pipeline.config import ConfigError
from serving.prediction_log import ERRORS, FEEDBACK, PREDICTIONS, LogError, PredictionLog


def _log(folder, rows, feedback=(), errors=()):
    log = PredictionLog(folder)
    for row in rows:
        log.append(PREDICTIONS, row)
    for row in feedback:
        log.append(FEEDBACK, row)
    for row in errors:
        log.append(ERRORS, row)
    log.flush()


def _row(request_id, row=0, time=100.0, score=0.3, role="live", features=None):
    return {
        "time": time,
        "request_id": request_id,
        "row": row,
        "model": "taxi",
        "version": 1,
        "role": role,
        "features": features or {"fare": 5.0},
        "score": score,
        "latency_ms": 2.0,
    }


def test_feedback_joins_its_request_row_and_the_last_label_wins(tmp_path):
    _log(
        tmp_path,
        [_row("a", 0), _row("a", 1), _row("b", 0, score=None), _row("a", 0, role="shadow")],
        feedback=[
            {"request_id": "a", "row": 1, "label": 0},
            {"request_id": "a", "row": 1, "label": 1},
        ],
        errors=[{"time": 101.0, "request_id": "c", "status": 400, "latency_ms": 1.0}],
    )
    traffic = read_traffic(tmp_path)
    assert [(s.request_id, s.row, s.role, s.label) for s in traffic.scored] == [
        ("a", 0, "live", None),
        ("a", 1, "live", 1.0),
        ("b", 0, "live", None),
        ("a", 0, "shadow", None),
    ]
    assert traffic.scored[2].score is None  # a non-finite score was logged as null
    assert len(traffic.answered()) == 3  # the shadow's repeat is not an answer
    assert [(f.request_id, f.status) for f in traffic.failed] == [("c", 400)]
    assert traffic.between(100.5, 200).scored == [] and len(traffic.between(100.5, 200).failed) == 1


def test_a_serialized_example_row_is_read_back_into_values(tmp_path):
    example = tf.train.Example(
        features=tf.train.Features(
            feature={
                "fare": tf.train.Feature(float_list=tf.train.FloatList(value=[7.5])),
                "company": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"Flash"])),
            }
        )
    )
    b64 = base64.b64encode(example.SerializeToString()).decode()
    _log(tmp_path, [_row("a", features={"b64": b64})])
    assert read_traffic(tmp_path).scored[0].features == {"fare": 7.5, "company": "Flash"}


def test_windows_start_at_the_range_start_and_the_last_may_be_shorter():
    cut = windows(1000.0, 1250.0, 100)
    assert [(w.start, w.end) for w in cut] == [(1000, 1100), (1100, 1200), (1200, 1250)]
    assert windows(5.0, 5.0, 10) == []


def test_since_takes_a_duration_back_or_a_moment_and_refuses_anything_else():
    assert parse_since("2h", now=10_000.0) == 10_000.0 - 7200
    assert parse_since("1970-01-01T01:00:00Z", now=0.0) == 3600.0
    assert parse_since("1970-01-01T01:00:00", now=0.0) == 3600.0  # no zone: UTC
    with pytest.raises(ConfigError, match="--since must be a duration .* got 'yesterday'"):
        parse_since("yesterday", now=0.0)


def test_a_row_being_written_waits_and_a_bad_row_is_named_by_file_and_line(tmp_path):
    _log(tmp_path, [_row("a")])
    [path] = tmp_path.glob("predictions-*.jsonl")
    with open(path, "a") as handle:
        handle.write('{"time": 101.0, "request_id": "b", "ro')  # the server is mid-line
    assert [s.request_id for s in read_traffic(tmp_path).scored] == ["a"]
    with open(path, "a") as handle:
        handle.write('w": 0}\n')  # finished, but without version, role, ...
    with pytest.raises(LogError, match=rf"{path}:2: a predictions row without 'version'"):
        read_traffic(tmp_path)
    path.write_text("not json\n")
    with pytest.raises(LogError, match=rf"{path}:1: not a JSON row"):
        read_traffic(tmp_path)
