"""Everything `tfxp` shows a person: run progress and outcomes, gate reports, lineage, diffs,
findings, as text or JSON (and Graphviz). The one place output is formatted.

Functions take the values the library returns and print them; nothing here decides anything.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from components.validation import Finding, GateReport
from metadata import names
from metadata.evaluation import SHOWN_METRICS as EVALUATION_METRICS
from metadata.evaluation import (
    TFMA_THRESHOLD,
    ThresholdFailure,
    WeakSlice,
    defined,
    error_counted,
    key_metric,
    per_class,
    rule_check_text,
    rule_failure_text,
    slice_order,
)
from metadata.lineage import RunDiff
from metadata.reader import ArtifactView, ExecutionView, RunView
from models import features as F
from pipeline.outcome import PlannedRun, Result, RunOutcome

SHOWN_METRICS = (*EVALUATION_METRICS, "example_count")
_DIFF_METRICS = (
    "auc",
    "binary_accuracy",
    "precision",
    "recall",
    "accuracy",  # multiclass
    "macro_f1_score",
    "r_squared",  # regression
    "root_mean_squared_error",
    "example_count",
)
_TREE_PROPERTIES = (
    "split_names",
    "span",
    "blessed",
    "pushed_version",
    "input_fingerprint",
    "source_file",
    "current_model_id",
)
_TREE_EXECUTION_PROPERTIES = (
    "input_base",
    "input_fingerprint",
    "custom_config",
    "train_args",
    "source_file",
    "schema_text",
    "serving_dir",
    "preprocessing_fn",
    "run_fn",
    "min_examples_per_split",
)
_LISTED_PROPERTIES = ("split_names", "span", "blessed", "pushed", "pushed_version")


class OutputError(RuntimeError):
    """Output that cannot be produced or written (no Graphviz, an unwritable path); one line."""


def label_shares(counts) -> str:
    """A split's label in a few words: its positive rate, each class's share, or nothing for
    a regression target."""
    if counts.classes:
        return "class shares " + " ".join(
            f"{name} {counts.share(i):.3f}" for i, name in enumerate(counts.class_names)
        )
    return f"positive rate {counts.positive_rate:.3f}" if counts.kind == F.BINARY else "numbers"


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        derived = value.derived() if hasattr(value, "derived") else {}
        return {k: _plain(v) for k, v in {**dataclasses.asdict(value), **derived}.items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_json(value: Any) -> str:
    return json.dumps(_plain(value), indent=2, sort_keys=True)


def output(value: Any, as_json: bool, text: Callable[[Any], None]) -> None:
    """`value` as JSON when asked for (`--json`), else in its text form."""
    if as_json:
        print(to_json(value))
    else:
        text(value)


def print_json(value: Any) -> None:
    print(to_json(value))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


# Runs ---------------------------------------------------------------------------------------


def run_started(planned: PlannedRun) -> None:
    """Before each planned run of `tfxp run`."""
    where = f"span {planned.span} of {planned.config.data_root}"
    if planned.data_only:
        print(f"tfxp: checking {where} in (data gate only)", flush=True)
    else:
        print(f"tfxp: running pipeline '{planned.config.name}' on {where}", flush=True)


def run_step(node: str, event: str, seconds: float) -> None:
    """One line as each component of a run starts and ends."""
    if names.is_resolver(node):
        return
    shown = f"{seconds:5.1f} s" if event == "finished" else ""
    print(f"  {node:<32} {event:<9} {shown}".rstrip(), flush=True)


def span_refused(refused) -> None:
    """`tfxp run` found a span's files malformed (`pipeline.outcome.SpanRefused`): each
    finding as `tfxp validate` prints it; nothing ran."""
    for finding in refused.findings:
        print(f"{finding.split}: column '{finding.feature}': {finding.kind}: {finding.description}")
    then = (
        "it stays out of the training window; going on"
        if refused.data_only
        else "nothing ran. Fix the files (`tfxp validate FILE` checks one) and run again"
    )
    print(
        f"tfxp: span {refused.span}: {len(refused.findings)} problem(s) in its files; {then}",
        file=sys.stderr,
    )


def run_repairs(repairs) -> None:
    """Before the runs: what a crash, a kill or a deleted folder had left, and was repaired
    (`pipeline.recovery.Repairs`)."""
    for line in repairs.lines():
        print(f"tfxp: {line}", file=sys.stderr, flush=True)


def run_outcome(outcome: RunOutcome, page=None) -> None:
    """After each run: the stop and its report, or the gate report, the steps, the evaluation
    and what was pushed; then the run's page."""
    _run_outcome(outcome)
    if page is not None:
        print(
            f"report: {page}",
            file=sys.stderr if outcome.result is Result.STOPPED_AT_GATE else sys.stdout,
        )


