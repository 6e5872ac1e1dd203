"""Arrow string columns straight from raw JSON byte slices (``msgspec.Raw``).

All values of several columns are joined into one buffer and wrapped as one Arrow array
without a Python object per value; the JSON type of each value is read off its first
byte.  Used for the free-form JSON columns, which must keep the original bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np
import pyarrow as pa
from msgspec import Raw

QUOTE = ord('"')
LBRACE = ord("{")
NULL_FIRST = ord("n")


class RawColumns:
    """``k`` columns of ``n`` raw JSON values each (an empty value means the key was absent)."""

    def __init__(self, columns: Sequence[Sequence[Raw]], n: int):
        self.n = n
        flat: list[Raw] = list(chain.from_iterable(columns))
        self.flat = flat
        total = len(flat)
        lengths = np.fromiter(map(len, flat), np.int64, count=total)
        data = b"".join(flat)
        offsets = np.zeros(total + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        first = np.zeros(total, np.uint8)
        present = lengths > 0
        first[present] = np.frombuffer(data, np.uint8)[offsets[:-1][present]]
        self.first = first
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

    def first_bytes(self, c: int) -> np.ndarray:
        return self.first[c * self.n : (c + 1) * self.n]

    def present(self, c: int) -> np.ndarray:
        return self.first_bytes(c) != 0

    def raw(self, c: int, row: int) -> Raw:
        return self.flat[c * self.n + row]

    def null_rows(self, c: int) -> np.ndarray:
        """Rows holding an explicit JSON null."""
        return np.flatnonzero(self.first_bytes(c) == NULL_FIRST)

    def json(self, c: int) -> pa.Array:
        """The raw JSON text of column c; absent and JSON null are NULL."""
        arr = self._text.slice(c * self.n, self.n)
        return arr if arr.type == pa.string() else arr.cast(pa.string())
