"""Run the pipeline locally: LocalDagRunner, SQLite ML Metadata, Beam in this process."""

from __future__ import annotations

from pipeline.config import PipelineConfig


def run_local(config: PipelineConfig) -> None:
    """Build and run the pipeline; raises whatever stopped it (a gate failure included)."""
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner

    from pipeline.pipeline import build_pipeline, local_placement
    from pipeline.provenance import record_on_latest_run, run_provenance

    config.pipeline_root.mkdir(parents=True, exist_ok=True)
    config.metadata_path.parent.mkdir(parents=True, exist_ok=True)
    placement = local_placement(config)  # hashes the data once, for the cache and the record
    pipeline = build_pipeline(config, placement)
    facts = run_provenance(config, data_sha256=placement.data_fingerprint)
    try:
        LocalDagRunner().run(pipeline)
    finally:  # a run stopped by the gate is on record too
        record_on_latest_run(config.metadata_path, config.name, facts)
