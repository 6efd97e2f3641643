"""Our CSV reading writes what TFX's CsvExampleGen writes: run side by side on the same files,
TFX's own executor (its Beam pipeline) and ours give the same examples in the same splits, ours
in protobuf's deterministic bytes (the bytes TFX hashes to split); files TFX cannot read either
are refused naming the file."""

from __future__ import annotations

import collections
import pathlib

import pytest
import tensorflow as tf
from tfx.components.example_gen.csv_example_gen import executor as tfx_csv
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs
from tfx.utils import proto_utils

from components import csv_examples
from components.example_gen import Executor

# Cells CSV reading trips on: a quoted comma and line break, an escaped quote, text with blanks
# around it, an integer beyond int64 (text), the int64 extremes, -0.0 and 1e5, a column with no
# value, a cell long enough that its length takes two bytes, a non-ASCII letter, a blank line;
# numbers only Python reads (+5, 1_000, +1.5, .5, 1e400 as inf), text that looks numeric to
# Arrow (0x10), a big integer beside a decimal, and a no-break space (not a blank to Python).
AWKWARD = """i,f,s,neg,big,empty,mixed,q,plus,under,hex,bigmix,nbsp,plusf,huge
1,1.5,hello,-3,99999999999999999999,,1,"a,b",+5,1_000,0x10,99999999999999999999,\u00a05,+1.5,1e400
2, 2.25 ,,-9223372036854775808,1,,2.5,"line1
line2",3,2,5,1.5,6,2,2.5
,,"x""y",5,2,,abc,\u00fc,,,,,\u00a0,,
 7 ,1e5, spaced ,0,3,,4,"{long}",-4,3,7,2,7,-0.5,3

9,-0.0,,9223372036854775807,4,,5,,+0,4,8,3,8,.5,-1e-3
""".format(long="x" * 300)


def _records(folder: pathlib.Path) -> collections.Counter:
    files = tf.io.gfile.glob(f"{folder}/*.gz")
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return collections.Counter(record.numpy() for record in dataset)


def _examples(records: collections.Counter) -> collections.Counter:
    """The examples, whatever order their features were written in (TFX's is arbitrary)."""
    return collections.Counter({_canonical(record): count for record, count in records.items()})


def _canonical(record: bytes) -> bytes:
    return tf.train.Example.FromString(record).SerializeToString(deterministic=True)


def _run(executor, data: pathlib.Path, out: pathlib.Path, buckets=(2, 1)) -> dict:
    examples = standard_artifacts.Examples()
    examples.uri = str(out)
    output = example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(
            splits=[
                example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=count)
                for name, count in zip(("train", "eval"), buckets, strict=True)
            ]
        )
    )
    inputs = example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="all", pattern="*")])
    executor.Do(
        {},
        {standard_component_specs.EXAMPLES_KEY: [examples]},
        {
            standard_component_specs.INPUT_BASE_KEY: str(data),
            standard_component_specs.INPUT_CONFIG_KEY: proto_utils.proto_to_json(inputs),
            standard_component_specs.OUTPUT_CONFIG_KEY: proto_utils.proto_to_json(output),
            standard_component_specs.OUTPUT_DATA_FORMAT_KEY: example_gen_pb2.FORMAT_TF_EXAMPLE,
            "span": 0,
            "version": None,
        },
    )
    names = artifact_utils.decode_split_names(examples.split_names)
    return {name: _records(out / f"Split-{name}") for name in names}


def _side_by_side(tmp_path, files: dict[str, str]):
    data = tmp_path / "data"
    data.mkdir()
    for name, text in files.items():
        (data / name).write_text(text, encoding="utf-8")
    theirs = _run(tfx_csv.Executor(), data, tmp_path / "tfx")
    ours = _run(Executor(), data, tmp_path / "ours")
    return theirs, ours


def test_awkward_cells_become_the_same_records_in_the_same_splits_as_tfx_writes(tmp_path):
    theirs, ours = _side_by_side(tmp_path, {"a.csv": AWKWARD})
    assert {name: _examples(split) for name, split in ours.items()} == {
        name: _examples(split) for name, split in theirs.items()
    }
    assert all(_examples(split) == split for split in ours.values())
    assert sum(sum(split.values()) for split in ours.values()) == 5


def test_taxi_rows_over_two_files_split_as_tfx_splits_them(tmp_path):
    rows = pathlib.Path("data/taxi/span-4/data.csv").read_text().splitlines(keepends=True)
    theirs, ours = _side_by_side(
        tmp_path, {"a.csv": "".join(rows[:400]), "b.csv": rows[0] + "".join(rows[400:])}
    )
    assert {name: _examples(split) for name, split in ours.items()} == {
        name: _examples(split) for name, split in theirs.items()
    }
    assert sum(ours["train"].values()) > sum(ours["eval"].values()) > 200


