"""CSV files to the tf.Examples TFX's CsvExampleGen writes, column by column at I/O speed.

CsvExampleGen parses each line in Python inside Beam (about 6,000 rows/s here). This reads the
files with pyarrow in blocks and builds each row's serialized tf.Example with array operations,
byte for byte what TFX writes (`SerializeToString(deterministic=True)`: features in name order),
so the split by hash, which TFX takes over those bytes, puts every row where TFX would.

TFX's reading is kept: a column's type is the widest its cells need over all files (INT, then
FLOAT, then STRING; an integer beyond int64 is a string); an empty cell, or one that is a
missing-value token, is an empty value list; a column with no value at all is a Feature with no
kind; blank lines are skipped; non-UTF-8 bytes and a row with the wrong number of fields are
errors naming the file. Files are streamed: memory holds one block, never a split.
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import hashlib
import io
import os
from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from components import tfrecords

BLOCK_BYTES = 16 << 20  # bytes of CSV per block: ~90k taxi rows, a few hundred MB at peak


class Kind(enum.IntEnum):
    """tfx_bsl's column types, in the order a column widens."""

    UNKNOWN = 0  # no value in any row
    INT = 1
    FLOAT = 2
    STRING = 3


class CsvExamplesError(ValueError):
    """A file CsvExampleGen could not read either: no files, headers that differ, bytes that
    are not UTF-8, a row with a field too many or too few."""


@dataclasses.dataclass(frozen=True)
class Columns:
    """What the first pass over a split's files found: its columns and their kinds."""

    names: tuple[str, ...]
    kinds: dict[str, Kind]
    rows: int


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


def missing_tokens(na_values: Sequence[str]) -> pa.Array:
    """The missing-value tokens as `present_cells` compares them."""
    return pa.array([v.strip() for v in na_values], pa.string())


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


ASCII_BLANKS = " \t\n\r\x0b\x0c"  # what Python strips from bytes, as TFX's cells are


