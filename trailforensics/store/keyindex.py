"""The dedup key index: 16-byte keys in sorted numpy arrays (16 bytes per event).

A log-structured merge of sorted levels keeps inserts cheap and memory at the size of the
keys themselves, so a dataset of tens of millions of events dedups in a few hundred MB
(a Python set of the same keys would take ~6x more).
"""

from __future__ import annotations

import numpy as np

KEY_DTYPE = np.dtype("S16")


class KeyIndex:
    def __init__(self) -> None:
        self._levels: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(level) for level in self._levels)

    def load(self, keys: np.ndarray) -> None:
        """Add keys known to be unique (from earlier runs)."""
        if len(keys):
            self._push(np.unique(keys.astype(KEY_DTYPE, copy=False)))

    def contains(self, keys: np.ndarray) -> np.ndarray:
        present = np.zeros(len(keys), dtype=bool)
        for level in self._levels:
            idx = np.searchsorted(level, keys)
            idx[idx == len(level)] = 0
            present |= level[idx] == keys
        return present

    def add(self, keys: bytes) -> np.ndarray:
        """Insert a batch; return a mask, True where the key is new (first occurrence wins)."""
        q = np.frombuffer(keys, dtype=KEY_DTYPE)
        if not len(q):
            return np.zeros(0, dtype=bool)
        uniq, first_idx, inverse = np.unique(q, return_index=True, return_inverse=True)
        seen = self.contains(uniq)
        new = np.zeros(len(q), dtype=bool)
        new[first_idx] = True
        new &= ~seen[inverse.reshape(-1)]
        fresh = uniq[~seen]
        if len(fresh):
            self._push(fresh)
        return new

    def _push(self, level: np.ndarray) -> None:
        self._levels.append(level)
        # Merge while the newer level is at least half the older: O(log n) levels.
        while len(self._levels) > 1 and len(self._levels[-1]) * 2 >= len(self._levels[-2]):
            top = self._levels.pop()
            below = self._levels.pop()
            self._levels.append(np.sort(np.concatenate([below, top]), kind="stable"))

    def all_keys(self) -> np.ndarray:
        if not self._levels:
            return np.zeros(0, dtype=KEY_DTYPE)
        return np.sort(np.concatenate(self._levels))
