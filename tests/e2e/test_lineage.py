"""Lineage commands on the real store the five e2e runs left behind (tests/e2e/conftest.py)."""

from __future__ import annotations

import json
import os

import pytest

from components.fingerprint import code_fingerprint
from models import MODEL_MODULE, PREPROCESSING_MODULE
from tests.conftest import write_config
from tests.e2e.conftest import run_cli


def tfxp_json(runs, *args):
    code, out, err = run_cli(*args, "--metadata", str(runs["metadata"]), "--json")
    assert code == 0, err
    return json.loads(out)


def run_id(runs, name):
    return runs[name]["summary"].run_id


def walk(tree):
    yield tree
    for entry in [tree.get("made_by")] if tree.get("made_by") else []:
        for child in entry["from"]:
            yield from walk(child)


def test_runs_are_listed_newest_first_with_cached_runs_as_cached(runs):
    listed = tfxp_json(runs, "runs")
    names = [r["run"] for r in listed]
    assert names[:2] == [run_id(runs, "strict"), run_id(runs, "data_edited")]
    again = next(r for r in listed if r["run"] == run_id(runs, "unchanged_again"))
    assert {s for n, s in again["nodes"].items() if not n.endswith("resolver")} == {"cached"}
    fresh = next(r for r in listed if r["run"] == run_id(runs, "fresh"))
    assert fresh["pushed_version"] == int(runs["fresh"]["versions"][0])
    assert fresh["provenance"]["models_sha256"] == code_fingerprint(
        MODEL_MODULE, PREPROCESSING_MODULE
    )


def test_runs_reads_the_configs_store_from_any_folder(runs, tmp_path, monkeypatch):
    """A config's relative paths start from its repository (the folder with setup.py above
    it), not from where tfxp runs: `--config ABSOLUTE` from elsewhere finds the same store."""
    repository = tmp_path / "checkout"
    (repository / "pipeline" / "configs").mkdir(parents=True)
    (repository / "setup.py").write_text("")
    relative = {k: os.path.relpath(v, repository) for k, v in runs["config"]["outputs"].items()}
    config = write_config(
        dict(runs["config"], outputs=relative), repository / "pipeline" / "configs" / "c.yaml"
    )
    elsewhere = tmp_path / "elsewhere" / "deeper"  # where the relative paths lead nowhere
    elsewhere.mkdir(parents=True)
    assert not (elsewhere / relative["metadata"]).exists()
    monkeypatch.chdir(elsewhere)

    code, out, err = run_cli("runs", "--config", str(config), "--json")
    assert code == 0, err
    assert [r["run"] for r in json.loads(out)] == [r["run"] for r in tfxp_json(runs, "runs")]


def test_pushed_model_lineage_reaches_the_input_files_hyperparameters_and_code(runs):
    tree = tfxp_json(runs, "lineage", "--pushed", "latest")
    assert tree["artifact"]["type"] == "PushedModel"
    # The tree also holds the baseline model's own lineage; follow the run that pushed.
    nodes = {
        n["made_by"]["execution"]["node"]: n["made_by"]["execution"]
        for n in walk(tree)
        if n.get("made_by") and n["made_by"]["execution"]["run"] == tree["run"]["run"]
    }
    example_gen = nodes["CsvExampleGen"]["properties"]
    assert example_gen["input_base"] == str(runs["data"].parent.parent)  # the spans' root
    ingested = [
        n["artifact"]
        for n in walk(tree)
        if n.get("made_by") and n["made_by"]["execution"]["node"] == "CsvExampleGen"
    ]
    assert {a["properties"]["span"] for a in ingested} == {1}  # which span, on record
    # The content hash ExampleGen was keyed on is the one recorded for the run that made it.
    assert example_gen["custom_config"] == {
        "data": f"sha256:{tree['run']['data_sha256']}",
        "na_values": ["", "NA", "N/A", "null"],  # and the tokens it read as missing
    }
    assert tree["artifact"]["properties"]["pushed_version"] == max(
        int(v) for v in runs["strict"]["versions"]
    )
    trainer = nodes["Trainer"]["properties"]["custom_config"]
    assert trainer["hyperparameters"]["train_steps"] == runs["config"]["training"]["train_steps"]
    assert trainer["code_sha256"] == code_fingerprint(MODEL_MODULE, PREPROCESSING_MODULE)
    # The schema was made once, by the first run, and reused from cache since.
    schema_made_by = {
        n["made_by"]["execution"]["node"]: n["made_by"]["execution"]
        for n in walk(tree)
        if n.get("made_by")
    }["CuratedSchemaImporter"]
    assert schema_made_by["properties"]["source_file"].endswith("schema.pbtxt")
    assert "Evaluator" in nodes and "Transform" in nodes
    verdicts = [n["made_by"] for n in walk(tree) if n.get("made_by", {}).get("metrics")]
    assert verdicts and verdicts[0]["metrics"]["auc"] > 0.5
    blessings = [n["artifact"] for n in walk(tree) if n["artifact"]["type"] == "ModelBlessing"]
    assert blessings[0]["properties"]["blessed"] == 1
    assert tree["run"]["config_sha256"] and tree["run"]["git_revision"]


def test_lineage_text_and_dot(runs):
    code, out, _ = run_cli("lineage", "--pushed", "latest", "--metadata", str(runs["metadata"]))
    assert code == 0
    assert "<- CsvExampleGen" in out and "hyperparameters" in out and "made in run" in out
    code, out, _ = run_cli(
        "lineage", "--pushed", "latest", "--format", "dot", "--metadata", str(runs["metadata"])
    )
    assert code == 0 and out.startswith("digraph lineage {") and "CsvExampleGen" in out


