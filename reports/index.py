"""The run history as a page: every run with its span, outcome, AUC and pushed version,
linked to its own page when written, and the AUC across runs as a chart (oldest first), as
MLflow's compare view or `dvc exp show` show it."""

from __future__ import annotations

import pathlib

from metadata.reader import MetadataReader
from pipeline.config import PipelineConfig
from reports import html as H
from reports.run_report import report_path, reports_dir


def write_index(config: PipelineConfig, reader: MetadataReader) -> pathlib.Path:
    runs = reader.runs(config.name)  # newest first
    rows = []
    for run in runs:
        page = report_path(config, run.run)
        link = page.name if page.is_file() else ""
        rows.append(
            [
                run.run,
                run.provenance.get("span"),
                run.outcome,
                run.key_metric,
                run.pushed_version,
                f"{run.seconds:.1f} s",
                link,
            ]
        )
    history = [(run.run, run.key_metric) for run in reversed(runs)]
    table = H.table(["run", "span", "outcome", "key metric", "pushed", "took", "page"], rows)
    table = _linked(table, [r[-1] for r in rows])
    body = [
        f"<h1>{H.esc(config.name)}: runs</h1>",
        f"<p>{len(runs)} run(s), newest first.</p>",
        "<div id=history>" + H.line_chart("AUC on the eval split, by run", history) + "</div>",
        "<div id=runs>" + table + "</div>",
    ]
    return H.write(reports_dir(config) / "index.html", H.page(f"{config.name} runs", body))


def _linked(table: str, pages: list[str]) -> str:
    """Each page name in the table as a relative link (the pages sit beside the index)."""
    for name in filter(None, pages):
        escaped = H.esc(name)
        table = table.replace(f"<td>{escaped}</td>", f"<td><a href='{escaped}'>open</a></td>", 1)
    return table
