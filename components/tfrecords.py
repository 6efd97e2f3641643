"""The records of TFX's gzipped TFRecord files (its Examples), read without TensorFlow's
per-element cost: by the sampled Evaluator and by StatisticsGen without Beam. Each record's
checksums are verified, as TensorFlow's reader does, and a damaged file is one error naming it.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Iterator

import google_crc32c
from tfx.dsl.io import fileio


class DamagedRecordsError(ValueError):
    """A TFRecord file cut short, or whose bytes no longer match their checksums."""


def _masked_crc(data: bytes) -> int:
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def records(path: str) -> Iterator[bytes]:
    """The records of one gzipped TFRecord file."""
    try:
        with fileio.open(path, "rb") as raw, gzip.open(raw, "rb") as stream:
            while header := stream.read(12):
                if len(header) < 12:
                    raise DamagedRecordsError(f"{path}: a TFRecord cut short")
                (length,) = struct.unpack("<Q", header[:8])
                if struct.unpack("<I", header[8:])[0] != _masked_crc(header[:8]):
                    raise DamagedRecordsError(f"{path}: a TFRecord length fails its checksum")
                data = stream.read(length)
                footer = stream.read(4)
                if len(data) < length or len(footer) < 4:
                    raise DamagedRecordsError(f"{path}: a TFRecord cut short")
                if struct.unpack("<I", footer)[0] != _masked_crc(data):
                    raise DamagedRecordsError(f"{path}: a TFRecord fails its checksum")
                yield data
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise DamagedRecordsError(f"{path}: not a whole gzip file ({err})") from None
