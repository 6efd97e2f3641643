"""Spans arrive one after another: each is compared with the last accepted one, a drifting span
stops the run with a report naming feature, metric, value and threshold, a stopped span never
enters a training window, and an explicit --allow lets it through on record.

One store, real runs in order (synthetic taxi spans, small):
  backfill  span 1 checked in (gate only), span 2 trained on the window {1, 2}
  drifted   span 3 with fares doubled: stopped at the gate, nothing trained or pushed
  after     span 4 (clean): compared with span 2, trained on {2, 4}, never on 3
  allowed   span 3 again with --allow for the fare drift: accepted, the acceptance recorded
  backfill_again  span 3 keeps its verdict; span 4 is now compared with the accepted span 3
"""

from __future__ import annotations

import json
import shutil

import pytest
from ml_metadata.proto import metadata_store_pb2

from cli.exits import EXIT_FINDINGS, EXIT_USER_ERROR
from datatools.synth import synthesize
from metadata import names
from metadata.reader import MetadataReader
from metadata.store import open_store
from pipeline.config import load_config, with_overrides
from pipeline.local_runner import run_once
from tests.conftest import ROOT, small_config_dict, write_config
from tests.e2e.conftest import last_run, run_cli, serving_digest

FARE_DRIFT = "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH:fare"
# Doubled fares also halve the share of tips above 20% of the fare: the label moves too.
LABEL_SHIFT = "LABEL_RATE_CHANGE:big_tipper"


def _input_spans(metadata_path, run_id: str, node: str) -> list[int]:
    """Spans of the Examples a node read in a run, from ML Metadata's INPUT events."""
    reader = MetadataReader(open_store(sqlite=metadata_path))
    execution = reader.executions_of_run(run_id)[node]
    store = reader.store
    events = [
        e
        for e in store.get_events_by_execution_ids([execution.id])
        if e.type == metadata_store_pb2.Event.INPUT
    ]
    return sorted(
        a.custom_properties[names.SPAN].int_value
        for a in store.get_artifacts_by_id([e.artifact_id for e in events])
        if reader.type_of(a) == names.EXAMPLES
    )


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    work = tmp_path_factory.mktemp("spans")
    clean, drifted, data = work / "clean", work / "drifted", work / "data"
    synthesize(clean, rows=6000, spans=4, seed=1)
    synthesize(drifted, rows=6000, spans=4, seed=1, drift="scale:fare*2@3")
    for span in (1, 2):
        shutil.copytree(clean / f"span-{span}", data / f"span-{span}")
    raw = small_config_dict(work, data)
    raw["data"]["window"] = 2
    config = str(write_config(raw, work / "spans.yaml"))
    metadata, serving = work / "metadata.sqlite", work / "serving"
    steps = {}

    def step(name, *args):
        code, out, err = run_cli("run", "--config", config, *args)
        steps[name] = dict(
            code=code, out=out, err=err, summary=last_run(metadata), serving=serving_digest(serving)
        )

    step("backfill", "--backfill")
    shutil.copytree(drifted / "span-3", data / "span-3")
    step("drifted")
    shutil.copytree(clean / "span-4", data / "span-4")
    step("after")
    step("allowed", "--span", "3", "--allow", FARE_DRIFT, "--allow", LABEL_SHIFT)
    step("backfill_again", "--backfill")
    steps["missing_span"] = run_cli("run", "--config", config, "--span", "9")
    steps["bad_allow"] = run_cli("run", "--config", config, "--allow", "DRIFT:fare")
    steps.update(metadata=metadata, work=work, config=config)
    return steps


def test_backfill_checks_the_earlier_span_in_then_trains_on_the_window(history):
    backfill = history["backfill"]
    assert backfill["code"] == 0, backfill["out"] + backfill["err"]
    out = backfill["out"]
    assert "checking span 1" in out and "data gate, span 1:" in out
    assert "no earlier accepted span to compare with" in out
    assert "data gate, span 2:\n  drift (against span 1):" in out
    assert "fare                     Jensen-Shannon divergence" in out
    assert "BLESSED and pushed" in out
    run = backfill["summary"].run_id
    assert _input_spans(history["metadata"], run, "Transform") == [1, 2]
    assert _input_spans(history["metadata"], run, "Evaluator") == [2]


