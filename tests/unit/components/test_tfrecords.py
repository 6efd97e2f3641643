"""TFX's gzipped TFRecords read back as TensorFlow wrote them; a file cut short or with a
damaged byte is one error naming it, never garbage rows or a bare EOFError."""

from __future__ import annotations

import gzip

import pytest
import tensorflow as tf

from components.tfrecords import DamagedRecordsError, records

ROWS = [b"", b"a", b"x" * 300, bytes(range(256))]


def _write(path) -> None:
    options = tf.io.TFRecordOptions(compression_type="GZIP", compression_level=1)
    with tf.io.TFRecordWriter(str(path), options=options) as out:
        for row in ROWS:
            out.write(row)


def test_records_read_back_as_tensorflow_wrote_them(tmp_path):
    _write(tmp_path / "a.gz")
    assert list(records(str(tmp_path / "a.gz"))) == ROWS


def test_a_gzip_file_cut_short_is_an_error_naming_it(tmp_path):
    _write(tmp_path / "a.gz")
    whole = (tmp_path / "a.gz").read_bytes()
    (tmp_path / "a.gz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DamagedRecordsError, match=r"a\.gz: not a whole gzip file"):
        list(records(str(tmp_path / "a.gz")))


def test_a_record_cut_short_is_an_error_naming_it(tmp_path):
    _write(tmp_path / "a.gz")
    raw = gzip.decompress((tmp_path / "a.gz").read_bytes())
    (tmp_path / "a.gz").write_bytes(gzip.compress(raw[:-6]))
    with pytest.raises(DamagedRecordsError, match=r"a\.gz: a TFRecord cut short"):
        list(records(str(tmp_path / "a.gz")))


@pytest.mark.parametrize(
    "offset, says",
    [(2, "a TFRecord length fails its checksum"), (-10, "a TFRecord fails its checksum")],
)
def test_a_damaged_byte_fails_its_checksum(tmp_path, offset, says):
    _write(tmp_path / "a.gz")
    raw = bytearray(gzip.decompress((tmp_path / "a.gz").read_bytes()))
    raw[offset] ^= 0x01
    (tmp_path / "a.gz").write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DamagedRecordsError, match=rf"a\.gz: {says}"):
        list(records(str(tmp_path / "a.gz")))


@pytest.mark.parametrize("read_bytes", [7, 1 << 20])
def test_a_file_of_several_gzip_members_reads_as_one_stream(tmp_path, monkeypatch, read_bytes):
    """gzip's own reading goes on from one member to the next, over zero bytes of padding, in
    whatever pieces the file is read; so does ours."""
    monkeypatch.setattr("components.tfrecords._READ_BYTES", read_bytes)
    _write(tmp_path / "a.gz")
    raw = gzip.decompress((tmp_path / "a.gz").read_bytes())
    cut = len(raw) // 3  # inside a record: members need not end where records do
    members = gzip.compress(raw[:cut]) + bytes(5) + gzip.compress(raw[cut:]) + bytes(3)
    (tmp_path / "b.gz").write_bytes(members)
    assert list(records(str(tmp_path / "b.gz"))) == ROWS


def test_records_longer_than_what_is_read_or_inflated_at_once_come_whole(tmp_path, monkeypatch):
    monkeypatch.setattr("components.tfrecords._READ_BYTES", 7)
    monkeypatch.setattr("components.tfrecords._INFLATED_BYTES", 5)
    _write(tmp_path / "a.gz")
    assert list(records(str(tmp_path / "a.gz"))) == ROWS


def test_an_empty_file_holds_no_records(tmp_path):
    (tmp_path / "a.gz").write_bytes(b"")
    assert list(records(str(tmp_path / "a.gz"))) == []
