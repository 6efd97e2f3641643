"""A large eval split is judged on a deterministic sample: exactly `max_rows` records, the
same ones on every run, chosen by hash; a split that fits is left as it is."""

from __future__ import annotations

import hashlib

import pytest
import tensorflow as tf

from components import eval_sample
from components.tfrecords import records
from metadata.evaluation import EvalSample
from pipeline.config import ConfigError, config_from_dict, load_config
from tests.conftest import ROOT, TAXI_CONFIG


def _split(folder, rows: int, files: int = 2) -> list[bytes]:
    folder.mkdir(parents=True)
    written = [f"row {i}".encode() for i in range(rows)]
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    for index in range(files):
        with tf.io.TFRecordWriter(str(folder / f"part-{index}.gz"), options=options) as out:
            for record in written[index::files]:
                out.write(record)
    return written


def _read(folder) -> list[bytes]:
    return [r for path in sorted(folder.iterdir()) for r in records(str(path))]


def test_a_large_split_keeps_exactly_the_rows_first_in_hash_order(tmp_path):
    written = _split(tmp_path / "eval", 1000)
    rows, kept = eval_sample.sample_split(str(tmp_path / "eval"), str(tmp_path / "s"), 100)
    sample = _read(tmp_path / "s")
    first = sorted(written, key=lambda r: hashlib.sha256(r).digest())[:100]
    assert (rows, kept) == (1000, 100)
    assert sorted(sample) == sorted(first)


def test_the_same_split_gives_the_same_sample(tmp_path):
    _split(tmp_path / "eval", 500)
    eval_sample.sample_split(str(tmp_path / "eval"), str(tmp_path / "a"), 50)
    eval_sample.sample_split(str(tmp_path / "eval"), str(tmp_path / "b"), 50)
    assert _read(tmp_path / "a") == _read(tmp_path / "b")


def test_a_split_that_fits_is_counted_and_nothing_is_written(tmp_path):
    _split(tmp_path / "eval", 80)
    assert eval_sample.sample_split(str(tmp_path / "eval"), str(tmp_path / "s"), 100) == (80, 80)
    assert not (tmp_path / "s").exists()


def test_a_cut_short_file_is_an_error_naming_it(tmp_path):
    _split(tmp_path / "eval", 10, files=1)
    path = tmp_path / "eval" / "part-0.gz"
    import gzip

    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-6]))
    with pytest.raises(ValueError, match="part-0.gz: a TFRecord cut short"):
        eval_sample.sample_split(str(tmp_path / "eval"), str(tmp_path / "s"), 5)


def test_the_note_says_whether_the_rows_were_sampled():
    assert EvalSample(900, 900, 100_000).text() == "all 900 eval rows"
    assert EvalSample(1_666_667, 100_000, 100_000).text() == (
        "a deterministic sample of 100,000 of 1,666,667 eval rows (evaluation.max_examples)"
    )


def test_max_examples_defaults_to_a_hundred_thousand_and_null_means_every_row():
    import yaml

    assert load_config(TAXI_CONFIG).evaluation.max_examples == 100_000
    raw = yaml.safe_load(TAXI_CONFIG.read_text())
    raw["evaluation"]["max_examples"] = None
    assert (
        config_from_dict(raw, source=str(TAXI_CONFIG), base_dir=ROOT).evaluation.max_examples
        is None
    )
    raw["evaluation"]["max_examples"] = 10
    with pytest.raises(ConfigError, match="evaluation.max_examples' must be a whole number"):
        config_from_dict(raw, source=str(TAXI_CONFIG), base_dir=ROOT)


def test_without_a_limit_every_row_is_counted_and_nothing_is_written(tmp_path):
    _split(tmp_path / "eval", 300)
    assert eval_sample.sample_split(str(tmp_path / "eval"), str(tmp_path / "s"), None) == (300, 300)
    assert not (tmp_path / "s").exists()
