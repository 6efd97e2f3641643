"""The loop after the push, as a user runs it: a pipeline pushes a model, `tfxp serve` serves
it, `tfxp replay` sends synthetic traffic (`tfxp data synth`) with feedback labels, and
`tfxp monitor` judges it. Told as one story in order: undrifted traffic raises nothing;
`--retrain` turns its labelled answers into a span the gate accepts, runs the pipeline once and
pushes; drifted traffic (fare doubled, a new payment type, fewer tippers) and failed requests
are flagged feature by feature with the quality drop; a canary worse than live is withdrawn
and the withdrawal recorded. Every pass is in ML Metadata against the served model."""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import subprocess
import time
import urllib.request
import uuid

import pytest

from metadata.reader import MetadataReader
from metadata.store import open_store
from models.features import Label
from pipeline.csv_table import read_csv
from pipeline.schema import read_schema
from serving.batch import typed_cell
from serving.deployment import read_state
from serving.examples import RequestSchema
from serving.prediction_log import PREDICTIONS, read_rows
from tests.conftest import ROOT, small_config_dict, write_config, write_sample
from tests.e2e.served import TFXP, call, serving

SYNTH_ROWS = 1200  # two spans of 600: the first as the data is, the second drifted
DRIFT = "scale:fare*2@2,new:payment_type=Bitcoin:0.3@2,tips:0.6@2"