def test_downstream_of_the_data_shows_what_it_produced(runs):
    examples = [
        a
        for a in tfxp_json(runs, "artifacts", "--type", "Examples")
        if a["producer"] == "CsvExampleGen"
    ]
    tree = tfxp_json(runs, "lineage", str(examples[0]["id"]), "--downstream")
    used_by = {u["execution"]["node"] for u in tree["used_by"]}
    assert {"StatisticsGen", "Transform", "Evaluator"} <= used_by


def test_diff_reports_exactly_the_data_change(runs):
    diff = tfxp_json(runs, "diff", run_id(runs, "unchanged_again"), run_id(runs, "data_edited"))
    assert diff["config"] == {}
    assert set(diff["inputs"]) == {"data_sha256"}
    assert diff["split_sizes"]["train"][0] + diff["split_sizes"]["eval"][0] == 3000
    assert diff["nodes"]["CsvExampleGen"] == ["cached", "complete"]
    assert "auc" in diff["metrics"]["overall"]


def test_diff_reports_exactly_the_threshold_change(runs):
    diff = tfxp_json(runs, "diff", run_id(runs, "data_edited"), run_id(runs, "strict"))
    assert set(diff["config"]) == {"evaluation.thresholds"}
    assert diff["inputs"] == {}
    assert diff["schema_diff"] == ""
    auc_a, auc_b, delta = diff["metrics"]["overall"]["auc"]
    assert auc_a == pytest.approx(auc_b) and delta == pytest.approx(0.0)
    assert diff["pushed"][1] is None


def test_show_round_trips_as_json(runs):
    listed = tfxp_json(runs, "artifacts", "--type", "Model")
    shown = tfxp_json(runs, "show", str(listed[0]["id"]))
    assert shown == listed[0]
    execution = tfxp_json(runs, "show", f"e{1}")
    assert execution["node"] == "CsvExampleGen" and "examples" in execution["outputs"]


def test_commands_only_read(runs):
    before = runs["metadata"].read_bytes()
    for args in (["runs"], ["artifacts"], ["lineage", "--pushed", "latest"]):
        run_cli(*args, "--metadata", str(runs["metadata"]))
    assert runs["metadata"].read_bytes() == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["show", "999999"], "no artifact with id 999999"),
        (["show", "e999999"], "no execution with id 999999"),
        (["show", "model"], "'model' is not an id"),
        (["diff", "1999-01-01", "2000-01-01"], "run '1999-01-01' not found"),
        (["lineage", "--pushed", "12"], "no pushed model 12"),
    ],
)
def test_unknown_ids_and_runs_are_one_line(runs, args, message):
    code, out, err = run_cli(*args, "--metadata", str(runs["metadata"]))
    assert code == 2
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_missing_store_and_non_store_files_are_one_line(tmp_path):
    code, _, err = run_cli("runs", "--metadata", str(tmp_path / "none.sqlite"))
    assert code == 2 and "no ML Metadata store there" in err
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database")
    code, _, err = run_cli("runs", "--metadata", str(junk))
    assert code == 2 and "not an ML Metadata store" in err and err.count("\n") == 1


def test_a_store_of_a_newer_schema_version_is_refused_untouched(runs, tmp_path):
    import shutil
    import sqlite3

    newer = tmp_path / "newer.sqlite"
    shutil.copy(runs["metadata"], newer)
    with sqlite3.connect(newer) as db:
        db.execute("UPDATE MLMDEnv SET schema_version = 1000")
    before = newer.read_bytes()
    code, _, err = run_cli("runs", "--metadata", str(newer))
    assert code == 2 and "unsupported ML Metadata schema version" in err
    assert newer.read_bytes() == before


def test_svg_without_graphviz_says_what_to_install(runs, monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    code, _, err = run_cli(
        "lineage", "--pushed", "latest", "--format", "svg", "--metadata", str(runs["metadata"])
    )
    assert code == 2 and "apt-get install graphviz" in err


def test_a_bad_mysql_port_is_one_line():
    code, _, err = run_cli("runs", "--mysql", "localhost:abc/mlmd")
    assert code == 2 and "the port must be a number" in err


def test_dot_to_an_unwritable_path_is_one_line(runs, tmp_path):
    code, _, err = run_cli(
        "lineage",
        "--pushed",
        "latest",
        "--format",
        "dot",
        "--output",
        str(tmp_path / "missing-dir" / "x.dot"),
        "--metadata",
        str(runs["metadata"]),
    )
    assert code == 2 and "cannot write" in err


def test_runs_and_lineage_read_an_ml_metadata_grpc_service(runs):
    """As against Kubeflow's metadata-grpc-service: the same answers as from the file."""
    from tests.mlmd_grpc import serving

    with serving(runs["metadata"]) as address:
        code, out, err = run_cli("runs", "--mlmd-grpc", address, "--json")
        assert code == 0, err
        assert json.loads(out) == tfxp_json(runs, "runs")
        code, out, err = run_cli("lineage", "--pushed", "latest", "--mlmd-grpc", address, "--json")
        assert code == 0, err
        assert json.loads(out) == tfxp_json(runs, "lineage", "--pushed", "latest")


def test_an_unreachable_ml_metadata_service_is_one_line():
    code, _, err = run_cli("runs", "--mlmd-grpc", "127.0.0.1:9")
    assert code == 2 and "ML Metadata service 127.0.0.1:9" in err
    assert len(err.strip().splitlines()) == 1
