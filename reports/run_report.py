"""One run at a glance, as a self-contained page: what it ended in and why (for a model not
blessed, each missed threshold with the candidate's and the baseline's figures and the slices
that fell most), the data the gate judged (its table, each finding highlighted, the label, each
feature of the span against the span before and the training window, histograms included),
the evaluation (per slice, sorted naturally, undefined values shown as such, weak slices
flagged; ROC, precision-recall and calibration against the baseline's; the slices that moved
most), the run's steps and lineage as pictures, and its provenance. Built from ML Metadata and
the run's artifacts, so `tfxp report RUN` makes the page of any past run the same way."""

from __future__ import annotations

import json
import pathlib

from components.validation import GateReport
from metadata import names
from metadata.evaluation import (
    FAILED,
    NOT_JUDGED,
    OVERALL,
    TFMA_THRESHOLD,
    Curves,
    EvaluationView,
    SliceChange,
    defined,
    error_counted,
    key_metric,
    per_class,
    read_evaluation,
    rule_check_text,
    rule_failure_text,
    shown_metrics,
    slice_order,
    weak_slices,
)
from metadata.reader import QUICK_BASELINE, MetadataReader, RunView, fact_value
from models import features as F
from models import quick_baseline
from pipeline.config import PipelineConfig
from reports import html as H
from reports.run_graph import run_graph

NO_ERROR_COUNT = (
    "A regression's errors are not counted but measured: the slice table's RMSE and MAE show "
    "where they are larger."
)
SLICE_MARGIN = 0.05  # a slice this far below the overall AUC, on enough examples, is flagged
MIN_SLICE_EXAMPLES = 30
MOVED_SHOWN, MOVED_IN_WHY = 8, 5  # slices listed against the baseline
MIN_CALIBRATION_EXAMPLES = 10  # a calibration bin with fewer says nothing


def reports_dir(config: PipelineConfig) -> pathlib.Path:
    """`outputs/<name>/reports/`, beside the serving folder."""
    return pathlib.Path(config.serving_dir).parent / "reports"


def report_path(config: PipelineConfig, run_id: str) -> pathlib.Path:
    return reports_dir(config) / f"{run_id.replace(':', '-')}.html"


def write_run_report(config: PipelineConfig, reader: MetadataReader, run_id: str) -> pathlib.Path:
    run = reader.run(run_id)
    return H.write(report_path(config, run_id), render(run, reader))


def render(run: RunView, reader: MetadataReader) -> str:
    gate = GateReport.read(run.gate_report_path)
    evaluation = read_evaluation(run.evaluation_uri) if run.evaluation_uri else None
    failures = evaluation.failures if evaluation and run.outcome == "not-blessed" else []
    baseline = _baseline_name(run, reader)
    body = [
        f"<h1>{H.esc(run.pipeline)}: run {H.esc(run.run)}</h1>",
        _outcome(run, gate, failures),
    ]
    if failures:
        body += ["<h2>Why not blessed</h2>", *_failures(evaluation, baseline)]
    body += ["<h2>Data</h2>", *_data(run, gate, reader)]
    if evaluation is not None:
        body += ["<h2>Evaluation</h2>", _quick_baseline(run)]
        body += _evaluation(evaluation, baseline, moved=not failures)
    body += [
        "<h2>Steps</h2>",
        _steps(run),
        "<h2>Lineage</h2>",
        run_graph(run, reader, baseline),
        "<h2>Provenance</h2>",
        _provenance(run),
    ]
    return H.page(f"{run.pipeline} run {run.run}", body)


