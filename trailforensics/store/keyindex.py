"""The dedup key index: 16-byte keys in sorted numpy arrays (16 bytes per event).

Keys are digests, so their first byte spreads them evenly over :data:`BUCKETS` buckets.  Each
bucket is a log-structured merge of sorted levels, which keeps inserts cheap and memory at
the size of the keys themselves (a Python set of the same keys would take ~6x more).  Two
choices keep the peak at that size whatever the number of keys:

* levels merge linearly (two sorted, disjoint arrays into one) and only within a bucket, so
  the largest temporary copy is a bucket's size, 1/``BUCKETS`` of the index, where one big
  ``sort(concatenate(...))`` copied the whole index two or three times;
* keys of earlier runs load in slices (:data:`LOAD_SLICE` keys at a time).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

KEY_DTYPE = np.dtype("S16")
BUCKETS = 16
LOAD_SLICE = 1 << 20
# The smallest key of each bucket (bucket b holds the keys whose first byte is in
# [b * 256 // BUCKETS, (b + 1) * 256 // BUCKETS)); bucket 0's bound is the empty key.
_BOUNDS = np.array([bytes([b * 256 // BUCKETS]) for b in range(BUCKETS)], dtype=KEY_DTYPE)
_EMPTY = np.zeros(0, dtype=KEY_DTYPE)
_PREFIX = np.dtype(">u8")


def prefixes(keys: np.ndarray) -> np.ndarray:
    """The first 8 bytes of each key as an unsigned integer (big-endian: the same order as the keys).

    numpy searches fixed-width byte strings with a generic comparison; integers search ~3x faster,
    and for digests a prefix is shared by two keys about never (a full compare settles it)."""
    return np.ascontiguousarray(keys, dtype=KEY_DTYPE).view(_PREFIX).reshape(-1, 2)[:, 0].astype(np.uint64)


def merge_sorted(older: np.ndarray, newer: np.ndarray) -> np.ndarray:
    """One sorted array from two sorted arrays with no key in common (linear, one output copy)."""
    if not len(older):
        return newer
    if not len(newer):
        return older
    return _merge_with_prefixes(older, prefixes(older), newer, prefixes(newer))[0]


def _merge_with_prefixes(
    older: np.ndarray, older_prefix: np.ndarray, newer: np.ndarray, newer_prefix: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two non-empty sorted arrays with no key in common merged (linear, one output copy), the
    newer keys placed by their integer prefix (a key whose prefix the older array also holds is
    placed by its full key); returns the merged keys and their prefixes."""
    at = np.searchsorted(older_prefix, newer_prefix)
    tie = older_prefix[np.minimum(at, len(older) - 1)] == newer_prefix
    if tie.any():
        at[tie] = np.searchsorted(older, newer[tie])
    at += np.arange(len(newer))
    out = np.empty(len(older) + len(newer), dtype=KEY_DTYPE)
    out_prefix = np.empty(len(out), dtype=np.uint64)
    from_older = np.ones(len(out), dtype=bool)
    from_older[at] = False
    out[at], out_prefix[at] = newer, newer_prefix
    out[from_older], out_prefix[from_older] = older, older_prefix
    return out, out_prefix


