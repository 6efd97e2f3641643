"""`tfxp monitor`: the served model's traffic judged per window, version and role, the
findings put on record in ML Metadata against each version's PushedModel, and a page.

Per window: system (requests, failed share, latency p50/p99), per version and role: inputs
(the schema's checks, skew against the version's training data, drift against the previous
window, missing values, unseen categories) and outputs (null answers, score drift). Over the
whole range, per version and role: quality from feedback labels against the configured
floors, and a canary's or shadow's quality against live's. A window or version with too few
rows is measured, not judged.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import time
from collections.abc import Callable

from components.validation import Finding, Measurement
from metadata import names
from metadata.reader import MetadataReader
from metadata.store import MetadataError, open_store
from metadata.writer import record_on_pushed_model
from models import features as F
from monitoring import measures
from monitoring.measures import Quality
from monitoring.traffic import Scored, Traffic, Window, groups, moment, read_traffic, windows
from pipeline.config import PipelineConfig
from pipeline.schema import read_schema
from serving import deployment
from serving.deployment import CANARY, LIVE, SHADOW
from serving.prediction_log import predictions_dir
from serving.rollout import Rollout

# The monitor's own finding kinds, beside the data gate's (TFDV's and SKEW_...).
LATENCY_P99 = "LATENCY_P99_HIGH"
ERROR_RATE = "ERROR_RATE_HIGH"
NULL_OUTPUTS = "NULL_OUTPUTS"
SCORE_DRIFT = "SCORE_DRIFT"
QUALITY_FLOOR = "QUALITY_BELOW_FLOOR"
QUALITY_DROP = "QUALITY_DROP"  # against the version's own evaluation
CANDIDATE_WORSE = "CANDIDATE_WORSE_THAN_LIVE"


@dataclasses.dataclass(frozen=True)
class Alert:
    """One finding above its threshold: where (window, version, role), what, and why."""

    window: str  # the window's start, or "range" for checks over the whole range
    version: int | None  # None: the whole window (system checks)
    role: str
    area: str  # system, input, output, quality, candidate
    subject: str  # a feature or a metric
    kind: str
    description: str

    def __str__(self) -> str:
        who = f"version {self.version} ({self.role})" if self.version is not None else "all"
        return f"{self.window} {who}: {self.area} '{self.subject}': {self.kind}: {self.description}"


@dataclasses.dataclass(frozen=True)
class GroupReport:
    """One version and role in one window."""

    version: int
    role: str
    predictions: int
    judged: bool  # enough rows to judge inputs and outputs
    missing: dict[str, float]  # feature -> share of rows without a value (only those > 0)
    unseen: dict[str, dict[str, int]]  # feature -> value outside the domain -> count
    null_outputs: int
    score_mean: float | None
    score_shift: Measurement | None  # against the previous window's scores
    against_live: Measurement | None  # a candidate's scores against live's in this window
    measurements: tuple[Measurement, ...]  # input skew and drift values, each feature


@dataclasses.dataclass(frozen=True)
class WindowReport:
    start: str
    end: str
    requests: int
    failed: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    groups: tuple[GroupReport, ...]


@dataclasses.dataclass(frozen=True)
class VersionQuality:
    version: int
    role: str
    quality: Quality
    judged: bool  # enough labels


@dataclasses.dataclass(frozen=True)
class MonitorReport:
    name: str
    since: str
    until: str
    window_seconds: int
    windows: tuple[WindowReport, ...]
    quality: tuple[VersionQuality, ...]
    alerts: tuple[Alert, ...]
    recorded: tuple[int, ...]  # ML Metadata executions, one per version monitored
    page: str | None
    unrecorded: tuple[int, ...] = ()  # versions no push recorded: no skew, no evaluation
    unmatched_labels: int = 0  # feedback naming no logged answer
    withdrawn: Rollout | None = None  # the canary withdrawn by `rollback_canary`
    withdraw_failed: str | None = None  # why a withdrawal the findings called for failed
    quality_kind: str = F.BINARY  # the label's kind: quality is measured for binary only

    @property
    def predictions(self) -> int:
        return sum(g.predictions for w in self.windows for g in w.groups)


def monitor(
    config: PipelineConfig,
    since: float | None = None,
    until: float | None = None,
    window_seconds: int | None = None,
    now: Callable[[], float] = time.time,
    log_dir: pathlib.Path | None = None,
) -> MonitorReport:
    """Judge the logged traffic in [since, until) (default: the last window up to now), write
    the page and record the result against each version seen; then, when the range ends now,
    withdraw a canary found worse than live (`rollback_canary`). The log is the server's
    (`log_dir` points elsewhere, for the benchmark)."""
    if not config.metadata_path.is_file():
        raise MetadataError(f"{config.metadata_path}: no ML Metadata store to monitor against")
    limits = config.monitoring
    length = window_seconds or limits.window_seconds
    traffic = read_traffic(log_dir or predictions_dir(config.serving_dir))
    end = until if until is not None else now()
    start = since if since is not None else end - length
    schema = read_schema(config.schema_file)
    training = _TrainingStatistics(config)
    alerts: list[Alert] = []
    reports = []
    previous = _previous(traffic.between(start - length, start), schema)
    for window in windows(start, end, length):
        current = traffic.between(window.start, window.end)
        inputs = _window_inputs(current, schema)
        report, found = _judge_window(window, current, inputs, previous, training, schema, config)
        reports.append(report)
        alerts += found
        previous = _previous(current, schema, inputs)
    in_range = traffic.between(start, end)
    qualities, found = _judge_quality(in_range, config)
    alerts += found
    report = MonitorReport(
        name=config.name,
        since=moment(start),
        until=moment(end),
        window_seconds=length,
        windows=tuple(r for r in reports if r.requests or r.groups),
        quality=tuple(qualities),
        quality_kind=config.model.label.kind,
        alerts=tuple(alerts),
        recorded=(),
        page=None,
        unrecorded=tuple(v for v in training.versions(in_range) if not training.pushed(v)),
        unmatched_labels=traffic.unmatched_labels,
    )
    page = _write_page(config, report)
    report = dataclasses.replace(
        report, page=str(page), recorded=_record(config, report, in_range, page, training)
    )
    if until is not None:  # a past range is a look back: today's canary is not judged by it
        return report
    return _withdraw_worse_canary(config, report)


@dataclasses.dataclass(frozen=True)
class _GroupInputs:
    rows: list[Scored]
    statistics: object  # input statistics
    scores: object  # score statistics
    missing: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class _Previous:
    """The window before: all its answered inputs (drift is the traffic's, whichever version
    answered) and each version's and role's scores (a score is its model's)."""

    inputs: _GroupInputs | None
    scores: dict[tuple[int, str], _GroupInputs]


def _previous(traffic: Traffic, schema, inputs=None) -> _Previous:
    inputs = inputs if inputs is not None else _window_inputs(traffic, schema)
    answering = [group for (_, role), group in inputs.items() if role != SHADOW]
    answered = traffic.answered()
    if len(answering) == 1:  # one version answered all: its statistics are the window's
        pooled = answering[0]
    else:
        pooled = (
            _GroupInputs(answered, measures.inputs_of(answered, schema).statistics, None)
            if answered
            else None
        )
    return _Previous(pooled, inputs)


def _window_inputs(traffic: Traffic, schema) -> dict[tuple[int, str], _GroupInputs]:
    found = {}
    for key, rows in groups(traffic.scored).items():
        inputs = measures.inputs_of(rows, schema)
        found[key] = _GroupInputs(
            rows, inputs.statistics, measures.score_statistics(rows), inputs.missing
        )
    return found


def _judge_window(window: Window, traffic: Traffic, inputs, previous, training, schema, config):
    limits = config.monitoring
    alerts = []
    answered = traffic.answered()
    latencies = list({s.request_id: s.latency_ms for s in answered}.values()) + [
        f.latency_ms for f in traffic.failed
    ]
    requests = len({s.request_id for s in answered} | {f.request_id for f in traffic.failed})
    failed = len({f.request_id for f in traffic.failed})
    p99 = measures.percentile(latencies, 99)
    if requests >= limits.min_rows:

        def system(subject: str, kind: str, text: str) -> None:
            alerts.append(Alert(window.name, None, "all", "system", subject, kind, text))

        if p99 is not None and p99 > limits.max_latency_p99_ms:
            system(
                "latency_p99_ms",
                LATENCY_P99,
                f"p99 {p99:.1f} ms above {limits.max_latency_p99_ms:g} ms over {requests} requests",
            )
        if failed / requests > limits.max_error_rate:
            system(
                "error_rate",
                ERROR_RATE,
                f"{failed} of {requests} requests failed ({failed / requests:.1%}), at most "
                f"{limits.max_error_rate:.1%} allowed",
            )
    live_scores = _pooled_scores([g for (v, role), g in inputs.items() if role == LIVE])
    group_reports = []
    for (version, role), group in inputs.items():
        report, found = _judge_group(
            window,
            version,
            role,
            group,
            previous,
            live_scores,
            training,
            schema,
            config,
        )
        group_reports.append(report)
        alerts += found
    return (
        WindowReport(
            start=window.name,
            end=moment(window.end),
            requests=requests,
            failed=failed,
            latency_p50_ms=measures.percentile(latencies, 50),
            latency_p99_ms=p99,
            groups=tuple(group_reports),
        ),
        alerts,
    )


def _pooled_scores(live_groups: list[_GroupInputs]):
    if len(live_groups) == 1:  # one live version: its statistics, not computed again
        return live_groups[0].scores
    rows = [row for group in live_groups for row in group.rows]
    return measures.score_statistics(rows) if rows else None


def _judge_group(window, version, role, group, previous, live_scores, training, schema, config):
    limits = config.monitoring
    rows = group.rows
    judged = len(rows) >= limits.min_rows
    where = f"{window.name} v{version} {role}"
    findings: list[Finding] = []
    measured: list[Measurement] = []
    answering = role != SHADOW  # a shadow repeats live's requests: their inputs are judged once
    if judged and answering:
        findings += measures.schema_findings(where, group.statistics, schema)
    if judged:
        baseline = training.of(version)
        if baseline is not None:
            skew_found, skew_values = measures.input_skew(baseline, group.statistics, schema)
            findings, measured = findings + skew_found, measured + skew_values
    before = previous.inputs
    if judged and answering and before is not None and len(before.rows) >= limits.min_rows:
        drift_found, drift_values = measures.input_drift(
            group.statistics, before.statistics, schema
        )
        findings, measured = findings + drift_found, measured + drift_values
    alerts = [
        Alert(window.name, version, role, "input", f.feature, f.kind, f.description)
        for f in findings
    ]
    null_outputs = sum(1 for row in rows if row.score is None)
    scores = [row.score for row in rows if row.score is not None]
    scored_before = previous.scores.get((version, role))
    shift = (
        measures.score_shift(group.scores, scored_before.scores, limits.max_score_drift)
        if judged and scores and scored_before and len(scored_before.rows) >= limits.min_rows
        else None
    )
    against_live = (
        measures.score_shift(group.scores, live_scores, limits.max_score_drift)
        if role != LIVE and live_scores is not None and scores
        else None
    )

    def output(kind: str, why: str) -> None:
        alerts.append(Alert(window.name, version, role, "output", "score", kind, why))

    if judged and null_outputs / len(rows) > limits.max_null_output_rate:
        output(
            NULL_OUTPUTS,
            f"{null_outputs} of {len(rows)} answers had no finite score, at most "
            f"{limits.max_null_output_rate:.1%} allowed",
        )
    if shift is not None and shift.exceeded:
        output(
            SCORE_DRIFT,
            f"{shift.metric} {shift.value:.3f} against the previous window, above "
            f"{shift.threshold:g}",
        )
    report = GroupReport(
        version=version,
        role=role,
        predictions=len(rows),
        judged=judged,
        missing=group.missing,
        unseen=measures.unseen_categories(rows, schema),
        null_outputs=null_outputs,
        score_mean=sum(scores) / len(scores) if scores else None,
        score_shift=shift,
        against_live=against_live,
        measurements=tuple(measured),
    )
    return report, alerts


def _judge_quality(traffic: Traffic, config: PipelineConfig):
    """Quality per version and role over the range, against the floors; a candidate's
    against live's on the same range."""
    limits = config.monitoring
    found, alerts = [], []
    if config.model.label.kind != F.BINARY:
        # AUC, precision and recall at 0.5 are a binary model's; its inputs, scores and
        # system are still judged. Multiclass and regression quality: see README.
        return found, alerts
    for (version, role), rows in groups(traffic.scored).items():
        quality = measures.quality(rows)
        judged = quality.labels >= limits.min_labels
        found.append(VersionQuality(version, role, quality, judged))
        for metric, floor in limits.quality_floors if judged else ():
            value = quality.value(metric)
            if value is not None and value < floor:
                alerts.append(
                    Alert(
                        "range",
                        version,
                        role,
                        "quality",
                        metric,
                        QUALITY_FLOOR,
                        f"{metric} {value:.3f} on {quality.labels} labelled answers, below the "
                        f"floor {floor:g}",
                    )
                )
    evaluated = _evaluation_auc(config) if found else {}
    for entry in found:
        offline, served = evaluated.get(entry.version), entry.quality.auc
        if entry.judged and offline is not None and served is not None:
            if offline - served > limits.max_auc_drop:
                alerts.append(
                    Alert(
                        "range",
                        entry.version,
                        entry.role,
                        "quality",
                        "auc",
                        QUALITY_DROP,
                        f"auc {served:.3f} on {entry.quality.labels} labelled answers against "
                        f"{offline:.3f} in its evaluation: {offline - served:.3f} lower, at most "
                        f"{limits.max_auc_drop:g} allowed",
                    )
                )
    by_group = groups(traffic.scored)
    for entry in found:
        if entry.role == LIVE or not entry.judged or entry.quality.auc is None:
            continue
        rows = by_group[(entry.version, entry.role)]
        first, last = rows[0].time, rows[-1].time
        live = measures.quality(  # live over the same stretch: the version it is weighed against
            [row for row in traffic.scored if row.role == LIVE and first <= row.time <= last]
        )
        if live.labels < limits.min_labels or live.auc is None:
            continue
        drop = live.auc - entry.quality.auc
        if drop > limits.max_candidate_drop:
            alerts.append(
                Alert(
                    "range",
                    entry.version,
                    entry.role,
                    "candidate",
                    "auc",
                    CANDIDATE_WORSE,
                    f"auc {entry.quality.auc:.3f} against live's {live.auc:.3f} "
                    f"({entry.quality.labels} and {live.labels} labels): {drop:.3f} lower, at "
                    f"most {limits.max_candidate_drop:g} allowed",
                )
            )
    return found, alerts


def _evaluation_auc(config: PipelineConfig) -> dict[int, float]:
    """Each pushed version's AUC on its own eval split, from its run's evaluation."""
    from serving.registry import models

    return {m.version: m.metrics["auc"] for m in models(config) if "auc" in m.metrics}


def _withdraw_worse_canary(config: PipelineConfig, report: MonitorReport) -> MonitorReport:
    """With `rollback_canary`, the canary now serving, if found worse than live, is withdrawn
    and the withdrawal recorded; a withdrawal that fails is said, not raised: the findings
    are on record already."""
    if not config.monitoring.rollback_canary:
        return report
    state = deployment.read_state(config.serving_dir)
    canary = state.candidate if state.candidate and state.candidate.mode == CANARY else None
    worse = [
        a
        for a in report.alerts
        if canary and a.kind == CANDIDATE_WORSE and a.version == canary.version and a.role == CANARY
    ]
    if not worse:
        return report
    from serving.rollout import WITHDRAW, apply

    try:
        done = apply(config, WITHDRAW, f"tfxp monitor: {worse[0].description}")
    except (deployment.DeploymentError, MetadataError) as err:
        return dataclasses.replace(report, withdraw_failed=str(err))
    return dataclasses.replace(report, withdrawn=done)


class _TrainingStatistics:
    """The train split's statistics of the span whose run pushed each version: what it
    learnt from last (its window's newest span), for the skew check. None for a version no
    push into this serving folder recorded."""

    def __init__(self, config: PipelineConfig):
        self.config, self.found = config, {}
        reader = MetadataReader(open_store(sqlite=config.metadata_path))
        self.reader = reader
        pushes = reader.pushes_into(config.serving_dir)
        self.runs = {push.version: push.run for push in pushes}
        self.push_ids = {push.version: push.artifact_id for push in pushes}  # newest wins

    def versions(self, traffic: Traffic) -> list[int]:
        return sorted({row.version for row in traffic.scored})

    def pushed(self, version: int) -> bool:
        return version in self.runs

    def of(self, version: int):
        if version not in self.found:
            self.found[version] = self._read(self.runs.get(version))
        return self.found[version]

    def _read(self, run: str | None):
        import tensorflow_data_validation as tfdv

        statistics = (
            self.reader.output_of(run, names.STATISTICS_GEN, names.STATISTICS) if run else None
        )
        path = pathlib.Path(statistics.uri if statistics else "") / "Split-train"
        if statistics is None or not (path / names.STATISTICS_FILE).is_file():
            return None
        return tfdv.load_stats_binary(str(path / names.STATISTICS_FILE))


def _record(
    config: PipelineConfig, report: MonitorReport, traffic: Traffic, page, training
) -> tuple:
    """One execution per version seen whose push is recorded, reading its PushedModel: the
    range and its findings (a version without one is listed in the report instead)."""
    recorded = []
    for version in sorted({row.version for row in traffic.scored} - set(report.unrecorded)):
        rows = [row for row in traffic.scored if row.version == version]
        facts = {
            names.MONITORING_SINCE: report.since,
            names.MONITORING_UNTIL: report.until,
            names.MONITORING_PREDICTIONS: len(rows),
            names.MONITORING_LABELS: sum(1 for row in rows if row.label is not None),
            names.MONITORING_FINDINGS: json.dumps(
                [str(a) for a in report.alerts if a.version in (version, None)]
            ),
            names.MONITORING_PAGE: str(page),
        }
        pushed = training.push_ids[version]
        recorded.append(
            record_on_pushed_model(
                config.metadata_path, config.name, names.MONITORING, pushed, facts
            )
        )
    return tuple(recorded)


def _write_page(config: PipelineConfig, report: MonitorReport) -> pathlib.Path:
    from monitoring.page import write_page

    folder = pathlib.Path(config.serving_dir).parent / "monitoring"
    since, until = (t.replace(":", "").replace("-", "") for t in (report.since, report.until))
    return write_page(folder / f"{since}-{until}-{report.window_seconds}s.html", report)