def test_a_drifting_span_stops_before_transform_with_feature_metric_value_threshold(history):
    drifted = history["drifted"]
    assert drifted["code"] == EXIT_FINDINGS, drifted["out"] + drifted["err"]
    err = drifted["err"]
    assert "feature 'fare': COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH" in err
    assert "feature 'big_tipper': LABEL_RATE_CHANGE" in err
    line = next(row for row in err.splitlines() if row.strip().startswith("fare "))
    metric_value, threshold = line.split("Jensen-Shannon divergence")[1].split("threshold")
    assert float(metric_value) > float(threshold.split()[0]) == 0.2
    assert line.rstrip().endswith("ABOVE")
    assert "drift (against span 2)" in err
    states = drifted["summary"].nodes
    assert states["ExampleGate"] == "failed"
    assert "Transform" not in states and "BlessedPusher" not in states
    assert drifted["serving"] == history["backfill"]["serving"]  # the pushed model stays


def test_a_stopped_span_never_enters_the_training_window(history):
    after = history["after"]
    assert after["code"] == 0, after["out"] + after["err"]
    assert "data gate, span 4:\n  drift (against span 2):" in after["out"]
    assert _input_spans(history["metadata"], after["summary"].run_id, "Transform") == [2, 4]


def test_allow_lets_a_known_finding_through_and_records_it(history):
    allowed = history["allowed"]
    assert allowed["code"] == 0, allowed["out"] + allowed["err"]
    assert f"ALLOWED by {FARE_DRIFT}" in allowed["out"]
    assert f"ALLOWED by {LABEL_SHIFT}" in allowed["out"]
    store = open_store(sqlite=history["metadata"])
    accepted = [
        a
        for a in store.get_artifacts_by_type("tfxp.AcceptedSpan")
        if a.custom_properties["span"].int_value == 3
    ]
    (span_3,) = accepted
    assert json.loads(span_3.custom_properties["allowed"].string_value) == sorted(
        [FARE_DRIFT, LABEL_SHIFT]
    )
    run = store.get_context_by_type_and_name("pipeline_run", allowed["summary"].run_id)
    assert json.loads(run.custom_properties["tfxp_allowed"].string_value) == [
        FARE_DRIFT,
        LABEL_SHIFT,
    ]
    assert run.custom_properties["tfxp_span"].string_value == "3"


def test_an_acceptance_sticks_a_later_backfill_does_not_judge_the_span_again(history):
    again = history["backfill_again"]
    assert "checking span 3" not in again["out"]
    # Span 4 has the old fares again: against the accepted, doubled span 3 that is drift too.
    assert again["code"] == EXIT_FINDINGS
    assert "data gate, span 4:\n  drift (against span 3):" in again["err"]


def test_a_span_that_does_not_exist_is_one_line_naming_the_spans_there(history):
    code, _, err = history["missing_span"]
    assert code == EXIT_USER_ERROR
    assert "span 9 not found (spans here: 1, 2, 3, 4)" in err


def test_an_unknown_allow_kind_is_refused_before_running(history):
    code, _, err = history["bad_allow"]
    assert code == EXIT_USER_ERROR
    assert "'DRIFT:fare' must be KIND:FEATURE with a known anomaly kind" in err


def test_the_bundled_years_pass_the_curated_thresholds_span_after_span(tmp_path):
    """The schema's drift thresholds are calibrated on these years: a change that makes the
    bundled data fail the gate must change the thresholds on purpose."""
    raw = small_config_dict(tmp_path, ROOT / "data" / "taxi")
    config = write_config(raw, tmp_path / "bundled.yaml")
    reports = []
    for span in (1, 2, 3, 4):
        outcome = run_once(with_overrides(load_config(config), span=span), data_only=True)
        assert outcome.run.nodes["ExampleGate"] == "complete"
        reports.append(outcome.gate_report)
    assert [r.previous_span for r in reports] == [None, 1, 2, 3]
    for report in reports[1:]:
        assert len(report.measurements) == 16 and not report.blocking


def test_lineage_of_a_model_shows_the_gate_verdict_and_allowances_of_its_data(history):
    run = history["allowed"]["summary"].run_id
    code, out, _ = run_cli(
        "artifacts",
        "--type",
        "Model",
        "--run",
        run,
        "--json",
        "--metadata",
        str(history["metadata"]),
    )
    assert code == 0
    (model,) = json.loads(out)
    code, out, _ = run_cli(
        "lineage", str(model["id"]), "--json", "--metadata", str(history["metadata"])
    )
    assert code == 0

    def walk(node):
        yield node
        for child in node.get("made_by", {}).get("from", []):
            yield from walk(child)

    gates = {
        n["artifact"]["properties"]["span"]: n["gate"]
        for n in walk(json.loads(out))
        if n.get("gate")
    }
    assert gates[3] == {
        "verdict": "accepted",
        "accepted_span_artifact": gates[3]["accepted_span_artifact"],
        "allowed": sorted([FARE_DRIFT, LABEL_SHIFT]),
    }
    assert gates[2]["verdict"] == "accepted" and gates[2]["allowed"] == []
    assert set(gates) == {2, 3}  # the window of span 3: spans 2 and 3
