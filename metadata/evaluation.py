"""What an Evaluator's output says: metrics per slice, the thresholds a model failed (TFMA's
and our blessing rules', `components/blessing_rules.py`), the baseline's figures on the same
examples and the curves (ROC, precision-recall, calibration).

The one reader of TFMA results: the run outcome, lineage, run diffs and the run page all use
it. Metrics are read without the plots (a plots file is megabytes; the metrics are what most
readers want); `read_evaluation` reads each file once for a page.
"""

from __future__ import annotations

import dataclasses
import json

OVERALL = "overall"  # the whole eval split: TFMA's empty slice key
# The metrics a person is shown, in this order, wherever an evaluation is printed.
SHOWN_METRICS = (
    "auc",
    "auc_precision_recall",
    "f1_score",
    "precision",
    "recall",
    "binary_accuracy",
    "calibration",
    "accuracy",  # multiclass
    "macro_f1_score",
    "r_squared",  # regression
    "root_mean_squared_error",
    "mean_absolute_error",
)


def shown_metrics(table: dict[str, dict[str, float]]) -> tuple[str, ...]:
    """The shown metrics an evaluation holds (its label kind's), in the shown order."""
    held = {metric for metrics in table.values() for metric in metrics}
    return tuple(m for m in SHOWN_METRICS if m in held)


def key_metric(metrics: dict[str, float]) -> str:
    """The label kind's key metric of an evaluation: AUC, accuracy (multiclass) or R²."""
    return next((m for m in ("accuracy", "r_squared") if m in metrics), "auc")


# The accuracy the error analysis counts errors by, and what an error is, by label kind.
_ERRORS = {
    "accuracy": "the top-scored class is not the true one",  # multiclass
    "binary_accuracy": "at a score of 0.5",
}


def _error_measure(metrics: dict[str, float]) -> str | None:
    """The accuracy an evaluation's errors are counted by; None for a regression."""
    return next((m for m in _ERRORS if m in metrics), None)


def error_counted(metrics: dict[str, float]) -> str | None:
    """What counts as an error in the error analysis, by the evaluation's label kind; None
    for a regression, whose errors are not counted but measured (RMSE, MAE per slice)."""
    measure = _error_measure(metrics)
    return _ERRORS[measure] if measure else None


def per_class(metrics: dict[str, float]) -> dict[str, tuple[float | None, float | None]]:
    """{class: (precision, recall)} of a multiclass evaluation's metrics (empty otherwise);
    None where undefined (a class never predicted, or absent)."""
    classes = [
        k.split("/", 1)[1]
        for k in metrics
        if k.startswith("precision/") and not k.endswith("_diff")  # a change against a baseline
    ]
    defined_ = {k: (None if v != v else v) for k, v in metrics.items()}
    return {c: (defined_.get(f"precision/{c}"), defined_.get(f"recall/{c}")) for c in classes}


# Which rule a threshold belongs to: TFMA's (the config's `evaluation.thresholds`) or ours.
TFMA_THRESHOLD = "threshold"
SLICE_THRESHOLD = "slice_threshold"  # `evaluation.slice_thresholds`
BEATS_BASELINE = "beats_baseline"  # `evaluation.beats_baseline`: against the quick baseline
RULE_CHECKS_FILE = "blessing_rules.json"  # our rules' verdicts, in the evaluation folder
PASSED, FAILED, NOT_JUDGED = "passed", "failed", "not judged"


@dataclasses.dataclass(frozen=True)
class ThresholdFailure:
    """One metric on one slice that missed its threshold, with the bounds it missed."""

    slice: str
    metric: str
    value: float
    lower_bound: float | None
    upper_bound: float | None
    min_change: float | None  # against the baseline model
    is_diff: bool = False  # `value` is the change against the baseline, not the metric
    rule: str = TFMA_THRESHOLD
    examples: int | None = None  # a slice threshold's slice size in the eval split
    against: float | None = None  # beats_baseline: the quick baseline's value (ours is `value`)
    lower_is_better: bool = False  # an error (RMSE, MAE): its change is bounded from above

    @property
    def needed_change(self) -> str:
        """The change against the baseline the model needed: `>= -0.0100` for a score, `<=
        0.0100` for an error, which may grow by at most its `max_drop`."""
        change = self.min_change if self.min_change is not None else 0.0
        return f"{'<=' if self.lower_is_better else '>='} {change:.4f}"


