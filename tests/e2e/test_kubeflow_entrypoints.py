"""The compiled Kubeflow spec runs, task by task, through TFX's container entrypoint.

For each target (Vertex AI Pipelines, open-source KFP) the spec `tfxp compile` writes is driven
by `kfp_launcher`, which does only what the backend's launcher does; every executor, TFX and the
entrypoint are real. Two runs on a fresh bucket: the first ingests span 1, is blessed on
absolute thresholds and pushed; the second ingests the newest span (2), compares it with span 1,
trains on both, is evaluated against the first run's served model and, trained for one step, is
not blessed and not pushed.
"""

from __future__ import annotations

import concurrent.futures
import json
import pathlib

import pytest

from cli.main import main
from metadata.names import SERVING_VERSION, WINDOW_SPANS
from tests.conftest import small_config_dict, write_config, write_sample
from tests.e2e.kfp_launcher import Launcher

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
    write_sample(bucket / "data", ROWS, span=2, skip=ROWS)
    raw = small_config_dict(work, bucket / "data")
    raw["name"] = "kfp-e2e"
    config = write_config(raw, work / "config.yaml")
    profile = work / "profile.yaml"
    profile.write_text(yaml.safe_dump(_profile(target)))
    build = work / "build"
    assert main(["compile", "--config", str(config), "--profile", str(profile),
                 "--output-dir", str(build)]) == 0  # fmt: skip
    launcher = Launcher(str(build / "kfp-e2e.json"), target, BUCKET, str(bucket), str(work))
    first_span = json.dumps({"static_range": {"start_span_number": 1, "end_span_number": 1}})
    first = launcher.run("run-1", {"range_config": first_span})
    second = launcher.run("run-2", {"train_args": json.dumps({"num_steps": 1})})
    return {"first": first, "second": second, "bucket": bucket, "work": work}


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
