"""The dataset's input files and their content fingerprint.

TFX 1.16 fingerprints ExampleGen input by file count, size and mtime only, so content rewritten
with size and mtime kept (`cp -p`, `rsync -a`) is served stale from cache. The content hash
computed here is passed to ExampleGen as configuration, which makes it part of the cache key.
"""

from __future__ import annotations

import hashlib
import pathlib


class DataError(ValueError):
    """The data folder is missing or holds no CSV file."""


def csv_files(root: pathlib.Path) -> list[pathlib.Path]:
    if not root.is_dir():
        raise DataError(f"{root}: data folder not found")
    files = sorted(p for p in root.glob("*.csv") if p.is_file())
    if not files:
        raise DataError(f"{root}: no *.csv file in the data folder")
    return files


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
