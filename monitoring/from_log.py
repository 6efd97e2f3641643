"""`tfxp data from-log --label-from feedback`: logged requests whose feedback arrived, as a new
span folder in the dataset's CSV layout, so the next `tfxp run` ingests, gates, trains,
evaluates and pushes them as usual.

Each exported row is one answered request row (a shadow's repeat is left out), its feature
values as the client sent them, typed by the schema, and the label's raw column derived back
from the feedback label (`Label.underive`). Columns the log does not hold stay blank. The span
is written whole or not at all (a hidden folder renamed into place), with a note of the time
range of feedback it covers, which the next export starts after: no label goes into two spans,
and one that arrives late goes into the next.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import pathlib
import shutil

from models import features as F
from monitoring.traffic import Scored, read_traffic
from pipeline.config import PipelineConfig
from pipeline.csv_table import CsvProblem, read_csv
from pipeline.schema import read_schema, with_label_classes
from pipeline.spans import DataError, span_files, spans
from serving.prediction_log import predictions_dir

NOTE = ".from-log.json"  # in an exported span: the range of feedback times it holds
FEEDBACK = "feedback"  # the one label source `--label-from` knows


@dataclasses.dataclass(frozen=True)
class Export:
    span: int
    path: pathlib.Path
    rows: int
    since: float | None  # the previous export's end (a feedback time); None: the log's start
    until: float  # the newest exported label's feedback time
    skipped: int = 0  # labelled answers whose label cannot be written back (no fare)


def last_exported(config: PipelineConfig) -> float | None:
    """The end of the newest exported span's range: rows after it are new."""
    ends = []
    for folder in spans(config.data_root).values() if config.data_root.is_dir() else []:
        note = folder / NOTE
        if note.is_file():
            ends.append(json.loads(note.read_text())["until"])
    return max(ends, default=None)


def labelled_rows(config: PipelineConfig, after: float | None) -> list[Scored]:
    """Answered rows whose feedback arrived after `after`, one per request row, in the order
    the feedback arrived. By the feedback's time, not the answer's: labels come late, and an
    answer labelled after an export goes into the next one."""
    traffic = read_traffic(predictions_dir(config.serving_dir))
    found = {}
    for row in traffic.answered():
        if row.label is not None and (after is None or _labelled_at(row) > after):
            found[(row.request_id, row.row)] = row
    return sorted(found.values(), key=_labelled_at)


def _labelled_at(row: Scored) -> float:
    return row.labelled_at if row.labelled_at is not None else row.time


def export_span(config: PipelineConfig, span: int | None = None) -> Export:
    existing = spans(config.data_root)
    number = span if span is not None else max(existing) + 1
    if number < 1:
        raise DataError(f"--span must be a span number >= 1, got {number}")
    target = config.data_root / f"span-{number}"
    if number in existing or target.exists():
        raise DataError(f"{target}: span {number} exists already; give a new --span")
    after = last_exported(config)
    rows = labelled_rows(config, after)
    if not rows:
        since = " since the last export" if after is not None else ""
        raise DataError(
            f"{predictions_dir(config.serving_dir)}: no answered request with feedback{since}; "
            "send labels to POST /v1/feedback first"
        )
    header = _header(config, max(existing))
    schema = read_schema(config.schema_file)
    types = {f.name: f.type for f in schema.feature}
    label = with_label_classes(schema, config).model.label
    written = [
        (row, raw) for row in rows if (raw := label.underive(row.label, row.features)) is not None
    ]
    text_binary = label.kind == F.BINARY and label.rule == F.EQUALS
    if text_binary and label.negative is None and any(row.label <= 0.5 for row in rows):
        raise DataError(  # the span would hold positives only
            f"label '{label.name}' is text: negative answers cannot be written back without "
            "the value that means 0; add `label.negative` to the config"
        )
    if not written:
        raise DataError(
            f"none of the {len(rows)} labelled answers can be written back: each lacks "
            f"'{label.of_column}', which label '{label.name}' is derived from"
        )
    partial = config.data_root / f".span-{number}.{os.getpid()}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        with open(partial / "data.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row, raw in written:
                cells = {**row.features, **raw}
                writer.writerow([_cell(cells.get(column), types.get(column)) for column in header])
        until = _labelled_at(rows[-1])
        skipped = len(rows) - len(written)
        note = {"since": after, "until": until, "rows": len(written), "skipped": skipped}
        (partial / NOTE).write_text(json.dumps(note, indent=1))
        os.rename(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return Export(number, target / "data.csv", len(written), after, until, skipped)


def _header(config: PipelineConfig, newest: int) -> list[str]:
    """The newest span's columns, in its order: the layout the pipeline already reads."""
    first = span_files(config.data_root, newest)[1][0]
    try:
        return read_csv(first).header
    except CsvProblem as problem:
        raise DataError(f"{problem.path}: {problem.kind}: {problem}") from None


def _cell(value, kind: int | None) -> str:
    """A logged value as ExampleGen will read it back: an integer column stays integer."""
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or value == "":
        return ""
    if kind == 2 and isinstance(value, float) and value.is_integer():  # schema_pb2.INT
        return str(int(value))
    return str(value)
