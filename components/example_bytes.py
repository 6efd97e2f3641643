"""Each row of a block as a TFRecord frame of its tf.train.Example, built a column at a time
with array operations: the example byte for byte what TFX writes
(`SerializeToString(deterministic=True)`, features in name order), so the split by hash, which
TFX takes over those bytes, puts every row where TFX would.

A block's rows are built left to right as (rows, width) byte matrices, each row using its first
few bytes of each (a varint's, a present value's): every length prefix is computed from lengths
with numpy first, so no row is built twice. A text column's cells, of any length, are Arrow
arrays between the matrices; the pieces, with each row's TFRecord frame around them, are joined
once per block.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from components import tfrecords
from components.csv_cells import Cells, Kind

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
        used = sizes if where is None else np.where(where, sizes, 0)
        if width == 1:
            self.matrix(unsigned.astype(np.uint8)[:, None], used)
            return
        kind = np.uint32 if width <= 4 else np.uint64  # most are lengths: half the bytes
        rest = unsigned.astype(kind)[:, None] >> (np.arange(width, dtype=kind) * kind(7))
        groups = (rest & kind(0x7F)).astype(np.uint8)
        groups |= (rest > 0x7F).view(np.uint8) << np.uint8(7)  # more bytes follow
        self.matrix(groups, used)

    def matrix(self, rows: np.ndarray, used: np.ndarray | None) -> None:
        """A (rows, width) byte matrix, each row using its first `used` bytes (all if None)."""
        if used is not None and (used == rows.shape[1]).all():
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


def _feature(rows: _RowBytes, name: str, kind: Kind, cells: Cells | None) -> None:
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


def frames(block: pa.RecordBatch, kinds: dict[str, Kind], cells: dict[str, Cells]) -> pa.Array:
    """Each row of a block as a TFRecord frame of its tf.train.Example (features in name
    order): built in the same join as the example, the frame's head from the lengths, its
    record checksum left for `tfrecords.seal` to fill."""
    rows = _RowBytes(block.num_rows)
    for name in sorted(kinds):
        _feature(rows, name, kinds[name], cells.get(name))
    features = rows.joined()
    head = _RowBytes(block.num_rows)
    head.matrix(tfrecords.frame_heads(1 + _varint_sizes(rows.lengths) + rows.lengths), None)
    head.constant(b"\x0a")
    head.varint(rows.lengths)
    tail = pa.scalar(bytes(tfrecords.FRAME_TAIL), _BINARY)
    return pc.binary_join_element_wise(*head.joined(), *features, tail, _EMPTY)
