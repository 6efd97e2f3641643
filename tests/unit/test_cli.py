"""The CLI turns user mistakes into one line and exit code 2, without a traceback."""

from __future__ import annotations


import pytest

from pipeline.cli import EXIT_USER_ERROR, main
from tests.conftest import small_config_dict, write_config


def test_missing_config_file_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["run", "--config", str(tmp_path / "nope.yaml")]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.strip() == f"tfxp: {tmp_path / 'nope.yaml'}: config file not found"


def test_invalid_key_is_reported_with_file_and_key(tmp_path, capsys):
    raw = small_config_dict(tmp_path, tmp_path / "data")
    raw["training"]["train_steps"] = "many"
    path = write_config(raw, tmp_path / "bad.yaml")
    assert main(["run", "--config", str(path)]) == EXIT_USER_ERROR
    assert "'training.train_steps' must be int, got 'many'" in capsys.readouterr().err


def test_missing_data_folder_is_reported_before_anything_runs(tmp_path, capsys):
    path = write_config(small_config_dict(tmp_path, tmp_path / "absent"), tmp_path / "c.yaml")
    assert main(["run", "--config", str(path)]) == EXIT_USER_ERROR
    assert "data folder not found" in capsys.readouterr().err
    assert not (tmp_path / "metadata.sqlite").exists()


@pytest.mark.parametrize("layout, message", [
    (lambda root: root.mkdir(), "no span folder (span-1/, span-2/, ... each holding CSV files)"),
    (lambda root: (root.mkdir(), (root / "trips.csv").write_text("a\n1\n")),
     "move trips.csv into"),
    (lambda root: (root / "span-1").mkdir(parents=True), "no *.csv file in the data folder"),
], ids=["empty-folder", "csv-outside-a-span-folder", "empty-span-folder"])
def test_a_bad_data_folder_is_one_line_before_anything_runs(tmp_path, capsys, layout, message):
    layout(tmp_path / "data")
    path = write_config(small_config_dict(tmp_path, tmp_path / "data"), tmp_path / "c.yaml")
    assert main(["run", "--config", str(path)]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "metadata.sqlite").exists()


def test_missing_curated_schema_says_how_to_make_one(tmp_path, capsys):
    raw = small_config_dict(tmp_path, tmp_path)
    (tmp_path / "span-1").mkdir()
    (tmp_path / "span-1" / "d.csv").write_text("a\n1\n")
    raw["schema"] = str(tmp_path / "schema.pbtxt")
    path = write_config(raw, tmp_path / "c.yaml")
    assert main(["run", "--config", str(path)]) == EXIT_USER_ERROR
    assert "tfxp schema infer" in capsys.readouterr().err


@pytest.mark.parametrize("against", ["0", "²", "latest", "-1"])
def test_validate_against_takes_a_span_number_or_schema(tmp_path, capsys, against):
    file = tmp_path / "f.csv"
    file.write_text("a\n1\n")
    assert main(["validate", str(file), "--against", against]) == EXIT_USER_ERROR
    assert "--against must be 'schema' or a span number" in capsys.readouterr().err