def _run_outcome(outcome: RunOutcome) -> None:
    run = outcome.run
    if outcome.result is Result.STOPPED_AT_GATE:
        print(
            "tfxp: stopped at the data gate.\n"
            + gate_stop(outcome.gate_report, run.gate_report_path),
            file=sys.stderr,
        )
        if outcome.data_only:
            print(
                f"tfxp: span {outcome.span} stays out of the training window; going on.",
                file=sys.stderr,
            )
        return
    if outcome.gate_report is not None:
        print("\n".join(gate_report(outcome.gate_report)))
    print(f"run {run.run}:")
    for node, state in run.nodes.items():
        print(f"  {node:<32} {state:<9} {run.node_seconds[node]:6.1f} s")
    if outcome.data_only:
        return
    if outcome.metrics:
        shown = ", ".join(
            f"{k}={outcome.metrics[k]:.0f}"
            if k == "example_count"
            else f"{k}={outcome.metrics[k]:.4f}"
            for k in SHOWN_METRICS
            if k in outcome.metrics
        )
        print(f"eval split, overall: {shown}")
        if outcome.eval_sample is not None and outcome.eval_sample.sampled:
            print(f"  judged on {outcome.eval_sample.text()}")
        classes = per_class(outcome.metrics)
        if classes:
            print(
                "  per class (precision/recall): "
                + ", ".join(f"{c} {_figure(p)}/{_figure(r)}" for c, (p, r) in classes.items())
            )
        print(quick_baseline(outcome.quick_baseline))
        print("\n".join(weak_slices(outcome.weak_slices, error_counted(outcome.metrics))))
    if outcome.rule_checks:
        print("blessing rules:")
        for check in outcome.rule_checks:
            print(f"  {rule_check_text(check)}")
    if outcome.result is Result.PUSHED:
        print(f"BLESSED and pushed: version {run.pushed_version} at {run.pushed_path}")
    elif outcome.result is Result.ALREADY_SERVING:
        print(
            f"BLESSED; the same model is already the newest version "
            f"({run.already_serving_version}) in {outcome.serving_dir}: nothing pushed."
        )
    elif outcome.result is Result.OLDER_THAN_SERVED:
        print(
            f"BLESSED but not pushed: trained on span {outcome.span}, older than span "
            f"{run.older_than_served_span} the served model was trained on; "
            "`tfxp run --replace-newer` pushes it anyway."
        )
    else:
        print("NOT BLESSED: nothing pushed; the serving directory is unchanged.")
        for failure in outcome.threshold_failures:
            print(f"  {threshold_failure(failure)}")
    print(f"metadata: {outcome.metadata_path}\nartifacts: {outcome.pipeline_root}")


def quick_baseline(result: dict | None) -> str:
    """Ours against a linear model on the same transformed features, same rows."""
    if not result or result.get("baseline") is None or result.get("ours") is None:
        return "quick baseline: not measured (no Trainer run, or one class in its batches)"
    return (
        f"quick baseline ({result['model']}), on the Trainer's {result['eval_rows']} eval rows: "
        f"{result['metric']} {result['baseline']:.4f} against ours {result['ours']:.4f}"
    )


