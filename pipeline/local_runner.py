"""Run the pipeline locally: LocalDagRunner, SQLite ML Metadata, Beam in this process.

`run` is what `tfxp run` and the benchmark call: it plans which spans to run (`plan`), runs
each under a run id chosen here, records the run's facts on that run, and returns the outcome
read back from ML Metadata by that id.
"""

from __future__ import annotations

import dataclasses
import datetime
import errno
import json
import os
import shutil
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from components.fingerprint import content_fingerprint
from components.validation import GateReport
from metadata.evaluation import (
    OVERALL,
    eval_sample,
    rule_checks,
    slice_metrics,
    threshold_failures,
    weak_slices,
)
from metadata.reader import (
    BLESSING_RULES,
    KEY_METRICS,
    QUICK_BASELINE,
    WHY_NOT_BLESSED,
    MetadataReader,
    RunView,
)
from metadata.store import MetadataError, open_store, sqlite_connection
from metadata.writer import record_run_facts
from models import quick_baseline
from pipeline import SETUP_FILE
from pipeline.config import PipelineConfig, with_overrides
from pipeline.outcome import PlannedRun, Result, RunOutcome, SpanRefused
from pipeline.progress import component_progress
from pipeline.recovery import Repairs, check_store, repair, served_state
from pipeline.run_facts import run_facts
from pipeline.run_lock import run_lock
from pipeline.schema import check_schema_covers_config, read_schema, with_label_classes
from pipeline.span_check import span_findings
from pipeline.spans import csv_files, span_files, spans

if TYPE_CHECKING:
    from pipeline.definition import Placement


def load_runner() -> None:
    """Import TFX's orchestration before anything loads TensorFlow in this process (the
    monitor does, through TFDV, before `--retrain` runs): the other way round, TensorFlow 2.16
    tears its `atomic_function` module down first at exit and prints tracebacks."""
    import tfx.orchestration.local.local_dag_runner  # noqa: F401


def named_run_dag_runner(run_id: str):
    """LocalDagRunner under a run id the caller chooses, so the caller can read its own run
    back by id. TFX 1.16 names a run after the time inside `run_with_ir`, out of reach; with
    overlapping runs, "the newest run" is somebody else's. TFX is imported here, not with the
    module: planning and its one-line errors need no TensorFlow."""
    from tfx.dsl.compiler import constants
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner
    from tfx.orchestration.portable import runtime_parameter_utils

    class NamedRunDagRunner(LocalDagRunner):
        def run_with_ir(self, pipeline, run_options=None):
            runtime_parameter_utils.substitute_runtime_parameter(
                pipeline, {constants.PIPELINE_RUN_ID_PARAMETER_NAME: run_id}
            )
            return super().run_with_ir(pipeline, run_options)

    return NamedRunDagRunner()


def local_placement(
    config: PipelineConfig, served_span: int = 0, pushed: frozenset[str] = frozenset()
) -> Placement:
    """Local files, SQLite ML Metadata, Beam in this process, caching on; the span resolved
    and its files hashed now, so the cache key covers exactly the files ExampleGen reads.
    `served_span`: the span the served model was trained up to (0: push whatever the span);
    `pushed`: the version folders the store recorded pushes to."""
    from tfx.proto import trainer_pb2

    from pipeline.definition import Placement

    span, files = span_files(config.data_root, config.span)
    serving_root = config.serving_root
    return Placement(
        pipeline_root=str(config.pipeline_root),
        data_root=str(config.data_root),
        serving_dir=str(config.serving_dir),
        beam_args=config.beam.args(SETUP_FILE),
        metadata_connection=sqlite_connection(config.metadata_path, create=True),
        enable_cache=True,
        data_fingerprint=content_fingerprint(files, root=config.data_root),
        train_args=trainer_pb2.TrainArgs(num_steps=config.model.training.train_steps),
        span=span,
        span_resolvers=True,
        serving_data_root=str(serving_root) if serving_root else None,
        serving_data_fingerprint=(
            content_fingerprint(csv_files(serving_root), root=serving_root)
            if serving_root
            else None
        ),
        served_state=served_state(config.serving_dir, set(pushed)),
        served_span=served_span,
    )


