"""The metadata layer on a real ML Metadata store: runs by id, what each run did, the gate's
verdicts, lineage, and facts written on the run named (never "the newest")."""

from __future__ import annotations

import json

import pytest

from metadata import lineage, names
from metadata.reader import MetadataReader
from metadata.store import MetadataError, open_store
from metadata.verdicts import gate_report_path
from metadata.writer import record_run_facts
from tests.unit.metadata.store_builder import CACHED, FAILED, StoreBuilder

FIRST, SECOND, THIRD = "2026-01-01T10:00:00.000001", "2026-01-02T10:00:00.000001", "2026-01-03"


def _ingest(builder: StoreBuilder, run: int, root, span: int, stop: bool = False):
    """ExampleGen and the gate over one span: accepted, or stopped with its report written."""
    examples = builder.artifact(
        names.EXAMPLES, f"{root}/{names.EXAMPLE_GEN}/examples/{run}", span=span
    )
    builder.step(run, names.EXAMPLE_GEN, outputs={"examples": [examples]})
    if stop:
        gate = builder.step(
            run,
            names.GATE,
            FAILED,
            inputs={"examples": [examples]},
            execution_type=names.GATE_EXECUTION_TYPE,
        )
        report = gate_report_path(examples.uri, span, gate)
        (root / names.GATE / names.GATE_REPORTS).mkdir(parents=True, exist_ok=True)
        with open(report, "w") as handle:
            handle.write("{}")
        return examples
    accepted = builder.artifact(
        names.ACCEPTED_SPAN,
        f"{root}/{names.GATE}/accepted/{run}",
        span=span,
        allowed='["LABEL_MISSING:tips"]',
    )
    builder.step(
        run,
        names.GATE,
        inputs={"examples": [examples]},
        outputs={"accepted": [accepted]},
        execution_type=names.GATE_EXECUTION_TYPE,
    )
    return examples


@pytest.fixture
def history(tmp_path):
    """Three runs: span 1 trained and pushed as version 7; span 2 stopped at the gate; span 1
    again, everything cached and the same model already served."""
    builder = StoreBuilder()
    first = builder.run(FIRST)
    examples = _ingest(builder, first, tmp_path, span=1)
    model = builder.artifact(names.MODEL, "/models/1")
    builder.step(first, names.TRAINER, inputs={"examples": [examples]}, outputs={"model": [model]})
    blessing = builder.artifact(names.MODEL_BLESSING, blessed=1)
    builder.step(
        first,
        names.EVALUATOR,
        inputs={"model": [model], "examples": [examples]},
        outputs={"blessing": [blessing]},
    )
    pushed = builder.artifact(
        names.PUSHED_MODEL, "/pushed/1", pushed=1, pushed_version=7, pushed_destination="/serving/7"
    )
    builder.step(
        first,
        names.PUSHER,
        inputs={"model": [model], "model_blessing": [blessing]},
        outputs={"pushed_model": [pushed]},
    )
    second = builder.run(SECOND)
    _ingest(builder, second, tmp_path, span=2, stop=True)
    third = builder.run(THIRD)
    builder.step(third, names.EXAMPLE_GEN, CACHED, outputs={"examples": [examples]})
    again = builder.artifact(names.PUSHED_MODEL, "/pushed/3", pushed=0, already_serving_version=7)
    builder.step(third, names.PUSHER, CACHED, outputs={"pushed_model": [again]})
    return MetadataReader(builder.store)


def test_runs_are_listed_newest_first_and_a_step_a_run_did_not_reach_is_not_run(history):
    runs = history.runs()
    assert [r.run for r in runs] == [THIRD, SECOND, FIRST]
    assert runs[1].nodes[names.GATE] == "failed" and runs[1].nodes[names.PUSHER] == "not run"
    assert runs[2].pushed_version == 7 and runs[2].seconds >= 0
    assert {r.pipeline for r in runs} == {"taxi"} and history.runs("other") == []


@pytest.mark.parametrize("asked, found", [(FIRST, FIRST), ("2026-01-02", SECOND), (THIRD, THIRD)])
def test_a_run_is_found_by_its_id_or_a_unique_prefix(history, asked, found):
    assert history.run(asked).run == found


@pytest.mark.parametrize(
    "asked, message",
    [
        ("2026-01-0", "run '2026-01-0' is ambiguous (newest runs: 2026-01-03, "),
        ("1999", "run '1999' not found"),
    ],
)
def test_an_ambiguous_or_unknown_run_is_one_line_naming_the_newest(history, asked, message):
    with pytest.raises(MetadataError) as err:
        history.run(asked)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_run_holds_each_step_the_blessing_and_the_push(history):
    record = history.run(FIRST)
    assert list(record.nodes) == [
        names.EXAMPLE_GEN,
        names.GATE,
        names.TRAINER,
        names.EVALUATOR,
        names.PUSHER,
    ]
    assert record.node_seconds.keys() == record.nodes.keys()
    assert (record.blessed, record.pushed_version, record.pushed_path) == (True, 7, "/serving/7")
    assert f"/{names.GATE}/accepted/" in record.gate_report_path
    assert record.gate_report_path.endswith("/report.json")
    assert not record.gate_stopped and not record.all_cached
    cached = history.run(THIRD)
    assert cached.all_cached and cached.already_serving_version == 7
    assert cached.pushed_version is None and cached.blessed is None