def weak_slices(
    found: Sequence[WeakSlice], counted: str | None = "at a score of 0.5", shown: int = 5
) -> list[str]:
    """Where the candidate's errors concentrate: the slices worse than the rest of the eval
    split beyond chance, most excess errors first; `counted` says what an error is (None: a
    regression, whose errors are measured, not counted)."""
    if counted is None:
        return [
            "where errors concentrate: a regression's errors are not counted but measured; each "
            "slice's RMSE and MAE are on the run page"
        ]
    if not found:
        return ["where errors concentrate: no slice errs significantly more than the rest"]
    lines = [
        f"where errors concentrate ({len(found)} slice(s) worse than the rest; Fisher's exact "
        "test, p Bonferroni-corrected, < 0.05):"
    ]
    for weak in found[:shown]:
        lines.append(
            f"  {weak.slice}: {weak.examples} examples, error rate {weak.error_rate:.3f} against "
            f"{weak.rest_error_rate:.3f} for the rest, {weak.excess_errors:+.0f} errors, "
            f"p={weak.p_value:.2g}"
        )
    return lines


def threshold_failure(failure: ThresholdFailure) -> str:
    if failure.rule != TFMA_THRESHOLD:  # ours: a slice threshold, the quick baseline
        return rule_failure_text(failure)
    if failure.is_diff:  # a max_drop: the value is the change against the baseline
        return (
            f"{failure.slice}: {failure.metric} changed {failure.value:+.4f} against the "
            f"baseline, fails change {failure.needed_change}"
        )
    bounds = []
    if failure.lower_bound is not None:
        bounds.append(f">= {failure.lower_bound}")
    if failure.upper_bound is not None:
        bounds.append(f"<= {failure.upper_bound}")
    if failure.min_change is not None:
        bounds.append(f"change vs baseline {failure.needed_change}")
    return (
        f"{failure.slice}: {failure.metric} = {failure.value:.4f} fails "
        f"{' and '.join(bounds) or 'its threshold'}"
    )


def gate_report(report: GateReport) -> list[str]:
    """The gate's report as a person reads it: drift and skew table, label health, verdict."""
    out = [f"data gate, span {report.span}:"]
    if report.previous_span is None:
        out.append(
            "  drift: not measured: no earlier accepted span to compare with (the first "
            "span, or a Kubeflow run: see README)"
        )
    for check in ("drift", "skew"):
        rows = [m for m in report.measurements if m.check == check]
        if not rows:
            continue
        against = (
            f"against span {report.previous_span}"
            if check == "drift"
            else "training against serving data"
        )
        out.append(f"  {check} ({against}):")
        for m in rows:
            flag = "ABOVE" if m.exceeded else "ok"
            out.append(
                f"    {m.feature:<24} {m.metric:<27} {m.value:8.4f}  "
                f"threshold {m.threshold:<6g} {flag}"
            )
    if report.previous_span is not None and report.unmeasured:
        out.append(f"  drift not measured for {unmeasured(report)}")
    out.append(f"  label '{report.label}':")
    for split, counts in sorted(report.label_counts.items()):
        out.append(
            f"    {split:<6} rows {counts.rows:>7}  {label_shares(counts)}  "
            f"missing {counts.missing_rate:.1%}"
        )
    if report.previous_label_rate is not None:
        out.append(
            f"    span {report.previous_span} train positive rate {report.previous_label_rate:.3f}"
        )
    for finding, entry in report.allowed:
        out.append(f"  ALLOWED by {entry}: {finding}")
    for entry in report.unused_allow:
        out.append(f"  note: allow entry {entry} matched nothing in this span")
    blocking = report.blocking
    verdict = f"STOPPED: {_plural(len(blocking), 'finding')}" if blocking else "ACCEPTED"
    out.append(f"  verdict: {verdict}")
    out += [f"    - {finding}" for finding in blocking]
    return out


def unmeasured(report: GateReport) -> str:
    """The features drift is not measured for, and why: one phrase for the terminal and the
    page."""
    return f"{', '.join(report.unmeasured)} (no drift_comparator in the schema)"


def gate_stop(report: GateReport, report_path: str) -> str:
    blocking = report.blocking
    return "\n".join(
        [
            f"Data gate failed with {_plural(len(blocking), 'finding')} "
            "(listed under the verdict); nothing was transformed, trained or pushed."
        ]
        + gate_report(report)
        + [
            f"Report written to {report_path}. A finding you accept on purpose can be allowed "
            "with --allow KIND:FEATURE (recorded in ML Metadata)."
        ]
    )