@dataclasses.dataclass(frozen=True)
class RuleCheck:
    """One of our blessing rules judged on one evaluation: passed, failed, or not judged (and
    why). Written by the Evaluator beside TFMA's files (`RULE_CHECKS_FILE`); a failure blocks
    blessing as a failed TFMA threshold does, a rule not judged does not."""

    rule: str  # SLICE_THRESHOLD or BEATS_BASELINE
    slice: str  # as `slice_metrics` names it; OVERALL for the quick baseline
    metric: str
    verdict: str  # PASSED, FAILED or NOT_JUDGED
    value: float | None  # ours; None when not measured
    lower_bound: float | None = None
    upper_bound: float | None = None
    examples: int | None = None  # the slice's examples in the eval split
    min_examples: int | None = None
    against: float | None = None  # beats_baseline: the quick baseline's value
    margin: float | None = None  # beats_baseline: by how much ours must beat it
    reason: str = ""  # why not judged

    def failure(self) -> ThresholdFailure:
        return ThresholdFailure(
            slice=self.slice,
            metric=self.metric,
            value=self.value if self.value is not None else float("nan"),
            lower_bound=self.lower_bound,
            upper_bound=self.upper_bound,
            min_change=None,
            rule=self.rule,
            examples=self.examples,
            against=self.against,
        )


def rule_checks_json(checks: list[RuleCheck]) -> str:
    """What the Evaluator writes to `RULE_CHECKS_FILE`."""
    return json.dumps({"checks": [dataclasses.asdict(c) for c in checks]}, indent=1)


def rule_checks(evaluation_uri: str) -> list[RuleCheck]:
    """Our blessing rules' verdicts on an evaluation; none for an evaluation made without
    them (or before they existed)."""
    from tfx.dsl.io import fileio

    path = f"{evaluation_uri.rstrip('/')}/{RULE_CHECKS_FILE}"
    if not fileio.exists(path):
        return []
    with fileio.open(path) as f:
        return [RuleCheck(**c) for c in json.loads(f.read())["checks"]]


EVAL_SAMPLE_FILE = "eval_sample.json"  # how many eval rows the Evaluator judged, of how many


@dataclasses.dataclass(frozen=True)
class EvalSample:
    """The eval rows an evaluation judged: all of them, or a deterministic sample of
    `evaluated` rows when the split held more than `max_examples` (`components.eval_sample`)."""

    eval_rows: int
    evaluated_rows: int
    max_examples: int | None

    @property
    def sampled(self) -> bool:
        return self.evaluated_rows < self.eval_rows

    def text(self) -> str:
        if not self.sampled:
            return f"all {self.eval_rows:,} eval rows"
        return (
            f"a deterministic sample of {self.evaluated_rows:,} of {self.eval_rows:,} eval rows "
            "(evaluation.max_examples)"
        )


def eval_sample(evaluation_uri: str) -> EvalSample | None:
    """The rows an evaluation judged; None for one made before samples were recorded."""
    from tfx.dsl.io import fileio

    path = f"{evaluation_uri.rstrip('/')}/{EVAL_SAMPLE_FILE}"
    if not fileio.exists(path):
        return None
    with fileio.open(path) as f:
        return EvalSample(**json.loads(f.read()))


def rule_failure_text(failure: ThresholdFailure) -> str:
    """One of our rules' failures as a person reads it (the run's summary and its page)."""
    if failure.rule == BEATS_BASELINE:
        margin = (failure.lower_bound or 0.0) - (failure.against or 0.0)
        return (
            f"{failure.metric} {failure.value:.4f} (ours) does not beat the quick baseline's "
            f"{failure.against:.4f} by {margin:g}: needs >= {failure.lower_bound:.4f} (both on "
            f"the Trainer's {failure.examples} eval rows)"
        )
    return (
        f"{failure.slice}: {failure.metric} {failure.value:.4f} fails "
        f"{_bounds(failure.lower_bound, failure.upper_bound)} "
        f"(slice threshold, {failure.examples} examples)"
    )