def test_a_failed_gate_that_wrote_its_report_is_a_stop_one_that_did_not_is_a_crash(
    history, tmp_path
):
    stopped = history.run(SECOND)
    assert stopped.gate_stopped and stopped.gate_report_path.endswith(".json")
    (tmp_path / names.GATE / names.GATE_REPORTS / stopped.gate_report_path.split("/")[-1]).unlink()
    crashed = history.run(SECOND)
    assert not crashed.gate_stopped


def test_judged_spans_follow_the_gates_verdicts(history, tmp_path):
    assert history.judged_spans("taxi") == {1, 2}
    assert history.judged_spans("other") == set()


def test_lineage_of_a_pushed_model_reaches_the_ingested_span_and_its_verdict(history):
    tree = lineage.upstream(history, lineage.pushed_model(history, "latest"))
    assert tree["artifact"].type == names.PUSHED_MODEL and tree["run"]["run"] == FIRST

    def walk(node):
        yield node
        for child in node.get("made_by", {}).get("from", []):
            yield from walk(child)

    spans = [n for n in walk(tree) if n["artifact"].type == names.EXAMPLES]
    assert spans and spans[0]["gate"]["verdict"] == "accepted"
    assert spans[0]["gate"]["allowed"] == ["LABEL_MISSING:tips"]
    with pytest.raises(MetadataError, match="no pushed model 8"):
        lineage.pushed_model(history, "8")


@pytest.mark.parametrize(
    "lookup, message",
    [
        (lambda r: r.artifact(999), "no artifact with id 999"),
        (lambda r: r.execution(999), "no execution with id 999"),
        (lambda r: r.executions_of_run("nope"), "run 'nope' not found"),
    ],
)
def test_unknown_ids_are_one_line_errors(history, lookup, message):
    with pytest.raises(MetadataError, match=message):
        lookup(history)


def test_facts_land_on_the_run_named_not_on_the_newest(tmp_path):
    """Two runs overlap: the older one finishes last. Its facts must land on it."""
    path = tmp_path / "metadata.sqlite"
    builder = StoreBuilder(path)
    older, newer = builder.run(FIRST), builder.run(SECOND)
    builder.step(older, names.EXAMPLE_GEN)
    builder.step(newer, names.EXAMPLE_GEN)
    assert record_run_facts(path, FIRST, {"span": "3"})
    reader = MetadataReader(open_store(sqlite=path))
    assert reader.run(FIRST).provenance == {"span": "3"}
    assert reader.run(SECOND).provenance == {}
    assert not record_run_facts(path, "never-started", {"span": "4"})
    assert not record_run_facts(tmp_path / "absent.sqlite", FIRST, {"span": "4"})
    assert not (tmp_path / "absent.sqlite").exists()


def test_runs_json_carries_facts_as_typed_values_recorded_as_strings(tmp_path, capsys):
    from cli.main import main

    path = tmp_path / "metadata.sqlite"
    builder = StoreBuilder(path)
    builder.step(builder.run(FIRST), names.EXAMPLE_GEN)
    facts = {
        "span": "4",
        "auc": "0.91",
        "replace_newer": "true",
        "allowed": '["LABEL_MISSING:tips"]',
        "config": '{"name": "taxi", "data_root": "/d"}',
        "data_sha256": "ab" * 32,
        "git_revision": "c0ffee-dirty",
        "config_file": "/work/taxi.yaml",
        "missing": "nan",  # JSON has no NaN: kept as the text
        "schema_git_revision": "1234567",  # a number only where a number is recorded
        "parameter.version": "1.10",
        "quoted": '"4"',  # a JSON string is not unquoted: the text is what was recorded
    }
    assert record_run_facts(path, FIRST, facts)

    assert main(["runs", "--metadata", str(path), "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["provenance"] == {
        **facts,
        "span": 4,
        "auc": 0.91,
        "replace_newer": True,
        "allowed": ["LABEL_MISSING:tips"],
        "config": {"name": "taxi", "data_root": "/d"},
    }
    assert listed["auc"] == 0.91
    assert MetadataReader(open_store(sqlite=path)).run(FIRST).provenance == facts  # as recorded


def test_a_store_is_never_created_by_reading(tmp_path):
    with pytest.raises(MetadataError, match="no ML Metadata store there"):
        open_store(sqlite=tmp_path / "absent.sqlite")
    assert not (tmp_path / "absent.sqlite").exists()
    (tmp_path / "notes.sqlite").write_text("not a database")
    with pytest.raises(MetadataError, match="not an ML Metadata store"):
        open_store(sqlite=tmp_path / "notes.sqlite")


def test_a_model_read_as_its_own_baseline_is_found_under_both_keys(tmp_path):
    """ML Metadata keeps one event per artifact and execution: TFX's Evaluator reading the
    same model as candidate and baseline leaves one path holding both keys, in either order
    (CI saw the baseline go unnamed when `model` came first)."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    builder = StoreBuilder(tmp_path / "metadata.sqlite")
    model = builder.artifact(names.MODEL)
    evaluator = builder.step(builder.run(FIRST), names.EVALUATOR)
    event = pb.Event(artifact_id=model.id, execution_id=evaluator, type=pb.Event.INPUT)
    for key in ("model", "baseline_model"):
        event.path.steps.add().key = key
        event.path.steps.add().index = 0
    builder.store.put_events([event])

    reader = MetadataReader(builder.store)
    assert [a.id for a in reader.inputs(evaluator, "baseline_model")] == [model.id]
    assert [a.id for a in reader.inputs(evaluator, "model")] == [model.id]
    assert reader.inputs(evaluator, "examples") == []
    assert reader.execution(evaluator).inputs == {"model": [model.id], "baseline_model": [model.id]}
