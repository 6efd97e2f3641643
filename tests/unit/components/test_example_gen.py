"""CSV files become the tf.Examples TFX's CsvExampleGen writes, with the config's missing-value
tokens read as missing before column types are inferred: a numeric column with "NA" cells stays
numeric, its NA cells empty."""

from __future__ import annotations

import tensorflow as tf

from components.csv_examples import FILE_PREFIX, write_splits
from components.example_gen import _na_values, custom_config
from pipeline.csv_table import NA_VALUES, read_csv


def _examples(folder, na_values) -> list[tf.train.Example]:
    out = folder / "out"
    write_splits(sorted(str(p) for p in folder.glob("*.csv")), [str(out)], na_values)
    files = tf.io.gfile.glob(f"{out}/{FILE_PREFIX}-*.gz")
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return [tf.train.Example.FromString(r.numpy()) for r in records]


def test_na_cells_are_missing_and_the_column_stays_numeric(tmp_path):
    (tmp_path / "data.csv").write_text("fare,company,tips\n1.5,A,0\nNA,null,1.0\n2,N/A,\n")
    examples = _examples(tmp_path, NA_VALUES)
    fares = [list(e.features.feature["fare"].float_list.value) for e in examples]
    companies = [list(e.features.feature["company"].bytes_list.value) for e in examples]
    assert sorted(fares) == [[], [1.5], [2.0]]
    assert sorted(companies) == [[], [], [b"A"]]


def test_an_empty_cell_is_missing_even_when_the_tokens_leave_the_empty_one_out(tmp_path):
    """Tokens without "": an empty cell is still missing; a cell of blanks is a text value."""
    (tmp_path / "data.csv").write_text("fare,tips\n1.5,0\n,1.0\nNA,  \n")
    examples = _examples(tmp_path, ("NA",))
    assert sorted(list(e.features.feature["fare"].float_list.value) for e in examples) == [
        [],
        [],
        [1.5],
    ]
    # a cell of blanks is then a value, text (TFX's reading), not the empty token
    tips = [list(e.features.feature["tips"].bytes_list.value) for e in examples]
    assert sorted(tips) == [[b"  "], [b"0"], [b"1.0"]]


def test_without_the_tokens_an_na_cell_makes_the_column_text(tmp_path):
    (tmp_path / "data.csv").write_text("fare,tips\n1.5,0\nNA,1.0\n")
    examples = _examples(tmp_path, ("",))
    assert {e.features.feature["fare"].WhichOneof("kind") for e in examples} == {"bytes_list"}


def test_the_tokens_reach_the_executor_through_its_custom_config():
    from google.protobuf import wrappers_pb2
    from tfx.proto import example_gen_pb2
    from tfx.utils import proto_utils

    packed = example_gen_pb2.CustomConfig()
    packed.custom_config.Pack(wrappers_pb2.StringValue(value=custom_config("ab12", ("NA", "-"))))
    assert _na_values({"custom_config": proto_utils.proto_to_json(packed)}) == ("NA", "-")
    assert _na_values({}) == ("",)


def test_the_csv_table_reads_the_tokens_as_empty_cells(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("fare,company\n NA ,null\n3,Flash\n")
    assert read_csv(path).records() == [
        {"fare": "", "company": ""},
        {"fare": "3", "company": "Flash"},
    ]
    assert read_csv(path, ("",)).records()[0] == {"fare": " NA ", "company": "null"}
