"""`monitor()` on logs written in the server's format, on a real (empty) ML Metadata store:
each kind of finding appears when its limit is crossed and not before, a shadow does not repeat
live's input findings, too little traffic is measured but not judged, and a version no push
recorded is said so, not silently half-checked."""

from __future__ import annotations

import dataclasses
import random

import pytest

from monitoring.monitor import monitor
from pipeline.config import config_from_dict
from pipeline.csv_table import read_csv
from pipeline.schema import read_schema
from serving.batch import typed_cell
from serving.prediction_log import ERRORS, FEEDBACK, PREDICTIONS, PredictionLog
from tests.conftest import small_config_dict, write_sample
from tests.unit.metadata.store_builder import StoreBuilder

HOUR = 3600.0
T0 = 1_800_000_000.0  # a fixed clock: windows start here


@pytest.fixture
def setup(tmp_path):
    data = write_sample(tmp_path / "data", 400)
    raw = small_config_dict(tmp_path, tmp_path / "data")
    raw["monitoring"] = {
        "window": "1h",
        "min_rows": 50,
        "min_labels": 50,
        "max_latency_p99_ms": 100,
        "max_error_rate": 0.05,
        "quality_floors": {"auc": 0.7},
        "max_score_drift": 0.1,
    }
    config = config_from_dict(raw, source="t.yaml")
    StoreBuilder(config.metadata_path)  # an empty store: no version's push is recorded
    types = {f.name: f.type for f in read_schema(config.schema_file).feature}
    rows = [
        {k: typed_cell(v, types[k]) for k, v in r.items() if k != "tips"}
        for r in read_csv(data).records()
    ]
    log = PredictionLog(config.serving_dir.parent / "predictions")
    return config, rows, log


def _serve(
    log,
    rows,
    start,
    count,
    version=1,
    role="live",
    score=None,
    latency=5.0,
    seed=0,
    label=None,
    edit=None,
):
    """`count` answers from `start` on, one per second; scores drawn unless given; feedback
    from `label(score)` when given."""
    draw = random.Random(seed)
    for n in range(count):
        features = dict(rows[n % len(rows)])
        if edit:
            features.update(edit)
        value = score if score is not None else draw.betavariate(2, 5)
        request_id = f"{role}-{seed}-{n}"
        log.append(
            PREDICTIONS,
            {
                "time": start + n,
                "request_id": request_id,
                "row": 0,
                "model": "taxi",
                "version": version,
                "role": role,
                "features": features,
                "score": None if value == "null" else value,
                "latency_ms": latency,
            },
        )
        if label is not None:
            log.append(
                FEEDBACK,
                {
                    "time": start + n + 0.5,
                    "request_id": request_id,
                    "row": 0,
                    "label": label(value, draw),
                },
            )
    log.flush()


def _kinds(report) -> set[tuple[str, str, str]]:
    return {(a.role, a.subject, a.kind) for a in report.alerts}


def test_quiet_traffic_is_measured_and_raises_nothing(setup):
    config, rows, log = setup
    _serve(log, rows, T0, 200, label=lambda s, d: int(d.random() < s))
    report = monitor(config, since=T0, until=T0 + HOUR)
    [window] = report.windows
    assert (window.requests, window.failed, window.latency_p99_ms) == (200, 0, 5.0)
    assert report.alerts == () and report.predictions == 200
    assert report.unrecorded == (1,) and report.recorded == ()  # no push of version 1 recorded
    assert report.quality[0].quality.labels == 200 and report.quality[0].judged


def test_latency_failed_requests_and_null_scores_are_findings_above_their_limits(setup):
    config, rows, log = setup
    _serve(log, rows, T0, 100, latency=150.0)
    _serve(log, rows, T0 + 200, 20, score="null", seed=1)
    for n in range(10):
        log.append(ERRORS, {"time": T0 + 300 + n, "request_id": f"e{n}", "status": 400})
    log.flush()
    kinds = _kinds(monitor(config, since=T0, until=T0 + HOUR))
    assert ("all", "latency_p99_ms", "LATENCY_P99_HIGH") in kinds
    assert ("all", "error_rate", "ERROR_RATE_HIGH") in kinds
    assert ("live", "score", "NULL_OUTPUTS") in kinds


def test_too_little_traffic_is_measured_but_not_judged(setup):
    config, rows, log = setup
    _serve(log, rows, T0, 20, latency=900.0, edit={"payment_type": "Bitcoin"})
    report = monitor(config, since=T0, until=T0 + HOUR)
    assert report.alerts == ()
    [group] = report.windows[0].groups
    assert not group.judged and group.unseen == {"payment_type": {"Bitcoin": 20}}


def test_scores_that_move_between_windows_are_score_drift(setup):
    config, rows, log = setup
    _serve(log, rows, T0, 300)
    _serve(log, rows, T0 + HOUR, 300, score=0.9)
    report = monitor(config, since=T0, until=T0 + 2 * HOUR)
    assert [w.start for w in report.windows] == ["2027-01-15T08:00:00Z", "2027-01-15T09:00:00Z"]
    assert ("live", "score", "SCORE_DRIFT") in _kinds(report)
    assert report.windows[0].groups[0].score_shift is None  # nothing before the first


def test_quality_below_its_floor_is_a_finding_once_enough_labels_arrived(setup):
    config, rows, log = setup
    _serve(log, rows, T0, 200, label=lambda s, d: int(s < 0.3))  # scores point the wrong way
    assert ("live", "auc", "QUALITY_BELOW_FLOOR") in _kinds(
        monitor(config, since=T0, until=T0 + HOUR)
    )
    fewer = dataclasses.replace(
        config, monitoring=dataclasses.replace(config.monitoring, min_labels=500)
    )
    report = monitor(fewer, since=T0, until=T0 + HOUR)
    assert report.alerts == () and not report.quality[0].judged


def test_a_shadow_does_not_repeat_lives_input_findings_and_a_worse_one_is_flagged(setup):
    config, rows, log = setup
    bitcoin = {"payment_type": "Bitcoin"}
    _serve(log, rows, T0, 200, edit=bitcoin, label=lambda s, d: int(d.random() < s))
    _serve(
        log,
        rows,
        T0,
        200,
        version=2,
        role="shadow",
        edit=bitcoin,
        seed=0,
        label=lambda s, d: int(s < 0.3),
    )
    kinds = _kinds(monitor(config, since=T0, until=T0 + HOUR))
    unseen = [k for k in kinds if k[2] == "ENUM_TYPE_UNEXPECTED_STRING_VALUES"]
    assert unseen == [("live", "payment_type", "ENUM_TYPE_UNEXPECTED_STRING_VALUES")]
    assert ("shadow", "auc", "CANDIDATE_WORSE_THAN_LIVE") in kinds


def test_without_a_range_the_last_window_up_to_now_is_judged(setup):
    config, rows, log = setup
    _serve(log, rows, T0, 100, latency=500.0)  # an old incident
    _serve(log, rows, T0 + 5 * HOUR, 100, seed=2)
    report = monitor(config, now=lambda: T0 + 5 * HOUR + 200)
    assert report.predictions == 100 and report.alerts == ()
