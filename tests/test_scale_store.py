"""Bounded-memory store pieces: the dedup key index, the streamed manifest, compact per partition."""

from __future__ import annotations

import hashlib

import numpy as np

from trailforensics.store.keyindex import KEY_DTYPE, KeyIndex, merge_sorted


def _keys(n: int, start: int = 0) -> bytes:
    return b"".join(hashlib.blake2b(str(i).encode(), digest_size=16).digest() for i in range(start, start + n))


def _add_like_a_set(index: KeyIndex, seen: set[bytes], batch: np.ndarray) -> None:
    """Add a batch to the index and to a set: the index's mask is the set's answer, key by key."""
    mask = index.add(batch.tobytes())
    expected = []
    for k in batch.tolist():
        expected.append(k not in seen)
        seen.add(k)
    assert mask.tolist() == expected


def test_key_index_matches_a_set_across_many_batches() -> None:
    rng = np.random.default_rng(7)
    index, seen = KeyIndex(), set()
    pool = np.frombuffer(_keys(20_000), dtype=KEY_DTYPE)
    for _ in range(60):
        _add_like_a_set(index, seen, pool[rng.integers(0, len(pool), 700)])
    assert len(index) == len(seen)
    assert index.all_keys().tolist() == sorted(seen)
    probe = np.frombuffer(_keys(100, 19_950), dtype=KEY_DTYPE)
    assert index.contains(probe).tolist() == [k in seen for k in probe.tolist()]


def test_key_index_with_keys_that_share_their_first_eight_bytes() -> None:
    """The index searches by an 8-byte prefix and settles ties by the full key: keys built to share
    prefixes (and to end in zero bytes, which numpy's byte strings treat as padding) still match a set."""
    rng = np.random.default_rng(1)
    index, seen = KeyIndex(), set()
    for _ in range(150):
        raw = rng.integers(0, 256, size=(int(rng.integers(1, 300)), 16), dtype=np.uint8)
        raw[:, 1:8] = rng.integers(0, 2, size=(len(raw), 7))  # few distinct prefixes
        raw[:, 12:] = 0
        _add_like_a_set(index, seen, np.frombuffer(raw.tobytes(), dtype=KEY_DTYPE))
    assert len(index) == len(seen)
    assert index.all_keys().tolist() == sorted(seen)


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


def _ingest_days(tmp_path, days: int = 3, runs: int = 3):
    from datetime import datetime, timedelta, timezone

    from ct import record, write_log

    from trailforensics.ingest import IngestOptions, ingest

    src, ds = tmp_path / "dump", tmp_path / "ds"
    t0 = datetime(2026, 3, 10, 23, 0, tzinfo=timezone.utc)
    for run in range(runs):
        for day in range(days):
            # Times deliberately out of order inside each file, and overlapping across runs.
            base = t0 + timedelta(days=day, minutes=run)
            recs = [record("GetObject", base + timedelta(seconds=(37 * j) % 300)) for j in range(40)]
            write_log(src, recs, delivered=base + timedelta(minutes=10 + run))
        ingest([src], ds, IngestOptions(workers=1))
    return ds


def _rows(ds) -> list[tuple]:
    from trailforensics.engine import Dataset

    with Dataset(ds) as d:
        table = d.sql("SELECT * EXCLUDE (event_date) FROM events")
    return sorted(tuple(map(repr, row.values())) for row in table.to_pylist())


def test_compact_keeps_the_row_multiset_and_sorts_each_slice(tmp_path, monkeypatch) -> None:
    import pyarrow.parquet as pq

    import trailforensics.store.compact as compact_module

    monkeypatch.setattr(compact_module, "SLICE_ROWS", 50)  # many slices, row groups straddling bounds
    ds = _ingest_days(tmp_path)
    before = _rows(ds)
    report = compact_module.compact(ds)
    assert sum(line.startswith("event_date=") and line.endswith("3 files -> 1") for line in report) == 3
    assert compact_module.time_slices(sorted((ds / "events").rglob("*.parquet")))  # more than one slice
    assert _rows(ds) == before
    for f in (ds / "events").rglob("*.parquet"):
        times = pq.read_table(f, columns=["event_time"]).column(0).to_pylist()
        assert times == sorted(times)


def test_compact_since_until_touches_only_those_partitions(tmp_path) -> None:
    from datetime import date, datetime, timezone

    from trailforensics.store.compact import compact

    ds = _ingest_days(tmp_path)
    before = _rows(ds)
    parts = lambda: {p.name: len(list(p.glob("*.parquet"))) for p in (ds / "events").iterdir()}  # noqa: E731
    assert set(parts().values()) == {3}
    # [2026-03-11 12:00, 2026-03-12): only the day of 2026-03-11 overlaps.
    report = compact(ds, since=datetime(2026, 3, 11, 12, tzinfo=timezone.utc), until=date(2026, 3, 12))
    assert report == ["event_date=2026-03-11: 3 files -> 1"]
    assert parts() == {"event_date=2026-03-10": 3, "event_date=2026-03-11": 1, "event_date=2026-03-12": 3}
    assert len(list((ds / "manifest").glob("*.parquet"))) == 3  # small tables wait for a full compaction
    assert _rows(ds) == before
    assert compact(ds, since=date(2026, 4, 1)) == ["nothing to compact"]
    compact(ds)
    assert set(parts().values()) == {1} and _rows(ds) == before
    # keys stay by event day: one file per day after a full compaction
    assert sorted(p.parent.name for p in (ds / "keys").rglob("*.npy")) == [
        "event_date=2026-03-10",
        "event_date=2026-03-11",
        "event_date=2026-03-12",
    ]
