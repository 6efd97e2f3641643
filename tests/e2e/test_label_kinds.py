"""A label written as text (diagnosis: malignant / benign), on a dataset the tests make: the
config names the value that means 1, the run trains and judges a model on it, and the same
config without it is one line saying what to add, before anything runs."""

from __future__ import annotations

import csv
import random
import shutil

import pytest

from cli.exits import EXIT_FINDINGS, EXIT_USER_ERROR
from tests.conftest import small_config_dict, write_config
from tests.e2e.conftest import last_run, run_cli
from tests.e2e.served import call, serving


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


def _penguins(rows: int, seed: int) -> str:
    """Three species told apart by bill and flipper length, and partly by island."""
    rng = random.Random(seed)
    shape = {"adelie": (40, 192), "gentoo": (46, 212), "chinstrap": (47, 196)}
    islands = {"adelie": ["Torgersen", "Biscoe", "Dream"], "gentoo": ["Biscoe"]}
    lines = ["bill,flipper,island,species"]
    for _ in range(rows):
        species = rng.choice(list(shape))
        bill, flipper = (
            rng.gauss(mean, spread) for mean, spread in zip(shape[species], (3, 8), strict=True)
        )
        island = rng.choice(islands.get(species, ["Dream"]))
        lines.append(f"{bill:.1f},{flipper:.0f},{island},{species}")
    return "\n".join(lines) + "\n"


def _houses(rows: int, seed: int) -> str:
    """A price in the hundreds of thousands: area and rooms linear, district a step."""
    rng = random.Random(seed)
    step = {"north": 40_000, "centre": 120_000, "south": 0}
    lines = ["area,rooms,district,price"]
    for _ in range(rows):
        area, rooms, district = rng.uniform(40, 200), rng.randint(1, 6), rng.choice(list(step))
        price = 2_000 * area + 15_000 * rooms + step[district] + rng.gauss(0, 20_000)
        lines.append(f"{area:.1f},{rooms},{district},{price:.0f}")
    return "\n".join(lines) + "\n"


def _dataset(tmp_path_factory, name: str, text: str, label: dict, features: list, slices):
    """A span of `text`, a config for it, and the curated schema `schema infer` proposes."""
    work = tmp_path_factory.mktemp(name)
    (work / "data" / "span-1").mkdir(parents=True)
    (work / "data" / "span-1" / "data.csv").write_text(text)
    raw = small_config_dict(work, work / "data")
    raw.update(
        name=name,
        schema=str(work / "schema" / "schema.pbtxt"),
        label=label,
        features=features,
        validation={"min_examples_per_split": 50},
    )
    raw["evaluation"] = {"slices": slices}  # the label kind's default thresholds
    config = write_config(raw, work / "c.yaml")
    code, _, err = run_cli("schema", "infer", "--config", str(config))
    assert code == 0, err
    shutil.copy(work / "schema" / "schema.candidate.pbtxt", work / "schema" / "schema.pbtxt")
    return work, raw, config


@pytest.fixture(scope="module")
def penguins(tmp_path_factory):
    return _dataset(
        tmp_path_factory,
        "penguins",
        _penguins(900, seed=2),
        {"name": "species", "column": "species", "kind": "multiclass"},
        [
            {"name": "bill", "kind": "numeric"},
            {"name": "flipper", "kind": "numeric"},
            {"name": "island", "kind": "categorical", "top_k": 10},
        ],
        ["island"],
    )


def test_a_three_class_text_label_gets_a_softmax_per_class_and_its_own_metrics(penguins):
    work, _, config = penguins
    code, out, err = run_cli("run", "--config", str(config))
    assert code == 0, err[-2000:]
    assert "BLESSED and pushed" in out
    assert "class shares adelie" in out  # the gate counts each class (domain order)
    overall = next(line for line in out.splitlines() if line.startswith("eval split, overall"))
    accuracy = float(overall.split("accuracy=")[1].split(",")[0])
    assert 0.7 < accuracy < 1 and "macro_f1_score=" in overall and "auc" not in overall
    assert "per class (precision/recall): adelie" in out
    assert "quick baseline (logistic regression" in out and "accuracy" in out
    run = last_run(work / "metadata.sqlite")
    assert run.key_metric_name == "accuracy" and run.key_metric == pytest.approx(accuracy, 1e-3)


