"""Arrow string columns straight from raw JSON byte slices (``msgspec.Raw``).

All values of several columns are joined into one buffer and wrapped as one Arrow array
without a Python object per value; the JSON type of each value is read off its first
byte.  Used for the free-form JSON columns, which must keep the original bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain, pairwise

import numpy as np
import pyarrow as pa
from msgspec import Raw

QUOTE = ord('"')
LBRACE = ord("{")
NULL_FIRST = ord("n")


class RawColumns:
    """``k`` columns of ``n`` raw JSON values each (an empty value means the key was absent)."""

    def __init__(self, columns: Sequence[Sequence[Raw]], n: int):
        flat: list[Raw] = list(chain.from_iterable(columns))
        lengths = np.fromiter(map(len, flat), np.int64, count=len(flat))
        offsets = np.zeros(len(flat) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        self._init(offsets, b"".join(flat), n)

    @classmethod
    def from_block(cls, offsets: bytes, data: bytes, n: int) -> RawColumns:
        """From the values already joined (int64 offsets, column after column): the C path."""
        self = cls.__new__(cls)
        self._init(np.frombuffer(offsets, np.int64), data, n)
        return self

    def _init(self, offsets: np.ndarray, data: bytes, n: int) -> None:
        self.n = n
        self.offsets = offsets
        self.data = data
        total = len(offsets) - 1
        lengths = np.diff(offsets)
        first = np.zeros(total, np.uint8)
        present = lengths > 0
        first[present] = np.frombuffer(data, np.uint8)[offsets[:-1][present]]
        self.first = first
        self.lengths = lengths
        if len(data) < 2**31 - 1:
            typ, offs = pa.string(), pa.py_buffer(offsets.astype(np.int32))
        else:
            typ, offs = pa.large_string(), pa.py_buffer(offsets)
        # The input was validated as UTF-8 and values are whole JSON values: a valid string array.
        valid = present & (first != NULL_FIRST)
        bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
        self._text = pa.Array.from_buffers(
            typ, total, [bitmap, offs, pa.py_buffer(data)], null_count=int(total - valid.sum())
        )

    def select(self, columns: Sequence[int]) -> RawColumns:
        """Some of the columns, in the given order, without a Python object per value."""
        n, offsets = self.n, self.offsets
        spans = [(int(offsets[c * n]), int(offsets[(c + 1) * n])) for c in columns]
        data = b"".join(self.data[a:b] for a, b in spans)
        parts = [np.zeros(1, np.int64)]
        base = 0
        for c, (a, b) in zip(columns, spans):
            parts.append(offsets[c * n + 1 : (c + 1) * n + 1] - a + base)
            base += b - a
        return RawColumns.from_block(np.concatenate(parts).tobytes(), data, n)

    def values(self, c: int) -> list[bytes]:
        """The raw values of column c (b"" where the key was absent)."""
        o = self.offsets[c * self.n : (c + 1) * self.n + 1].tolist()
        data = self.data
        return [data[a:b] for a, b in pairwise(o)]

    def first_bytes(self, c: int) -> np.ndarray:
        return self.first[c * self.n : (c + 1) * self.n]

    def present(self, c: int) -> np.ndarray:
        return self.first_bytes(c) != 0

    def null_rows(self, c: int) -> np.ndarray:
        """Rows holding an explicit JSON null."""
        return np.flatnonzero(self.first_bytes(c) == NULL_FIRST)

    def json(self, c: int) -> pa.Array:
        """The raw JSON text of column c; absent and JSON null are NULL."""
        arr = self._text.slice(c * self.n, self.n)
        return arr if arr.type == pa.string() else arr.cast(pa.string())