def rule_check_text(check: RuleCheck) -> str:
    """A rule's verdict as a person reads it: the failure, what passed, or why not judged."""
    if check.verdict == FAILED:
        return f"FAILED: {rule_failure_text(check.failure())}"
    what = (
        f"beats the quick baseline ({check.metric}, margin {check.margin:g})"
        if check.rule == BEATS_BASELINE
        else f"{check.slice}: {check.metric}"
    )
    if check.verdict == NOT_JUDGED:
        return f"not judged: {what}: {check.reason}"
    if check.rule == BEATS_BASELINE:
        return (
            f"passed: {what}: ours {check.value:.4f} against {check.against:.4f} "
            f"(both on the Trainer's {check.examples} eval rows)"
        )
    bounds = _bounds(check.lower_bound, check.upper_bound)
    return f"passed: {what} {check.value:.4f} {bounds} ({check.examples} examples)"


def _bounds(lower: float | None, upper: float | None) -> str:
    """`>= 0.8 and <= 0.95`, the bounds a slice threshold gives."""
    said = [f">= {lower:g}"] if lower is not None else []
    return " and ".join(said + ([f"<= {upper:g}"] if upper is not None else []))


def slice_name(items) -> str:
    """A slice as a person reads it, `payment_type=Cash, trip_start_hour=9`: columns sorted, as
    TFMA keys a cross; OVERALL for none."""
    return ", ".join(f"{column}={value}" for column, value in sorted(items)) or OVERALL


def _metric_tables(evaluation_uri: str, models: tuple[str | None, ...]) -> list[dict]:
    """{slice: {metric: value}} per model asked for, from one read of the metrics file."""
    from tensorflow_model_analysis.view.util import convert_metrics_proto_to_dict
    from tensorflow_model_analysis.writers.metrics_plots_and_validations_writer import (
        load_and_deserialize_metrics,
    )

    protos = list(load_and_deserialize_metrics(evaluation_uri))
    tables = []
    for model in models:
        converted = [convert_metrics_proto_to_dict(p, model_name=model) for p in protos]
        tables.append(_table([c for c in converted if c is not None]))
    return tables


def slice_metrics(evaluation_uri: str) -> dict[str, dict[str, float]]:
    """{slice: {metric: value}} of the candidate model (with its `*_diff` against a baseline,
    when there is one); scalar metrics only."""
    return _metric_tables(evaluation_uri, (None,))[0]


def _table(slicing_metrics) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for slice_key, metrics in slicing_metrics:
        for metric, value in metrics.get("", {}).get("", {}).items():
            number = next(iter(value.values()), None) if isinstance(value, dict) else None
            if isinstance(number, (int, float)) and not isinstance(number, bool):
                table.setdefault(slice_name(slice_key), {})[metric] = float(number)
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


def threshold_failures(
    evaluation_uri: str, checks: list[RuleCheck] | None = None
) -> list[ThresholdFailure]:
    """Why a model was not blessed: each failed threshold on each slice, TFMA's and then our
    rules' (`checks`, when the caller has read them already)."""
    import tensorflow_model_analysis as tfma

    failures = []
    for per_slice in tfma.load_validation_result(evaluation_uri).metric_validations_per_slice:
        keys = [
            (k.column, k.bytes_value.decode() or k.int64_value or k.float_value)
            for k in per_slice.slice_key.single_slice_keys
        ]
        for failure in per_slice.failures:
            threshold = failure.metric_threshold
            is_diff = failure.metric_key.is_diff  # judged on the change: its bounds only
            bounds = threshold.value_threshold if not is_diff else type(threshold.value_threshold)()
            failures.append(
                ThresholdFailure(
                    slice=slice_name(keys),
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
                        if is_diff and threshold.HasField("change_threshold")
                        else None
                    ),
                    is_diff=is_diff,
                    lower_is_better=threshold.change_threshold.direction
                    == tfma.MetricDirection.LOWER_IS_BETTER,
                )
            )
    checks = rule_checks(evaluation_uri) if checks is None else checks
    return failures + [c.failure() for c in checks if c.verdict == FAILED]


