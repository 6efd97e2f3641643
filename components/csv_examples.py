"""CSV files to the tf.Examples TFX's CsvExampleGen writes, column by column at I/O speed.

CsvExampleGen parses each line in Python inside Beam (about 6,000 rows/s here). This reads the
files with pyarrow in blocks and builds each row's serialized tf.Example with array operations,
byte for byte what TFX writes (`SerializeToString(deterministic=True)`: features in name order),
so the split by hash, which TFX takes over those bytes, puts every row where TFX would.

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

import collections
import concurrent.futures
import csv
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

BLOCK_BYTES = 4 << 20  # bytes of CSV per block: ~30k taxi rows; a few blocks are in flight


class Kind(enum.IntEnum):
    """tfx_bsl's column types, in the order a column widens."""

    UNKNOWN = 0  # no value in any row
    INT = 1
    FLOAT = 2
    STRING = 3


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


class _Cells:
    """One block's cells of one column, read once: which hold a value, those values stripped,
    and the widest kind they need, as tfx_bsl's `_InferValueType` decides it on the cell as
    read (Python's int() and float() ignore the blanks around a number). The masks and numbers
    that decided the kind are kept to parse the values."""

    def __init__(self, column: pa.Array, missing: pa.Array, known: Kind):
        self.column = column
        stripped, self.present = present_cells(column, missing)
        self.has = _mask(self.present)
        self._ints = self._floats = self._int_numbers = self._float_numbers = None
        self.kind = known
        if known is not Kind.STRING:  # text is written as read: no values, no kind to find
            self.values = pc.filter(stripped, self.present)
            self.kind = self._widest()

    def _widest(self) -> Kind:
        if len(self.values) == 0:
            return Kind.UNKNOWN
        fast = self._read_by_arrow()
        if fast is not None:
            return fast
        from tfx_bsl.coders.csv_decoder import _InferValueType

        self._ints = ints = _mask(pc.match_substring_regex(self.values, _PLAIN_INT))
        try:
            self._int_numbers = pc.cast(pc.filter(self.values, ints), pa.int64()).to_numpy()
        except pa.ArrowInvalid:
            return Kind.STRING  # an integer beyond int64 is text to tfx_bsl
        if ints.all():
            self._floats = ints
            return Kind.INT
        self._floats = _mask(pc.match_substring_regex(self.values, _PLAIN_FLOAT))
        kind = Kind.FLOAT if (self._floats & ~ints).any() else Kind.INT
        plain = self._floats
        others = pc.unique(pc.filter(pc.filter(self.column, self.present), ~plain)).to_pylist()
        for value in others:
            kind = max(kind, Kind[_InferValueType(value.encode()).name])
            if kind is Kind.STRING:
                break
        return kind

    def _read_by_arrow(self) -> Kind | None:
        """The kind when Arrow reads every value as Python does: ASCII digits after a minus
        sign, as int64; or as float64, all finite below 2**63 (beyond that an integer is text
        to tfx_bsl). None: the values need the slower reading below. (A cast Arrow refuses
        costs ten times one it makes, so the digits are looked at first.)"""
        digits = pc.all(pc.ascii_is_decimal(pc.ascii_ltrim(self.values, "-"))).as_py()
        if digits:
            try:
                self._int_numbers = pc.cast(self.values, pa.int64()).to_numpy()
            except pa.ArrowInvalid:  # beyond int64, or two minus signs
                return None
            self._ints = self._floats = np.ones(len(self.values), bool)
            return Kind.INT
        try:
            numbers = pc.cast(self.values, pa.float64()).to_numpy()
        except pa.ArrowInvalid:
            return None
        if not (np.abs(numbers) < 2.0**63).all():  # also inf and nan: read the slow way
            return None
        self._floats = np.ones(len(self.values), bool)
        self._float_numbers = numbers
        return Kind.FLOAT

    def numbers(self, kind: Kind) -> np.ndarray:
        """Each row's value as Python's int() or float() reads it (0 where none)."""
        if kind is Kind.INT:
            plain, target, parse = self._ints, np.int64, int
            if plain is None:
                plain = _mask(pc.match_substring_regex(self.values, _PLAIN_INT))
        else:
            plain, target, parse = self._floats, np.float64, float
            if plain is None:
                plain = _mask(pc.match_substring_regex(self.values, _PLAIN_FLOAT))
        values = np.zeros(len(self.values), target)
        try:
            if kind is Kind.INT and self._int_numbers is not None:
                values[plain] = self._int_numbers
            elif kind is Kind.FLOAT and self._float_numbers is not None:
                values[:] = self._float_numbers
            else:
                values[plain] = pc.cast(pc.filter(self.values, plain), pa.from_numpy_dtype(target))
        except pa.ArrowInvalid:  # e.g. 1e400, which Python reads as inf
            plain = np.zeros(len(values), bool)
        if not plain.all():
            rest = pc.filter(self.values, ~plain).to_pylist()
            values[~plain] = [parse(v.encode()) for v in rest]
        numbers = np.zeros(len(self.has), target)
        numbers[self.has] = values
        return numbers