def outcome_sentence(run: RunView, gate: GateReport | None, failures) -> str:
    """What the run ended in, in one sentence."""
    span = run.provenance.get("span", "?")
    auc = f" ({run.key_metric_text})" if run.key_metric is not None else ""
    word = run.outcome
    if word == "pushed":
        return (
            f"Blessed and pushed as version {run.pushed_version}, trained up to span {span}{auc}."
        )
    if word == "not-blessed":
        why = "; ".join(_failure_text(f) for f in failures) or "a threshold was missed"
        return f"Not blessed, nothing pushed: {why}."
    if word == "stopped":
        found = gate.blocking if gate else []
        kinds = ", ".join(sorted({f"{f.kind} on {f.feature}" for f in found})) or "findings"
        return f"Stopped by the data gate on span {span}: {len(found)} finding(s): {kinds}."
    if word == "checked-in":
        return f"Span {span} accepted by the data gate (data only: nothing trained)."
    if word == "already-serving":
        return (
            f"Blessed{auc}; the same model is already served as version "
            f"{run.already_serving_version}: nothing pushed."
        )
    if word == "kept-out":
        return (
            f"Blessed{auc} but not pushed: the served model was trained on span "
            f"{run.older_than_served_span}, newer than this run's span {span}."
        )
    if word == "interrupted":
        return "Interrupted (killed or Ctrl-C); the next run closed what it left."
    if word == "crashed":
        failed = [n for n, s in run.nodes.items() if s == "failed"]
        return f"Crashed in {', '.join(failed)}: a bug or the environment, not a verdict."
    return f"The run is {word}."


def _failure_text(failure) -> str:
    if failure.rule != TFMA_THRESHOLD:  # ours: a slice threshold, the quick baseline
        return rule_failure_text(failure)
    bound = (
        f">= {failure.lower_bound:g}"
        if failure.lower_bound is not None
        else f"<= {failure.upper_bound:g}"
        if failure.upper_bound is not None
        else f"change vs the latest blessed model {failure.needed_change}"
    )
    if failure.is_diff:  # a max_drop: the value is the change against the baseline
        return (
            f"{failure.metric} {failure.value:+.4f} against the latest blessed model on "
            f"{failure.slice}, needs a change {failure.needed_change}"
        )
    return f"{failure.metric} {failure.value:.4f} on {failure.slice}, needs {bound}"


def _outcome(run: RunView, gate, failures) -> str:
    good = run.outcome in ("pushed", "already-serving", "checked-in")
    return (
        f"<p class='outcome {'good' if good else 'bad'}' id=outcome>"
        f"<b>{H.esc(run.outcome)}</b>: {H.esc(outcome_sentence(run, gate, failures))}</p>"
    )


def _baseline_name(run: RunView, reader: MetadataReader) -> str | None:
    """The model the Evaluator compared with, as a person knows it: its served version."""
    models = reader.run_inputs(run.run, names.EVALUATOR, "baseline_model")
    if not models:
        return None
    version = reader.version_of_model(models[0].id)
    return f"version {version}" if version is not None else f"model {models[0].id} (not pushed)"


def _failures(evaluation: EvaluationView, baseline: str | None) -> list[str]:
    """Each missed threshold with the candidate's and the baseline's figures and the change
    (what a `max_drop` threshold judges), then the slices that fell most against the baseline."""
    rows = []
    ours = [f for f in evaluation.failures if f.rule != TFMA_THRESHOLD]
    for f in evaluation.failures:
        if f.rule != TFMA_THRESHOLD:
            continue
        name = f.metric.removesuffix("_diff")
        now = evaluation.candidate.get(f.slice, {}).get(name)
        then = evaluation.baseline.get(f.slice, {}).get(name)
        change = f.value if f.is_diff else (now - then if None not in (now, then) else None)
        rows.append([f.slice, name, now, then, change, f.lower_bound, f.upper_bound, f.min_change])
    headers = [
        "slice",
        "metric",
        "candidate",
        f"baseline ({baseline or 'none'})",
        "change",
        "lower bound",
        "upper bound",
        "change needed",
    ]
    parts = ["<div id=why-not>"]
    if rows:
        parts[0] += H.table(headers, rows, ["bad"] * len(rows))
    if ours:
        items = "".join(f"<li>{H.esc(rule_failure_text(f))}</li>" for f in ours)
        parts[0] += f"<p>Our blessing rules (the config's evaluation section):</p><ul>{items}</ul>"
    parts[0] += "</div>"
    if evaluation.baseline:
        fell = sorted(evaluation.changes(), key=lambda c: c.change)  # the largest drops first
        parts += _moved(fell, baseline or "none", MOVED_IN_WHY, "fell most")
    return parts