@dataclasses.dataclass(frozen=True)
class Curves:
    """A model's ROC, precision-recall and calibration on the whole eval split, from TFMA's
    plots (`ConfusionMatrixPlot`, `CalibrationPlot` in the eval config)."""

    roc: list[tuple[float, float]]  # (false positive rate, true positive rate)
    precision_recall: list[tuple[float, float]]  # (recall, precision)
    calibration: list[tuple[float, float, float]]  # (mean prediction, positive rate, examples)


CALIBRATION_BINS = 10


@dataclasses.dataclass(frozen=True)
class SliceChange:
    """One slice's metric, candidate against the baseline model on the same examples."""

    slice: str
    candidate: float
    baseline: float
    examples: int
    metric: str = "auc"

    @property
    def change(self) -> float:
        return self.candidate - self.baseline


@dataclasses.dataclass(frozen=True)
class EvaluationView:
    """One evaluation as a page shows it. `baseline` is empty and `baseline_curves` None when
    the Evaluator had no baseline model; the curves are None for evaluations made before they
    were computed."""

    candidate: dict[str, dict[str, float]]
    baseline: dict[str, dict[str, float]]
    curves: Curves | None
    baseline_curves: Curves | None
    failures: list[ThresholdFailure]
    rule_checks: list[RuleCheck] = dataclasses.field(default_factory=list)  # ours, all verdicts
    sample: EvalSample | None = None  # the eval rows judged (None: made before it was recorded)

    def changes(self, metric: str | None = None) -> list[SliceChange]:
        """Per slice, the candidate's `metric` (by default the label kind's key metric)
        against the baseline's, largest move first; slices where either is undefined are
        left out."""
        metric = metric or key_metric(self.candidate.get(OVERALL, {}))
        found = []
        for name, metrics in self.candidate.items():
            now = defined(metrics).get(metric)
            then = defined(self.baseline.get(name, {})).get(metric)
            if now is not None and then is not None:
                examples = int(metrics.get("example_count", 0))
                found.append(SliceChange(name, now, then, examples, metric))
        return sorted(found, key=lambda c: (-abs(c.change), slice_order(c.slice)))


def read_evaluation(evaluation_uri: str) -> EvaluationView:
    """Each of the evaluation's files read once."""
    from tensorflow_model_analysis.view.util import convert_plots_proto_to_dict
    from tensorflow_model_analysis.writers.eval_config_writer import load_eval_run
    from tensorflow_model_analysis.writers.metrics_plots_and_validations_writer import (
        load_and_deserialize_plots,
    )

    config = load_eval_run(evaluation_uri)[0]
    checks = rule_checks(evaluation_uri)
    with_baseline = any(spec.is_baseline for spec in config.model_specs)
    models = ("candidate", "baseline") if with_baseline else (None,)
    tables = _metric_tables(evaluation_uri, models)
    plots = [  # the overall slice's: the only ones a page draws
        p
        for p in load_and_deserialize_plots(evaluation_uri)
        if not p.slice_key.single_slice_keys and not p.HasField("cross_slice_key")
    ]
    curves = []
    for model in models:
        converted = [convert_plots_proto_to_dict(p, model_name=model) for p in plots]
        overall = dict(c for c in converted if c is not None).get(())
        curves.append(curves_from((overall or {}).get("", {}).get("", {})))
    return EvaluationView(
        candidate=tables[0],
        baseline=tables[1] if with_baseline else {},
        curves=curves[0],
        baseline_curves=curves[1] if with_baseline else None,
        failures=threshold_failures(evaluation_uri, checks),
        rule_checks=checks,
        sample=eval_sample(evaluation_uri),
    )


