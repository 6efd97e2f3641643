"""`tfxp serve` over a real socket on 127.0.0.1, on the versions the pipeline pushed in the
session's runs (tests/e2e/conftest.py; this file runs after the tests that read them, and then
adds a rollout to their store): TensorFlow Serving's REST calls answer as TF Serving does, the
scores are the SavedModel's own, bad requests are 400s naming the feature and leave the server
up, a canary answers its share, a shadow is only logged, promote and rollback switch a running
server without a failed request, every answer and feedback is logged, and a new version is
served without a restart."""

from __future__ import annotations

import csv
import json
import pathlib
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid

import numpy as np
import pytest
import tensorflow as tf

from pipeline.schema import read_schema
from serving.prediction_log import ERRORS, FEEDBACK, PREDICTIONS, read_rows
from tests.conftest import ROOT
from tests.e2e.served import TFXP, call
from tests.e2e.served import serving as served

ROWS = 50


@pytest.fixture(scope="module")
def server(runs):
    """The session's pipeline, served: its config, store and serving folder."""
    config = runs["metadata"].parent / "small.yaml"
    serving = pathlib.Path(runs["config"]["outputs"]["serving_dir"])
    with served(config) as (base, process):
        yield {
            "base": base,
            "serving": serving,
            "process": process,
            "runs": runs,
            "config": config,
            "log": serving.parent / "predictions",
        }


def _rows(runs) -> tuple[list[dict], list[bytes]]:
    """The first rows of the training data as a client sends them (JSON values, no label),
    and the same rows as serialized tf.Examples built by hand."""
    types = {f.name: f.type for f in read_schema(ROOT / runs["config"]["schema"]).feature}
    instances, examples = [], []
    with open(runs["data"]) as handle:
        for row in list(csv.DictReader(handle))[:ROWS]:
            instance, feature = {}, {}
            for name, value in row.items():
                if name == "tips":
                    continue
                if types[name] == 1:
                    instance[name] = value or None
                    values = [value.encode()] if value else []
                    feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
                elif types[name] == 2:
                    instance[name] = int(float(value)) if value else None
                    values = [int(float(value))] if value else []
                    feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=values))
                else:
                    instance[name] = float(value) if value else None
                    values = [float(value)] if value else []
                    feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
            instances.append(instance)
            examples.append(
                tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
            )
    return instances, examples


def _versions(server) -> list[str]:
    return sorted((p.name for p in server["serving"].iterdir() if p.name.isdigit()), key=int)


def test_status_lists_the_served_versions_as_tf_serving_does(server):
    status, body = call(server["base"], "/v1/models/taxi")
    version = _versions(server)[-1]
    assert status == 200
    assert [s["version"] for s in body["model_version_status"]] == _versions(server)
    assert body["model_version_status"][-1] == {
        "version": version,
        "state": "AVAILABLE",
        "status": {"error_code": "OK", "error_message": ""},
    }
    status, metadata = call(server["base"], f"/v1/models/taxi/versions/{version}/metadata")
    assert status == 200 and metadata["model_spec"]["version"] == version
    assert "serving_default" in metadata["metadata"]["signature_def"]["signature_def"]


def test_predict_scores_equal_the_saved_models_own(server):
    instances, examples = _rows(server["runs"])
    status, body = call(server["base"], "/v1/models/taxi:predict", {"instances": instances})
    assert status == 200, body
    model = tf.saved_model.load(str(server["serving"] / _versions(server)[-1]))
    expected = model.signatures["serving_default"](examples=tf.constant(examples))["scores"]
    np.testing.assert_allclose(np.array(body["predictions"]), expected.numpy(), atol=1e-6)
    columns = {name: [row[name] for row in instances] for name in instances[0]}
    status, by_columns = call(server["base"], "/v1/models/taxi:predict", {"inputs": columns})
    assert status == 200 and by_columns == {"outputs": body["predictions"]}  # TF Serving's shape
    status, classified = call(server["base"], "/v1/models/taxi:classify", {"examples": instances})
    assert status == 200
    assert [r[1][1] for r in classified["results"]] == [p[0] for p in body["predictions"]]