def plan(
    config: PipelineConfig,
    span: int | None = None,
    allow: Sequence[str] = (),
    backfill: bool = False,
) -> list[PlannedRun]:
    """What `tfxp run` runs, in order. With `backfill`, first the earlier spans of the window
    the gate never judged, data only, under the config's own `allow` (`--allow` is for the span
    asked for); then that span, through the whole pipeline.

    Everything is checked before anything runs: the span, the folders (serving data's too),
    the allow entries.
    """
    target = with_overrides(config, span=span, allow=allow)
    number, _ = span_files(config.data_root, target.span)
    if config.serving_root is not None:
        csv_files(config.serving_root)
    schema = read_schema(target.schema_file)
    check_schema_covers_config(schema, target)
    config, target = with_label_classes(schema, config), with_label_classes(schema, target)
    earlier = unjudged_window_spans(config, number) if backfill else []
    return [PlannedRun(dataclasses.replace(config, span=n), n, data_only=True) for n in earlier] + [
        PlannedRun(dataclasses.replace(target, span=number), number, data_only=False)
    ]


def malformed(planned: PlannedRun) -> SpanRefused | None:
    """The span's structural findings, if its files have any (a malformed file would crash
    Beam's CSV reader mid-run)."""
    schema = read_schema(planned.config.schema_file)
    files = span_files(planned.config.data_root, planned.span)[1]
    findings = span_findings(files, schema, planned.config.na_values)
    return SpanRefused(planned.span, tuple(findings), planned.data_only) if findings else None


def unjudged_window_spans(config: PipelineConfig, span: int) -> list[int]:
    """The spans before `span` its training window can hold that the gate has never judged,
    oldest first: what `--backfill` checks in. A span already judged keeps its verdict (an
    acceptance given with `--allow` included); re-run it with `--span` to judge it again.
    Folders are checked now, so a bad one stops the run before any span runs."""
    earlier = (
        [n for n in spans(config.data_root) if n < span][-(config.window - 1) :]
        if config.window > 1
        else []
    )
    for number in earlier:
        span_files(config.data_root, number)
    judged = judged_spans(config)
    return [n for n in earlier if n not in judged]


def judged_spans(config: PipelineConfig) -> set[int]:
    """Spans of this pipeline the data gate has given a verdict on, from its ML Metadata."""
    if not config.metadata_path.is_file():
        return set()
    return MetadataReader(open_store(sqlite=config.metadata_path)).judged_spans(config.name)


def served_of(config: PipelineConfig) -> tuple[int, frozenset[str]]:
    """Per the store: the span the model now served was trained up to (0 when unknown), and
    the version folders pushes were recorded to."""
    if not config.metadata_path.is_file() or config.metadata_path.stat().st_size == 0:
        return 0, frozenset()
    reader = MetadataReader(open_store(sqlite=config.metadata_path))
    span = reader.served_span(str(config.serving_dir)) or 0
    return span, frozenset(reader.pushed_destinations())