def test_columns_dense_sparse_of_one_width_or_many_are_written_as_tfx_writes_them(tmp_path):
    """Each block is laid out by how its columns fill it: in every row, of one width, of many,
    the same value throughout, none at all (a column with values only in the other file)."""
    header = "same,width1,widths,dense_f,some_f,late,text\n"
    first = [
        f"7,{i % 100},{(-7) ** (i % 23)},{i / 8},{'' if i % 3 else f'{i}.25'},,{'x' * (i % 200)}\n"
        for i in range(40)
    ]
    second = [f"7,{i},{-i},{i}.5,,{i * 1000},\n" for i in range(20)]
    theirs, ours = _side_by_side(
        tmp_path, {"a.csv": header + "".join(first), "b.csv": header + "".join(second)}
    )
    assert {name: _examples(split) for name, split in ours.items()} == {
        name: _examples(split) for name, split in theirs.items()
    }
    assert all(_examples(split) == split for split in ours.values())
    assert sum(sum(split.values()) for split in ours.values()) == 60
    assert _kinds(ours) == {
        "same": {"int64_list"},
        "width1": {"int64_list"},
        "widths": {"int64_list"},
        "dense_f": {"float_list"},
        "some_f": {"float_list"},
        "late": {"int64_list"},
        "text": {"bytes_list"},
    }


def _example(**features) -> bytes:
    """A tf.Example's deterministic bytes: an int is an int64_list of it, None no kind."""
    example = tf.train.Example()
    for name, value in features.items():
        feature = example.features.feature[name]
        if value is None:
            feature.SetInParent()
        else:
            feature.int64_list.value.append(value)
    return example.SerializeToString(deterministic=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b\n1,2\n", {_example(a=1, b=2): 1}),
        ("a,b\n1,\n1,\n1,\n", {_example(a=1, b=None): 3}),
        ("a,b\n,\n,\n", {_example(a=None, b=None): 2}),
    ],
    ids=["one-row-of-integers", "rows-all-alike", "no-value-at-all"],
)
def test_a_block_whose_rows_are_all_alike_is_written_whole(tmp_path, text, expected):
    """Every byte the same in every row: no column of text or decimals tells rows apart.
    (Compared with protobuf's own bytes, not TFX's executor: in this test process TFX's
    CsvExampleGen was seen to write 1 or 2 of 3 identical rows.)"""
    path = tmp_path / "a.csv"
    path.write_text(text)
    assert csv_examples.write_splits([str(path)], [str(tmp_path / "out")], [""]) == [
        sum(expected.values())
    ]
    assert _records(tmp_path / "out") == collections.Counter(expected)


def test_a_column_read_as_text_in_one_file_and_decimal_in_another_is_text(tmp_path):
    files = {"a.csv": "n,m\n0x10,1\n", "b.csv": "n,m\n1.5,2\n"}
    theirs, ours = _side_by_side(tmp_path, files)
    assert {name: _examples(split) for name, split in ours.items()} == {
        name: _examples(split) for name, split in theirs.items()
    }
    assert _kinds(ours) == {"n": {"bytes_list"}, "m": {"int64_list"}}


def _kinds(splits: dict) -> dict[str, set[str]]:
    """Each feature's value kinds over every written record (None: a Feature with no kind)."""
    kinds = collections.defaultdict(set)
    for records in splits.values():
        for record in records:
            for name, feature in tf.train.Example.FromString(record).features.feature.items():
                kinds[name].add(feature.WhichOneof("kind"))
    return dict(kinds)


def test_column_kinds_widen_over_every_file(tmp_path):
    files = {"a.csv": "n,m\n1,\n2,\n", "b.csv": "n,m\n2.5,\n"}
    theirs, ours = _side_by_side(tmp_path, files)
    assert {name: _examples(split) for name, split in ours.items()} == {
        name: _examples(split) for name, split in theirs.items()
    }
    assert _kinds(ours) == {"n": {"float_list"}, "m": {None}}


def test_a_kind_widened_after_rows_were_written_rewrites_them_in_the_wider_kind(
    tmp_path, monkeypatch
):
    """Blocks of a few rows: the first blocks are written with n and m as integers, then a
    decimal and a word arrive far down the file; every record, early ones too, ends up as TFX
    writes it, and none is written twice."""
    monkeypatch.setattr(csv_examples, "BLOCK_BYTES", 64)
    rows = [f"{i},{i % 3}\n" for i in range(300)]
    rows[200], rows[250] = "2.5,1\n", "7,seven\n"
    theirs, ours = _side_by_side(tmp_path, {"a.csv": "n,m\n" + "".join(rows)})
    assert {name: _examples(split) for name, split in ours.items()} == {
        name: _examples(split) for name, split in theirs.items()
    }
    assert _kinds(ours) == {"n": {"float_list"}, "m": {"bytes_list"}}
    assert sum(sum(split.values()) for split in ours.values()) == 300
    leftovers = [p.name for p in (tmp_path / "ours").rglob("*") if p.is_file()]
    assert sorted(leftovers) == ["data_tfrecord-00000-of-00001.gz"] * 2