class KeyIndex:
    def __init__(self) -> None:
        self._buckets: list[list[np.ndarray]] = [[] for _ in range(BUCKETS)]
        self._prefixes: list[list[np.ndarray]] = [[] for _ in range(BUCKETS)]  # of each level, for searching
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def load(self, keys: np.ndarray) -> None:
        """Add keys known to be unique (from earlier runs); a memory-mapped array loads in slices."""
        for start in range(0, len(keys), LOAD_SLICE):
            piece = np.unique(np.asarray(keys[start : start + LOAD_SLICE]).astype(KEY_DTYPE, copy=False))
            self._insert(piece[~self._contains_sorted(piece)])

    def contains(self, keys: np.ndarray) -> np.ndarray:
        keys = np.asarray(keys, dtype=KEY_DTYPE)
        order = np.argsort(keys, kind="stable")
        present = np.empty(len(keys), dtype=bool)
        present[order] = self._contains_sorted(keys[order])
        return present

    def add(self, keys: bytes) -> np.ndarray:
        """Insert a batch; return a mask, True where the key is new (first occurrence wins)."""
        q = np.frombuffer(keys, dtype=KEY_DTYPE)
        if not len(q):
            return np.zeros(0, dtype=bool)
        uniq, first_idx, inverse = np.unique(q, return_index=True, return_inverse=True)
        seen = self._contains_sorted(uniq)
        new = np.zeros(len(q), dtype=bool)
        new[first_idx] = True
        new &= ~seen[inverse.reshape(-1)]
        self._insert(uniq[~seen])
        return new

    def all_keys(self) -> np.ndarray:
        """Every key, sorted (a copy: for tests and small indexes)."""
        parts = [level for bucket in self._buckets for level in bucket]
        return np.sort(np.concatenate(parts)) if parts else _EMPTY.copy()

    # -- internals ---------------------------------------------------------------------------
    @staticmethod
    def _slices(sorted_keys: np.ndarray) -> list[tuple[int, int, int]]:
        """(bucket, start, end) of each non-empty bucket's run in ``sorted_keys``."""
        edges = np.append(np.searchsorted(sorted_keys, _BOUNDS), len(sorted_keys)).tolist()
        return [(b, edges[b], edges[b + 1]) for b in range(BUCKETS) if edges[b + 1] > edges[b]]

    def _contains_sorted(self, keys: np.ndarray) -> np.ndarray:
        present = np.zeros(len(keys), dtype=bool)
        keys_prefix = prefixes(keys)
        for b, lo, hi in self._slices(keys):
            part, part_prefix = keys[lo:hi], keys_prefix[lo:hi]
            hit = present[lo:hi]
            for level, level_prefix in zip(self._buckets[b], self._prefixes[b]):
                last = len(level) - 1
                idx = np.minimum(np.searchsorted(level_prefix, part_prefix), last)
                same = level[idx] == part
                hit |= same
                # Keys of the level that share the prefix sit after idx: search those rows by full key.
                after = np.minimum(idx + 1, last)
                shared = (after != idx) & (level_prefix[after] == part_prefix) & ~same
                if shared.any():
                    rows = np.flatnonzero(shared)
                    at = np.searchsorted(level, part[rows])
                    at[at == len(level)] = 0
                    hit[rows] |= level[at] == part[rows]
        return present

    def _insert(self, fresh: np.ndarray) -> None:
        """Add sorted keys none of which is in the index."""
        for b, lo, hi in self._slices(fresh):
            levels, level_prefixes = self._buckets[b], self._prefixes[b]
            levels.append(fresh[lo:hi].copy())  # a copy: a view would keep the whole batch alive
            level_prefixes.append(prefixes(levels[-1]))
            # Merge while the newer level is at least half the older: O(log n) levels.
            while len(levels) > 1 and len(levels[-1]) * 2 >= len(levels[-2]):
                newer, newer_prefix = levels.pop(), level_prefixes.pop()
                levels[-1], level_prefixes[-1] = _merge_with_prefixes(
                    levels[-1], level_prefixes[-1], newer, newer_prefix
                )
        self._size += len(fresh)


def save_keys(dest: Path, parts: Sequence[np.ndarray]) -> int:
    """Write the keys of ``parts`` (e.g. memory-mapped files) as one ``.npy`` array, a slice at a time."""
    count = sum(len(p) for p in parts)
    with open(dest, "wb") as out:
        np.lib.format.write_array_header_1_0(out, {"descr": KEY_DTYPE.str, "fortran_order": False, "shape": (count,)})
        for part in parts:
            for start in range(0, len(part), LOAD_SLICE):
                out.write(np.ascontiguousarray(part[start : start + LOAD_SLICE], dtype=KEY_DTYPE).tobytes())
    return count


# -- keys by event day -------------------------------------------------------------------------
# Two copies of an event have the same content, event time included (it is part of the key
# material), so a key can only repeat within one event day.  Keys are therefore stored per day
# (``keys/event_date=YYYY-MM-DD/part-<run>.npy``) and only the days a run touches are loaded,
# least recently used first out when the budget is reached: the coordinator's memory depends
# on the events per day, not on the size of the dataset.  Key files without a day (written
# before this layout) are loaded whole, as before.
KEY_PARTITION = "event_date"
UNDATED = -(2**63)  # the scratch-file day of keys stored without a day


def keys_file_day(rel: str) -> int | None:
    """The day number of a per-day key file (``keys/event_date=.../...``); None for a file without a day."""
    from trailforensics.store.writer import day_of_partition

    parts = rel.split("/")
    if len(parts) >= 3 and parts[1].startswith(KEY_PARTITION + "="):
        return day_of_partition(parts[1].split("=", 1)[1])
    return None