def run(
    config: PipelineConfig,
    span: int | None = None,
    allow: Sequence[str] = (),
    backfill: bool = False,
    on_start: Callable[[PlannedRun], None] = lambda planned: None,
    on_outcome: Callable[[RunOutcome], None] = lambda outcome: None,
    on_repairs: Callable[[Repairs], None] = lambda repairs: None,
    replace_newer: bool = False,
    on_refused: Callable[[SpanRefused], None] = lambda refused: None,
    on_step: Callable[[str, str, float], None] = lambda node, event, seconds: None,
    verbose: bool = False,
) -> RunOutcome | SpanRefused:
    """Each planned run in turn (a backfilled span the gate stops stays out of the window and
    the next goes on); the outcome of the span asked for. A model trained on older spans than
    the served one is not pushed unless `replace_newer` (recorded with the run).

    All of it holds the store's lock (`run_lock`): a second run on the same store is refused.
    Under it, before anything runs, what dead runs left is repaired (`recovery`).
    """
    with run_lock(config.metadata_path):
        check_store(config)
        planned_runs = plan(config, span, allow, backfill)
        refused = malformed(planned_runs[-1])  # the span asked for: nothing runs
        if refused is not None:
            on_refused(refused)
            return refused
        on_repairs(repair(config))
        outcome = None
        for planned in planned_runs:
            skipped = malformed(planned) if planned.data_only else None
            if skipped is not None:  # like a gate stop: out of the window, going on
                on_refused(skipped)
                continue
            on_start(planned)  # a failure then names the span it happened on
            with component_progress(on_step, verbose):
                outcome = run_once(planned.config, planned.data_only, replace_newer)
            on_outcome(outcome)
    assert outcome is not None and not outcome.data_only, "a plan ends with the span asked for"
    return outcome


def run_once(
    config: PipelineConfig, data_only: bool = False, replace_newer: bool = False
) -> RunOutcome:
    """One pipeline run on `config.span` (the newest if None), under a run id chosen here.

    A stop at the data gate is an outcome; any other failure propagates, as the bug it is.
    """
    run_id = datetime.datetime.now().isoformat()  # TFX's own format
    # The runner (and so TFX's orchestration) is imported before the pipeline's components:
    # the other way round, TensorFlow 2.16 tears its `atomic_function` module down first at
    # interpreter exit and prints "Exception ignored in AtomicFunction.__del__" tracebacks
    # (tests/e2e/test_pipeline_runs.py runs `tfxp run` as a process to hold this).
    runner = named_run_dag_runner(run_id)
    from components import beam_signatures
    from pipeline.definition import build_pipeline

    beam_signatures.install()  # Transform's and TFMA's Beam stages: ~1 s of a cold taxi run

    config.pipeline_root.mkdir(parents=True, exist_ok=True)
    config.metadata_path.parent.mkdir(parents=True, exist_ok=True)
    served_span, pushed = served_of(config)
    placement = local_placement(config, 0 if replace_newer else served_span, pushed)
    pipeline = build_pipeline(config, placement, data_only=data_only)
    facts = run_facts(config, placement.data_fingerprint, placement.span)
    if replace_newer:
        facts["replace_newer"] = "true"

    failure = None
    try:
        runner.run(pipeline)
    except Exception as err:  # a stop at the gate arrives through TFX's launcher too
        failure = _told_as_disk_full(err, config)
    finally:  # a stopped or interrupted run is on record too
        _record_facts(config, run_id, facts, failure)
    try:
        run_view = MetadataReader(open_store(sqlite=config.metadata_path)).run(run_id)
    except MetadataError:
        if failure is None:
            raise
        raise failure from None  # nothing was recorded: the failure says more
    result = result_of(run_view, data_only, failed=failure is not None)
    if result is None and failure is not None:
        raise failure
    if result is None:
        raise RuntimeError(f"run {run_id} completed without a verdict: {run_view.nodes}")
    outcome = _outcome(config, run_view, result, placement.span, data_only)
    facts = {}
    # The key metric on the run: `tfxp runs` reads no TFMA files.
    key = next((name for name in KEY_METRICS if name in outcome.metrics), None)
    if key:
        facts[key] = f"{outcome.metrics[key]}"
    if outcome.quick_baseline:  # beside ours, on the run: the page and `runs --json` show it
        facts[QUICK_BASELINE] = json.dumps(outcome.quick_baseline)
    if outcome.threshold_failures:  # `runs --json` says why, reading no evaluation files
        facts[WHY_NOT_BLESSED] = json.dumps(
            [dataclasses.asdict(f) for f in outcome.threshold_failures]
        )
    if outcome.rule_checks:
        facts[BLESSING_RULES] = json.dumps([dataclasses.asdict(c) for c in outcome.rule_checks])
    if facts:
        record_run_facts(config.metadata_path, run_id, facts)
    return outcome