def test_a_big_span_is_written_in_several_files_each_read_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_examples, "SHARD_ROWS", 100)
    monkeypatch.setattr(csv_examples, "BLOCK_BYTES", 4096)
    path = tmp_path / "a.csv"
    path.write_text("n,t\n" + "".join(f"{i},{'x' * (i % 7)}\n" for i in range(1000)))
    counts = csv_examples.write_splits([str(path)], [str(tmp_path / "out")], ("",))
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert counts == [1000]
    assert names == [f"data_tfrecord-{i:05d}-of-00010.gz" for i in range(10)]
    assert sum(_records(tmp_path / "out").values()) == 1000


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a,b\n1,2\n3\n", "a.csv: Row #3: Expected 2 columns, got 1"),
        (b"a,b\n1,\xff\n", "a.csv: "),
    ],
    ids=["ragged-row", "not-utf8"],
)
def test_a_file_tfx_cannot_read_is_refused_naming_it(tmp_path, text, expected):
    path = tmp_path / "a.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(csv_examples.CsvExamplesError, match=expected):
        csv_examples.write_splits([str(path)], [str(tmp_path / "out")], ("",))


def test_files_whose_headers_differ_are_refused_naming_the_odd_one(tmp_path):
    (tmp_path / "a.csv").write_text("n,m\n1,2\n")
    (tmp_path / "b.csv").write_text("n,k\n1,2\n")
    files = [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    with pytest.raises(csv_examples.CsvExamplesError, match="b.csv: its header differs"):
        csv_examples.write_splits(files, [str(tmp_path / "out")], ("",))


def test_a_header_only_file_writes_empty_splits(tmp_path):
    (tmp_path / "a.csv").write_text("n,m\n")
    counts = csv_examples.write_splits(
        [str(tmp_path / "a.csv")], [str(tmp_path / "t"), str(tmp_path / "e")], ("",), [2, 3]
    )
    assert counts == [0, 0]
    for split in ("t", "e"):
        assert [p.name for p in (tmp_path / split).iterdir()] == ["data_tfrecord-00000-of-00001.gz"]
        assert sum(_records(tmp_path / split).values()) == 0


def test_a_ragged_row_far_down_is_refused_naming_its_line_and_nothing_is_left(
    tmp_path, monkeypatch
):
    """Blocks of a few rows: many were written before the bad row is read."""
    monkeypatch.setattr(csv_examples, "BLOCK_BYTES", 64)
    rows = [f"{i},{i % 3}\n" for i in range(300)]
    rows[200] = "5\n"
    (tmp_path / "a.csv").write_text("n,m\n" + "".join(rows))
    out = [str(tmp_path / "train"), str(tmp_path / "eval")]
    with pytest.raises(csv_examples.CsvExamplesError, match=r"a.csv: Row #202: Expected 2"):
        csv_examples.write_splits([str(tmp_path / "a.csv")], out, ("",), [2, 3])
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["a.csv"]


def test_kinds_widened_far_apart_cost_one_pass_more_not_one_each(tmp_path, monkeypatch):
    """n gets a decimal at row 100, m a word at row 250: the first pass reads on to the end
    for every column's widest kind, and the second writes; two reads of the file in all."""
    monkeypatch.setattr(csv_examples, "BLOCK_BYTES", 64)
    reads = []
    text_blocks = csv_examples.text_blocks

    def counted(path, names):
        reads.append(path)
        return text_blocks(path, names)

    monkeypatch.setattr(csv_examples, "text_blocks", counted)
    rows = [f"{i},{i % 3}\n" for i in range(300)]
    rows[100], rows[250] = "2.5,1\n", "7,seven\n"
    theirs, ours = _side_by_side(tmp_path, {"a.csv": "n,m\n" + "".join(rows)})
    assert {name: _examples(split) for name, split in ours.items()} == {
        name: _examples(split) for name, split in theirs.items()
    }
    assert len(reads) == 2


def test_a_disk_that_fills_mid_write_raises_its_own_error_and_leaves_no_file(tmp_path, monkeypatch):
    """Every write after the first 2,000 bytes fails, the closing flush too, as on a full
    disk: the error raised is the disk's, and both splits' files are gone."""
    from tfx.dsl.io import fileio

    monkeypatch.setattr(csv_examples, "BLOCK_BYTES", 256)
    opened = fileio.open

    class FillingUp:
        written = 0

        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            FillingUp.written += len(data)
            if FillingUp.written > 2000:
                raise OSError(28, "No space left on device")
            return self.handle.write(data)

        def close(self):
            self.handle.close()

    monkeypatch.setattr(
        fileio,
        "open",
        lambda path, mode="r": FillingUp(opened(path, mode)) if "w" in mode else opened(path, mode),
    )
    path = tmp_path / "a.csv"
    path.write_text("n,t\n" + "".join(f"{i},{'x' * (i % 7)}\n" for i in range(3000)))
    out = [str(tmp_path / "train"), str(tmp_path / "eval")]
    with pytest.raises(OSError, match="No space left on device") as raised:
        csv_examples.write_splits([str(path)], out, ("",), [2, 3])
    assert raised.value.errno == 28
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["a.csv"]
