"""Run the pipeline locally: LocalDagRunner, SQLite ML Metadata, Beam in this process."""

from __future__ import annotations

from pipeline.config import PipelineConfig


def run_local(config: PipelineConfig) -> None:
    """Build and run the pipeline; raises whatever stopped it (a gate failure included)."""
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner

    from pipeline.pipeline import build_pipeline

    config.pipeline_root.mkdir(parents=True, exist_ok=True)
    config.metadata_path.parent.mkdir(parents=True, exist_ok=True)
    LocalDagRunner().run(build_pipeline(config))
