"""Blessing rules TFX's Evaluator cannot express, judged on what it computed.

- `beats_baseline`: our model must beat the quick baseline (`models/quick_baseline.py`, the
  linear model the Trainer fits on the same transformed features) by at least `margin` on
  `metric`, the label kind's key metric, both measured by the Trainer on the same eval rows.
  A tie at margin 0 passes.
- `slice_thresholds`: a named slice's metric within bounds. TFMA's own per-slice thresholds
  would block a model on a slice of three examples; here a slice with fewer than
  `min_examples` examples in the eval split is not judged, and says so.

A rule that cannot be judged (the quick baseline had one class, a slice is small or absent, a
metric undefined on it) never blocks: it is reported as not judged. The Evaluator
(`components/evaluator.py`) applies them after TFMA, identically locally and on Kubeflow.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from metadata.evaluation import (
    BEATS_BASELINE,
    FAILED,
    NOT_JUDGED,
    OVERALL,
    PASSED,
    SLICE_THRESHOLD,
    RuleCheck,
    defined,
    slice_name,
)
from models.quick_baseline import KEY_METRICS

BASELINE_METRICS = KEY_METRICS  # what the quick baseline measures, per label kind
DEFAULT_MIN_EXAMPLES = 100  # below it a slice's AUC moves by about 0.05 between samples

SliceValue = str | int | float


@dataclasses.dataclass(frozen=True)
class BeatsBaseline:
    metric: str = "auc"
    margin: float = 0.0


@dataclasses.dataclass(frozen=True)
class SliceThreshold:
    """Bounds on one slice's metric: `slice` is ((column, value), ...), one configured slice's
    columns (a single column or a cross)."""

    slice: tuple[tuple[str, SliceValue], ...]
    metric: str
    lower_bound: float | None = None
    upper_bound: float | None = None
    min_examples: int = DEFAULT_MIN_EXAMPLES

    @property
    def name(self) -> str:
        return slice_name(self.slice)


@dataclasses.dataclass(frozen=True)
class BlessingRules:
    """The config's `evaluation.beats_baseline` and `evaluation.slice_thresholds`. Travels to
    the Evaluator as one JSON execution property, so a change re-evaluates (cache key)."""

    beats_baseline: BeatsBaseline | None = None
    slice_thresholds: tuple[SliceThreshold, ...] = ()

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BlessingRules:
        raw = json.loads(text or "{}")
        beats = raw.get("beats_baseline")
        return cls(
            beats_baseline=BeatsBaseline(**beats) if beats else None,
            slice_thresholds=tuple(
                SliceThreshold(**{**t, "slice": tuple(tuple(item) for item in t["slice"])})
                for t in raw.get("slice_thresholds", ())
            ),
        )


def judge(
    rules: BlessingRules,
    table: Mapping[str, Mapping[str, float]],
    quick_baseline: Mapping[str, Any] | None,
    sampled: bool = False,
) -> list[RuleCheck]:
    """Each rule's verdict. `table` is the candidate's {slice: {metric: value}} on the eval
    split (`metadata.evaluation.slice_metrics`); `quick_baseline` the Trainer's comparison
    (`models.quick_baseline.compare`), None when the Trainer wrote none."""
    checks = [_slice_check(t, table, sampled) for t in rules.slice_thresholds]
    if rules.beats_baseline is not None:
        checks.append(_baseline_check(rules.beats_baseline, quick_baseline))
    return checks


def _slice_check(
    threshold: SliceThreshold, table: Mapping[str, Mapping[str, float]], sampled: bool = False
) -> RuleCheck:
    metrics = table.get(threshold.name, {})
    examples = int(metrics.get("example_count", 0))
    value = defined(dict(metrics)).get(threshold.metric)
    check = RuleCheck(
        rule=SLICE_THRESHOLD,
        slice=threshold.name,
        metric=threshold.metric,
        verdict=NOT_JUDGED,
        value=value,
        lower_bound=threshold.lower_bound,
        upper_bound=threshold.upper_bound,
        examples=examples,
        min_examples=threshold.min_examples,
    )
    if examples < threshold.min_examples:
        return dataclasses.replace(
            check,
            reason=(
                f"too few examples: {examples} in the eval split's sample, min_examples "
                f"{threshold.min_examples} (a larger evaluation.max_examples judges it)"
                if sampled
                else f"too few examples: {examples} in the eval split, "
                f"min_examples {threshold.min_examples}"
            ),
        )
    if value is None:
        return dataclasses.replace(
            check, reason=f"{threshold.metric} is undefined on this slice (one class only)"
        )
    low, high = threshold.lower_bound, threshold.upper_bound
    missed = (low is not None and value < low) or (high is not None and value > high)
    return dataclasses.replace(check, verdict=FAILED if missed else PASSED)


def _baseline_check(rule: BeatsBaseline, quick: Mapping[str, Any] | None) -> RuleCheck:
    same = (quick or {}).get("metric") == rule.metric  # the figure the Trainer compared
    theirs = (quick or {}).get("baseline") if same else None
    ours = (quick or {}).get("ours") if same else None
    check = RuleCheck(
        rule=BEATS_BASELINE,
        slice=OVERALL,
        metric=rule.metric,
        verdict=NOT_JUDGED,
        value=ours,
        examples=(quick or {}).get("eval_rows"),
        against=theirs,
        margin=rule.margin,
    )
    if quick is None:
        return dataclasses.replace(check, reason="the Trainer wrote no quick baseline")
    if quick.get("metric") != rule.metric:
        return dataclasses.replace(
            check, reason=f"the quick baseline measured {quick.get('metric')}, not {rule.metric}"
        )
    if theirs is None or ours is None:
        return dataclasses.replace(
            check,
            reason="the quick baseline could not be measured (one class in the Trainer's batches)",
        )
    needed = theirs + rule.margin
    return dataclasses.replace(
        check, lower_bound=needed, verdict=PASSED if ours >= needed else FAILED
    )