# --- protobuf wire format, built a column at a time ------------------------------------------
#
# A block's rows are built left to right as (rows, width) byte matrices, each row using its
# first few bytes of each (a varint's, a present value's): every length prefix is computed
# from lengths with numpy first, so no row is built twice. A text column's cells, of any
# length, are Arrow arrays between the matrices; the pieces are joined once per block.

_BINARY = pa.large_binary()
_EMPTY = pa.scalar(b"", _BINARY)


def _varint_sizes(values: np.ndarray) -> np.ndarray:
    """The bytes of each value as a protobuf varint (a negative int64 takes ten)."""
    unsigned = values.astype(np.int64).view(np.uint64)
    sizes = np.ones(len(unsigned), np.int64)
    rest = unsigned >> np.uint64(7)
    while rest.any():
        sizes += rest > 0
        rest >>= np.uint64(7)
    return sizes


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


_LONG_CONSTANT = 4  # bytes: a longer run of whole rows is a piece of the join of its own


class _RowBytes:
    """A block's rows of bytes, built left to right.

    Bytes are gathered in groups, each a (rows, width) matrix once joined. A group whose rows
    use all its bytes is laid out as it is; one where some rows use fewer (a varint's length
    varies, a value is missing) is compacted byte by byte, which costs as many times more as
    the group is wide. So a long run of whole rows (a feature's name, a column dense and of one
    width in the block) is kept out of a group that needs compacting: it is a piece of its own
    in the join."""

    def __init__(self, rows: int):
        self.rows = rows
        self.lengths = np.zeros(rows, np.int64)
        self.pieces: list[pa.Array | pa.Scalar] = []
        self._group: list[tuple[bytes | np.ndarray, np.ndarray | None]] = []
        self._compacted = False  # the group has rows using fewer bytes than its width
        self._constant = b""

    def constant(self, data: bytes, where: np.ndarray | None = None) -> None:
        """The same bytes in every row, or only in the rows `where` is True."""
        if where is None or where.all():
            self._constant += data
        elif where.any():
            self.matrix(
                np.broadcast_to(np.frombuffer(data, np.uint8), (self.rows, len(data))),
                where * len(data),
            )

    def varint(self, values: np.ndarray, where: np.ndarray | None = None) -> None:
        """Each row's value as a protobuf varint; none in the rows `where` is False."""
        if where is not None and where.all():
            where = None
        unsigned = values.astype(np.int64).view(np.uint64)
        if where is None and len(unsigned) and (unsigned == unsigned[0]).all():
            self.constant(_varint_bytes(int(unsigned[0])))
            return
        sizes = _varint_sizes(unsigned)
        width = int(sizes.max(initial=1))
        if where is not None:
            used = np.where(where, sizes, 0)
        else:
            used = None if (sizes == width).all() else sizes
        if width == 1:
            self.matrix(unsigned.astype(np.uint8)[:, None], used)
            return
        shifts = np.arange(width, dtype=np.uint64) * np.uint64(7)
        groups = ((unsigned[:, None] >> shifts[None, :]) & np.uint64(0x7F)).astype(np.uint8)
        groups |= ((np.arange(width)[None, :] < (sizes[:, None] - 1)) * 0x80).astype(np.uint8)
        self.matrix(groups, used)

    def matrix(self, rows: np.ndarray, used: np.ndarray | None) -> None:
        """A (rows, width) byte matrix, each row using its first `used` bytes (all if None)."""
        if used is not None and used.all() and (used == rows.shape[1]).all():
            used = None
        self._settle_constant()
        if used is not None and not self._compacted and self._width() > _LONG_CONSTANT:
            self._flush()
        self._group.append((rows, used))
        self._compacted |= used is not None

    def cells(self, cells: pa.Array, lengths: np.ndarray) -> None:
        """Variable-length bytes, one value per row (empty where a row has none)."""
        self._flush()
        self.pieces.append(cells)
        self.lengths += lengths

    def _width(self) -> int:
        return sum(len(m) if isinstance(m, bytes) else m.shape[1] for m, _ in self._group)

    def _settle_constant(self) -> None:
        data, self._constant = self._constant, b""
        if data:
            if self._compacted and len(data) > _LONG_CONSTANT:
                self._flush()
            self._group.append((data, None))

    def _flush(self) -> None:
        self._settle_constant()
        group, compacted = self._group, self._compacted
        self._group, self._compacted = [], False
        if not group:
            return
        if len(group) == 1 and isinstance(group[0][0], bytes):  # joined as it is, not copied
            self.pieces.append(pa.scalar(group[0][0], _BINARY))
            self.lengths += len(group[0][0])
            return
        matrices = [
            np.broadcast_to(np.frombuffer(m, np.uint8), (self.rows, len(m)))
            if isinstance(m, bytes)
            else m
            for m, _ in group
        ]
        rows = np.concatenate(matrices, axis=1)
        lengths = np.zeros(self.rows, np.int64)
        for m, (_, used) in zip(matrices, group, strict=True):
            lengths += m.shape[1] if used is None else used
        if not compacted:
            data = rows.reshape(-1)
        else:
            keep = np.concatenate(
                [
                    np.ones(m.shape, bool)
                    if used is None
                    else np.arange(m.shape[1])[None, :] < used[:, None]
                    for m, (_, used) in zip(matrices, group, strict=True)
                ],
                axis=1,
            )
            data = rows[keep]
        self.pieces.append(tfrecords.binary_values(lengths, data))
        self.lengths += lengths

    def joined(self) -> list[pa.Array | pa.Scalar]:
        self._flush()
        return self.pieces