def _moved(changes: list[SliceChange], baseline: str, shown: int, how: str) -> list[str]:
    """The overall and the slices whose AUC moved most against the baseline, on enough
    examples."""
    enough = [c for c in changes if c.examples >= MIN_SLICE_EXAMPLES]
    listed = [c for c in enough if c.slice == OVERALL] + [c for c in enough if c.slice != OVERALL][
        :shown
    ]
    rows = [[c.slice, c.examples, c.candidate, c.baseline, c.change] for c in listed]
    marks = ["bad" if c.change < -SLICE_MARGIN else "" for c in listed]
    if not rows:
        return [f"<p>No slice of at least {MIN_SLICE_EXAMPLES} examples to compare.</p>"]
    metric = changes[0].metric if changes else "auc"
    return [
        f"<h3>Slices that {how}: {H.esc(metric)} against the baseline ({H.esc(baseline)})</h3>",
        "<div id=moved>",
        H.table(["slice", "examples", "candidate", "baseline", "change"], rows, marks),
        "</div>",
    ]


def _data(run: RunView, gate: GateReport | None, reader: MetadataReader) -> list[str]:
    if gate is None:
        return ["<p>The data gate gave no report for this run.</p>"]
    before = f"span {gate.previous_span}" if gate.previous_span else "no earlier span"
    verdict = "stopped" if gate.blocking else "accepted"
    parts = [
        f"<p>Span {H.esc(gate.span)} against {H.esc(before)}: {verdict}.</p>",
        "<h3>Gate</h3>",
        "<div id=gate-table>",
    ]
    rows = [
        [m.feature, m.check, m.metric, m.value, m.threshold, "ABOVE" if m.exceeded else "ok"]
        for m in gate.measurements
    ]
    marks = ["bad" if m.exceeded else "" for m in gate.measurements]
    parts.append(
        H.table(["feature", "check", "metric", "value", "threshold", ""], rows, marks)
        if rows
        else "<p>Drift not measured: no earlier accepted span to compare with.</p>"
    )
    if gate.previous_span is not None and gate.unmeasured:
        parts.append(
            f"<p class=unmeasured>Drift not measured for {H.esc(', '.join(gate.unmeasured))} "
            "(no drift_comparator in the schema).</p>"
        )
    if gate.findings:
        allowed = {id(f): entry for f, entry in gate.allowed}
        found = [
            [f.split, f.feature, f.kind, f.description, allowed.get(id(f), "")]
            for f in gate.findings
        ]
        marks = ["flag" if id(f) in allowed else "bad" for f in gate.findings]
        parts += [
            "<h3>Findings</h3>",
            H.table(["split", "feature", "kind", "why", "allowed by"], found, marks),
        ]
    parts += [f"<h3>Label '{H.esc(gate.label)}'</h3>", _label_table(gate), "</div>"]
    parts += _distributions(run, reader)
    return parts


