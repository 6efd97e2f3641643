"""What an Evaluator's output says: metrics per slice and the thresholds a model failed.

The one reader of TFMA results: the run outcome, lineage and run diffs all use it.
"""

from __future__ import annotations

import dataclasses

OVERALL = "overall"  # the whole eval split: TFMA's empty slice key


@dataclasses.dataclass(frozen=True)
class ThresholdFailure:
    """One metric on one slice that missed its threshold, with the bounds it missed."""

    slice: str
    metric: str
    value: float
    lower_bound: float | None
    upper_bound: float | None
    min_change: float | None  # against the baseline model


def _slice_name(items) -> str:
    return ", ".join(f"{column}={value}" for column, value in items) or OVERALL


def slice_metrics(evaluation_uri: str) -> dict[str, dict[str, float]]:
    """{slice: {metric: value}} of the candidate model; scalar metrics only."""
    import tensorflow_model_analysis as tfma

    result = tfma.load_eval_result(evaluation_uri)
    table: dict[str, dict[str, float]] = {}
    for slice_key, metrics in result.slicing_metrics:
        for metric, value in metrics.get("", {}).get("", {}).items():
            number = next(iter(value.values()), None) if isinstance(value, dict) else None
            if isinstance(number, (int, float)) and not isinstance(number, bool):
                table.setdefault(_slice_name(slice_key), {})[metric] = float(number)
    return table


def slice_order(name: str) -> list:
    """How slices sort for a person: the overall first, then 'hour=9' before 'hour=10'."""
    import re

    if name == OVERALL:
        return [0]
    return [1] + [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def defined(metrics: dict[str, float]) -> dict[str, float | None]:
    """The metrics with the undefined ones as None: TFMA reports an AUC of 0 for a slice with
    no positive label (its recall is NaN), and NaN for others."""
    shown: dict[str, float | None] = {k: (None if v != v else v) for k, v in metrics.items()}
    if "auc" in shown and shown.get("recall") is None:
        shown["auc"] = None
    return shown


def overall_metrics(evaluation_uri: str) -> dict[str, float]:
    return slice_metrics(evaluation_uri).get(OVERALL, {})


def threshold_failures(evaluation_uri: str) -> list[ThresholdFailure]:
    """Why a model was not blessed: each failed threshold on each slice."""
    import tensorflow_model_analysis as tfma

    failures = []
    for per_slice in tfma.load_validation_result(evaluation_uri).metric_validations_per_slice:
        keys = [
            (k.column, k.bytes_value.decode() or k.int64_value or k.float_value)
            for k in per_slice.slice_key.single_slice_keys
        ]
        for failure in per_slice.failures:
            threshold = failure.metric_threshold
            bounds = threshold.value_threshold
            failures.append(
                ThresholdFailure(
                    slice=_slice_name(keys),
                    metric=failure.metric_key.name,
                    value=failure.metric_value.double_value.value,
                    lower_bound=bounds.lower_bound.value
                    if bounds.HasField("lower_bound")
                    else None,
                    upper_bound=bounds.upper_bound.value
                    if bounds.HasField("upper_bound")
                    else None,
                    min_change=(
                        threshold.change_threshold.absolute.value
                        if threshold.HasField("change_threshold")
                        else None
                    ),
                )
            )
    return failures
