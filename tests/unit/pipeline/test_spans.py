"""A dataset is span folders of CSV files; every bad layout is one specific error."""

from __future__ import annotations

import pytest

from pipeline.spans import DataError, csv_files, span_files, spans


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


@pytest.mark.parametrize(
    "layout, span, message",
    [
        (lambda root: None, None, "data folder not found"),
        (
            lambda root: root.mkdir(),
            None,
            "no span folder (span-1/, span-2/, ... each holding CSV files)",
        ),
        (
            lambda root: (root.mkdir(), (root / "trips.csv").write_text("a\n")),
            None,
            "move trips.csv into",
        ),
        (lambda root: _span(root, 1, files=()), None, "no *.csv file in the data folder"),
        (lambda root: _span(root, 1), 3, "span 3 not found (spans here: 1)"),
        (lambda root: (_span(root, 1), _span(root, "01")), None, "span-01: not a span folder name"),
        (lambda root: _span(root, "2.bak"), None, "span-2.bak: not a span folder name"),
    ],
    ids=[
        "missing-folder",
        "empty-folder",
        "csv-without-span-folder",
        "empty-span",
        "unknown-span",
        "leading-zero",
        "backup-copy",
    ],
)
def test_each_bad_data_layout_is_one_specific_error(tmp_path, layout, span, message):
    root = tmp_path / "data"
    layout(root)
    with pytest.raises(DataError) as err:
        span_files(root, span)
    assert message in str(err.value)
