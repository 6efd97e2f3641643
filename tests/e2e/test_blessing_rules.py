"""Our blessing rules on real runs: one hour of the day with random labels (a slice the model
cannot learn, about 65 eval examples) and a threshold on it.

Two runs on one store, the same data and model: the first has the slice threshold and a quick
baseline margin no model meets, and is not blessed for both, each named; the second raises the
slice's `min_examples` above its size and drops the margin, so the Evaluator runs again (the
rules are in its cache key) and blesses the same model, saying the slice was not judged.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from tests.conftest import small_config_dict, write_config, write_sample
from tests.e2e.conftest import last_run, run_cli
from tests.e2e.test_error_analysis import NOISY_HOUR, ROWS, _random_labels_at_the_noisy_hour

HOUR_THRESHOLD = {
    "slice": {"trip_start_hour": int(NOISY_HOUR)},
    "metric": "auc",
    "lower_bound": 0.8,
    "min_examples": 10,
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    work = tmp_path_factory.mktemp("blessing-rules")
    data = write_sample(work / "data", ROWS, edit=_random_labels_at_the_noisy_hour)
    raw = small_config_dict(work, data.parent.parent)
    results = {"metadata": work / "metadata.sqlite", "serving": work / "serving"}

    def run(name: str, **evaluation) -> None:
        config = dict(raw, evaluation=dict(raw["evaluation"], **evaluation))
        code, out, err = run_cli(
            "run", "--config", str(write_config(config, work / f"{name}.yaml"))
        )
        assert code == 0, err[-2000:]
        served = (
            sorted(p.name for p in results["serving"].iterdir())
            if results["serving"].exists()
            else []
        )
        results[name] = dict(out=out, run=last_run(results["metadata"]), served=served)

    run(
        "blocked",
        slice_thresholds=[HOUR_THRESHOLD],
        beats_baseline={"metric": "auc", "margin": 0.5},
    )
    run("small_slice", slice_thresholds=[dict(HOUR_THRESHOLD, min_examples=10000)])
    return results


def _why_not(out: str) -> str:
    return out.split("NOT BLESSED", 1)[1].split("\nmetadata: ", 1)[0]


def test_a_slice_below_its_bound_blocks_blessing_and_is_named_with_its_value(runs):
    blocked = runs["blocked"]
    assert blocked["run"].blessed is False and blocked["served"] == []
    (value, examples) = re.search(
        rf"^  trip_start_hour={NOISY_HOUR}: auc (0\.\d{{4}}) fails >= 0\.8 "
        r"\(slice threshold, (\d+) examples\)$",
        _why_not(blocked["out"]),
        flags=re.MULTILINE,
    ).groups()
    assert float(value) < 0.8 and int(examples) >= 10


def test_the_quick_baseline_margin_blocks_blessing_and_names_both_aucs(runs):
    out = runs["blocked"]["out"]
    theirs, ours = re.search(r"auc (0\.\d{4}) against ours (0\.\d{4})", out).groups()
    line = (
        f"auc {ours} (ours) does not beat the quick baseline's {theirs} by 0.5: needs >= "
        f"{float(theirs) + 0.5:.4f}"
    )
    assert line in _why_not(out)


def test_the_blessing_says_not_blessed_as_tfx_writes_it_and_the_page_and_json_say_why(runs):
    run = runs["blocked"]["run"]
    evaluation = pathlib.Path(run.evaluation_uri)
    blessing = evaluation.parent.parent / "blessing" / evaluation.name  # the same execution
    assert sorted(p.name for p in blessing.iterdir()) == ["NOT_BLESSED"]
    page = next(line for line in runs["blocked"]["out"].splitlines() if line.startswith("report: "))
    html = open(page.removeprefix("report: "), encoding="utf-8").read()
    why = html.split("id=why-not>", 1)[1].split("</div>", 1)[0]
    assert f"trip_start_hour={NOISY_HOUR}: auc" in why and "quick baseline" in why
    code, out, _ = run_cli("runs", "--metadata", str(runs["metadata"]), "--json")
    listed = {r["run"]: r for r in json.loads(out)}[run.run]
    assert listed["outcome"] == "not-blessed"
    why_json = listed["provenance"]["why_not_blessed"]
    assert {(f["rule"], f["slice"]) for f in why_json} == {
        ("slice_threshold", f"trip_start_hour={NOISY_HOUR}"),
        ("beats_baseline", "overall"),
    }


def test_a_slice_smaller_than_min_examples_is_not_judged_and_does_not_block(runs):
    small = runs["small_slice"]
    assert small["run"].nodes["Evaluator"] == "complete"  # the rules key its cache
    assert small["run"].pushed_version is not None and len(small["served"]) == 1
    assert "BLESSED and pushed" in small["out"]
    assert re.search(
        rf"^  not judged: trip_start_hour={NOISY_HOUR}: auc: too few examples: \d+ in the eval "
        r"split, min_examples 10000$",
        small["out"],
        flags=re.MULTILINE,
    )