def runs(views: list[RunView]) -> None:
    """One line per run: what it ended in (one word), its AUC, span, push; then its steps."""
    for run in views:
        states = ", ".join(f"{n}={s}" for n, s in run.nodes.items() if not names.is_resolver(n))
        pushed = f"  version {run.pushed_version}" if run.pushed_version else ""
        auc = run.key_metric_text
        span = f"span {run.provenance['span']}" if "span" in run.provenance else "span ?"
        allowed = run.provenance.get("allowed", "[]")
        allowed = f"  allowed {allowed}" if allowed != "[]" else ""
        print(
            f"{run.run}  {run.pipeline}  {run.outcome:<15} {auc:<11} {span:<7} "
            f"started {run.started}  {run.seconds:.1f} s{pushed}{allowed}"
        )
        print(f"    {states}")


def artifacts(views: list[ArtifactView]) -> None:
    for a in views:
        keys = {k: v for k, v in a.properties.items() if k in _LISTED_PROPERTIES}
        print(
            f"{a.id:>5}  {a.type:<18} {a.producer or '-':<24} {a.run or '-':<28} {a.created}  "
            f"{a.uri}  {keys if keys else ''}"
        )


# Lineage ------------------------------------------------------------------------------------


def lineage(tree: dict, fmt: str, path: str | None) -> None:
    """A lineage tree as `text`, Graphviz `dot`, or `svg` (needs Graphviz's `dot`)."""
    if fmt == "text":
        print("\n".join(lineage_lines(tree)))
    elif fmt == "dot":
        emit(lineage_dot(tree).encode(), path)
    else:
        emit(svg(lineage_dot(tree)), path)


def lineage_lines(node: dict, indent: str = "") -> Iterable[str]:
    if "run" in node:
        yield f"made in run {node['run']['run']}:"
        for key, value in node["run"].items():
            if key != "run":
                yield f"  {key}: {value}"
    for step in node.get("deployments", []):
        percent = f" {step.percent:g}%" if step.mode == "canary" else ""
        why = f": {step.why}" if step.why else ""
        yield f"{step.action} {step.version} ({step.mode}{percent}) by {step.who} at {step.at}{why}"
    for watch in node.get("monitorings", []):
        yield (
            f"monitored {watch.since} .. {watch.until}: {watch.predictions} predictions, "
            f"{watch.labels} labels, {len(watch.findings)} finding(s) ({watch.page})"
        )
    artifact: ArtifactView = node["artifact"]
    if node.get("repeated"):  # one line: where it came from is printed where it first appears
        yield f"{indent}{artifact.type} #{artifact.id}  (as above)"
        return
    props = ", ".join(f"{k}={v}" for k, v in artifact.properties.items() if k in _TREE_PROPERTIES)
    yield (
        f"{indent}{artifact.type} #{artifact.id}  {artifact.uri}"
        + (f"  [{props}]" if props else "")
    )
    if node.get("gate"):
        allowed = node["gate"].get("allowed")
        yield (
            f"{indent}  data gate: {node['gate']['verdict']}"
            + (f", allowed {', '.join(allowed)}" if allowed else "")
        )
    for key, children in (("made_by", "from"), ("used_by", "made")):
        entries = node.get(key)
        if not entries:
            continue
        for entry in entries if isinstance(entries, list) else [entries]:
            execution: ExecutionView = entry["execution"]
            yield (
                f"{indent}  {'<-' if key == 'made_by' else '->'} {execution.node} "
                f"(execution #{execution.id}, {execution.state}, run {execution.run})"
            )
            if entry.get("metrics"):
                yield f"{indent}       metrics (overall): " + ", ".join(
                    f"{k}={v:.4f}" for k, v in sorted(entry["metrics"].items())
                )
            for name, value in execution.properties.items():
                if name in _TREE_EXECUTION_PROPERTIES:
                    yield f"{indent}       {name}: {value}"
            for child in entry[children]:
                yield from lineage_lines(child, indent + "     ")