class DayKeyIndex:
    """The dedup index of one ingest run: committed keys by day, loaded on demand within ``budget_keys``.

    ``add(keys, days)`` returns the keep mask (True where the key is new; the first occurrence in
    the order of calls wins, as with :class:`KeyIndex`).  The run's new keys go to one scratch
    file per day, which also serves to reload a day after it was evicted.
    """

    def __init__(self, root: Path, committed: Sequence[str], scratch: Path, budget_keys: int):
        self.root = root
        self.scratch = scratch
        self.budget = max(int(budget_keys), 1)
        self.legacy = KeyIndex()
        self._files: dict[int, list[str]] = {}
        for rel in committed:
            day = keys_file_day(rel)
            if day is None:
                self.legacy.load(np.load(root / rel, mmap_mode="r"))
            else:
                self._files.setdefault(day, []).append(rel)
        self._loaded: dict[int, KeyIndex] = {}  # insertion order = least recently used first
        self._new: dict[int, object] = {}
        self._new_counts: dict[int, int] = {}
        self.loaded_keys = 0
        self.peak_loaded_keys = 0
        self.loads = 0

    @property
    def new_key_count(self) -> int:
        return sum(self._new_counts.values())

    def add(self, keys: bytes, days: np.ndarray) -> np.ndarray:
        q = np.frombuffer(keys, dtype=KEY_DTYPE)
        keep = np.zeros(len(q), dtype=bool)
        if not len(q):
            return keep
        days = np.asarray(days, dtype=np.int64)
        legacy = self.legacy.contains(q) if len(self.legacy) else None
        touched = np.unique(days).tolist()
        for day in touched:
            rows = np.flatnonzero(days == day)  # in batch order: the first occurrence still wins
            index = self._day(day)
            before = len(index)
            mask = index.add(q[rows].tobytes())
            self.loaded_keys += len(index) - before
            if legacy is not None:
                mask &= ~legacy[rows]
            keep[rows] = mask
            fresh = q[rows][mask]
            if len(fresh):
                self._append_new(day, fresh)
        self.peak_loaded_keys = max(self.peak_loaded_keys, self.loaded_keys)
        self._evict(keep_days=set(touched))
        return keep

    def _day(self, day: int) -> KeyIndex:
        index = self._loaded.pop(day, None)
        if index is None:
            index = KeyIndex()
            for rel in self._files.get(day, ()):
                index.load(np.load(self.root / rel, mmap_mode="r"))
            if day in self._new:
                self._new[day].flush()  # type: ignore[attr-defined]
                index.load(np.memmap(self._new_path(day), dtype=KEY_DTYPE, mode="r"))
            self.loaded_keys += len(index)
            self.loads += 1
        self._loaded[day] = index  # most recently used last
        return index

    def _evict(self, keep_days: set[int]) -> None:
        for day in list(self._loaded):
            if self.loaded_keys <= self.budget:
                break
            if day in keep_days:
                continue
            self.loaded_keys -= len(self._loaded.pop(day))

    def _new_path(self, day: int) -> Path:
        return self.scratch / f"new-keys-{day}.bin"

    def _append_new(self, day: int, fresh: np.ndarray) -> None:
        fh = self._new.get(day)
        if fh is None:
            fh = self._new[day] = open(self._new_path(day), "ab")  # noqa: SIM115 (closed in new_keys)
        fh.write(fresh.tobytes())  # type: ignore[attr-defined]
        self._new_counts[day] = self._new_counts.get(day, 0) + len(fresh)

    def add_undated(self, fresh: np.ndarray) -> None:
        """New keys whose days are not known (the Spark ingest dedups by a shuffle instead): they
        are stored without a day, like keys written before the layout by day."""
        if len(fresh):
            self._append_new(UNDATED, np.asarray(fresh, dtype=KEY_DTYPE))

    def new_keys(self) -> list[tuple[int | None, Path]]:
        """Close the scratch files; (day, raw keys file) for every day that got new keys (None: undated)."""
        out: list[tuple[int | None, Path]] = []
        for day, fh in sorted(self._new.items()):
            fh.close()  # type: ignore[attr-defined]
            out.append((None if day == UNDATED else day, self._new_path(day)))
        self._new.clear()
        return out