def curves_from(plot: dict) -> Curves | None:
    """Curves from one slice's plots as TFMA's view dicts hold them: the confusion matrices
    in threshold order (a count of 0 is left out of a matrix; NaN arrives as the text 'NaN'),
    the calibration histogram's buckets. None when nothing was plotted."""
    matrices = plot.get("confusionMatrixAtThresholds", {}).get("matrices", [])
    buckets = plot.get("calibrationHistogramBuckets", {}).get("buckets", [])
    if not matrices and not buckets:
        return None

    def rate(matrix: dict, key: str) -> float | None:
        value = matrix.get(key, 0.0)
        return None if isinstance(value, str) else float(value)

    roc, pr = [], []
    for matrix in reversed(matrices):  # from the highest threshold down: the curves' order
        fpr, recall, precision = (
            rate(matrix, k) for k in ("falsePositiveRate", "recall", "precision")
        )
        if fpr is not None and recall is not None and (fpr, recall) not in roc[-1:]:
            roc.append((fpr, recall))
        if recall is not None and precision is not None and (recall, precision) not in pr[-1:]:
            pr.append((recall, precision))
    return Curves(roc=roc, precision_recall=pr, calibration=_calibration(buckets))


def _calibration(buckets: list[dict]) -> list[tuple[float, float, float]]:
    """TFMA's buckets folded into 10 by predicted score: each bin's mean prediction against
    its observed positive rate, and its example count."""
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
class WeakSlice:
    """A slice where the model errs more than on the rest of the eval split, by more than
    chance explains: where to look before choosing what data to collect."""

    slice: str
    examples: int
    error_rate: float  # 1 - binary accuracy at a score of 0.5
    rest_error_rate: float  # on the eval split without this slice
    excess_errors: float  # examples x (error rate - the rest's): errors beyond the rest's rate
    p_value: float  # Fisher's exact test against the rest, x the slices tested (Bonferroni)


def weak_slices(
    table: dict[str, dict[str, float]], alpha: float = 0.05, min_examples: int = 30
) -> list[WeakSlice]:
    """Slices (single features and configured crosses) that err more than the rest of the
    eval split, by a one-sided Fisher's exact test (exact: few errors are the usual case
    with rare positives) significant at `alpha` after Bonferroni's correction for the number
    of slices tested; most excess errors first. A cross is left out when a slice it is made
    of is already named: its errors are that slice's."""
    overall = table.get(OVERALL, {})
    measure = _error_measure(overall)  # a regression has no count of errors
    total, accuracy = overall.get("example_count"), overall.get(measure or "")
    if not total or accuracy is None or accuracy != accuracy:
        return []
    errors = round(total * (1 - accuracy))
    tested = []
    for name, metrics in table.items():
        count, slice_accuracy = metrics.get("example_count", 0.0), metrics.get(measure)
        if name == OVERALL or count < min_examples or count >= total or slice_accuracy is None:
            continue
        if slice_accuracy != slice_accuracy:  # NaN
            continue
        tested.append((name, int(count), min(round(count * (1 - slice_accuracy)), errors)))
    found = []
    for name, count, slice_errors in tested:
        rest, rest_errors = int(total) - count, errors - slice_errors
        rate, rest_rate = slice_errors / count, rest_errors / rest
        if rate <= rest_rate:
            continue
        p_value = min(1.0, _fisher_greater(slice_errors, count, rest_errors, rest) * len(tested))
        if p_value < alpha:
            excess = count * (rate - rest_rate)
            found.append(WeakSlice(name, count, rate, rest_rate, excess, p_value))
    named = {w.slice for w in found}
    found = [w for w in found if not (set(w.slice.split(", ")) - {w.slice}) & named]
    return sorted(found, key=lambda w: (-w.excess_errors, slice_order(w.slice)))


def _fisher_greater(errors: int, count: int, rest_errors: int, rest: int) -> float:
    """P(this many errors in the slice or more | it errs as the rest does)."""
    from scipy.stats import fisher_exact

    table = [[errors, count - errors], [rest_errors, rest - rest_errors]]
    return float(fisher_exact(table, alternative="greater")[1])
