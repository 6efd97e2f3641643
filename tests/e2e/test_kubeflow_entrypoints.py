"""The compiled Kubeflow spec runs, task by task, through TFX's container entrypoint.

For each target (Vertex AI Pipelines, open-source KFP) the spec `tfxp compile` writes is driven
by `kfp_launcher`, which does only what the backend's launcher does; every executor, TFX and the
entrypoint are real. Two runs on a fresh bucket: the first ingests span 1, is blessed on
absolute thresholds and pushed; the second ingests the newest span (2), compares it with span 1,
trains on both, is evaluated against the first run's served model and, trained for one step, is
not blessed and not pushed.

On open-source KFP the launcher also records the runs in ML Metadata as KFP's does, and a third
run ingests an empty span the gate stops; `tfxp runs` and `tfxp lineage` then read that store
through an ML Metadata gRPC service, as against KFP's `metadata-grpc-service`.
"""

from __future__ import annotations

import concurrent.futures
import json
import pathlib

import pytest

from cli.main import main
from metadata.names import SERVING_VERSION, WINDOW_SPANS
from tests.conftest import small_config_dict, write_config, write_sample
from tests.e2e.conftest import run_cli
from tests.e2e.kfp_launcher import Launcher
from tests.kfp_metadata import KfpMetadata

BUCKET = "gs://tfxp-e2e"
ROWS = 3000
EVERY_TASK = {
    "CsvExampleGen",
    "CuratedSchemaImporter",
    "StatisticsGen",
    "ExampleValidator",
    "ExampleGate",
    "SpanWindow",
    "Transform",
    "Trainer",
    "ServedModel",
    "Evaluator",
    "BlessedPusher",
}


def _profile(target: str) -> dict:
    return {
        "name": f"e2e-{target}",
        "target": target,
        "image": "registry.test/tfxp/tfxp:e2e",
        "pipeline_root": f"{BUCKET}/pipeline_root",
        "data_root": f"{BUCKET}/data",
        "serving_dir": f"{BUCKET}/serving",
        "beam": {"runner": "FnApiRunner"},  # in-process Beam inside the task
    }


def _two_runs(work: pathlib.Path, target: str) -> dict:
    import yaml

    bucket = work / "bucket"
    write_sample(bucket / "data", ROWS, span=1)
    # 2014's trips: the rows right after span 1's (2013's first 3,000) straddle the year, and
    # their pickup areas drift by 0.10, the gate's threshold, a finding or not by the split.
    write_sample(bucket / "data", ROWS, span=2, skip=2 * ROWS)
    raw = small_config_dict(work, bucket / "data")
    raw["name"] = "kfp-e2e"
    config = write_config(raw, work / "config.yaml")
    profile = work / "profile.yaml"
    profile.write_text(yaml.safe_dump(_profile(target)))
    build = work / "build"
    assert main(["compile", "--config", str(config), "--profile", str(profile),
                 "--output-dir", str(build)]) == 0  # fmt: skip
    store = work / "kfp-metadata.sqlite"
    recorder = KfpMetadata(store, "kfp-e2e", BUCKET) if target == "kfp" else None
    launcher = Launcher(
        str(build / "kfp-e2e.json"), target, BUCKET, str(bucket), str(work), recorder
    )
    first_span = json.dumps({"static_range": {"start_span_number": 1, "end_span_number": 1}})
    first = launcher.run("run-1", {"range_config": first_span})
    second = launcher.run("run-2", {"train_args": json.dumps({"num_steps": 1})})
    runs = {"first": first, "second": second, "bucket": bucket, "work": work}
    if recorder:
        write_sample(bucket / "data", 0, span=3)  # a header and no rows: the gate stops it
        runs.update(third=launcher.run("run-3"), store=store)
    return runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Both targets, side by side (each run's tasks in DAG order)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            target: pool.submit(_two_runs, tmp_path_factory.mktemp(target), target)
            for target in ("vertex", "kfp")
        }
        return {target: future.result() for target, future in futures.items()}


@pytest.fixture(params=["vertex", "kfp"])
def target(request, runs):
    return runs[request.param]


def _versions(bucket: pathlib.Path) -> list[str]:
    return sorted(p.name for p in (bucket / "serving").iterdir())


def test_every_task_of_the_first_run_completes(target):
    first = target["first"]
    assert first.failed is None, f"{first.failed} failed:\n{first.stderr[-3000:]}"
    assert set(first.tasks) == EVERY_TASK


def test_the_first_model_is_blessed_on_absolute_thresholds_and_pushed(target):
    first = target["first"]
    assert first.artifact("ServedModel", "model")["metadata"][SERVING_VERSION] == 0
    assert first.artifact("Evaluator", "blessing")["metadata"]["blessed"] == 1
    pushed = first.artifact("BlessedPusher", "pushed_model")["metadata"]
    assert pushed["pushed"] == 1
    assert _versions(target["bucket"]) == [str(int(pushed["pushed_version"]))]
    assert (
        target["bucket"] / "serving" / _versions(target["bucket"])[0] / "saved_model.pb"
    ).exists()


