"""A deterministic sample of a large eval split, so the Evaluator's cost stops growing with rows.

TFMA computes every metric of every slice for the candidate and the served model over each
eval row (here about 1,500 rows/s): a million-row eval split costs ten minutes, while a
hundred thousand rows already measure an AUC to about ±0.003. Above `evaluation.max_examples`
rows, the Evaluator judges the rows whose SHA-256 is smallest: the same rows on every run of
the same data, spread over it as the hash spreads them. What was kept is written beside TFMA's
files (`metadata.evaluation.EVAL_SAMPLE_FILE`), so the run's report says so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

import numpy as np
from tfx.dsl.io import fileio

from components.tfrecords import records, sha256_digests
from metadata.evaluation import EVAL_SAMPLE_FILE


def _orders(records: Iterable[bytes]) -> np.ndarray:
    """Where each record falls in the sample's order: its SHA-256's first 8 bytes (the split
    took the whole hash modulo its buckets, so the two choices do not line up)."""
    firsts = np.ascontiguousarray(sha256_digests(records)[:, :8])
    return firsts.view(">u8").reshape(-1).astype(np.uint64)


def sample_split(split_dir: str, out_dir: str, max_rows: int | None) -> tuple[int, int]:
    """Write at most `max_rows` records of the split in `split_dir` to `out_dir`, those first in
    SHA-256 order; returns (rows in the split, rows kept). Nothing is written when all fit, or
    when `max_rows` is None (every row is judged: the rows are only counted)."""
    import tensorflow as tf

    files = sorted(fileio.glob(os.path.join(split_dir, "*")))
    if max_rows is None:
        rows = sum(1 for path in files for _ in records(path))
        return rows, rows
    orders = _orders(r for f in files for r in records(f))
    if len(orders) <= max_rows:
        return len(orders), len(orders)
    cutoff = np.partition(orders, max_rows - 1)[max_rows - 1]
    fileio.makedirs(out_dir)
    kept = 0
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    every_record = (record for path in files for record in records(path))
    with tf.io.TFRecordWriter(os.path.join(out_dir, "sample.gz"), options=options) as writer:
        for order, record in zip(orders, every_record, strict=True):
            if kept < max_rows and order <= cutoff:
                writer.write(record)
                kept += 1
    return len(orders), kept


def write_note(evaluation_uri: str, rows: int, evaluated: int, max_rows: int | None) -> None:
    text = json.dumps({"eval_rows": rows, "evaluated_rows": evaluated, "max_examples": max_rows})
    with fileio.open(os.path.join(evaluation_uri, EVAL_SAMPLE_FILE), "w") as out:
        out.write(text)
