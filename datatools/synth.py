"""`tfxp data synth`: taxi-like CSV data of any size, in spans, with drift injected on purpose.

Rows are drawn (with replacement, seeded) from the bundled taxi trips, so every column keeps a
realistic joint distribution; drift is then applied from a given span on. Drift SPEC is a
comma-separated list of items, each ending in `@SPAN` (the first span it applies to):

  scale:COLUMN*FACTOR@S         multiply a numeric column         scale:fare*1.5@3
  new:COLUMN=VALUE:FRACTION@S   a fraction becomes a new category  new:payment_type=Bitcoin:0.2@2
  vanish:COLUMN=VALUE@S         a category disappears (rows redrawn)   vanish:payment_type=Cash@2
  missing:COLUMN:FRACTION@S     blank a fraction of the cells     missing:trip_miles:0.3@2
  tips:FRACTION@S               zero the tips of a fraction of trips (label rate drops)  tips:0.5@2
"""

from __future__ import annotations

import csv
import dataclasses
import io
import pathlib
import random
import re

from pipeline import PROJECT_ROOT
from pipeline.csv_table import read_csv
from pipeline.spans import csv_files
from pipeline.spans import spans as span_folders

TAXI_ROOT = PROJECT_ROOT / "data" / "taxi"
SECONDS_PER_QUARTER = 91 * 24 * 3600


class SynthError(ValueError):
    """A drift item or an argument the generator cannot use."""


@dataclasses.dataclass(frozen=True)
class Drift:
    kind: str
    column: str
    value: str
    amount: float
    from_span: int


_PATTERNS = {
    "scale": re.compile(r"scale:(\w+)\*([\d.]+)@(\d+)"),
    "new": re.compile(r"new:(\w+)=([^:@]+):([\d.]+)@(\d+)"),
    "vanish": re.compile(r"vanish:(\w+)=([^@]+)@(\d+)"),
    "missing": re.compile(r"missing:(\w+):([\d.]+)@(\d+)"),
    "tips": re.compile(r"tips:([\d.]+)@(\d+)"),
}


def parse_drift(spec: str, columns: list[str]) -> list[Drift]:
    drifts = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kind = item.split(":", 1)[0]
        match = _PATTERNS.get(kind, re.compile("$^")).fullmatch(item)
        if not match:
            raise SynthError(
                f"drift item {item!r} is not one of: scale:COL*F@S, "
                "new:COL=VALUE:FRACTION@S, vanish:COL=VALUE@S, "
                "missing:COL:FRACTION@S, tips:FRACTION@S"
            )
        groups = match.groups()
        if kind == "scale":
            drift = Drift(kind, groups[0], "", float(groups[1]), int(groups[2]))
        elif kind == "new":
            drift = Drift(kind, groups[0], groups[1], float(groups[2]), int(groups[3]))
        elif kind == "vanish":
            drift = Drift(kind, groups[0], groups[1], 0.0, int(groups[2]))
        elif kind == "missing":
            drift = Drift(kind, groups[0], "", float(groups[1]), int(groups[2]))
        else:
            drift = Drift(kind, "tips", "", float(groups[0]), int(groups[1]))
        if drift.column not in columns:
            raise SynthError(f"drift item {item!r}: no column {drift.column!r}")
        if kind in ("new", "missing", "tips") and not 0 <= drift.amount <= 1:
            raise SynthError(f"drift item {item!r}: the fraction must be within 0..1")
        drifts.append(drift)
    return drifts


def synthesize(
    out_dir: pathlib.Path,
    rows: int,
    spans: int,
    drift: str = "",
    seed: int = 0,
    source: pathlib.Path = TAXI_ROOT,
) -> list[pathlib.Path]:
    """Write `<out_dir>/span-<k>/data.csv` for k = 1..spans; returns the files written.

    Rows are drawn from every span of `source` (the bundled trips by default).
    """
    if rows < spans or spans < 1:
        raise SynthError(f"need at least one row per span (rows={rows}, spans={spans})")
    columns, pool = [], []
    for folder in span_folders(source).values():
        for path in csv_files(folder):
            table = read_csv(path)
            columns = columns or table.header
            pool += table.records()
    drifts = parse_drift(drift, columns)
    rng = random.Random(seed)
    written = []
    for span in range(1, spans + 1):
        count = rows // spans + (1 if span <= rows % spans else 0)
        active = [d for d in drifts if span >= d.from_span]
        vanished = [(d.column, d.value) for d in active if d.kind == "vanish"]
        candidates = [r for r in pool if all(r[c] != v for c, v in vanished)] or pool
        table = []
        for _ in range(count):
            row = dict(rng.choice(candidates))
            row["trip_start_timestamp"] = str(
                int(row["trip_start_timestamp"]) + (span - 1) * SECONDS_PER_QUARTER
            )
            for d in active:
                _apply(d, row, rng)
            table.append(row)
        path = out_dir / f"span-{span}" / "data.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
        path.write_text(buffer.getvalue())
        written.append(path)
    return written


def _apply(drift: Drift, row: dict[str, str], rng: random.Random) -> None:
    cell = row[drift.column]
    if drift.kind == "scale" and cell:
        row[drift.column] = f"{float(cell) * drift.amount:.2f}"
    elif drift.kind == "new" and rng.random() < drift.amount:
        row[drift.column] = drift.value
    elif drift.kind == "missing" and rng.random() < drift.amount:
        row[drift.column] = ""
    elif drift.kind == "tips" and rng.random() < drift.amount:
        row["tips"] = "0.0"