def present_cells(column: pa.Array, na_values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The cells stripped of surrounding blanks, and which hold a value (not empty, and not a
    missing-value token once stripped, as TFX's reading and `csv_table.read_csv` compare)."""
    stripped = pc.utf8_trim(column, characters=ASCII_BLANKS)
    missing = pc.or_(pc.equal(column, ""), pc.is_in(stripped, value_set=na_values))
    return stripped, pc.invert(missing)


# Plain numbers, which Arrow reads as Python's int() and float() do; anything else (a sign
# of +, digits grouped with _, 0x10, inf, ...) is read by Python itself, as TFX reads it.
_PLAIN_INT = r"^-?[0-9]+$"
_PLAIN_FLOAT = r"^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$"


def _mask(array: pa.Array) -> np.ndarray:
    return array.to_numpy(zero_copy_only=False).astype(bool)


def _block_kind(column: pa.Array, stripped: pa.Array, present: pa.Array) -> Kind:
    """The widest kind the block's cells need, as tfx_bsl's `_InferValueType` decides it (on
    the cell as read: Python's int() and float() ignore the blanks around a number)."""
    from tfx_bsl.coders.csv_decoder import _InferValueType

    values = pc.filter(stripped, present)
    if len(values) == 0:
        return Kind.UNKNOWN
    ints = _mask(pc.match_substring_regex(values, _PLAIN_INT))
    try:
        pc.cast(pc.filter(values, ints), pa.int64())
    except pa.ArrowInvalid:
        return Kind.STRING  # an integer beyond int64 is text to tfx_bsl
    if ints.all():
        return Kind.INT
    floats = _mask(pc.match_substring_regex(values, _PLAIN_FLOAT))
    kind = Kind.FLOAT if (floats & ~ints).any() else Kind.INT
    others = pc.unique(pc.filter(pc.filter(column, present), ~(ints | floats))).to_pylist()
    for value in others:
        kind = max(kind, Kind[_InferValueType(value.encode()).name])
        if kind is Kind.STRING:
            break
    return kind


def _parsed(values: pa.Array, kind: Kind) -> np.ndarray:
    """Cells of an INT or FLOAT column as numbers, as Python's int() or float() reads them."""
    plain = _mask(
        pc.match_substring_regex(values, _PLAIN_INT if kind is Kind.INT else _PLAIN_FLOAT)
    )
    target, parse = (pa.int64(), int) if kind is Kind.INT else (pa.float64(), float)
    numbers = np.zeros(len(values), target.to_pandas_dtype())
    try:
        numbers[plain] = pc.cast(pc.filter(values, plain), target).to_numpy()
    except pa.ArrowInvalid:  # e.g. 1e400, which Python reads as inf
        plain[:] = False
    if not plain.all():
        numbers[~plain] = [parse(v.encode()) for v in pc.filter(values, ~plain).to_pylist()]
    return numbers


def split_files_columns(files: Sequence[str], na_values: Sequence[str]) -> Columns:
    """The first pass: the header every file must share, and each column's kind."""
    if not files:
        raise CsvExamplesError("no files to read")
    headers = []
    for path in files:
        with _open(path) as opened:
            headers.append(read_header(opened))
    names = headers[0]
    if any(header != names for header in headers[1:]):
        differing = next(f for f, h in zip(files, headers, strict=True) if h != names)
        raise CsvExamplesError(f"{differing}: its header differs from {files[0]}'s")
    missing = missing_tokens(na_values)
    kinds = dict.fromkeys(names, Kind.UNKNOWN)
    rows = 0
    for path in files:
        for block in text_blocks(path, names):
            rows += block.num_rows
            for name in names:
                if kinds[name] is Kind.STRING:
                    continue
                column = block.column(name)
                kind = _block_kind(column, *present_cells(column, missing))
                kinds[name] = max(kinds[name], kind)
    return Columns(tuple(names), kinds, rows)


# --- protobuf wire format, built a column at a time ------------------------------------------
#
# A row's bytes are one join of pieces, each an array over the block's rows (or a constant):
# every length prefix is computed from lengths with numpy first, so no row is built twice.

_BINARY = pa.large_binary()
_EMPTY = pa.scalar(b"", _BINARY)


def _binary(lengths: np.ndarray, data: np.ndarray) -> pa.Array:
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(
        _BINARY, len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def _varint_sizes(unsigned: np.ndarray) -> np.ndarray:
    sizes = np.ones(len(unsigned), np.int64)
    rest = unsigned >> np.uint64(7)
    while rest.any():
        sizes += rest > 0
        rest >>= np.uint64(7)
    return sizes


def _varints(values: np.ndarray, keep: np.ndarray | None = None) -> tuple[pa.Array, np.ndarray]:
    """Each value as a protobuf varint (a negative int64 takes ten bytes, as protobuf writes
    it), empty where `keep` is False; and the byte counts."""
    unsigned = values.astype(np.int64).view(np.uint64)
    sizes = _varint_sizes(unsigned)
    if keep is not None:
        sizes = np.where(keep, sizes, 0)
    width = int(sizes.max(initial=0))
    if width <= 1:
        return _binary(sizes, unsigned.astype(np.uint8)[sizes == 1]), sizes
    shifts = np.arange(width, dtype=np.uint64) * np.uint64(7)
    groups = ((unsigned[:, None] >> shifts[None, :]) & np.uint64(0x7F)).astype(np.uint8)
    columns = np.arange(width)[None, :]
    groups |= ((columns < (sizes[:, None] - 1)) * 0x80).astype(np.uint8)
    return _binary(sizes, groups[columns < sizes[:, None]]), sizes


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _constant(data: bytes) -> pa.Scalar:
    return pa.scalar(data, _BINARY)


def _list(kind: Kind, column: pa.Array, stripped: pa.Array, present: pa.Array):
    """The pieces of each row's value list (BytesList, FloatList or Int64List: one value, or
    none for a missing cell), their total length, and the Feature field's tag."""
    rows = len(column)
    has = present.to_numpy(zero_copy_only=False)
    if kind is Kind.STRING:  # the cell as read: TFX strips nothing
        cells = pc.if_else(present, pc.cast(column, _BINARY), _EMPTY)
        lengths = pc.binary_length(cells).to_numpy(zero_copy_only=False).astype(np.int64)
        prefix, prefix_sizes = _varints(lengths, has)
        tag = pc.if_else(present, _constant(b"\x0a"), _EMPTY)
        return [tag, prefix, cells], has * (1 + prefix_sizes) + lengths, 0x0A
    if kind is Kind.INT:
        numbers = np.zeros(rows, np.int64)
        numbers[has] = _parsed(pc.filter(stripped, present), Kind.INT)
        packed, sizes = _varints(numbers, has)  # packed: tag, byte count (< 128), varints
        head = _binary(
            has * 2, np.stack([np.full(rows, 0x0A), sizes], 1)[has].astype(np.uint8).reshape(-1)
        )
        return [head, packed], has * (2 + sizes), 0x1A
    numbers = np.zeros(rows, np.float32)
    numbers[has] = _parsed(pc.filter(stripped, present), Kind.FLOAT)
    floats = np.concatenate(
        [
            np.tile(np.frombuffer(b"\x0a\x04", np.uint8), (rows, 1)),
            numbers.view(np.uint8).reshape(rows, 4),
        ],
        1,
    )
    return [_binary(has * 6, floats[has].reshape(-1))], has * 6, 0x12


def _examples(block: pa.RecordBatch, columns: Columns, missing: pa.Array) -> pa.Array:
    """Each row of a block as the bytes of tf.train.Example, features in name order."""
    pieces: list = []
    total = np.zeros(block.num_rows, np.int64)
    for name in sorted(columns.names):
        kind = columns.kinds[name]
        key = name.encode()
        key_field = b"\x0a" + _varint_bytes(len(key)) + key
        if kind is Kind.UNKNOWN:  # a Feature with no kind: an empty value
            entry = key_field + b"\x12\x00"
            field = b"\x0a" + _varint_bytes(len(entry)) + entry  # the same in every row
            pieces.append(_constant(field))
            total += len(field)
            continue
        column = block.column(name)
        stripped, present = present_cells(column, missing)
        values, list_length, list_tag = _list(kind, column, stripped, present)
        list_prefix, list_prefix_sizes = _varints(list_length)
        feature_length = 1 + list_prefix_sizes + list_length
        feature_prefix, feature_prefix_sizes = _varints(feature_length)
        entry_length = len(key_field) + 1 + feature_prefix_sizes + feature_length
        entry_prefix, entry_prefix_sizes = _varints(entry_length)
        pieces += [
            _constant(b"\x0a"),  # Features.feature: one map entry
            entry_prefix,
            _constant(key_field + b"\x12"),  # its key, then its value: the Feature
            feature_prefix,
            _constant(bytes([list_tag])),
            list_prefix,
            *values,
        ]
        total += 1 + entry_prefix_sizes + entry_length
    example_prefix, _ = _varints(total)
    return pc.binary_join_element_wise(_constant(b"\x0a"), example_prefix, *pieces, _EMPTY)


def serialized_examples(
    files: Sequence[str], columns: Columns, na_values: Sequence[str]
) -> Iterator[pa.Array]:
    """The second pass: each block's rows as serialized tf.Examples."""
    missing = missing_tokens(na_values)
    for path in files:
        for block in text_blocks(path, columns.names):
            yield _examples(block, columns, missing)


def payloads(records: pa.Array) -> list[bytes]:
    """A large_binary array's values as bytes, sliced from one copy of its data."""
    offsets = records.buffers()[1]
    ends = np.frombuffer(offsets, np.int64, records.offset + len(records) + 1)[records.offset :]
    data = records.buffers()[2].to_pybytes()
    ends = ends.tolist()
    return [data[start:end] for start, end in zip(ends[:-1], ends[1:], strict=True)]


def splits_of(records: Sequence[bytes], buckets: Sequence[int]) -> np.ndarray:
    """The output split TFX's ExampleGen puts each record in (`_PartitionFn`): the SHA-256
    of its bytes as a number, modulo the total of the hash buckets, against their running
    totals. The 256-bit number's remainder is taken byte by byte: sum(byte * 256**k mod m)."""
    total = buckets[-1]
    digests = b"".join([hashlib.sha256(record).digest() for record in records])
    digits = np.frombuffer(digests, np.uint8).reshape(-1, 32).astype(np.int64)
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
    columns = split_files_columns(files, na_values)
    for folder in split_dirs:
        fileio.makedirs(folder)
    shards = [tfrecords.GzipShards(folder, FILE_PREFIX, SHARD_ROWS) for folder in split_dirs]
    try:
        for examples in serialized_examples(files, columns, na_values):
            records = payloads(examples)
            frames = tfrecords.framed(examples, records)
            if len(shards) == 1:
                shards[0].write(frames)
                continue
            chosen = splits_of(records, buckets)
            for split, split_shards in enumerate(shards):
                split_shards.write(pc.filter(frames, chosen == split))
    except BaseException:
        for split_shards in shards:
            split_shards.discard()
        raise
    for split_shards in shards:
        split_shards.close()
    return [split_shards.count for split_shards in shards]