def test_the_second_run_ingests_the_newest_span_and_compares_it_with_the_first(target):
    second = target["second"]
    assert second.failed is None, f"{second.failed} failed:\n{second.stderr[-3000:]}"
    assert set(second.tasks) == EVERY_TASK
    assert second.artifact("CsvExampleGen", "examples")["metadata"]["custom:span"] == 2
    accepted = pathlib.Path(second.artifact("ExampleGate", "accepted")["uri"])
    report = json.loads((accepted / "report.json").read_text())
    assert (report["span"], report["previous_span"]) == (2, 1)
    window = second.artifact("SpanWindow", "window")["metadata"]
    assert json.loads(window[WINDOW_SPANS]) == [1, 2]


def test_the_second_run_is_evaluated_against_the_first_runs_served_model(target):
    first, second = target["first"], target["second"]
    pushed_version = first.artifact("BlessedPusher", "pushed_model")["metadata"]["pushed_version"]
    baseline = second.artifact("ServedModel", "model")
    assert baseline["metadata"][SERVING_VERSION] == pushed_version
    blessing = second.artifact("Evaluator", "blessing")["metadata"]
    assert blessing["baseline_model"] == baseline["uri"]


def test_a_model_that_is_not_blessed_is_not_pushed(target):
    second = target["second"]
    assert second.artifact("Evaluator", "blessing")["metadata"]["blessed"] == 0
    assert second.artifact("BlessedPusher", "pushed_model")["metadata"]["pushed"] == 0
    assert len(_versions(target["bucket"])) == 1


# Read back from KFP's ML Metadata -------------------------------------------------------------


@pytest.fixture(scope="module")
def kfp_store(runs):
    from tests.mlmd_grpc import serving

    with serving(runs["kfp"]["store"]) as address:
        yield address


def _tfxp_json(*args: str):
    code, out, err = run_cli(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_runs_read_from_kfp_metadata_say_what_each_run_did(runs, kfp_store):
    listed = {r["run"]: r for r in _tfxp_json("runs", "--mlmd-grpc", kfp_store)}
    assert list(listed) == ["run-3", "run-2", "run-1"]
    first, second, third = listed["run-1"], listed["run-2"], listed["run-3"]
    assert first["pipeline"] == "kfp-e2e"
    assert set(first["nodes"].values()) == {"complete"} and set(first["nodes"]) == EVERY_TASK
    pushed = runs["kfp"]["first"].artifact("BlessedPusher", "pushed_model")["metadata"]
    assert (first["blessed"], first["pushed_version"]) == (True, pushed["pushed_version"])
    assert (second["blessed"], second["pushed_version"]) == (False, None)
    stopped = runs["kfp"]["third"]  # the first task that failed, and what it said
    assert third["nodes"]["ExampleGate"] == "failed", (stopped.failed, stopped.stderr[-3000:])
    assert third["nodes"]["Trainer"] == "not run"
    assert third["gate_stopped"] is True
    assert json.loads(pathlib.Path(third["gate_report_path"]).read_text())["verdict"] == "stopped"


def test_a_kfp_runs_provenance_is_its_parameters(runs, kfp_store):
    second = _tfxp_json("runs", "--mlmd-grpc", kfp_store)[1]["provenance"]
    assert len(second["models_sha256"]) == 64 and len(second["config_file_sha256"]) == 64
    assert second["parameter.train_args"] == {"num_steps": 1}  # typed in --json
    assert second["parameter.data_root"] == f"{BUCKET}/data"


def test_lineage_from_kfp_metadata_reaches_the_accepted_span(runs, kfp_store):
    tree = _tfxp_json("lineage", "--pushed", "latest", "--mlmd-grpc", kfp_store)
    assert tree["artifact"]["type"] == "PushedModel" and tree["run"]["run"] == "run-1"
    found: dict[str, list] = {}

    def walk(node):
        found.setdefault(node["artifact"]["type"], []).append(node)
        for child in node.get("made_by", {}).get("from", []):
            walk(child)

    walk(tree)
    assert {"Model", "ModelBlessing", "Examples", "Schema", "tfxp.AcceptedSpan"} <= set(found)
    ingested = [e for e in found["Examples"] if e["artifact"]["producer"] == "CsvExampleGen"]
    assert {e["artifact"]["properties"]["span"] for e in ingested} == {1}
    [accepted] = [a for a in found["tfxp.AcceptedSpan"] if not a.get("repeated")]
    assert accepted["artifact"]["properties"]["span"] == 1
    assert accepted["artifact"]["producer"] == "ExampleGate"
