"""CSV files to the tf.Examples TFX's CsvExampleGen writes, block by block at I/O speed.

CsvExampleGen parses each line in Python inside Beam (about 6,000 rows/s here). This reads the
files with pyarrow in blocks; `csv_cells` reads each block's cells as TFX reads them, and
`example_bytes` builds each row's serialized tf.Example with array operations, byte for byte
what TFX writes, so the split by hash puts every row where TFX would.

TFX's reading is kept: a column's type is the widest its cells need over all files (INT, then
FLOAT, then STRING; an integer beyond int64 is a string); an empty cell, or one that is a
missing-value token, is an empty value list; a column with no value at all is a Feature with
no kind; blank lines are skipped; non-UTF-8 bytes and a row with the wrong number of fields are
errors naming the file. One difference, on purpose: a cell of blanks only is the empty token
once stripped, so missing, as `csv_table` reads it; TFX's own reading makes the column text.

Files are read once, in blocks: a column's kind is known block by block, and a block that
widens it after rows were written means one pass more (rare: a column empty or integral for
its first blocks). Two threads share the work; memory holds a few blocks, never a split.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import io
import os
from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from components import example_bytes, tfrecords
from components.csv_cells import Cells, Kind, missing_tokens
from components.work_ahead import results_in_order

BLOCK_BYTES = 4 << 20  # bytes of CSV per block: ~30k taxi rows; a few blocks are in flight


class CsvExamplesError(ValueError):
    """A file CsvExampleGen could not read either: no files, headers that differ, bytes that
    are not UTF-8, a row with a field too many or too few."""


def read_header(opened) -> list[str]:
    first = opened.readline().decode("utf-8")
    return next(csv.reader(io.StringIO(first)), [])


def _open(path: str):
    """A local file as itself; a remote one (gs://, s3://) through TFX's filesystems."""
    if "://" not in path:
        return open(path, "rb")
    from tfx.dsl.io import fileio

    return io.BufferedReader(_Remote(fileio.open(path, "rb")), buffer_size=BLOCK_BYTES)


class _Remote(io.RawIOBase):
    """A TFX filesystem file as Python's raw reader, which pyarrow reads."""

    def __init__(self, handle):
        super().__init__()
        self._handle = handle

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._handle.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._handle.close()
        super().close()


def matching_files(base: str, pattern: str) -> list[str]:
    """The files of a split, in name order; none is an error, as in TFX's CsvExampleGen."""
    from tfx.dsl.io import fileio

    path = os.path.join(base, pattern)
    files = sorted(fileio.glob(path))
    if not files:
        raise RuntimeError(f"Split pattern {path} does not match any files.")  # TFX's words
    return files


def text_blocks(path: str, names: Sequence[str]) -> Iterator[pa.RecordBatch]:
    """The file's rows as text columns, one block at a time (the header line skipped)."""
    if not _has_rows(path):
        return  # pyarrow's streaming reader was seen to crash (SIGSEGV) on a header alone
    options = dict(
        read_options=pcsv.ReadOptions(
            column_names=list(names), skip_rows=1, block_size=BLOCK_BYTES, use_threads=False
        ),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types={name: pa.string() for name in names}, strings_can_be_null=False
        ),
    )
    with _open(path) as opened:
        try:
            reader = pcsv.open_csv(opened, **options)
            for block in reader:
                if block.num_rows:
                    yield block
        except pa.ArrowInvalid as err:
            text = str(err).removeprefix("CSV parse error: ")
            raise CsvExamplesError(f"{path}: {text}") from None


def _has_rows(path: str) -> bool:
    """Anything but blanks after the header line."""
    with _open(path) as opened:
        opened.readline()
        while chunk := opened.read(1 << 16):
            if chunk.strip():
                return True
    return False


class _Widened(Exception):
    """A block needs a wider kind for some column than the rows already written had."""


def _shared_header(files: Sequence[str]) -> list[str]:
    """The header every file must share."""
    headers = []
    for path in files:
        with _open(path) as opened:
            headers.append(read_header(opened))
    names = headers[0]
    if any(header != names for header in headers[1:]):
        differing = next(f for f, h in zip(files, headers, strict=True) if h != names)
        raise CsvExamplesError(f"{differing}: its header differs from {files[0]}'s")
    return names


def _cells_of(block: pa.RecordBatch, kinds: dict[str, Kind], missing: pa.Array) -> dict:
    return {name: Cells(block.column(name), missing, kinds[name]) for name in kinds}


def _framed_splits(
    block: pa.RecordBatch, kinds: dict[str, Kind], cells: dict, buckets: Sequence[int]
) -> list[pa.Array]:
    """A block's rows as framed TFRecords, one array per split (slices of one, in order)."""
    frames = example_bytes.frames(block, kinds, cells)
    records = tfrecords.seal(frames)
    if len(buckets) == 1:
        return [frames]
    chosen = splits_of(records, buckets)
    grouped = pc.take(frames, np.argsort(chosen, kind="stable"))
    ends = np.cumsum(np.bincount(chosen, minlength=len(buckets))).tolist()
    return [
        grouped.slice(start, end - start) for start, end in zip([0, *ends[:-1]], ends, strict=True)
    ]