def test_each_class_is_scored_by_name_served_and_on_a_file(penguins):
    work, _, config = penguins
    rows = [{"bill": 40.0, "flipper": 190.0, "island": "Torgersen"}]  # an Adélie's
    rows.append({"bill": 46.5, "flipper": 215.0, "island": "Biscoe"})  # a Gentoo's
    with serving(config, "penguins") as (base, _):
        code, answer = call(base, "/v1/models/penguins:classify", {"examples": rows})
    assert code == 200
    best = [max(pairs, key=lambda pair: pair[1])[0] for pairs in answer["results"]]
    assert best == ["adelie", "gentoo"]
    assert [len(pairs) for pairs in answer["results"]] == [3, 3]
    assert all(abs(sum(s for _, s in pairs) - 1) < 1e-4 for pairs in answer["results"])

    held_out = work / "held_out.csv"
    held_out.write_text(_penguins(200, seed=9))
    code, _, err = run_cli("predict", "--csv", str(held_out), "--config", str(config))
    assert code == 0, err
    with open(work / "held_out.scored.csv") as scored:
        lines = list(csv.DictReader(scored))
    assert list(lines[0])[-4:] == [
        "score_adelie",
        "score_chinstrap",
        "score_gentoo",
        "predicted_class",
    ]
    right = sum(line["predicted_class"] == line["species"] for line in lines)
    assert right / len(lines) > 0.8


def test_a_class_the_schema_does_not_know_stops_the_span(penguins):
    work, raw, _ = penguins
    (work / "data" / "span-2").mkdir()
    text = _penguins(400, seed=3).replace(",gentoo\n", ",emperor\n")
    (work / "data" / "span-2" / "data.csv").write_text(text)
    code, _, err = run_cli("run", "--config", str(work / "c.yaml"))
    assert code == EXIT_FINDINGS
    assert "species" in err and "emperor" in err


@pytest.fixture(scope="module")
def houses(tmp_path_factory):
    return _dataset(
        tmp_path_factory,
        "houses",
        _houses(900, seed=4),
        {"name": "price", "column": "price", "kind": "regression"},
        [
            {"name": "area", "kind": "numeric"},
            {"name": "rooms", "kind": "numeric"},
            {"name": "district", "kind": "categorical", "top_k": 10},
        ],
        ["district"],
    )


def test_a_regression_target_is_predicted_in_its_own_units_and_judged_by_r_squared(houses):
    work, _, config = houses
    code, out, err = run_cli("run", "--config", str(config))
    assert code == 0, err[-2000:]
    assert "BLESSED and pushed" in out
    overall = next(line for line in out.splitlines() if line.startswith("eval split, overall"))
    r_squared = float(overall.split("r_squared=")[1].split(",")[0])
    rmse = float(overall.split("root_mean_squared_error=")[1].split(",")[0])
    assert r_squared > 0.8 and 10_000 < rmse < 60_000  # the noise is 20,000: dollars, not z
    assert "quick baseline (ridge regression" in out
    run = last_run(work / "metadata.sqlite")
    assert run.key_metric_name == "r_squared"


def test_a_regression_is_served_as_a_number_and_classify_says_to_predict(houses):
    _, _, config = houses
    rows = [{"area": 100.0, "rooms": 3, "district": "centre"}]  # about 365,000
    with serving(config, "houses") as (base, _):
        code, answer = call(base, "/v1/models/houses:predict", {"instances": rows})
        refused, why = call(base, "/v1/models/houses:classify", {"examples": rows})
    assert code == 200 and 300_000 < answer["predictions"][0][0] < 430_000
    assert refused == 400 and ":predict" in why["error"]


def test_a_label_kind_that_does_not_fit_its_column_is_one_line(houses):
    work, raw, _ = houses
    wrong = {**raw, "label": {"name": "d", "column": "district", "kind": "regression"}}
    wrong["features"] = [f for f in raw["features"] if f["name"] != "district"]
    wrong["evaluation"] = {"slices": []}
    code, _, err = run_cli("run", "--config", str(write_config(wrong, work / "wrong.yaml")))
    assert code == EXIT_USER_ERROR
    [line] = [line for line in err.splitlines() if line.startswith("tfxp:")]
    assert "'district' is BYTES" in line and "regression label is a number" in line
