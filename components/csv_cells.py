"""A block's cells as TFX's CsvExampleGen reads them: which hold a value, and each column's
kind and numbers, as tfx_bsl's `_InferValueType` and Python's `int()` and `float()` decide.

Arrow reads what it reads exactly as Python does (plain digits, plain decimals); every other
cell (`+5`, `1_000`, `0x10`, `inf`, an integer beyond int64, ...) is read by Python itself.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class Kind(enum.IntEnum):
    """tfx_bsl's column types, in the order a column widens."""

    UNKNOWN = 0  # no value in any row
    INT = 1
    FLOAT = 2
    STRING = 3


def missing_tokens(na_values: Sequence[str]) -> pa.Array:
    """The missing-value tokens as `present_cells` compares them."""
    return pa.array([v.strip() for v in na_values], pa.string())


ASCII_BLANKS = " \t\n\r\x0b\x0c"  # what Python strips from bytes, as TFX's cells are


def present_cells(column: pa.Array, na_values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The cells stripped of surrounding blanks, and which hold a value (not empty, and not a
    missing-value token once stripped, as TFX's reading and `csv_table.read_csv` compare)."""
    stripped = pc.utf8_trim(column, characters=ASCII_BLANKS)
    missing = pc.is_in(stripped, value_set=na_values)
    if "" not in na_values.to_pylist():  # an empty cell is missing, whatever the tokens say
        missing = pc.or_(pc.equal(column, ""), missing)
    return stripped, pc.invert(missing)


# Plain numbers, which Arrow reads as Python's int() and float() do; anything else (a sign
# of +, digits grouped with _, 0x10, inf, ...) is read by Python itself, as TFX reads it.
_PLAIN_INT = r"^-?[0-9]+$"
_PLAIN_FLOAT = r"^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$"


def _mask(array: pa.Array) -> np.ndarray:
    return array.to_numpy(zero_copy_only=False).astype(bool)


class Cells:
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
            self.kind = self._widest(known)

    def _widest(self, known: Kind) -> Kind:
        if len(self.values) == 0:
            return Kind.UNKNOWN
        fast = self._read_by_arrow(known)
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

    def _read_by_arrow(self, known: Kind) -> Kind | None:
        """The kind when Arrow reads every value as Python does: ASCII digits after a minus
        sign, as int64; or as float64, all finite below 2**63 (beyond that an integer is text
        to tfx_bsl). None: the values need the slower reading below. (A cast Arrow refuses
        costs ten times one it makes, so the digits are looked at first; not in a column
        already FLOAT, which integers leave FLOAT.)"""
        digits = known is not Kind.FLOAT and (
            pc.all(pc.ascii_is_decimal(pc.ascii_ltrim(self.values, "-"))).as_py()
        )
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