def _feature(rows: _RowBytes, name: str, kind: Kind, cells: _Cells | None) -> None:
    """One Features.feature map entry per row: the column's name, then its Feature, whose
    value list (BytesList, FloatList or Int64List) holds the cell's value, or none."""
    key = name.encode()
    key_field = b"\x0a" + _varint_bytes(len(key)) + key
    if kind is Kind.UNKNOWN:  # a Feature with no kind: an empty value, the same in every row
        entry = key_field + b"\x12\x00"
        rows.constant(b"\x0a" + _varint_bytes(len(entry)) + entry)
        return
    has = cells.has
    if kind is Kind.STRING:  # the cell as read: TFX strips nothing
        text = pc.if_else(cells.present, pc.cast(cells.column, _BINARY), _EMPTY)
        text_lengths = pc.binary_length(text).to_numpy(zero_copy_only=False).astype(np.int64)
        list_length = has * (1 + _varint_sizes(text_lengths) + text_lengths)
        tag = 0x0A
    elif kind is Kind.INT:
        numbers = cells.numbers(Kind.INT)
        number_sizes = _varint_sizes(numbers)
        list_length = has * (2 + number_sizes)  # packed: tag, byte count (< 128), varint
        tag = 0x1A
    else:
        with np.errstate(over="ignore"):  # beyond float32 (1e39) is inf, as protobuf has it
            numbers = cells.numbers(Kind.FLOAT).astype(np.float32)
        list_length = has * 6  # packed: tag, 4, the float's four bytes
        tag = 0x12
    feature_length = 1 + _varint_sizes(list_length) + list_length
    entry_length = len(key_field) + 1 + _varint_sizes(feature_length) + feature_length
    rows.constant(b"\x0a")
    rows.varint(entry_length)
    rows.constant(key_field + b"\x12")
    rows.varint(feature_length)
    rows.constant(bytes([tag]))
    rows.varint(list_length)
    if kind is Kind.STRING:
        rows.constant(b"\x0a", has)
        rows.varint(text_lengths, has)
        rows.cells(text, text_lengths)
    elif kind is Kind.INT:
        rows.constant(b"\x0a", has)
        rows.varint(number_sizes, has)
        rows.varint(numbers, has)
    else:
        floats = np.empty((len(has), 6), np.uint8)
        floats[:, :2] = (0x0A, 0x04)
        floats[:, 2:] = numbers.astype("<f4").view(np.uint8).reshape(-1, 4)
        rows.matrix(floats, has * 6)


