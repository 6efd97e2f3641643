"""A run's page says what the run ended in, in one sentence, for every outcome; slices sort
as people count; figures read as figures; nothing on a page reaches outside the file."""

from __future__ import annotations

import pytest

from components.validation import Finding, GateReport, LabelCounts, Measurement
from metadata.evaluation import ThresholdFailure, defined, slice_order
from reports import html as H
from reports.run_report import _outcome, outcome_sentence
from tests.conftest import a_run_view

FULL = {"ExampleGate": "complete", "Trainer": "complete", "Evaluator": "complete"}
GATE_ONLY = {"ExampleGate": "complete", "Trainer": "not run"}
GATE = GateReport(
    span=4,
    previous_span=3,
    label="big_tipper",
    label_counts={"train": LabelCounts(500, 0, 140)},
    previous_label_rate=0.27,
    measurements=[Measurement("fare", "drift", "Jensen-Shannon divergence", 0.4, 0.2)],
    findings=[Finding("train", "fare", "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH", "0.4 > 0.2")],
    allow=[],
)
FAILURE = ThresholdFailure("overall", "auc", 0.81, 0.85, None, None)
DROP = ThresholdFailure("overall", "auc", -0.06, None, None, -0.01, is_diff=True)  # max_drop
SLICE = ThresholdFailure(  # evaluation.slice_thresholds
    "payment_type=Credit Card", "auc", 0.62, 0.8, None, None, rule="slice_threshold", examples=412
)
QUICK = ThresholdFailure(  # evaluation.beats_baseline, margin 0.01
    "overall",
    "auc",
    0.9398,
    0.9538,
    None,
    None,
    rule="beats_baseline",
    examples=2560,
    against=0.9438,
)


@pytest.mark.parametrize(
    "facts, failures, sentence",
    [
        (
            dict(
                nodes=FULL, pushed_version=7, blessed=True, provenance={"span": "4", "auc": "0.91"}
            ),
            [],
            "Blessed and pushed as version 7, trained up to span 4 (auc 0.9100).",
        ),
        (
            dict(nodes=FULL, blessed=False),
            [FAILURE],
            "Not blessed, nothing pushed: auc 0.8100 on overall, needs >= 0.85.",
        ),
        (
            dict(nodes=FULL, blessed=False),
            [DROP],
            "Not blessed, nothing pushed: auc -0.0600 against the latest blessed model on "
            "overall, needs a change >= -0.0100.",
        ),
        (
            dict(nodes=FULL, blessed=False),
            [SLICE, QUICK],
            "Not blessed, nothing pushed: payment_type=Credit Card: auc 0.6200 fails >= 0.8 "
            "(slice threshold, 412 examples); auc 0.9398 (ours) does not beat the quick "
            "baseline's 0.9438 by 0.01: needs >= 0.9538 (both on the Trainer's 2560 eval rows).",
        ),
        (
            dict(nodes={"ExampleGate": "failed"}, gate_stopped=True, provenance={"span": "4"}),
            [],
            "Stopped by the data gate on span 4: 1 finding(s): "
            "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH on fare.",
        ),
        (
            dict(nodes=GATE_ONLY, provenance={"span": "2"}),
            [],
            "Span 2 accepted by the data gate (data only: nothing trained).",
        ),
        (
            dict(nodes=FULL, blessed=True, already_serving_version=7),
            [],
            "Blessed; the same model is already served as version 7: nothing pushed.",
        ),
        (
            dict(nodes=FULL, blessed=True, older_than_served_span=5, provenance={"span": "3"}),
            [],
            "Blessed but not pushed: the served model was trained on span 5, newer than this "
            "run's span 3.",
        ),
        (
            dict(nodes={**FULL, "Trainer": "failed"}),
            [],
            "Crashed in Trainer: a bug or the environment, not a verdict.",
        ),
        (
            dict(nodes={**FULL, "Trainer": "abandoned"}),
            [],
            "Interrupted (killed or Ctrl-C); the next run closed what it left.",
        ),
    ],
)
def test_each_outcome_has_its_sentence_at_the_top(facts, failures, sentence):
    run = a_run_view(**facts)
    assert outcome_sentence(run, GATE, failures) == sentence
    top = _outcome(run, GATE, failures)
    assert top.startswith("<p class='outcome ") and H.esc(sentence) in top
    good = run.outcome in ("pushed", "already-serving", "checked-in")
    assert ("good" in top.split("'")[1]) == good


def test_slices_sort_as_people_count_with_the_overall_first():
    names = ["trip_start_hour=10", "overall", "trip_start_hour=9", "payment_type=Cash"]
    assert sorted(names, key=slice_order) == [
        "overall",
        "payment_type=Cash",
        "trip_start_hour=9",
        "trip_start_hour=10",
    ]


def test_an_auc_without_a_positive_label_is_undefined_not_zero():
    no_positive = {"auc": 0.0, "recall": float("nan"), "example_count": 167.0}
    assert defined(no_positive) == {"auc": None, "recall": None, "example_count": 167.0}
    assert defined({"auc": 0.62, "recall": 0.5})["auc"] == 0.62


def test_figures_read_as_figures_and_undefined_is_said():
    assert [H.number(v) for v in (298.0, 1.0, 0.25, float("nan"), None, 12)] == [
        "298",
        "1.0000",
        "0.2500",
        "n/a",
        "n/a",
        "12",
    ]
    table = H.table(["a", "b"], [["<x>", None]], ["bad"])
    assert "&lt;x&gt;" in table and "<td class=na>n/a</td>" in table and "class='bad'" in table


def test_a_page_is_self_contained():
    page = H.page("t", [H.bars("b", ["x"], {"s": [0.5]}), H.line_chart("l", [("r", 0.9)])])
    assert "http" not in page.replace("http://www.w3.org", "") and "<script" not in page
    assert "src=" not in page and "<link" not in page


def test_a_multiclass_evaluation_lists_its_classes_and_moves_by_accuracy():
    from metadata.evaluation import EvaluationView, per_class

    overall = {
        "accuracy": 0.81,
        "precision/gold": 0.9,
        "recall/gold": 0.8,
        "precision/gold_diff": 0.01,  # against the served model: not a class
        "recall/gold_diff": -0.02,
        "example_count": 300.0,
    }
    assert list(per_class(overall)) == ["gold"]
    view = EvaluationView(
        candidate={"overall": overall},
        baseline={"overall": {"accuracy": 0.79, "example_count": 300.0}},
        curves=None,
        baseline_curves=None,
        failures=[],
    )
    [change] = view.changes()
    assert (change.metric, round(change.change, 2)) == ("accuracy", 0.02)