def result_of(run_view: RunView, data_only: bool, failed: bool) -> Result | None:
    """What a run ended in, from what ML Metadata holds of it; None when it is no outcome (a
    step failed other than by the gate's stop, or a run completed without a verdict)."""
    if run_view.gate_stopped:
        return Result.STOPPED_AT_GATE
    if failed:
        return None
    if data_only:
        return Result.CHECKED_IN
    if run_view.pushed_version is not None:
        return Result.PUSHED
    if run_view.already_serving_version is not None:
        return Result.ALREADY_SERVING
    if run_view.older_than_served_span is not None:
        return Result.OLDER_THAN_SERVED
    if run_view.blessed is False:
        return Result.NOT_BLESSED
    return None


def _record_facts(
    config: PipelineConfig, run_id: str, facts: dict, failure: Exception | None
) -> None:
    """Record the run's facts. Where that fails too (the disk that stopped the run is full,
    and SQLite cannot write), the run's own failure is what is told, else this one, as a full
    disk where it is one: which write meets the full disk first depends on sizes."""
    try:
        record_run_facts(config.metadata_path, run_id, facts)
        return
    except Exception as err:
        unrecorded = err
    # Raised here, not in the handler: each keeps its own cause (the step's error for the
    # run's failure, this write's for a full disk told).
    raise failure if failure is not None else _told_as_disk_full(unrecorded, config)


def _told_as_disk_full(err: Exception, config: PipelineConfig) -> Exception:
    """A failure that shows a full disk, as an OSError naming the folder that filled (one
    line, exit 2, not a bug). Where the disk fills decides how it shows: an OSError without a
    path from TensorFlow or gzip, or, when SQLite rolls a write back, only ML Metadata's
    "cannot commit - no transaction is active"."""
    if not _shows_full_disk(err):
        return err
    for folder in (config.metadata_path.parent, config.pipeline_root):
        try:
            nearly_full = shutil.disk_usage(folder).free < NEARLY_FULL_BYTES
        except OSError:
            continue
        if nearly_full:
            full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder))
            full.__cause__ = err
            return full
    return err


def _shows_full_disk(err: BaseException | None) -> bool:
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno == errno.ENOSPC:
            return True
        text = str(err).lower()
        if any(w in text for w in ("no space left", "disk is full", "no transaction is active")):
            return True
        err = err.__cause__ or err.__context__
    return False


NEARLY_FULL_BYTES = 1 << 20


def _outcome(
    config: PipelineConfig, run_view: RunView, result: Result, span: int, data_only: bool
) -> RunOutcome:
    """The outcome with what a person reads about it: the gate's report, the evaluation."""
    report = GateReport.read(run_view.gate_report_path)
    evaluation = run_view.evaluation_uri
    checks = rule_checks(evaluation) if evaluation and not data_only else []
    failures = (
        threshold_failures(evaluation, checks)
        if evaluation and result is Result.NOT_BLESSED
        else []
    )
    table = slice_metrics(evaluation) if evaluation else {}
    return RunOutcome(
        result=result,
        span=span,
        data_only=data_only,
        run=run_view,
        gate_report=report,
        metrics=table.get(OVERALL, {}),
        threshold_failures=tuple(failures),
        rule_checks=tuple(checks),
        eval_sample=eval_sample(evaluation) if evaluation and not data_only else None,
        weak_slices=tuple(weak_slices(table)),
        quick_baseline=quick_baseline.load(run_view.model_run_uri) if not data_only else None,
        serving_dir=str(config.serving_dir),
        metadata_path=str(config.metadata_path),
        pipeline_root=str(config.pipeline_root),
    )