def _examples(block: pa.RecordBatch, kinds: dict[str, Kind], cells: dict[str, _Cells]) -> pa.Array:
    """Each row of a block as the bytes of tf.train.Example, features in name order."""
    rows = _RowBytes(block.num_rows)
    for name in sorted(kinds):
        _feature(rows, name, kinds[name], cells.get(name))
    features = rows.joined()
    head = _RowBytes(block.num_rows)
    head.constant(b"\x0a")
    head.varint(rows.lengths)
    return pc.binary_join_element_wise(*head.joined(), *features, _EMPTY)


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
    return {name: _Cells(block.column(name), missing, kinds[name]) for name in kinds}


def _framed_splits(
    block: pa.RecordBatch, kinds: dict[str, Kind], cells: dict, buckets: Sequence[int]
) -> list[pa.Array]:
    """A block's rows as framed TFRecords, one array per split."""
    examples = _examples(block, kinds, cells)
    records = tfrecords.values_as_bytes(examples)
    frames = tfrecords.framed(examples, records)
    if len(buckets) == 1:
        return [frames]
    chosen = splits_of(records, buckets)
    return [pc.filter(frames, chosen == split) for split in range(len(buckets))]


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
    numpy and zlib let go of the GIL): a block's cells are read while the block before it is
    built, so a few blocks are in memory at once, never a split."""
    missing = missing_tokens(na_values)
    given = stale = False
    with concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="csv-examples") as pool:
        reading: collections.deque = collections.deque()
        building: collections.deque = collections.deque()

        def settle_one_read() -> None:
            nonlocal given, stale
            block, future = reading.popleft()
            cells = future.result()
            wider = {n: c.kind for n, c in cells.items() if c.kind > kinds[n]}
            kinds.update(wider)
            if wider and given:  # read on for the widest kinds, so one pass more suffices
                stale = True
                building.clear()
            if stale:
                return
            given = True
            building.append(pool.submit(_framed_splits, block, dict(kinds), cells, buckets))

        try:
            for path in files:
                for block in text_blocks(path, list(kinds)):
                    reading.append((block, pool.submit(_cells_of, block, dict(kinds), missing)))
                    if len(reading) > 1:
                        settle_one_read()
                    if len(building) > 1:
                        yield building.popleft().result()
            while reading:
                settle_one_read()
            while building:
                yield building.popleft().result()
            if stale:
                raise _Widened
        finally:
            for _, future in reading:
                future.cancel()
            for future in building:
                future.cancel()


_EMPTY_SHA256 = hashlib.sha256()


def splits_of(records: Sequence[bytes], buckets: Sequence[int]) -> np.ndarray:
    """The output split TFX's ExampleGen puts each record in (`_PartitionFn`): the SHA-256
    of its bytes as a number, modulo the total of the hash buckets, against their running
    totals. The 256-bit number's remainder is taken byte by byte: sum(byte * 256**k mod m)."""
    total = buckets[-1]
    digests = bytearray()
    fresh = _EMPTY_SHA256.copy  # not sha256(): OpenSSL 3 looks the algorithm up for each new
    for record in records:  # one, a third of the time at the size of a taxi row
        digest = fresh()
        digest.update(record)
        digests += digest.digest()
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