def lineage_dot(node: dict) -> str:
    """Graphviz of a lineage tree: artifacts as boxes, executions as ellipses."""
    lines = ["digraph lineage {", "  rankdir=LR;"]
    seen: set[str] = set()

    def visit(n: dict) -> None:
        artifact = n["artifact"]
        a = f"a{artifact.id}"
        if a not in seen:
            seen.add(a)
            lines.append(f'  {a} [shape=box, label="{artifact.type} #{artifact.id}"];')
        for key, children in (("made_by", "from"), ("used_by", "made")):
            entries = n.get(key)
            for entry in entries if isinstance(entries, list) else [entries] if entries else []:
                execution = entry["execution"]
                e = f"e{execution.id}"
                if e not in seen:
                    seen.add(e)
                    lines.append(
                        f'  {e} [shape=ellipse, label="{execution.node} #{execution.id}"];'
                    )
                lines.append(f"  {e} -> {a};" if key == "made_by" else f"  {a} -> {e};")
                for child in entry[children]:
                    c = f"a{child['artifact'].id}"
                    lines.append(f"  {c} -> {e};" if key == "made_by" else f"  {e} -> {c};")
                    visit(child)

    visit(node)
    lines.append("}")
    return "\n".join(dict.fromkeys(lines)) + "\n"


def svg(graph: str) -> bytes:
    if not shutil.which("dot"):
        raise OutputError(
            "--format svg needs Graphviz's `dot` on PATH "
            "(apt-get install graphviz); --format dot works without it"
        )
    done = subprocess.run(["dot", "-Tsvg"], input=graph.encode(), capture_output=True)
    if done.returncode:
        raise OutputError(f"Graphviz failed: {done.stderr.decode().strip()[:200]}")
    return done.stdout


def emit(data: bytes, output: str | None) -> None:
    """To `output`, or to stdout."""
    if not output:
        print(data.decode(), end="")
        return
    try:
        pathlib.Path(output).write_bytes(data)
    except OSError as err:
        raise OutputError(f"{output}: cannot write: {err.strerror}") from None


# Diffs ----------------------------------------------------------------------------------------


def _number(value, sign: bool = False, count: bool = False) -> str:
    if value is None or value != value:
        return "n/a"
    if count:
        return f"{value:+,.0f}" if sign else f"{value:,.0f}"
    return f"{value:+.4f}" if sign else f"{value:.4f}"


def diff(run_diff: RunDiff) -> None:
    a, b = run_diff.runs
    print(f"A = {a}\nB = {b}")
    print("config:" + ("" if run_diff.config else " unchanged"))
    for key, (va, vb) in run_diff.config.items():
        print(f"  {key}: {va!r} -> {vb!r}")
    print("inputs and code:" + ("" if run_diff.inputs else " unchanged"))
    for key, (va, vb) in run_diff.inputs.items():
        print(f"  {key}: {va} -> {vb}")
    print(
        "split sizes: "
        + ", ".join(f"{s} {va} -> {vb}" for s, (va, vb) in run_diff.split_sizes.items())
    )
    print("schema:" + (" unchanged" if not run_diff.schema_diff else "\n" + run_diff.schema_diff))
    print(
        "steps: "
        + ", ".join(
            f"{n} {sa}/{sb}" for n, (sa, sb) in run_diff.nodes.items() if not names.is_resolver(n)
        )
    )
    print("eval metrics (A, B, B-A):")
    for slice_name in sorted(run_diff.metrics, key=slice_order):
        rows = run_diff.metrics[slice_name]
        a_side = defined({m: va for m, (va, _, _) in rows.items() if va is not None})
        b_side = defined({m: vb for m, (_, vb, _) in rows.items() if vb is not None})
        shown = []
        for m, (_, _, d) in rows.items():
            if m not in _DIFF_METRICS:
                continue
            va, vb = a_side.get(m), b_side.get(m)
            change = d if va is not None and vb is not None else None
            count = m == "example_count"
            shown.append(
                f"{m} {_number(va, count=count)} {_number(vb, count=count)} "
                f"{_number(change, sign=True, count=count)}"
            )
        if shown:
            print(f"  {slice_name}: " + "; ".join(shown))
    print(f"pushed: {run_diff.pushed[0]} -> {run_diff.pushed[1]}")


