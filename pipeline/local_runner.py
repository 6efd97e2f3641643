"""Run the pipeline locally: LocalDagRunner, SQLite ML Metadata, Beam in this process."""

from __future__ import annotations

from pipeline.config import PipelineConfig


def run_local(config: PipelineConfig) -> None:
    """Build and run the pipeline; raises whatever stopped it (a gate failure included)."""
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner

    from pipeline.pipeline import build_pipeline
    from pipeline.provenance import record_on_latest_run, run_provenance

    config.pipeline_root.mkdir(parents=True, exist_ok=True)
    config.metadata_path.parent.mkdir(parents=True, exist_ok=True)
    pipeline = build_pipeline(config)
    facts = run_provenance(config)
    try:
        LocalDagRunner().run(pipeline)
    finally:  # a run stopped by the gate is on record too
        record_on_latest_run(config.metadata_path, config.name, facts)
