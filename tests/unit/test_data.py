"""Input files are fingerprinted by content, so the cache sees edits that keep size and mtime."""

from __future__ import annotations

import os

import pytest

from pipeline.data import (
    DataError, code_fingerprint, content_fingerprint, csv_files, span_files, spans,
)


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


def test_code_fingerprint_follows_python_sources(tmp_path):
    (tmp_path / "m.py").write_text("X = 1\n")
    before = code_fingerprint(tmp_path)
    (tmp_path / "notes.txt").write_text("not code")
    assert code_fingerprint(tmp_path) == before
    (tmp_path / "m.py").write_text("X = 2\n")
    assert code_fingerprint(tmp_path) != before


def test_missing_or_empty_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="data folder not found"):
        csv_files(tmp_path / "absent")
    with pytest.raises(DataError, match=r"no \*\.csv file"):
        csv_files(tmp_path)


def _span(root, number, files=("data.csv",)):
    folder = root / f"span-{number}"
    folder.mkdir(parents=True)
    for name in files:
        (folder / name).write_text("a\n1\n")
    return folder


def test_spans_are_numbered_folders_in_number_order_and_the_newest_is_the_default(tmp_path):
    for number in (10, 2, 1):
        _span(tmp_path, number)
    (tmp_path / "notes").mkdir()
    assert list(spans(tmp_path)) == [1, 2, 10]
    assert span_files(tmp_path)[0] == 10
    assert span_files(tmp_path, 2) == (2, [tmp_path / "span-2" / "data.csv"])


@pytest.mark.parametrize("layout, span, message", [
    (lambda root: None, None, "data folder not found"),
    (lambda root: root.mkdir(), None,
     "no span folder (span-1/, span-2/, ... each holding CSV files)"),
    (lambda root: (root.mkdir(), (root / "trips.csv").write_text("a\n")), None,
     "move trips.csv into"),
    (lambda root: _span(root, 1, files=()), None, "no *.csv file in the data folder"),
    (lambda root: _span(root, 1), 3, "span 3 not found (spans here: 1)"),
    (lambda root: (_span(root, 1), _span(root, "01")), None, "span-01: not a span folder name"),
    (lambda root: _span(root, "2.bak"), None, "span-2.bak: not a span folder name"),
], ids=["missing-folder", "empty-folder", "csv-without-span-folder", "empty-span", "unknown-span",
        "leading-zero", "backup-copy"])
def test_each_bad_data_layout_is_one_specific_error(tmp_path, layout, span, message):
    root = tmp_path / "data"
    layout(root)
    with pytest.raises(DataError) as err:
        span_files(root, span)
    assert message in str(err.value)
