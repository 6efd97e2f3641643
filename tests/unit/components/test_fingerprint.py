"""Fingerprints key the caches by content: data edited with size and mtime kept, code a module
imports (found by its imports, not a list), and a model's files."""

from __future__ import annotations

import os

from components.fingerprint import code_fingerprint, content_fingerprint, tree_fingerprint


def test_same_size_and_mtime_but_different_bytes_changes_the_fingerprint(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    before = content_fingerprint([path], tmp_path)
    stat = os.stat(path)
    path.write_text("a,b\n1,3\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.stat(path).st_size == stat.st_size
    assert content_fingerprint([path], tmp_path) != before


def test_fingerprint_depends_on_file_names_not_on_listing_order(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("x\n1\n")
    b.write_text("x\n2\n")
    assert content_fingerprint([a, b], tmp_path) == content_fingerprint([b, a], tmp_path)
    renamed = tmp_path / "c.csv"
    b.rename(renamed)
    assert content_fingerprint([a, renamed], tmp_path) != content_fingerprint([a, a], tmp_path)


def _package(root, files: dict[str, str]):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_code_fingerprint_follows_the_module_and_what_it_imports(tmp_path):
    _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/gate.py": "from pkg import rules\n",
            "pkg/rules.py": "X = 1\n",
            "pkg/other.py": "Y = 1\n",
        },
    )
    before = code_fingerprint("pkg.gate", root=tmp_path)
    (tmp_path / "pkg" / "other.py").write_text("Y = 2\n")  # not imported: not covered
    (tmp_path / "pkg" / "notes.txt").write_text("not code")
    assert code_fingerprint("pkg.gate", root=tmp_path) == before
    (tmp_path / "pkg" / "rules.py").write_text("X = 2\n")
    assert code_fingerprint("pkg.gate", root=tmp_path) != before


def test_a_module_the_code_starts_importing_is_covered_without_a_list(tmp_path):
    _package(
        tmp_path,
        {"pkg/__init__.py": "", "pkg/gate.py": "import json\n", "pkg/helper.py": "Z = 1\n"},
    )
    before = code_fingerprint("pkg.gate", root=tmp_path)
    (tmp_path / "pkg" / "gate.py").write_text(
        "import json\n\ndef f():\n    from pkg.helper import Z\n"
    )
    with_import = code_fingerprint("pkg.gate", root=tmp_path)
    assert with_import != before
    (tmp_path / "pkg" / "helper.py").write_text("Z = 2\n")  # the new import is followed
    assert code_fingerprint("pkg.gate", root=tmp_path) != with_import


def test_a_directory_tree_fingerprint_sees_contents_and_names(tmp_path):
    model = tmp_path / "model"
    _package(model, {"saved_model.pb": "graph", "variables/data": "weights"})
    before = tree_fingerprint(str(model))
    (model / "variables" / "data").write_text("weightz")
    assert tree_fingerprint(str(model)) != before
    (model / "variables" / "data").write_text("weights")
    assert tree_fingerprint(str(model)) == before
    (model / "variables" / "data").rename(model / "variables" / "data2")
    assert tree_fingerprint(str(model)) != before
