"""`tfxp monitor --retrain`: when a configured trigger fires (input drift or skew, a quality
floor broken, or enough labelled answers since the last export), the labelled answers become
a new span (`from_log`) and the pipeline runs on it once, gate, evaluation and push as usual:
a drifted span still stops at the gate unless `--allow` accepts the finding."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from monitoring.from_log import Export, export_span, labelled_rows, last_exported
from pipeline.config import PipelineConfig

DRIFT_KINDS = ("COMPARATOR_", "SKEW_COMPARATOR_")


@dataclasses.dataclass(frozen=True)
class Retrain:
    reasons: tuple[str, ...]  # the triggers that fired; empty: no retraining
    new_labels: int
    needed: int = 0  # labelled answers a span needs (`enough_rows`)
    export: Export | None = None
    outcome: object | None = None  # the run's RunOutcome or SpanRefused


def triggers(config: PipelineConfig, alerts) -> tuple[tuple[str, ...], int]:
    """The configured triggers the monitor's findings (and the labels since the last export)
    fire, and how many labelled answers are new."""
    wanted = config.monitoring.retrain_on
    new_labels = len(labelled_rows(config, last_exported(config)))
    fired = []
    if "drift" in wanted and any(
        a.area == "input" and a.kind.startswith(DRIFT_KINDS) for a in alerts
    ):
        fired.append("drift")
    if "quality" in wanted and any(a.area == "quality" for a in alerts):
        fired.append("quality")
    if "new_labels" in wanted and new_labels >= config.monitoring.retrain_min_new_labels:
        fired.append("new_labels")
    return tuple(fired), new_labels


def enough_rows(config: PipelineConfig) -> int:
    """Labelled answers a new span needs for each split to expect the gate's minimum: fewer
    would only be stopped at the gate (`validation.min_examples_per_split`)."""
    buckets = dict(config.split_buckets)
    return config.validation.min_examples_per_split * sum(buckets.values()) // min(buckets.values())


def retrain(
    config: PipelineConfig,
    alerts,
    allow: Sequence[str] = (),
    on_start: Callable = lambda planned: None,
    on_outcome: Callable = lambda outcome: None,
    on_refused: Callable = lambda refused: None,
    on_step: Callable = lambda node, event, seconds: None,
) -> Retrain:
    from pipeline import local_runner

    reasons, new_labels = triggers(config, alerts)
    if not reasons or new_labels < enough_rows(config):
        return Retrain(reasons, new_labels, enough_rows(config))  # nothing fired, or too little
    export = export_span(config)
    outcome = local_runner.run(
        config,
        span=export.span,
        allow=allow,
        on_start=on_start,
        on_outcome=on_outcome,
        on_refused=on_refused,
        on_step=on_step,
    )
    return Retrain(reasons, new_labels, enough_rows(config), export, outcome)