# Data tools and Kubeflow ------------------------------------------------------------------------


def findings(
    found: list[Finding], file: str, schema_file: pathlib.Path, against: int | None
) -> None:
    """`tfxp validate`: each finding with its file, column and place, then a summary."""
    for finding in found:
        print(f"{finding.split}: column '{finding.feature}': {finding.kind}: {finding.description}")
    if found:
        print(f"tfxp: {len(found)} problem(s) against {schema_file}", file=sys.stderr)
        return
    drift = f" and does not drift from span {against}" if against else ""
    print(f"tfxp: {file} conforms to {schema_file}{drift}")


def store_findings(found, config) -> None:
    """`tfxp store check`: each finding with what to do, or that the store is sound."""
    for finding in found:
        print(f"{finding.kind}: {finding.subject}\n    {finding.fix}")
    if found:
        print(f"tfxp: {len(found)} finding(s) in {config.metadata_path}", file=sys.stderr)
    else:
        print(
            f"tfxp: {config.metadata_path} is sound: nothing left running, every artifact's "
            f"files present, {config.serving_dir} as recorded"
        )


def serving_started(name: str, repository, host: str, port: int) -> None:
    versions = repository.versions()
    found = f"versions {', '.join(map(str, versions))}" if versions else "no version yet"
    print(
        f"tfxp: serving '{name}' ({found}) from {repository.serving_dir} at "
        f"http://{host}:{port}/v1/models/{name} (TensorFlow Serving's REST API); Ctrl-C stops",
        flush=True,
    )


def models(found) -> None:
    """`tfxp models`: one line per pushed version, newest first."""
    if not found:
        print("tfxp: no version pushed yet")
    for m in found:
        name = key_metric(m.metrics)
        value = m.metrics.get(name)
        shown = f"{name} {value:.4f}" if value is not None else "no evaluation"
        print(
            f"{m.version:>12}  {m.role:<24} span {m.span or '?':<3} {shown:<12} "
            f"{'blessed' if m.blessed else 'not blessed' if m.blessed is False else '?':<11} "
            f"run {m.run or '?'}  pushed {m.pushed_at}"
        )


def rollout(done) -> None:
    """`tfxp deploy`, `promote`, `rollback`: what is live and on trial now."""
    after = done.after
    trial = (
        f"; candidate {after.candidate.version} ({after.candidate.mode}"
        + (f" {after.candidate.percent:g}%" if after.candidate.mode == "canary" else "")
        + ")"
        if after.candidate
        else ""
    )
    record = f" (recorded as execution {done.execution_id})" if done.execution_id else ""
    print(f"tfxp: {done.action}: live {after.live}{trial}{record}")


def _figure(value, fmt: str = ".3f") -> str:
    return "n/a" if value is None else format(value, fmt)


