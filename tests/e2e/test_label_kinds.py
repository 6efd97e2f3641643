"""A label written as text (diagnosis: malignant / benign), on a dataset the tests make: the
config names the value that means 1, the run trains and judges a model on it, and the same
config without it is one line saying what to add, before anything runs."""

from __future__ import annotations

import random
import shutil

import pytest

from cli.exits import EXIT_USER_ERROR
from tests.conftest import small_config_dict, write_config
from tests.e2e.conftest import last_run, run_cli


def _diagnoses(rows: int, seed: int) -> str:
    rng = random.Random(seed)
    lines = ["radius,texture,shape,diagnosis"]
    for _ in range(rows):
        radius, texture = rng.gauss(14, 3), rng.gauss(19, 4)
        shape = rng.choice(["round", "irregular"])
        odds = (radius - 14) * 0.9 + (1.2 if shape == "irregular" else -1.2)
        malignant = rng.random() < 1 / (1 + 2.718**-odds)
        lines.append(f"{radius:.2f},{texture:.2f},{shape},{'malignant' if malignant else 'benign'}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def diagnoses(tmp_path_factory):
    work = tmp_path_factory.mktemp("text-label")
    (work / "data" / "span-1").mkdir(parents=True)
    (work / "data" / "span-1" / "data.csv").write_text(_diagnoses(900, seed=1))
    raw = small_config_dict(work, work / "data")
    raw.update(
        name="diagnosis",
        schema=str(work / "schema" / "schema.pbtxt"),
        label={"name": "malignant", "column": "diagnosis", "positive": "malignant"},
        features=[
            {"name": "radius", "kind": "numeric"},
            {"name": "texture", "kind": "numeric"},
            {"name": "shape", "kind": "categorical", "top_k": 10, "oov_buckets": 1},
        ],
        validation={"min_examples_per_split": 50},
    )
    raw["evaluation"] = {"slices": ["shape"], "thresholds": {"auc": {"lower_bound": 0.6}}}
    config = write_config(raw, work / "c.yaml")
    code, _, err = run_cli("schema", "infer", "--config", str(config))
    assert code == 0, err
    shutil.copy(work / "schema" / "schema.candidate.pbtxt", work / "schema" / "schema.pbtxt")
    return work, raw, config


def test_a_text_label_trains_and_is_judged(diagnoses):
    work, _, config = diagnoses
    code, out, err = run_cli("run", "--config", str(config))
    assert code == 0, err[-2000:]
    assert "BLESSED and pushed" in out
    rate = float(out.split("train  rows")[1].split("positive rate")[1].split()[0])
    assert 0.3 < rate < 0.7  # malignant counted as 1 by the gate, as in the data
    run = last_run(work / "metadata.sqlite")
    assert run.key_metric is not None and run.key_metric > 0.75


def test_a_text_label_read_as_numbers_is_one_line_naming_what_to_add(diagnoses):
    work, raw, _ = diagnoses
    numeric = {**raw, "label": {"name": "malignant", "column": "diagnosis", "rule": "as_is"}}
    code, _, err = run_cli("run", "--config", str(write_config(numeric, work / "as-is.yaml")))
    assert code == EXIT_USER_ERROR
    [line] = [line for line in err.splitlines() if line.startswith("tfxp:")]
    assert "label column 'diagnosis' is BYTES" in line and "label.positive" in line
