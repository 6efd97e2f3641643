"""The dataset's layout on disk: span folders and their CSV files.

Data arrives in spans: `<root>/span-<N>/*.csv`, N = 1, 2, ... in arrival order. A run ingests one
span (the newest unless told); ExampleGen records its number on the Examples artifact. A folder
that looks like a span but is not one is refused, since ExampleGen would not read what the
content fingerprint covers.
"""

from __future__ import annotations

import pathlib
import re

SPAN_PATTERN = "span-{SPAN}/*.csv"  # ExampleGen's input pattern: TFX fills in the span number
_SPAN_DIR = re.compile(r"span-([1-9][0-9]*)")


class DataError(ValueError):
    """The data folder is missing, holds no span or no CSV file, or lacks the span asked for."""


def csv_files(root: pathlib.Path) -> list[pathlib.Path]:
    if not root.is_dir():
        raise DataError(f"{root}: data folder not found")
    files = sorted(p for p in root.glob("*.csv") if p.is_file())
    if not files:
        raise DataError(f"{root}: no *.csv file in the data folder")
    return files


def spans(root: pathlib.Path) -> dict[int, pathlib.Path]:
    """The span folders under `root`, by number, in order."""
    if not root.is_dir():
        raise DataError(f"{root}: data folder not found")
    found = {}
    for path in sorted(root.iterdir()):
        if not (path.is_dir() and path.name.startswith("span-")):
            continue
        match = _SPAN_DIR.fullmatch(path.name)
        if not match:  # span-01, span-0, span-2.bak: ExampleGen would not read what we hash
            raise DataError(
                f"{path}: not a span folder name (span-<N>, N = 1, 2, ... without "
                f"leading zeros); rename it or move it out of {root}"
            )
        found[int(match.group(1))] = path
    if not found:
        loose = sorted(p.name for p in root.glob("*.csv"))
        hint = f"; move {', '.join(loose[:3])} into {root}/span-1/" if loose else ""
        raise DataError(
            f"{root}: no span folder (span-1/, span-2/, ... each holding CSV files){hint}"
        )
    return dict(sorted(found.items()))


def span_files(root: pathlib.Path, span: int | None = None) -> tuple[int, list[pathlib.Path]]:
    """The number and CSV files of span `span`, or of the newest span when None."""
    found = spans(root)
    number = max(found) if span is None else span
    if number not in found:
        raise DataError(
            f"{root}: span {number} not found (spans here: {', '.join(str(n) for n in found)})"
        )
    return number, csv_files(found[number])
