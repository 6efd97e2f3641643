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

    return _table(tfma.load_eval_result(evaluation_uri))


def _table(result) -> dict[str, dict[str, float]]:
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


@dataclasses.dataclass(frozen=True)
class Curves:
    """The candidate's ROC, precision-recall and calibration on the whole eval split, from
    TFMA's plots (`ConfusionMatrixPlot`, `CalibrationPlot` in the eval config)."""

    roc: list[tuple[float, float]]  # (false positive rate, true positive rate)
    precision_recall: list[tuple[float, float]]  # (recall, precision)
    calibration: list[tuple[float, float, float]]  # (mean prediction, positive rate, examples)


CALIBRATION_BINS = 10


def _loaded(evaluation_uri: str, model: str | None = None):
    import tensorflow_model_analysis as tfma

    return tfma.load_eval_result(evaluation_uri, model_name=model)


def has_baseline(evaluation_uri: str) -> bool:
    """Whether the Evaluator compared the candidate with a baseline model."""
    from tensorflow_model_analysis.writers.eval_config_writer import load_eval_run

    config = load_eval_run(evaluation_uri)[0]
    return any(spec.is_baseline for spec in config.model_specs)


def overall_curves(evaluation_uri: str) -> Curves | None:
    """None when the evaluation has no plots (runs from before they were asked for)."""
    model = "candidate" if has_baseline(evaluation_uri) else None
    plots = dict(_loaded(evaluation_uri, model).plots or [])
    found = (plots.get(()) or {}).get("", {}).get("", {})  # None where nothing was plotted
    matrices = found.get("confusionMatrixAtThresholds", {}).get("matrices", [])
    buckets = found.get("calibrationHistogramBuckets", {}).get("buckets", [])
    if not matrices and not buckets:
        return None

    def rate(m: dict, key: str) -> float | None:
        value = m.get(key, 0.0)
        return None if isinstance(value, str) else float(value)  # 'NaN' arrives as text

    roc = sorted(
        {(rate(m, "falsePositiveRate"), rate(m, "recall")) for m in matrices} - {(None, None)},
        key=lambda p: (p[0] if p[0] is not None else 0.0, p[1] or 0.0),
    )
    pr = sorted(
        (r, p)
        for r, p in {(rate(m, "recall"), rate(m, "precision")) for m in matrices}
        if r is not None and p is not None
    )
    return Curves(
        roc=[(x, y) for x, y in roc if x is not None and y is not None],
        precision_recall=pr,
        calibration=_calibration(buckets),
    )


def _calibration(buckets: list[dict]) -> list[tuple[float, float, float]]:
    """TFMA's 1,000 buckets folded into 10 by predicted score: each bin's mean prediction
    against its observed positive rate, and its example count."""
    sums = [[0.0, 0.0, 0.0] for _ in range(CALIBRATION_BINS)]
    for bucket in buckets:
        low = bucket.get("lowerThresholdInclusive", 0.0)
        low = 0.0 if isinstance(low, str) else float(low)  # '-Infinity' for the first
        index = min(CALIBRATION_BINS - 1, max(0, int(low * CALIBRATION_BINS)))
        sums[index][0] += float(bucket.get("totalWeightedRefinedPrediction", 0.0))
        sums[index][1] += float(bucket.get("totalWeightedLabel", 0.0))
        sums[index][2] += float(bucket.get("numWeightedExamples", 0.0))
    return [(p / n, label / n, n) for p, label, n in sums if n > 0]


@dataclasses.dataclass(frozen=True)
class SliceChange:
    """One slice's metric, candidate against the baseline model on the same examples."""

    slice: str
    candidate: float
    baseline: float
    examples: int

    @property
    def change(self) -> float:
        return self.candidate - self.baseline


def slice_changes(evaluation_uri: str, metric: str = "auc") -> list[SliceChange]:
    """Per slice, the candidate's `metric` against the baseline's, largest move first; slices
    where either is undefined are left out. Empty without a baseline."""
    baseline = baseline_metrics(evaluation_uri)
    if not baseline:
        return []
    changes = []
    for name, metrics in _table(_loaded(evaluation_uri, "candidate")).items():
        now, then = defined(metrics).get(metric), defined(baseline.get(name, {})).get(metric)
        if now is not None and then is not None:
            count = int(metrics.get("example_count", 0))
            changes.append(SliceChange(name, now, then, count))
    return sorted(changes, key=lambda c: (-abs(c.change), slice_order(c.slice)))


def baseline_metrics(evaluation_uri: str) -> dict[str, dict[str, float]]:
    """{slice: {metric: value}} of the baseline model on the same examples; empty without."""
    return _table(_loaded(evaluation_uri, "baseline")) if has_baseline(evaluation_uri) else {}