@pytest.mark.parametrize(
    "path, body, status, message",
    [
        (":predict", {"instances": [{"faer": 1.0}]}, 400, "row 0: unknown feature 'faer'"),
        (":predict", "wrong-type", 400, "row 0: feature 'fare': expected a number, got a string"),
        (":predict", "missing", 400, "row 0: missing required feature 'fare'"),
        (":predict", b"{not json", 400, "the body is not JSON"),
        (":predict", b" " * (5 * 1024 * 1024), 400, "request body over"),
        (":predict", {"rows": []}, 400, "predict takes 'instances' (rows) or 'inputs'"),
        ("/versions/1:predict", "valid", 404, "version 1 not found"),
        ("/labels/canary:predict", "valid", 404, "Unrecognized servable version label"),
        ("/a/b:predict", "valid", 400, "Malformed request: /v1/models/taxi/a/b:predict"),
        (":classify", {"examples": 5}, 400, "classify takes 'examples': a list"),
        (":predict", b'{"instances": ["\xff"]}', 400, "the body is not JSON in UTF-8"),
    ],
)
def test_a_bad_request_is_answered_in_tf_servings_error_shape_and_the_server_stays_up(
    server, path, body, status, message
):
    instance = _rows(server["runs"])[0][0]
    bodies = {
        "valid": {"instances": [instance]},
        "wrong-type": {"instances": [{**instance, "fare": "seven"}]},
        "missing": {"instances": [{k: v for k, v in instance.items() if k != "fare"}]},
    }
    sent = bodies[body] if isinstance(body, str) else body
    answered, answer = call(server["base"], f"/v1/models/taxi{path}", sent)
    assert (answered, list(answer)) == (status, ["error"])
    assert answer["error"].startswith(message) or message in answer["error"]
    assert call(server["base"], "/v1/models/taxi")[0] == 200
    assert server["process"].poll() is None
    failures = logged(server, ERRORS, lambda rows: any(r["error"] == answer["error"] for r in rows))
    assert [r["status"] for r in failures if r["error"] == answer["error"]][-1] == status


