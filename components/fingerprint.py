"""Content fingerprints: what keys our components' caches and tells a new model from a pushed one.

TFX 1.16 fingerprints ExampleGen input by file count, size and mtime only (content rewritten
with both kept, as `cp -p` or `rsync -a` do, is served stale from cache), and hashes dotted
`preprocessing_fn`/`run_fn` paths as strings (edited code behind them is served from cache). The
hashes here are passed to those components as configuration, which puts content in the key.

Files are read through TFX's file system layer, so the same hashes work on object storage.
"""

from __future__ import annotations

import ast
import hashlib
import os
import pathlib
from collections.abc import Iterable

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent  # where code fingerprints look


def content_fingerprint(paths: Iterable[str | os.PathLike], root: str | os.PathLike) -> str:
    """SHA-256 over each file's path relative to `root` and its bytes, in path order: equal
    fingerprints, equal files under equal names, whatever order they were listed in."""
    from tfx.dsl.io import fileio

    digest = hashlib.sha256()
    for path in sorted(str(p) for p in paths):
        digest.update(os.path.relpath(path, str(root)).encode() + b"\0")
        with fileio.open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):  # 1 MiB at a time
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def tree_fingerprint(directory: str) -> str:
    """The content fingerprint of every file under `directory` (a SavedModel, say)."""
    from tfx.dsl.io import fileio

    files = [
        os.path.join(folder, name) for folder, _, names in fileio.walk(directory) for name in names
    ]
    return content_fingerprint(files, root=directory)


_GENERATED = ("saved_model.pb", "fingerprint.pb")  # embed names and counters of each save


def model_fingerprint(saved_model_dir: str) -> str:
    """What makes a SavedModel the same model: its weights and assets, its signatures (names,
    methods, input and output keys, types and shapes) and what its functions compute (the
    operations of each, names left out).

    Not the bytes of `saved_model.pb`: two saves of the same weights write different function
    names and counters there, so a retrain that changes nothing would count as a new model.
    """
    from tensorflow.core.protobuf import saved_model_pb2
    from tfx.dsl.io import fileio

    files = [
        os.path.join(folder, name)
        for folder, _, names in fileio.walk(saved_model_dir)
        for name in names
        if os.path.relpath(os.path.join(folder, name), saved_model_dir) not in _GENERATED
    ]
    saved_model = saved_model_pb2.SavedModel()
    with fileio.open(os.path.join(saved_model_dir, "saved_model.pb"), "rb") as handle:
        saved_model.ParseFromString(handle.read())
    signatures = []
    for graph in saved_model.meta_graphs:
        for name, signature in sorted(graph.signature_def.items()):
            ends = [
                (side, key, info.dtype, str(info.tensor_shape).replace("\n", " "))
                for side, tensors in (("in", signature.inputs), ("out", signature.outputs))
                for key, info in sorted(tensors.items())
            ]
            signatures.append(repr((name, signature.method_name, ends)))
        signatures += sorted(
            repr((len(f.signature.input_arg), sorted(node.op for node in f.node_def)))
            for f in graph.graph_def.library.function
        )
    digest = hashlib.sha256(content_fingerprint(files, root=saved_model_dir).encode())
    digest.update("\n".join(signatures).encode())
    return digest.hexdigest()


def code_fingerprint(*modules: str, root: pathlib.Path = PROJECT_ROOT) -> str:
    """The content fingerprint of `modules` and every module of this project they import,
    transitively (imports inside functions too): code a module starts importing is covered
    without a list to keep by hand."""
    return content_fingerprint(sorted(imported_sources(modules, root)), root=root)


def imported_sources(modules: Iterable[str], root: pathlib.Path) -> set[pathlib.Path]:
    """The project files `modules` run when imported, and those their imports run, transitively."""
    found: set[pathlib.Path] = set()
    pending = list(modules)
    while pending:
        name = pending.pop()
        for source in _sources(name, root):
            if source in found:
                continue
            found.add(source)
            pending += imports_of(source)
    return found


def _sources(module: str, root: pathlib.Path) -> list[pathlib.Path]:
    """The project files importing `module` runs: each package `__init__.py` on the way and the
    module itself; none for a module from outside the project."""
    parts = module.split(".")
    files = []
    for depth in range(1, len(parts) + 1):
        base = root.joinpath(*parts[:depth])
        if (base / "__init__.py").is_file():
            files.append(base / "__init__.py")
        elif depth == len(parts) and base.with_suffix(".py").is_file():
            files.append(base.with_suffix(".py"))
        else:
            break
    return files


def imports_of(source: pathlib.Path) -> list[str]:
    """Modules a source file imports; for `from a import b`, both `a` and `a.b` (b may be a
    module), so names that are not modules simply resolve to no file."""
    tree = ast.parse(source.read_text(), filename=str(source))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found