def _distributions(run: RunView, reader: MetadataReader) -> list[str]:
    """Each feature of the span against the span before and the training window (train
    splits): numbers as summary figures and histograms, categories as bars of their most
    frequent values."""
    current, previous = _gate_statistics(run, reader)
    if current is None:
        return []
    window = _window_statistics(run, reader)
    by_name = {_name(f): f for f in current.features}
    before = {_name(f): f for f in previous.features} if previous is not None else {}
    numeric, histograms, charts = [], [], []
    for name, feature in sorted(by_name.items()):
        old = before.get(name)
        if feature.HasField("num_stats"):
            now = feature.num_stats
            then = old.num_stats if old is not None and old.HasField("num_stats") else None
            numeric.append(
                [
                    name,
                    now.mean,
                    then.mean if then else None,
                    now.median,
                    then.median if then else None,
                    now.std_dev,
                    _missing(now.common_stats, current.num_examples),
                ]
            )
            histograms.append(_histogram(name, feature, old, window))
        elif feature.HasField("string_stats") and feature.string_stats.top_values:
            charts.append(_category_bars(name, feature, old, current, previous, window))
    against = "the one before" + (
        f" and the training window ({len(window)} span(s), this one included)" if window else ""
    )
    parts = [f"<h3>Distributions: this span against {against}</h3>"]
    if numeric:
        headers = ["feature", "mean", "mean before", "median", "median before", "std", "missing"]
        parts.append(H.table(headers, numeric))
    histograms = [h for h in histograms if h]
    if histograms:
        parts.append(f"<div class=charts id=numeric-charts>{''.join(histograms)}</div>")
    if charts:
        parts.append(f"<div class=charts id=category-charts>{''.join(charts)}</div>")
    return parts


def _missing(common, examples: int) -> float | None:
    return common.num_missing / examples if examples else None


def _name(feature) -> str:
    return feature.path.step[-1] if feature.path.step else feature.name


WINDOW = "training window"  # the spans the run trained on, this one included


def _histogram(name, feature, old, window) -> str:
    """The span's equal-width histogram; the span before and the window folded into the same
    buckets (their counts spread evenly over each of their own buckets), all as shares. What
    falls outside this span's range is said under the chart."""
    buckets = _standard_buckets(feature)
    if not buckets:
        return ""
    edges = [(b.low_value, b.high_value) for b in buckets]
    series = {"this span": _rebinned(buckets, edges)}
    if old is not None and _standard_buckets(old):
        series["span before"] = _rebinned(_standard_buckets(old), edges)
    found = [f for stats in window for f in stats.features if _name(f) == name]
    spread = [b for f in found for b in _standard_buckets(f)]
    if spread:
        series[WINDOW] = _rebinned(spread, edges)
    outside = [
        f"{1 - sum(shares):.1%} of the {label}"
        for label, shares in series.items()
        if 1 - sum(shares) >= 0.0005
    ]
    said = f"; outside this span's range: {', '.join(outside)}" if outside else ""
    return H.bars(f"{name}: histogram by bucket start{said}", _edge_labels(edges), series)


def _edge_labels(edges) -> list[str]:
    """Each bucket's lower edge, short, with as many digits as it takes to tell them apart."""
    for digits in range(3, 8):
        labels = [_short(low, digits) for low, _ in edges]
        if len(set(labels)) == len(labels):
            return labels
    return labels


