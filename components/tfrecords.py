"""The records of TFX's gzipped TFRecord files (its Examples), read without TensorFlow's
per-element cost: by the sampled Evaluator and by StatisticsGen without Beam."""

from __future__ import annotations

import gzip
import struct
from collections.abc import Iterator

from tfx.dsl.io import fileio


def records(path: str) -> Iterator[bytes]:
    """The records of one gzipped TFRecord file (TFX's Examples), read without TensorFlow's
    per-element cost."""
    with fileio.open(path, "rb") as raw, gzip.open(raw, "rb") as stream:
        while header := stream.read(12):
            if len(header) < 12:
                raise ValueError(f"{path}: a TFRecord cut short")
            (length,) = struct.unpack("<Q", header[:8])
            data = stream.read(length)
            if len(data) < length or len(stream.read(4)) < 4:
                raise ValueError(f"{path}: a TFRecord cut short")
            yield data
