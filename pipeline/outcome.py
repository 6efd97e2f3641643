"""What a local run ended in, as a value: the CLI maps it to an exit code, the benchmark and
tests read it, nothing turns an exception into an int.

A run that crashed (a bug, a full disk) has no outcome: its exception propagates.
"""

from __future__ import annotations

import dataclasses
import enum

from components.validation import Finding, GateReport
from metadata.evaluation import EvalSample, RuleCheck, ThresholdFailure, WeakSlice
from metadata.reader import RunView
from pipeline.config import PipelineConfig


class Result(enum.Enum):
    PUSHED = "blessed and pushed as a new version"
    ALREADY_SERVING = "blessed; the same model is already the newest version"
    NOT_BLESSED = "not blessed: nothing pushed"
    OLDER_THAN_SERVED = "blessed, not pushed: the served model was trained on newer data"
    STOPPED_AT_GATE = "stopped at the data gate"
    CHECKED_IN = "accepted by the data gate (data only)"


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    """One run of one span: its result and the facts a person or a test reads about it."""

    result: Result
    span: int
    data_only: bool  # a span checked in through the data gate only (backfill)
    run: RunView  # each step's state and time, the blessing, the push, from ML Metadata
    gate_report: GateReport | None  # None when the gate was not reached
    metrics: dict[str, float]  # the candidate's overall metrics on the eval split
    threshold_failures: tuple[ThresholdFailure, ...]  # why it was not blessed (ours included)
    weak_slices: tuple[WeakSlice, ...]  # where the candidate's errors concentrate
    quick_baseline: (
        dict | None
    )  # models.quick_baseline's result: its key metric and ours, same rows
    serving_dir: str
    metadata_path: str
    pipeline_root: str
    rule_checks: tuple[RuleCheck, ...] = ()  # our blessing rules' verdicts, "not judged" too
    eval_sample: EvalSample | None = None  # the eval rows the Evaluator judged

    @property
    def run_id(self) -> str:
        return self.run.run


@dataclasses.dataclass(frozen=True)
class SpanRefused:
    """No run was made: a planned span's files fail the structural checks (`span_check`),
    which would otherwise crash inside Beam."""

    span: int
    findings: tuple[Finding, ...]
    data_only: bool = False  # a backfilled span: it stays out of the window, the run goes on


@dataclasses.dataclass(frozen=True)
class PlannedRun:
    """One pipeline run `tfxp run` will make: a span, its config, and how far it goes."""

    config: PipelineConfig  # with the span and the allow list of this run
    span: int
    data_only: bool