def tfxp(*args: str, check: int | None = 0) -> subprocess.CompletedProcess:
    """`tfxp` as a user's shell runs it: without the test session's TensorFlow log level."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [TFXP, *args], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env
    )
    if check is not None:
        assert done.returncode == check, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def moment() -> str:
    """Now, as `--since` takes it; a pause on each side keeps the ranges apart."""
    time.sleep(1.0)
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat()
    time.sleep(1.0)
    return stamp


def findings(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stdout.splitlines() if line.startswith("FINDING ")]


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    work = tmp_path_factory.mktemp("monitoring")
    write_sample(work / "data", 3000)
    raw = small_config_dict(work, work / "data")
    raw["monitoring"] = {
        "max_latency_p99_ms": 60_000,  # a shared machine's pauses are not the story here
        "min_rows": 100,
        "min_labels": 100,
        "quality_floors": {"auc": 0.7},
        "max_auc_drop": 0.05,
        "rollback_canary": True,
        "retrain": {"triggers": ["new_labels", "quality"], "min_new_labels": 400},
    }
    config = write_config(raw, work / "monitored.yaml")
    ran = tfxp("run", "--config", str(config))
    tfxp(
        "data",
        "synth",
        "--rows",
        str(SYNTH_ROWS),
        "--spans",
        "2",
        "--drift",
        DRIFT,
        "--out",
        str(work / "synth"),
    )
    with serving(config) as (base, _):
        yield {
            "work": work,
            "config": config,
            "raw": raw,
            "base": base,
            "metadata": work / "metadata.sqlite",
            "serving": work / "serving",
            "log": work / "predictions",
            "marks": {},
            "first_run": ran,
        }


def replay(loop, span: int, feedback: float) -> None:
    csv = loop["work"] / "synth" / f"span-{span}" / "data.csv"
    done = tfxp(
        "replay",
        "--config",
        str(loop["config"]),
        "--csv",
        str(csv),
        "--url",
        loop["base"],
        "--batch",
        "5",
        "--feedback",
        str(feedback),
    )
    assert "(0 failed)" in done.stdout


def monitor(loop, *args: str, check: int) -> subprocess.CompletedProcess:
    return tfxp("monitor", "--config", str(loop["config"]), *args, check=check)


def versions(loop) -> list[int]:
    return sorted(int(p.name) for p in loop["serving"].iterdir() if p.name.isdigit())


def monitorings(loop, version: int):
    reader = MetadataReader(open_store(sqlite=loop["metadata"]))
    [push] = [p for p in reader.pushed_models() if p.version == version]
    return reader.monitorings(push.artifact_id)


def test_a_run_prints_a_line_as_each_component_starts_and_ends_and_no_library_noise(loop):
    ran = loop["first_run"]
    lines = (ran.stdout + ran.stderr).splitlines()
    noise = ("WARNING:absl", "ERROR:absl", "Unable to register", "Warning:", "I tensorflow")
    assert [line for line in lines if any(word in line for word in noise)] == []
    steps = [line.split() for line in ran.stdout.splitlines() if line.startswith("  ")]
    assert ["Trainer", "started"] in steps
    assert any(step[:2] == ["Trainer", "finished"] and step[-1] == "s" for step in steps)


def test_undrifted_traffic_is_measured_and_raises_no_finding(loop):
    loop["marks"]["start"] = moment()
    replay(loop, span=1, feedback=1.0)
    loop["marks"]["undrifted_end"] = moment()
    done = monitor(
        loop,
        "--since",
        loop["marks"]["start"],
        "--until",
        loop["marks"]["undrifted_end"],
        check=0,
    )
    assert findings(done) == []
    [version] = versions(loop)
    assert f"v{version} live         600 rows" in done.stdout
    assert "quality" in done.stdout and "600 labels" in done.stdout
    page = pathlib.Path(done.stdout.split("page ")[1].split(";")[0])
    assert page.is_file() and "no finding" in page.read_text()
    [record] = monitorings(loop, version)
    assert (record.predictions, record.labels, record.findings) == (600, 600, [])


def test_retrain_turns_labelled_answers_into_a_span_the_gate_accepts_and_pushes(loop):
    [before] = versions(loop)
    done = monitor(
        loop,
        "--since",
        loop["marks"]["start"],
        "--until",
        loop["marks"]["undrifted_end"],
        "--retrain",
        check=0,
    )
    assert "retrain (new_labels): span 2 from 600 labelled answers" in done.stdout
    span = loop["work"] / "data" / "span-2"
    exported = read_csv(span / "data.csv")
    assert exported.header == read_csv(loop["work"] / "data" / "span-1" / "data.csv").header
    assert len(exported.records()) == 600
    synth = read_csv(loop["work"] / "synth" / "span-1" / "data.csv").records()
    label = Label(**{k: v for k, v in loop["raw"]["label"].items()})
    labels = sorted(label.derive(r) for r in exported.records())
    assert labels == sorted(label.derive(r) for r in synth)  # each answer's label came back
    assert "BLESSED and pushed" in done.stdout, done.stdout[-2000:]
    assert len(versions(loop)) == 2 and versions(loop)[0] == before
    again = tfxp("data", "from-log", "--config", str(loop["config"]), check=2)
    assert "no answered request with feedback since the last export" in again.stderr


def test_drifted_traffic_and_failed_requests_are_flagged_by_feature_and_quality(loop):
    loop["marks"]["drifted_start"] = moment()
    replay(loop, span=2, feedback=1.0)
    for _ in range(15):  # a client sending a feature the model does not know
        status, body = call(
            loop["base"], "/v1/models/taxi:predict", {"instances": [{"fare_usd": 3.0}]}
        )
        assert status == 400
    done = monitor(loop, "--since", loop["marks"]["drifted_start"], check=3)
    kinds = {(line.split("'")[1], line.split(": ")[2]) for line in findings(done)}
    assert ("fare", "SKEW_COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH") in kinds
    assert ("fare", "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH") in kinds  # the window before
    assert ("payment_type", "ENUM_TYPE_UNEXPECTED_STRING_VALUES") in kinds
    assert ("auc", "QUALITY_DROP") in kinds
    assert ("error_rate", "ERROR_RATE_HIGH") in kinds
    assert "unseen: payment_type=Bitcoin" in done.stdout
    assert not any("trip_start_hour" in line for line in findings(done))  # left as it was
    live = versions(loop)[-1]
    [*_, record] = monitorings(loop, live)
    assert any("QUALITY_DROP" in f for f in record.findings)


def test_a_canary_worse_than_live_is_withdrawn_and_the_withdrawal_recorded(loop):
    older, live = versions(loop)
    tfxp("deploy", str(older), "--canary", "50", "--config", str(loop["config"]))
    start = moment()
    synth = read_csv(loop["work"] / "synth" / "span-1" / "data.csv").records()[:300]
    schema = read_schema(pathlib.Path(loop["raw"]["schema"]))
    request = RequestSchema.from_schema(schema, [f["name"] for f in loop["raw"]["features"]])
    label = Label(**loop["raw"]["label"])
    truth = {}
    for index, record in enumerate(synth):
        instance = {
            k: typed_cell(v, request.types[k]) for k, v in record.items() if k in request.types
        }
        request_id = uuid.uuid4().hex
        post = urllib.request.Request(
            f"{loop['base']}/v1/models/taxi:predict",
            data=json.dumps({"instances": [instance]}).encode(),
            headers={"X-Request-Id": request_id, "X-Request-Key": f"client-{index}"},
            method="POST",
        )
        with urllib.request.urlopen(post, timeout=60) as response:
            assert response.status == 200
        truth[request_id] = label.derive(record)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answered = {
            r["request_id"]: r
            for r in read_rows(loop["log"], PREDICTIONS)
            if r["request_id"] in truth
        }
        if len(answered) == len(truth):
            break
        time.sleep(0.2)
    for request_id, row in answered.items():
        # live is told the truth; the canary's answers are labelled as wrong as they can be
        wrong = int(row["score"] < 0.5)
        label_sent = wrong if row["role"] == "canary" else truth[request_id]
        assert (
            call(loop["base"], "/v1/feedback", {"request_id": request_id, "label": label_sent})[0]
            == 200
        )
    roles = [r["role"] for r in answered.values()]
    assert 100 <= roles.count("canary") <= 200, roles.count("canary")
    time.sleep(1.0)
    done = monitor(loop, "--since", start, check=3)
    assert any("CANDIDATE_WORSE_THAN_LIVE" in line for line in findings(done)), done.stdout
    assert f"tfxp: withdraw: live {live}" in done.stdout
    state = read_state(loop["serving"])
    assert state.live == live and state.candidate is None
    reader = MetadataReader(open_store(sqlite=loop["metadata"]))
    withdrawal = reader.deployments()[-1]
    assert (withdrawal.action, withdrawal.version) == ("withdraw", older)
    assert withdrawal.why.startswith("tfxp monitor: auc ")
