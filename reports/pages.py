"""When pages are written: after each run of `tfxp run` (`reporting`), and on `tfxp report`
for a run named or the newest (`write_pages`)."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

from metadata.reader import MetadataReader
from metadata.store import MetadataError, open_store
from pipeline.config import PipelineConfig, load_config
from reports.index import write_index
from reports.run_report import write_run_report


def write_pages(config_path: str, run_id: str | None) -> list[pathlib.Path]:
    config = load_config(config_path)
    reader = MetadataReader(open_store(sqlite=config.metadata_path))
    runs = reader.run_ids(config.name)
    if not runs:
        raise MetadataError(f"{config.metadata_path}: no run of '{config.name}' recorded yet")
    chosen = reader.run(run_id).run if run_id else runs[0]  # a unique prefix is enough
    return [write_run_report(config, reader, chosen), write_index(config, reader)]


def reporting(config: PipelineConfig, show: Callable) -> Callable:
    """`tfxp run`'s callback after each run: the run's page and the index written, then
    `show(outcome, page)`; a page that cannot be written is said, not raised (the run's
    result stands)."""

    def after(outcome) -> None:
        try:
            reader = MetadataReader(open_store(sqlite=config.metadata_path))
            page = write_run_report(config, reader, outcome.run_id)
            write_index(config, reader)
        except (OSError, MetadataError) as err:  # a full disk, a store gone since
            page = f"not written: {err}"
        show(outcome, page)

    return after
