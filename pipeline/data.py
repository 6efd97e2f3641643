"""The dataset's spans, their input files and their content fingerprint.

Data arrives in spans: `<root>/span-<N>/*.csv`, N = 1, 2, ... in arrival order. A run ingests one
span (the newest unless told); ExampleGen records its number on the Examples artifact.

TFX 1.16 fingerprints ExampleGen input by file count, size and mtime only, so content rewritten
with size and mtime kept (`cp -p`, `rsync -a`) is served stale from cache. The content hash
computed here is passed to ExampleGen as configuration, which makes it part of the cache key.
"""

from __future__ import annotations

import hashlib
import pathlib
import re

SPAN_PATTERN = "span-{SPAN}/*.csv"  # ExampleGen's input pattern: TFX fills in the span number
EXAMPLE_GEN_ID = "CsvExampleGen"  # the node that ingests spans, in every pipeline
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
            raise DataError(f"{path}: not a span folder name (span-<N>, N = 1, 2, ... without "
                            f"leading zeros); rename it or move it out of {root}")
        found[int(match.group(1))] = path
    if not found:
        loose = sorted(p.name for p in root.glob("*.csv"))
        hint = f"; move {', '.join(loose[:3])} into {root}/span-1/" if loose else ""
        raise DataError(f"{root}: no span folder (span-1/, span-2/, ... each holding CSV files){hint}")
    return dict(sorted(found.items()))


def span_files(root: pathlib.Path, span: int | None = None) -> tuple[int, list[pathlib.Path]]:
    """The number and CSV files of span `span`, or of the newest span when None."""
    found = spans(root)
    number = max(found) if span is None else span
    if number not in found:
        raise DataError(f"{root}: span {number} not found "
                        f"(spans here: {', '.join(str(n) for n in found)})")
    return number, csv_files(found[number])


def content_fingerprint(paths: list[pathlib.Path], root: pathlib.Path | None = None) -> str:
    """SHA-256 over each file's relative name and bytes, in name order."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        name = str(path.relative_to(root)) if root else path.name
        digest.update(name.encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def code_fingerprint(package_dir: pathlib.Path, names: tuple[str, ...] | None = None) -> str:
    """SHA-256 of a package's `.py` files (all, or those `names`), so edited code re-runs.

    TFX hashes dotted `preprocessing_fn`/`run_fn` paths as strings (1.16): without this, a
    changed `models/` would be served from cache.
    """
    files = sorted(package_dir.rglob("*.py")) if names is None else [package_dir / n for n in names]
    return content_fingerprint(files, root=package_dir)
