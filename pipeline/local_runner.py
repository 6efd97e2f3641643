"""Run the pipeline locally: LocalDagRunner, SQLite ML Metadata, Beam in this process."""

from __future__ import annotations

from pipeline.config import PipelineConfig


def run_local(config: PipelineConfig, through_gate: bool = False) -> None:
    """Build and run the pipeline (or its data half); raises whatever stopped it, the gate too."""
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner

    from pipeline.pipeline import build_pipeline, local_placement
    from pipeline.provenance import record_on_latest_run, run_provenance

    config.pipeline_root.mkdir(parents=True, exist_ok=True)
    config.metadata_path.parent.mkdir(parents=True, exist_ok=True)
    placement = local_placement(config)  # hashes the data once, for the cache and the record
    pipeline = build_pipeline(config, placement, through_gate=through_gate)
    facts = run_provenance(config, placement.data_fingerprint, placement.span)
    try:
        LocalDagRunner().run(pipeline)
    finally:  # a run stopped by the gate is on record too
        record_on_latest_run(config.metadata_path, config.name, facts)


def earlier_window_spans(config: PipelineConfig, span: int) -> list[int]:
    """The spans before `span` that its training window can hold, oldest first: what
    `tfxp run --backfill` checks in through the gate first. Their folders are checked now, so a
    bad one stops the run before any span is run."""
    from pipeline.data import span_files, spans

    earlier = [n for n in spans(config.data_root) if n < span][-(config.window - 1):] \
        if config.window > 1 else []
    for number in earlier:
        span_files(config.data_root, number)
    return earlier
