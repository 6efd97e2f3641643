"""The reader reads a store written by Kubeflow Pipelines' launcher as it reads a local one.

The store is recorded as KFP 2.x records a run (`tests.kfp_metadata`): task executions of one
generic type named by task, "tfx."-prefixed artifact types, every number a double, the run's
parameters on its root DAG execution, and the gate's report named after the pod that ran it.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from metadata import lineage, names
from metadata.layout import KFP, TFX, layout_of
from metadata.reader import MetadataReader
from metadata.store import open_store
from metadata.verdicts import gate_report_path
from tests.kfp_metadata import KfpMetadata
from tests.unit.metadata.store_builder import StoreBuilder

ROOT = "gs://bucket/root"


def _artifact(title: str, uri: str, **metadata) -> dict:
    return {"type": {"schemaTitle": title}, "uri": uri, "metadata": metadata}


def _ingest(record: KfpMetadata, run: str, span: int, tmp_path) -> tuple[int, str]:
    """CsvExampleGen's task in `run` over `span`, as TFX's entrypoint reports its Examples
    (span as a property and as "custom:span"): the artifact's id and URI."""
    task = record.start_task(run, names.EXAMPLE_GEN, {}, {}, f"pod-gen-{run}")
    uri = f"{tmp_path}/taxi/{run}/{names.EXAMPLE_GEN}/s{span}/examples"
    examples = _artifact("tfx.Examples", uri, span=span, **{"custom:span": span})
    return record.finish_task(run, task, {"examples": examples}, failed=False)["examples"], uri


@pytest.fixture
def kfp(tmp_path):
    """Run one: span 1 accepted, a model blessed and pushed as version 3. Run two: span 2,
    stopped by the gate (its report written under the pod's uid)."""
    store = tmp_path / "kfp.sqlite"
    record = KfpMetadata(store, "taxi", ROOT)
    provenance = json.dumps({"models_sha256": "ab" * 32, "git_revision": "c0ffee"})
    record.start_run("run-1", {"provenance": provenance, "train_args": '{"num_steps": 5}'})
    ingested, _ = _ingest(record, "run-1", 1, tmp_path)
    gate = record.start_task("run-1", names.GATE, {}, {"examples": [ingested]}, "pod-b")
    accepted = record.finish_task(
        "run-1",
        gate,
        {
            "accepted": _artifact("tfxp.AcceptedSpan", f"{ROOT}/acc", span=1, allowed="[]"),
            "anomalies": _artifact("tfx.ExampleAnomalies", f"{ROOT}/an", blessed={"train": 1}),
        },
        failed=False,
    )["accepted"]
    trainer = record.start_task("run-1", names.TRAINER, {}, {"examples": [ingested]}, "pod-c")
    model = record.finish_task(
        "run-1", trainer, {"model": _artifact("tfx.Model", f"{ROOT}/model")}, failed=False
    )["model"]
    evaluator = record.start_task("run-1", names.EVALUATOR, {}, {"model": [model]}, "pod-d")
    blessing = record.finish_task(
        "run-1",
        evaluator,
        {"blessing": _artifact("tfx.ModelBlessing", f"{ROOT}/blessing", blessed=1)},
        failed=False,
    )["blessing"]
    pusher = record.start_task(
        "run-1", names.PUSHER, {}, {"model": [model], "model_blessing": [blessing]}, "pod-e"
    )
    pushed = _artifact(
        "tfx.PushedModel",
        f"{ROOT}/pushed",
        pushed=1,
        pushed_version=3,
        pushed_destination="gs://bucket/serving/3",
    )
    record.finish_task("run-1", pusher, {"pushed_model": pushed}, failed=False)
    record.finish_run("run-1", failed=False)

    record.start_run("run-2", {"provenance": provenance})
    stopped, examples_uri = _ingest(record, "run-2", 2, tmp_path)
    gate = record.start_task("run-2", names.GATE, {}, {"examples": [stopped]}, "pod-g")
    report = gate_report_path(examples_uri, 2, "pod-g")
    pathlib.Path(report).parent.mkdir(parents=True)
    pathlib.Path(report).write_text(json.dumps({names.GATE_VERDICT: names.GATE_STOPPED}))
    record.finish_task("run-2", gate, {}, failed=True)
    record.finish_run("run-2", failed=True)
    return {"reader": MetadataReader(open_store(sqlite=store)), "accepted": accepted}


def test_the_layout_is_told_from_the_store(kfp):
    assert kfp["reader"].layout is KFP
    assert layout_of(StoreBuilder().store) is TFX


def test_runs_show_each_task_the_blessing_and_the_push(kfp):
    first, second = sorted(kfp["reader"].runs(), key=lambda r: r.run)
    assert (first.run, first.pipeline) == ("run-1", "taxi")
    assert first.nodes == {
        names.EXAMPLE_GEN: "complete",
        names.GATE: "complete",
        names.TRAINER: "complete",
        names.EVALUATOR: "complete",
        names.PUSHER: "complete",
    }
    assert (first.blessed, first.pushed_version, first.pushed_path) == (
        True,
        3,
        "gs://bucket/serving/3",
    )
    assert isinstance(first.pushed_version, int)


def test_a_gate_stop_is_told_from_a_crash_by_the_pods_report(kfp):
    second = kfp["reader"].runs()[0]
    assert second.nodes[names.GATE] == "failed" and second.nodes[names.TRAINER] == "not run"
    assert second.gate_stopped and second.gate_report_path.endswith("span-2-pod-g.json")
    assert kfp["reader"].judged_spans("taxi") == {1, 2}
    pathlib.Path(second.gate_report_path).unlink()  # no report: the gate crashed
    assert not kfp["reader"].run("run-2").gate_stopped
    assert kfp["reader"].judged_spans("taxi") == {1}


def test_a_runs_facts_are_its_provenance_and_parameters(kfp):
    facts = kfp["reader"].run("run-1").provenance
    assert facts["models_sha256"] == "ab" * 32 and facts["git_revision"] == "c0ffee"
    assert facts["parameter.train_args"] == '{"num_steps": 5}'
    assert "provenance" not in facts and "parameter.provenance" not in facts


def test_artifacts_carry_plain_type_names_and_whole_numbers(kfp):
    reader = kfp["reader"]
    [examples, _] = reader.artifacts(names.EXAMPLES)
    assert examples.type == names.EXAMPLES and examples.producer == names.EXAMPLE_GEN
    assert examples.run == "run-1"
    assert examples.properties == {"span": 1}
    [anomalies] = reader.artifacts("ExampleAnomalies")
    assert anomalies.properties == {"blessed": {"train": 1}}


def test_lineage_of_the_pushed_model_reaches_the_accepted_span(kfp):
    reader = kfp["reader"]
    artifact_id = lineage.pushed_model(reader, "latest")
    assert artifact_id == lineage.pushed_model(reader, "3")
    tree = lineage.upstream(reader, artifact_id)
    assert tree["run"]["git_revision"] == "c0ffee"
    model = tree["made_by"]["from"][0]
    examples = model["made_by"]["from"][0]
    assert examples["artifact"].type == names.EXAMPLES
    assert examples["gate"] == {
        "verdict": "accepted",
        "accepted_span_artifact": kfp["accepted"],
        "allowed": [],
    }