def monitor_report(report) -> None:
    """`tfxp monitor`: per window the system line and one line per version and role, the
    quality per version, then the findings and where the page and record are."""
    print(
        f"tfxp: monitoring '{report.name}' {report.since} .. {report.until}, windows of "
        f"{report.window_seconds} s: {report.predictions} predictions"
    )
    for window in report.windows:
        print(
            f"  window {window.start}: {window.requests} requests, {window.failed} failed, "
            f"latency p50 {_figure(window.latency_p50_ms, '.1f')} ms, "
            f"p99 {_figure(window.latency_p99_ms, '.1f')} ms"
        )
        for group in window.groups:
            drifted = sorted(
                {f"{m.feature} ({m.check} {m.value:.2f})" for m in group.measurements if m.exceeded}
            )
            unseen = sorted(f"{k}={v}" for k, vals in group.unseen.items() for v in vals)
            notes = [f"shifted: {', '.join(drifted)}"] if drifted else []
            notes += [f"unseen: {', '.join(unseen[:5])}"] if unseen else []
            notes += [] if group.judged else ["too few rows to judge"]
            shift = group.score_shift.value if group.score_shift else None
            print(
                f"    v{group.version} {group.role:<9} {group.predictions:>6} rows  "
                f"mean score {_figure(group.score_mean)}  score drift {_figure(shift)}  "
                f"null {group.null_outputs}" + (f"  {'; '.join(notes)}" if notes else "")
            )
    for entry in report.quality:
        q = entry.quality
        judged = "" if entry.judged else "  not judged: too few labels"
        print(
            f"  quality v{entry.version} {entry.role:<9} {q.labels:>6} labels  auc "
            f"{_figure(q.auc)}  precision {_figure(q.precision)}  recall {_figure(q.recall)}"
            f"{judged}"
        )
    if report.quality_kind != F.BINARY:
        print(
            f"  quality: not measured for a {report.quality_kind} label (AUC, precision and "
            "recall from feedback are a binary model's)"
        )
    if not report.windows:
        print("  nothing logged in this range")
    for version in report.unrecorded:
        print(
            f"  v{version}: no push into this serving folder is recorded: not checked for skew "
            "or against its evaluation, not recorded"
        )
    if report.unmatched_labels:
        print(f"  {report.unmatched_labels} feedback label(s) name no logged answer")
    for alert in report.alerts:
        print(f"FINDING {alert}")
    if report.withdrawn is not None:
        rollout(report.withdrawn)
    if report.withdraw_failed:
        print(f"tfxp: the canary was not withdrawn: {report.withdraw_failed}", file=sys.stderr)
    print(
        f"tfxp: {len(report.alerts)} finding(s); page {report.page}; recorded as "
        f"execution(s) {', '.join(map(str, report.recorded)) or 'none'}"
    )


def retrained(done) -> None:
    """What `tfxp monitor --retrain` did (nothing without the flag)."""
    if done is None:
        return
    if not done.reasons:
        print(f"tfxp: retrain: no trigger fired ({done.new_labels} new labelled answers)")
    elif done.export is None:
        print(
            f"tfxp: retrain: {', '.join(done.reasons)} fired, but {done.new_labels} labelled "
            f"answers since the last export are too few for a span ({done.needed} needed)"
        )
    else:
        print(
            f"tfxp: retrain ({', '.join(done.reasons)}): span {done.export.span} from "
            f"{done.export.rows} labelled answers ({done.export.path})"
        )


def replayed(done, url: str) -> None:
    print(
        f"tfxp: replayed {done.rows} rows in {done.requests} requests to {url} "
        f"({done.failed} failed), {done.feedback} labels posted"
    )


def exported(done) -> None:
    skipped = (
        f" ({done.skipped} left out: their label cannot be written back)" if done.skipped else ""
    )
    print(
        f"tfxp: wrote span {done.span}: {done.rows} labelled answers in {done.path}{skipped}; "
        "`tfxp run` ingests it"
    )


def report_written(paths: list[pathlib.Path], as_url: bool) -> None:
    for path in paths:
        print(path.resolve().as_uri() if as_url else path)


def written(paths: Iterable[pathlib.Path], note: str = "") -> None:
    for path in paths:
        print(f"tfxp: wrote {path}{note}")


def schema_candidate(candidate, schema_file: pathlib.Path) -> None:
    if candidate.changes:
        print(f"{schema_file} -> {candidate.path}:")
        print("\n".join(f"  {line}" for line in candidate.changes))
        print(
            f"tfxp: candidate written to {candidate.path}; review the difference above and "
            f"copy what you accept into {schema_file}"
        )
    else:
        print(f"tfxp: the inferred schema matches {schema_file}")


def compiled(paths: list[pathlib.Path], image: str, target: str) -> None:
    written(paths, f" (image {image}, target {target})")
    print(
        "tfxp: note: a Kubeflow run ingests one span (the newest under data_root, or "
        "`tfxp submit --span N`), gates it against the last span accepted on Kubeflow, trains "
        "on the newest accepted spans, and is evaluated against the newest served version: "
        "the gate's verdicts are kept beside the pipeline root, not read from ML Metadata."
    )


def submitted(run) -> None:
    print(f"run id: {run.run_id}\nurl: {run.url}")
    for name, value in sorted(run.parameters.items()):
        print(f"  {name} = {value}")


def user_error(err: Exception) -> None:
    print(f"tfxp: {err}", file=sys.stderr)