def tfxp(server, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [TFXP, *args, "--config", str(server["config"])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def logged(server, kind: str, until) -> list[dict]:
    """The prediction log's rows of `kind`, once `until(rows)` holds (the writer is async)."""
    deadline, rows = time.monotonic() + 30, []
    while time.monotonic() < deadline:
        rows = read_rows(server["log"], kind)
        if until(rows):
            break
        time.sleep(0.1)
    return rows


def send(server, instance: dict, key: str | None = None, path: str = "") -> str:
    """One predict request; its request id."""
    request_id = uuid.uuid4().hex
    headers = {"X-Request-Id": request_id, **({"X-Request-Key": key} if key else {})}
    request = urllib.request.Request(
        f"{server['base']}/v1/models/taxi{path}:predict",
        data=json.dumps({"instances": [instance]}).encode(),
        headers=headers,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200 and response.headers["X-Request-Id"] == request_id
    return request_id


def test_the_registry_lists_each_pushed_version_with_its_run_span_metrics_and_role(server):
    listed = json.loads(tfxp(server, "models", "--json").stdout)
    older, newer = _versions(server)[-2:]
    assert [m["version"] for m in listed] == [int(newer), int(older)]
    assert [m["role"] for m in listed] == ["live", "available"]
    assert all(m["run"] and m["span"] == "1" and m["blessed"] for m in listed)
    assert all(0.5 < m["metrics"]["auc"] <= 1 for m in listed)


def test_canary_shadow_promote_and_rollback_on_a_running_server(server):
    older, newer = (int(v) for v in _versions(server)[-2:])
    instance = _rows(server["runs"])[0][0]

    tfxp(server, "deploy", str(older), "--canary", "20", "--why", "try the older model")
    keys = {send(server, instance, key=f"client-{n}"): f"client-{n}" for n in range(500)}
    rows = logged(server, PREDICTIONS, lambda r: set(keys) <= {x["request_id"] for x in r})
    role_of = {
        keys[r["request_id"]]: (r["role"], r["version"]) for r in rows if r["request_id"] in keys
    }
    roles = [role for role, _ in role_of.values()]
    assert len(roles) == 500 and 0.13 < roles.count("canary") / 500 < 0.27
    assert {v for role, v in role_of.values() if role == "canary"} == {older}
    assert {v for role, v in role_of.values() if role == "live"} == {newer}
    again = {send(server, instance, key=f"client-{n}"): f"client-{n}" for n in range(60)}
    rows = logged(server, PREDICTIONS, lambda r: set(again) <= {x["request_id"] for x in r})
    sticky = {
        again[r["request_id"]]: (r["role"], r["version"]) for r in rows if r["request_id"] in again
    }
    assert sticky == {key: role_of[key] for key in sticky}  # the same key, the same answer

    tfxp(server, "deploy", str(older), "--shadow")
    shadowed = {send(server, instance) for _ in range(20)}
    rows = logged(
        server, PREDICTIONS, lambda r: len([x for x in r if x["request_id"] in shadowed]) >= 40
    )
    mine = [r for r in rows if r["request_id"] in shadowed]
    assert {(r["role"], r["version"]) for r in mine} == {("live", newer), ("shadow", older)}
    assert len(mine) == 40

    tfxp(server, "promote", "--why", "looks good")
    errors, answered, stop = [], [], threading.Event()

    def client():
        while not stop.is_set():
            try:
                answered.append(send(server, instance))
            except Exception as err:  # a dropped request fails the test below
                errors.append(repr(err))

    sender = threading.Thread(target=client)
    sender.start()
    time.sleep(1.0)
    tfxp(server, "rollback", "--why", "the older model was worse")
    after = send(server, instance)  # sent once rollback returned
    time.sleep(1.0)
    stop.set()
    sender.join(timeout=60)
    assert errors == [] and len(answered) > 10
    rows = logged(server, PREDICTIONS, lambda r: after in {x["request_id"] for x in r})
    versions = {r["request_id"]: r["version"] for r in rows if r["role"] == "live"}
    assert versions[after] == newer
    assert {versions[r] for r in answered if r in versions} == {older, newer}

    listed = {m["version"]: m["role"] for m in json.loads(tfxp(server, "models", "--json").stdout)}
    assert listed == {newer: "live", older: "available"}
    lineage = tfxp(server, "lineage", "--pushed", str(older)).stdout
    assert (
        "deploy " + str(older) + " (canary 20%) by " in lineage and "try the older model" in lineage
    )
    assert "promote " + str(older) + " (live)" in lineage


def test_feedback_is_logged_against_the_request_and_a_bad_one_is_a_400(server):
    instance = _rows(server["runs"])[0][0]
    request_id = send(server, instance)
    status, _ = call(server["base"], "/v1/feedback", {"request_id": request_id, "label": 1})
    assert status == 200
    rows = logged(server, FEEDBACK, lambda r: request_id in {x["request_id"] for x in r})
    assert {"request_id": request_id, "row": 0, "label": 1}.items() <= rows[-1].items()
    status, body = call(server["base"], "/v1/feedback", {"request_id": request_id, "label": "yes"})
    assert status == 400 and "numeric 'label'" in body["error"]
    predictions = logged(server, PREDICTIONS, lambda r: request_id in {x["request_id"] for x in r})
    [row] = [r for r in predictions if r["request_id"] == request_id]
    assert row["features"] == instance and 0 <= row["score"] <= 1 and row["latency_ms"] > 0


def test_predict_csv_scores_a_file_as_the_server_does(server, tmp_path):
    source = tmp_path / "trips.csv"
    with open(server["runs"]["data"]) as handle:
        source.write_text("".join(handle.readlines()[: ROWS + 1]))  # with its label column
    tfxp(server, "predict", "--csv", str(source))
    with open(tmp_path / "trips.scored.csv") as handle:
        scored = list(csv.DictReader(handle))
    instances, _ = _rows(server["runs"])
    _, body = call(server["base"], "/v1/models/taxi/labels/live:predict", {"instances": instances})
    np.testing.assert_allclose(
        [float(r["score"]) for r in scored], [p[0] for p in body["predictions"]], atol=1e-6
    )
    assert scored[0]["tips"] != ""  # the label is carried over, not scored
    lines = source.read_text().splitlines()
    lines[3] = lines[3].replace(",", ",abc,", 1).rsplit(",", 1)[0]  # a text cell in a number
    source.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [TFXP, "predict", "--csv", str(source), "--config", str(server["config"])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    said = [line for line in done.stderr.splitlines() if line.startswith("tfxp:")]
    assert said == [f"tfxp: {source}: line 4: feature 'fare': expected a number, got 'abc'"]


def test_a_new_version_is_served_without_a_restart(server):
    serving = server["serving"]
    (serving / ".deployment.json").unlink(missing_ok=True)  # no rollout: the newest is live
    newest = max(int(p.name) for p in serving.iterdir() if p.name.isdigit())
    shutil.copytree(serving / str(newest), serving / ".tmp-copy")
    (serving / ".tmp-copy").rename(serving / str(newest + 10))  # as BlessedPusher does
    deadline, versions = time.monotonic() + 30, []
    while time.monotonic() < deadline:
        versions = [s["version"] for s in call(server["base"], "/v1/models/taxi")[1][
            "model_version_status"]]  # fmt: skip
        if str(newest + 10) in versions:
            break
        time.sleep(0.2)
    assert str(newest + 10) in versions
    instance = _rows(server["runs"])[0][0]
    request_id = send(server, instance)
    rows = logged(server, PREDICTIONS, lambda r: request_id in {x["request_id"] for x in r})
    assert [r["version"] for r in rows if r["request_id"] == request_id] == [newest + 10]
    status, _ = call(
        server["base"], f"/v1/models/taxi/versions/{newest + 10}:predict", {"instances": [instance]}
    )
    assert status == 200
