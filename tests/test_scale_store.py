"""Bounded-memory store pieces: the dedup key index, the streamed manifest, compact per partition."""

from __future__ import annotations

import hashlib

import numpy as np

from trailforensics.store.keyindex import KEY_DTYPE, KeyIndex, merge_sorted


def _keys(n: int, start: int = 0) -> bytes:
    return b"".join(hashlib.blake2b(str(i).encode(), digest_size=16).digest() for i in range(start, start + n))


def test_key_index_matches_a_set_across_many_batches() -> None:
    rng = np.random.default_rng(7)
    index, seen = KeyIndex(), set()
    pool = np.frombuffer(_keys(20_000), dtype=KEY_DTYPE)
    for _ in range(60):
        batch = pool[rng.integers(0, len(pool), 700)]
        mask = index.add(batch.tobytes())
        expected = []
        for k in batch.tolist():
            expected.append(k not in seen)
            seen.add(k)
        assert mask.tolist() == expected
    assert len(index) == len(seen)
    assert index.all_keys().tolist() == sorted(seen)
    probe = np.frombuffer(_keys(100, 19_950), dtype=KEY_DTYPE)
    assert index.contains(probe).tolist() == [k in seen for k in probe.tolist()]


def test_key_index_load_in_slices_and_from_a_memory_map(tmp_path, monkeypatch) -> None:
    import trailforensics.store.keyindex as keyindex

    monkeypatch.setattr(keyindex, "LOAD_SLICE", 1000)
    old = np.frombuffer(_keys(5_000), dtype=KEY_DTYPE)
    np.save(tmp_path / "k.npy", old)
    index = KeyIndex()
    index.load(np.load(tmp_path / "k.npy", mmap_mode="r"))
    index.load(old[:10])  # loading a key twice keeps one copy
    assert len(index) == 5_000
    mask = index.add(_keys(10, 4_995))  # 5 known, 5 new
    assert mask.tolist() == [False] * 5 + [True] * 5


def test_merge_sorted_is_the_sorted_union() -> None:
    keys = np.sort(np.frombuffer(_keys(1_000), dtype=KEY_DTYPE))
    older, newer = keys[::3], np.setdiff1d(keys, keys[::3])
    assert merge_sorted(older, newer).tolist() == keys.tolist()
    assert merge_sorted(older[:0], newer).tolist() == newer.tolist()
