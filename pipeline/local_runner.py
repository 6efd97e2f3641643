"""Run the pipeline locally: LocalDagRunner, SQLite ML Metadata, Beam in this process."""

from __future__ import annotations

import dataclasses
from typing import Sequence

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


def run_plan(config: PipelineConfig, span: int | None, allow: Sequence[str], backfill: bool
             ) -> list[tuple[PipelineConfig, bool]]:
    """What `tfxp run` runs, in order: (config, data gate only). With `backfill`, first the
    earlier spans of the window the gate never judged, under the config's own `allow` only
    (`--allow` is for the span asked for); then that span, through the whole pipeline.

    Everything is checked before anything runs: the span, the folders, the allow entries.
    """
    from pipeline.config import with_overrides
    from pipeline.data import span_files
    from pipeline.schema import check_schema_covers_config, read_schema

    target = with_overrides(config, span=span, allow=allow)
    number, _ = span_files(config.data_root, target.span)
    check_schema_covers_config(read_schema(target.schema_file), target)
    earlier = earlier_window_spans(config, number) if backfill else []
    return ([(dataclasses.replace(config, span=n), True) for n in earlier]
            + [(dataclasses.replace(target, span=number), False)])


def earlier_window_spans(config: PipelineConfig, span: int) -> list[int]:
    """The spans before `span` its training window can hold that the gate has never judged,
    oldest first: what `tfxp run --backfill` checks in. A span already judged keeps its verdict
    (an acceptance given with `--allow` included); re-run it with `--span` to judge it again.
    Folders are checked now, so a bad one stops the run before any span runs."""
    from pipeline.data import span_files, spans

    earlier = [n for n in spans(config.data_root) if n < span][-(config.window - 1):] \
        if config.window > 1 else []
    for number in earlier:
        span_files(config.data_root, number)
    judged = judged_spans(config)
    return [n for n in earlier if n not in judged]


def judged_spans(config: PipelineConfig) -> set[int]:
    """Spans of this pipeline the data gate has given a verdict on, from its ML Metadata."""
    if not config.metadata_path.is_file():
        return set()
    from ml_metadata import errors
    from tfx.types import artifact_utils

    from components.span_window import latest_verdicts
    from pipeline.lineage import connect

    store = connect(sqlite=config.metadata_path)
    try:
        pipeline = store.get_context_by_type_and_name("pipeline", config.name)
        kind = store.get_artifact_type("Examples")
    except errors.NotFoundError:
        return set()
    if pipeline is None:
        return set()
    examples = [artifact_utils.deserialize_artifact(kind, a)
                for a in store.get_artifacts_by_context(pipeline.id)
                if a.type_id == kind.id and "span" in a.custom_properties]
    return set(latest_verdicts(store, examples))
