"""The whole pipeline, for real (TFX, Beam, ML Metadata on SQLite), on a 3,000-row taxi sample.

One store sees five runs in order (tests/e2e/conftest.py): fresh, unchanged twice, data edited
in place with size and mtime kept, and thresholds that cannot be met. Each test reads what one
of those runs did.
"""

from __future__ import annotations

import csv
import pathlib
import subprocess
import sys

import numpy as np
import tensorflow as tf
from sklearn.metrics import roc_auc_score

from datatools.synth import synthesize
from metadata.evaluation import OVERALL, eval_sample, slice_metrics
from pipeline.schema import read_schema
from tests.conftest import ROOT, small_config_dict, write_config, write_sample
from tests.e2e.conftest import ROWS, last_run, run_cli

SAMPLED_ROWS = 200


def test_fresh_run_executes_every_component_and_pushes_a_blessed_model(runs):
    fresh = runs["fresh"]
    assert fresh["code"] == 0, fresh["err"]
    assert set(fresh["summary"].nodes.values()) == {"complete"}
    assert fresh["summary"].blessed is True
    assert len(fresh["versions"]) == 1
    assert "BLESSED and pushed: version" in fresh["out"]


def test_pushed_model_predicts_from_raw_serialized_examples(runs):
    summary = runs["fresh"]["summary"]
    model = tf.saved_model.load(summary.pushed_path)
    types = {f.name: f.type for f in read_schema(ROOT / runs["config"]["schema"]).feature}
    examples, labels = [], []
    with open(runs["data"]) as handle:
        for row in list(csv.DictReader(handle))[:500]:
            feature = {}
            for name, value in row.items():
                if name == "tips" or value == "":
                    continue  # serving requests carry no label column
                if types[name] == 1:  # BYTES
                    feature[name] = tf.train.Feature(
                        bytes_list=tf.train.BytesList(value=[value.encode()])
                    )
                elif types[name] == 2:  # INT
                    feature[name] = tf.train.Feature(
                        int64_list=tf.train.Int64List(value=[int(float(value))])
                    )
                else:
                    feature[name] = tf.train.Feature(
                        float_list=tf.train.FloatList(value=[float(value)])
                    )
            examples.append(
                tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
            )
            labels.append(float(row["tips"]) > 0.2 * float(row["fare"]))
    scores = model.signatures["serving_default"](examples=tf.constant(examples))["scores"].numpy()
    assert scores.shape == (500, 1)
    assert roc_auc_score(np.array(labels), scores.reshape(-1)) > 0.85


def test_unchanged_rerun_reuses_everything_and_pushes_no_duplicate(runs):
    """The fresh model is now the latest blessed one, so the Evaluator has a new input (the
    baseline) and re-runs; everything before it is served from cache, and the same model is
    not pushed again."""
    unchanged = runs["unchanged"]
    assert unchanged["code"] == 0, unchanged["err"]
    states = unchanged["summary"].nodes
    assert {
        n: s
        for n, s in states.items()
        if n not in ("Evaluator", "BlessedPusher") and not n.endswith("resolver")
    } == {
        n: "cached"
        for n in states
        if n not in ("Evaluator", "BlessedPusher") and not n.endswith("resolver")
    }
    assert unchanged["summary"].already_serving_version == int(runs["fresh"]["versions"][0])
    assert unchanged["versions"] == runs["fresh"]["versions"]
    assert "already the newest version" in unchanged["out"]


def test_third_unchanged_run_is_served_entirely_from_cache(runs):
    again = runs["unchanged_again"]
    assert again["summary"].all_cached, again["summary"].nodes
    assert again["versions"] == runs["fresh"]["versions"]


def test_data_edited_with_same_size_and_mtime_is_not_served_from_cache(runs):
    states = runs["data_edited"]["summary"].nodes
    assert states["CsvExampleGen"] == "complete"
    assert states["StatisticsGen"] == "complete"
    assert states["Trainer"] == "complete"
    assert states["CuratedSchemaImporter"] == "cached"  # only what depends on the data re-ran


def test_model_missing_its_thresholds_is_not_pushed_and_serving_is_untouched(runs):
    strict = runs["strict"]
    assert strict["code"] == 0, strict["err"]
    assert strict["summary"].blessed is False
    assert strict["summary"].pushed_version is None
    assert "NOT BLESSED" in strict["out"]
    assert "overall: auc" in strict["out"] and "fails >= 0.9999" in strict["out"]
    assert strict["summary"].nodes["Trainer"] == "cached"  # only evaluation depends on it
    assert strict["summary"].nodes["Evaluator"] == "complete"
    assert strict["versions"] == runs["data_edited"]["versions"]
    assert strict["serving_digest"] == runs["data_edited"]["serving_digest"]


def test_an_eval_split_above_max_examples_is_judged_on_a_sample_and_the_run_says_so(tmp_path):
    data = write_sample(tmp_path / "data", ROWS)
    raw = small_config_dict(tmp_path, data.parent.parent)
    raw["evaluation"]["max_examples"] = SAMPLED_ROWS  # fewer than the eval split's ~1,000
    code, out, err = run_cli("run", "--config", str(write_config(raw, tmp_path / "c.yaml")))
    assert code == 0, err
    evaluation = last_run(tmp_path / "metadata.sqlite").evaluation_uri
    sample = eval_sample(evaluation)
    assert sample.evaluated_rows == SAMPLED_ROWS < sample.eval_rows
    assert slice_metrics(evaluation)[OVERALL]["example_count"] == SAMPLED_ROWS
    line = f"judged on a deterministic sample of {SAMPLED_ROWS} of {sample.eval_rows:,}"
    assert line in out
    page = next(x for x in out.splitlines() if x.startswith("report: "))
    html = pathlib.Path(page.removeprefix("report: ")).read_text(encoding="utf-8")
    assert line.replace("judged", "Judged") in html


def test_a_run_below_max_examples_judges_every_eval_row(runs):
    unsampled = eval_sample(runs["fresh"]["summary"].evaluation_uri)
    assert unsampled.evaluated_rows == unsampled.eval_rows > SAMPLED_ROWS


def test_tfxp_run_as_a_process_ends_without_a_traceback(tmp_path):
    """What `make run` does, in its own process: backfill one span, train on two, exit 0, and
    nothing on stderr that looks like a bug (TensorFlow's objects outliving its modules at
    interpreter exit print "Exception ignored ... Traceback" if TFX is imported too late)."""
    synthesize(tmp_path / "data", rows=3000, spans=2, seed=1)
    raw = small_config_dict(tmp_path, tmp_path / "data")
    raw["data"]["window"] = 2
    config = write_config(raw, tmp_path / "c.yaml")
    tfxp = pathlib.Path(sys.executable).parent / "tfxp"

    done = subprocess.run(
        [str(tfxp), "run", "--backfill", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert "checking span 1" in done.stdout and "BLESSED and pushed" in done.stdout
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