def framed_blocks(
    files: Sequence[str],
    kinds: dict[str, Kind],
    na_values: Sequence[str],
    buckets: Sequence[int],
) -> Iterator[list[pa.Array]]:
    """Each block's rows as framed TFRecords per split, in order, in one pass over the files.

    A column's kind is the widest its cells need so far (`kinds`, widened in place, block by
    block in order): a block that widens it after rows went out means those were built with a
    narrower kind: the rest is read for the widest kinds only, and `_Widened` says to start
    again with them (two passes at most). Two threads share the work (Arrow,
    numpy and ISA-L let go of the GIL): a block's cells are read while the block before it is
    built, so a few blocks are in memory at once, never a split."""
    missing = missing_tokens(na_values)
    widened_late = False

    def blocks_to_read() -> Iterator[tuple]:  # kinds as they stand when the block is drawn
        for path in files:
            for block in text_blocks(path, list(kinds)):
                yield block, dict(kinds), missing

    def blocks_to_build(read: Iterator[tuple]) -> Iterator[tuple]:
        nonlocal widened_late
        given = False
        for block, cells in read:
            wider = {n: c.kind for n, c in cells.items() if c.kind > kinds[n]}
            kinds.update(wider)
            # Once rows went out narrower, read on for the widest kinds, so one pass more suffices.
            widened_late |= bool(wider) and given
            if not widened_late:
                given = True
                yield block, dict(kinds), cells, buckets

    with concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="csv-examples") as pool:
        read = results_in_order(pool, _block_cells, blocks_to_read(), 1)
        built = results_in_order(pool, lambda item: _framed_splits(*item), blocks_to_build(read), 1)
        with contextlib.closing(read), contextlib.closing(built):  # unstarted work cancelled
            for split_frames in built:
                if not widened_late:
                    yield split_frames
    if widened_late:
        raise _Widened


def _block_cells(item: tuple) -> tuple:
    block, kinds, missing = item
    return block, _cells_of(block, kinds, missing)


def splits_of(records: Sequence[bytes], buckets: Sequence[int]) -> np.ndarray:
    """The output split TFX's ExampleGen puts each record in (`_PartitionFn`): the SHA-256
    of its bytes as a number, modulo the total of the hash buckets, against their running
    totals. The 256-bit number's remainder is taken byte by byte: sum(byte * 256**k mod m)."""
    total = buckets[-1]
    digits = tfrecords.sha256_digests(records).astype(np.int64)
    weights = np.array([pow(256, 31 - k, total) for k in range(32)], np.int64)
    return np.searchsorted(buckets, (digits @ weights) % total, side="right")


SHARD_ROWS = 1_000_000  # rows per output file: gzip files are read whole, one per worker
FILE_PREFIX = "data_tfrecord"  # TFX's name for a split's files


def write_splits(
    files: Sequence[str],
    split_dirs: Sequence[str],
    na_values: Sequence[str],
    buckets: Sequence[int] | None = None,
) -> list[int]:
    """Write the files' rows as gzipped TFRecords of tf.Examples into each split's folder,
    as TFX's ExampleGen names them; with `buckets` (running totals of the hash buckets) each
    row goes to the split TFX would choose, else every row to the one folder. Returns the rows
    written per split."""
    from tfx.dsl.io import fileio

    if not files:
        raise CsvExamplesError("no files to read")
    if buckets is None:
        buckets = [1]
    if len(buckets) != len(split_dirs):
        raise ValueError(f"{len(buckets)} hash buckets for {len(split_dirs)} splits")
    kinds = dict.fromkeys(_shared_header(files), Kind.UNKNOWN)
    for folder in split_dirs:
        fileio.makedirs(folder)
    shards = [tfrecords.GzipShards(folder, FILE_PREFIX, SHARD_ROWS) for folder in split_dirs]
    while True:
        try:
            _write_blocks(files, kinds, na_values, buckets, shards)
            for split_shards in shards:
                split_shards.finish()
            for split_shards in shards:
                split_shards.publish()
            break
        except _Widened:  # written with narrower kinds: again, with every column's widest
            for split_shards in shards:
                split_shards.discard()
        except BaseException:
            for split_shards in shards:
                split_shards.discard()
            raise
    return [split_shards.count for split_shards in shards]


def _write_blocks(files, kinds, na_values, buckets, shards) -> None:
    for split_frames in framed_blocks(files, kinds, na_values, buckets):
        for frames, split_shards in zip(split_frames, shards, strict=True):
            split_shards.write(frames)