def _short(value: float, digits: int = 3) -> str:
    """A number in a few characters: 7.21k, 1.39G, -87.6."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.{digits}g}{suffix}"
    return f"{value:.{digits}g}"


def _standard_buckets(feature) -> list:
    if not feature.HasField("num_stats"):
        return []
    for histogram in feature.num_stats.histograms:
        if histogram.type == histogram.STANDARD:
            return list(histogram.buckets)
    return []


def _rebinned(buckets, edges) -> list[float]:
    """Shares of all `buckets`' counts falling in each of `edges`; what lies outside them is
    the part the bars do not add up to."""
    total = sum(b.sample_count for b in buckets)
    counts = [0.0] * len(edges)
    for bucket in buckets:
        width = bucket.high_value - bucket.low_value
        for index, (low, high) in enumerate(edges):
            if width <= 0:  # a single value
                inside = low <= bucket.low_value <= high
                counts[index] += bucket.sample_count if inside else 0.0
                if inside:
                    break
                continue
            overlap = min(high, bucket.high_value) - max(low, bucket.low_value)
            if overlap > 0:
                counts[index] += bucket.sample_count * overlap / width
    return [c / total if total else 0.0 for c in counts]


def _category_bars(name, feature, old, current, previous, window) -> str:
    top = [v.value for v in feature.string_stats.top_values[:8]]
    series = {"this span": _shares(feature, top, current.num_examples)}
    if old is not None and old.HasField("string_stats"):
        series["span before"] = _shares(old, top, previous.num_examples)
    found = [(f, stats.num_examples) for stats in window for f in stats.features]
    found = [(f, n) for f, n in found if _name(f) == name and f.HasField("string_stats")]
    if found:
        total = sum(n for _, n in found)
        summed = [sum(_shares(f, top, 1)[i] for f, _ in found) for i in range(len(top))]
        series[WINDOW] = [c / total if total else 0.0 for c in summed]
    return H.bars(f"{name}: most frequent values", top, series)


def _shares(feature, values, examples: int) -> list[float]:
    counts = {v.value: v.frequency for v in feature.string_stats.top_values}
    return [counts.get(v, 0.0) / examples if examples else 0.0 for v in values]


def _window_statistics(run: RunView, reader: MetadataReader) -> list:
    """The train-split statistics of each span the run's Transform read: the training window.
    Empty for a run that trained nothing."""
    found = [
        reader.statistics_of(examples.id)
        for examples in reader.run_inputs(run.run, names.TRANSFORM, "examples")
    ]
    loaded = [_train_statistics(statistics.uri) for statistics in found if statistics is not None]
    return [s for s in loaded if s is not None]


def _train_statistics(uri: str):
    import tensorflow_data_validation as tfdv

    path = pathlib.Path(uri) / "Split-train" / names.STATISTICS_FILE
    return tfdv.load_stats_binary(str(path)).datasets[0] if path.is_file() else None


def _gate_statistics(run: RunView, reader: MetadataReader):
    """The train split's statistics the gate judged, and those of the span it compared with."""
    found = []
    for key in ("statistics", "previous"):
        artifacts = reader.run_inputs(run.run, names.GATE, key)
        found.append(_train_statistics(artifacts[0].uri) if artifacts else None)
    return found[0], found[1]


def _label_table(gate) -> str:
    """Each split's label: positives and their rate, each class's share, or (a regression
    target) the rows only."""
    splits = sorted(gate.label_counts.items())
    kinds = {c.kind for _, c in splits}
    if kinds == {F.MULTICLASS}:
        names = splits[0][1].class_names
        rows = [
            [s, c.rows, *(c.share(i) for i in range(len(names))), c.missing_rate] for s, c in splits
        ]
        return H.table(["split", "rows", *(f"share {n}" for n in names), "missing rate"], rows)
    if kinds == {F.REGRESSION}:
        return H.table(
            ["split", "rows", "missing rate"], [[s, c.rows, c.missing_rate] for s, c in splits]
        )
    rows = [[s, c.rows, c.positives, c.positive_rate, c.missing_rate] for s, c in splits]
    return H.table(["split", "rows", "positives", "positive rate", "missing rate"], rows)


def _evaluation(evaluation: EvaluationView, baseline: str | None, moved: bool) -> list[str]:
    parts = _rule_checks(evaluation)
    if evaluation.sample is not None:
        parts.append(f"<p id=eval-sample>Judged on {H.esc(evaluation.sample.text())}.</p>")
    parts += _slice_table(evaluation.candidate)
    parts += _weak_slices(evaluation.candidate)
    parts += _curves(evaluation, baseline)
    if baseline and evaluation.baseline and moved:
        parts += _moved(evaluation.changes(), baseline, MOVED_SHOWN, "moved most")
    return parts


def _rule_checks(evaluation: EvaluationView) -> list[str]:
    """Our blessing rules' verdicts: a failure blocked blessing; a rule not judged (a slice
    with too few examples, no quick baseline) did not."""
    if not evaluation.rule_checks:
        return []
    marks = {FAILED: "bad", NOT_JUDGED: "flag"}
    items = "".join(
        f"<li class='{marks.get(c.verdict, '')}'>{H.esc(rule_check_text(c))}</li>"
        for c in evaluation.rule_checks
    )
    return [f"<h3>Blessing rules</h3><ul id=blessing-rules>{items}</ul>"]


