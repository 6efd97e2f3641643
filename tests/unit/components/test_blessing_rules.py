"""Our blessing rules judged on what TFMA and the Trainer measured: a named slice below its bound
fails, a slice too small (or absent, or with one class) is not judged, and the candidate must
beat the quick baseline by the margin; a rule that cannot be judged never blocks."""

from __future__ import annotations

import os

import pytest
from tfx.types import standard_artifacts

from components.blessing_rules import BeatsBaseline, BlessingRules, SliceThreshold, judge
from components.evaluator import withhold_blessing
from metadata.evaluation import (
    BEATS_BASELINE,
    FAILED,
    NOT_JUDGED,
    PASSED,
    RULE_CHECKS_FILE,
    SLICE_THRESHOLD,
    rule_checks,
    rule_checks_json,
)

TABLE = {  # the candidate's metrics per slice, as metadata.evaluation.slice_metrics reads them
    "overall": {"auc": 0.91, "recall": 0.7, "example_count": 2000.0},
    "payment_type=Credit Card": {"auc": 0.62, "recall": 0.6, "example_count": 412.0},
    "payment_type=Cash": {"auc": 0.0, "recall": float("nan"), "example_count": 900.0},
    "trip_start_hour=3": {"auc": 0.55, "recall": 0.5, "example_count": 40.0},
    "payment_type=Credit Card, trip_start_hour=3": {
        "auc": 0.95,
        "recall": 0.9,
        "example_count": 150.0,
    },
}
QUICK = {
    "model": "logistic regression",
    "eval_rows": 2560,
    "metric": "auc",
    "baseline": 0.9398,
    "ours": 0.9438,
}


def _slice(column_values: dict, **bounds) -> SliceThreshold:
    return SliceThreshold(slice=tuple(sorted(column_values.items())), metric="auc", **bounds)


def _verdicts(rules: BlessingRules, quick=QUICK) -> list[tuple[str, str]]:
    return [(c.verdict, c.reason) for c in judge(rules, TABLE, quick)]


@pytest.mark.parametrize(
    "threshold, verdict",
    [
        (_slice({"payment_type": "Credit Card"}, lower_bound=0.8, min_examples=200), FAILED),
        (_slice({"payment_type": "Credit Card"}, lower_bound=0.6, min_examples=200), PASSED),
        (_slice({"payment_type": "Credit Card"}, upper_bound=0.6), FAILED),
        (_slice({"payment_type": "Credit Card"}, lower_bound=0.62), PASSED),  # a tie passes
        # A cross, named in the config in any column order: TFMA sorts a cross's columns.
        (_slice({"trip_start_hour": 3, "payment_type": "Credit Card"}, lower_bound=0.9), PASSED),
    ],
)
def test_a_slice_is_judged_against_its_bounds(threshold, verdict):
    (check,) = judge(BlessingRules(slice_thresholds=(threshold,)), TABLE, QUICK)
    assert (check.rule, check.verdict) == (SLICE_THRESHOLD, verdict)
    assert check.examples == int(TABLE[check.slice]["example_count"])
    assert check.value == TABLE[check.slice]["auc"]


@pytest.mark.parametrize(
    "threshold, reason",
    [
        (
            _slice({"trip_start_hour": 3}, lower_bound=0.8),  # min_examples 100 by default
            "too few examples: 40 in the eval split, min_examples 100",
        ),
        (
            _slice({"payment_type": "Credit Card"}, lower_bound=0.8, min_examples=500),
            "too few examples: 412 in the eval split, min_examples 500",
        ),
        (  # the eval split has no such trips: TFMA computed no slice
            _slice({"payment_type": "Bitcoin"}, lower_bound=0.8, min_examples=1),
            "too few examples: 0 in the eval split, min_examples 1",
        ),
        (  # TFMA's AUC of 0 where there is no positive label is no AUC
            _slice({"payment_type": "Cash"}, lower_bound=0.8),
            "auc is undefined on this slice (one class only)",
        ),
    ],
)
def test_a_slice_that_cannot_be_judged_says_why_and_does_not_fail(threshold, reason):
    assert _verdicts(BlessingRules(slice_thresholds=(threshold,))) == [(NOT_JUDGED, reason)]


def test_a_slice_too_small_in_the_evaluators_sample_says_a_larger_sample_would_judge_it():
    rules = BlessingRules(slice_thresholds=(_slice({"trip_start_hour": 3}, lower_bound=0.8),))
    (check,) = judge(rules, TABLE, QUICK, sampled=True)
    assert (check.verdict, check.reason) == (
        NOT_JUDGED,
        "too few examples: 40 in the eval split's sample, min_examples 100 "
        "(a larger evaluation.max_examples judges it)",
    )


@pytest.mark.parametrize(
    "margin, quick, verdict",
    [
        (0.0, QUICK, PASSED),
        (0.004, QUICK, PASSED),  # 0.9438 against 0.9398 + 0.004: a tie passes
        (0.01, QUICK, FAILED),
        (0.5, QUICK, FAILED),
        (-0.01, dict(QUICK, ours=0.935), PASSED),  # a negative margin tolerates a loss
        (0.0, dict(QUICK, baseline=None), NOT_JUDGED),  # one class in the Trainer's batches
        (0.0, dict(QUICK, metric="accuracy"), NOT_JUDGED),  # not the figure the rule names
        (0.0, None, NOT_JUDGED),  # the Trainer wrote no quick baseline
    ],
)
def test_the_candidate_must_beat_the_quick_baseline_by_the_margin(margin, quick, verdict):
    (check,) = judge(BlessingRules(beats_baseline=BeatsBaseline("auc", margin)), TABLE, quick)
    assert (check.rule, check.verdict) == (BEATS_BASELINE, verdict)
    if verdict != NOT_JUDGED:
        assert (check.value, check.against) == (quick["ours"], quick["baseline"])
        assert check.lower_bound == pytest.approx(quick["baseline"] + margin)
    else:
        assert check.reason


def test_no_rules_no_checks():
    assert judge(BlessingRules(), TABLE, QUICK) == []


def test_the_rules_survive_the_json_round_trip_to_the_executor():
    rules = BlessingRules(
        beats_baseline=BeatsBaseline("auc", 0.01),
        slice_thresholds=(
            _slice({"payment_type": "Credit Card", "trip_start_hour": 3}, lower_bound=0.8),
        ),
    )
    assert BlessingRules.from_json(rules.to_json()) == rules
    assert BlessingRules.from_json("") == BlessingRules()


def test_the_checks_are_read_back_from_the_evaluation_folder(tmp_path):
    rules = BlessingRules(
        beats_baseline=BeatsBaseline("auc", 0.5),
        slice_thresholds=(_slice({"trip_start_hour": 3}, lower_bound=0.8),),
    )
    checks = judge(rules, TABLE, QUICK)
    (tmp_path / RULE_CHECKS_FILE).write_text(rule_checks_json(checks))
    assert rule_checks(str(tmp_path)) == checks
    assert rule_checks(str(tmp_path / "an-evaluation-made-before-the-rules")) == []


def test_a_withheld_blessing_is_written_as_tfx_writes_not_blessed(tmp_path):
    """The file LatestBlessedModelStrategy's users look for and the property it and
    BlessedPusher read."""
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(tmp_path)
    (tmp_path / "BLESSED").write_text("")
    blessing.set_int_custom_property("blessed", 1)
    withhold_blessing(blessing)
    assert os.listdir(tmp_path) == ["NOT_BLESSED"]
    assert blessing.get_int_custom_property("blessed") == 0