def _quick_baseline(run: RunView) -> str:
    """Ours against a logistic regression on the same transformed features and rows."""
    result = quick_baseline.read(
        fact_value(QUICK_BASELINE, run.provenance.get(QUICK_BASELINE, "null"))
    )
    if not isinstance(result, dict) or None in (result.get("baseline"), result.get("ours")):
        return "<p id=quick-baseline>Quick baseline: not measured for this run.</p>"
    worse = result["ours"] < result["baseline"]
    return (
        f"<p id=quick-baseline class='{'bad' if worse else ''}'>Quick baseline "
        f"({H.esc(result['model'])}), on the Trainer's {result['eval_rows']} eval rows of the "
        f"training window: {H.esc(result['metric'])} <b>{result['baseline']:.4f}</b> against "
        f"ours <b>{result['ours']:.4f}</b>{': ours is not better' if worse else ''}.</p>"
    )


def _weak_slices(table: dict[str, dict[str, float]]) -> list[str]:
    """Error analysis: the slices where the errors concentrate, beyond chance."""
    found = weak_slices(table)
    heading = "<h3>Where errors concentrate</h3>"
    counted = error_counted(table.get(OVERALL, {}))
    if counted is None:
        return [heading, f"<p id=weak-slices>{NO_ERROR_COUNT}</p>"]
    explained = (
        f"<p>Slices whose error rate ({counted}) is above the rest of the eval split's by "
        "more than chance explains (one-sided Fisher's exact test, p, shown corrected by "
        "Bonferroni for the slices tested, &lt; 0.05, at least 30 examples; a cross of a slice "
        "already named is left out), most excess "
        "errors first: where to look before choosing what data to collect.</p>"
    )
    if not found:
        return [heading, explained, "<p id=weak-slices>No slice errs significantly more.</p>"]
    rows = [
        [
            w.slice,
            w.examples,
            w.error_rate,
            w.rest_error_rate,
            round(w.excess_errors),
            f"{w.p_value:.2g}",
        ]
        for w in found
    ]
    headers = ["slice", "examples", "error rate", "rest's error rate", "excess errors", "p"]
    return [
        heading,
        explained,
        f"<div id=weak-slices>{H.table(headers, rows, ['flag'] * len(rows))}</div>",
    ]


def _curves(evaluation: EvaluationView, baseline: str | None) -> list[str]:
    """ROC, precision-recall and calibration on the whole eval split, the candidate's and,
    when there is one, the baseline's."""
    if evaluation.curves is None and key_metric(evaluation.candidate.get(OVERALL, {})) != "auc":
        return []  # ROC, precision-recall and calibration are a binary model's
    if evaluation.curves is None:
        return ["<p>No curves: this evaluation was made before they were computed.</p>"]
    models = {"candidate": evaluation.curves}
    if evaluation.baseline_curves is not None:
        models[f"baseline ({baseline or 'latest blessed'})"] = evaluation.baseline_curves

    def calibration(curves: Curves) -> list[tuple[float, float]]:
        return [(p, rate) for p, rate, n in curves.calibration if n >= MIN_CALIBRATION_EXAMPLES]

    counts = ", ".join(f"{p:.2f}: {int(n)}" for p, _, n in evaluation.curves.calibration)
    return [
        "<h3>Curves (overall)</h3>",
        "<div class=charts id=curves>",
        H.curve(
            "ROC",
            {name: c.roc for name, c in models.items()},
            ("false positive rate", "recall"),
            diagonal=True,
        ),
        H.curve(
            "Precision against recall",
            {name: c.precision_recall for name, c in models.items()},
            ("recall", "precision"),
        ),
        H.curve(
            f"Calibration: observed positive rate by mean score in 10 bins of score, bins of "
            f"fewer than {MIN_CALIBRATION_EXAMPLES} examples left out (the candidate's "
            f"examples by mean score: {counts})",
            {name: calibration(c) for name, c in models.items()},
            ("mean score", "positive rate"),
            diagonal=True,
            dots=True,
        ),
        "</div>",
    ]


def _slice_table(table: dict[str, dict[str, float]]) -> list[str]:
    shown = ("example_count", *shown_metrics(table))
    flagged_by = key_metric(table.get(OVERALL, {}))
    overall = table.get(OVERALL, {}).get(flagged_by)
    rows, marks = [], []
    for name in sorted(table, key=slice_order):
        metrics = defined(table[name])
        count = metrics.get("example_count")
        metrics["example_count"] = int(count) if count is not None else None
        rows.append([name] + [metrics.get(m) for m in shown])
        auc, count = metrics.get(flagged_by), metrics.get("example_count") or 0
        weak = (
            overall is not None
            and auc is not None
            and auc < overall - SLICE_MARGIN
            and count >= MIN_SLICE_EXAMPLES
        )
        marks.append("flag" if weak else "")
    note = (
        f"<p>Slices with {'an AUC' if flagged_by == 'auc' else f'{flagged_by}'} more than "
        f"{SLICE_MARGIN} below the overall "
        f"({H.number(overall)}) on at least {MIN_SLICE_EXAMPLES} examples are marked.</p>"
    )
    return [
        note,
        "<div id=slice-table>" + H.table(["slice", *shown], rows, marks) + "</div>",
        *_per_class_table(table.get(OVERALL, {})),
    ]


def _per_class_table(overall: dict[str, float]) -> list[str]:
    """A multiclass model's precision and recall per class, on the whole eval split."""
    classes = per_class(overall)
    if not classes:
        return []
    rows = [[name, precision, recall] for name, (precision, recall) in classes.items()]
    return ["<div id=per-class>" + H.table(["class", "precision", "recall"], rows) + "</div>"]


def _steps(run: RunView) -> str:
    """The run's steps in order as boxes coloured by state: the run's own graph."""
    colours = {"complete": "#c8e6c9", "cached": "#e3f2fd", "failed": "#ffcdd2"}
    steps = [(n, s) for n, s in run.nodes.items() if not names.is_resolver(n)]
    width, box, gap = 150, 130, 20
    shapes = []
    for index, (node, state) in enumerate(steps):
        x = 10 + index % 5 * width
        y = 10 + index // 5 * 70
        fill = colours.get(state, "#eeeeee")
        shapes.append(
            f"<rect x='{x}' y='{y}' width='{box}' height='44' rx='6' fill='{fill}' "
            f"stroke='#777'/><text x='{x + 6}' y='{y + 18}' font-size='11'>{H.esc(node)}</text>"
            f"<text x='{x + 6}' y='{y + 34}' font-size='10'>{H.esc(state)} "
            f"{run.node_seconds.get(node, 0.0):.1f} s</text>"
        )
        if index % 5:
            shapes.append(
                f"<line x1='{x - gap}' y1='{y + 22}' x2='{x}' y2='{y + 22}' stroke='#777'/>"
            )
    height = 20 + (len(steps) + 4) // 5 * 70
    return (
        f"<figure id=steps><svg role='img' width='{5 * width}' height='{height}'>"
        f"<title>steps of run {H.esc(run.run)}</title>{''.join(shapes)}</svg>"
        "<figcaption>Each step, its state and seconds (green: ran, blue: cached, red: "
        "failed, grey: not run)</figcaption></figure>"
    )


def _provenance(run: RunView) -> str:
    facts = {k: v for k, v in sorted(run.provenance.items()) if k != "config"}
    rows = [[k, v] for k, v in facts.items()]
    config = run.provenance.get("config")
    shown = (
        f"<details><summary>config</summary><pre>{H.esc(_pretty(config))}</pre></details>"
        if config
        else ""
    )
    return H.table(["fact", "value"], rows) + shown


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=1, sort_keys=True)
    except ValueError:
        return text
