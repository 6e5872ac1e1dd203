"""The dedup index by event day: the same answers as one global index, whatever the budget."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from trailforensics import Dataset
from trailforensics.generate import generate_tree
from trailforensics.ingest import ingest, pipeline
from trailforensics.ingest.pipeline import IngestOptions
from trailforensics.store.keyindex import KEY_DTYPE, DayKeyIndex, keys_file_day, save_keys


def _batches(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    pool = rng.bytes(16 * 3000)
    keys = np.frombuffer(pool, dtype=KEY_DTYPE)
    day_of = rng.integers(19000, 19012, len(keys))  # a key always has one day
    out = []
    for _ in range(40):  # each batch spans two days (files arrive roughly in time order)
        two = rng.choice(np.arange(19000, 19012), 2, replace=False)
        candidates = np.flatnonzero(np.isin(day_of, two))
        pick = rng.choice(candidates, 200)
        out.append((keys[pick], day_of[pick]))
    return out


@pytest.mark.parametrize("budget", [1, 150, 10**9])
def test_same_answers_as_a_set_whatever_the_budget(tmp_path: Path, budget: int) -> None:
    batches = _batches(3)
    # committed keys of an earlier run: the first 10 batches' keys, stored by day and one legacy file
    seen: set[bytes] = set()
    by_day: dict[int, list[bytes]] = {}
    legacy: list[bytes] = []
    for keys, days in batches[:10]:
        for k, d in zip(keys.tolist(), days.tolist(), strict=True):
            if k not in seen:
                seen.add(k)
                (legacy if d % 5 == 0 else by_day.setdefault(d, [])).append(k)
    committed = []
    (tmp_path / "keys").mkdir()
    for d, ks in by_day.items():
        from trailforensics.store.writer import partition_name

        rel = f"keys/event_date={partition_name(d)}/part-r.npy"
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        save_keys(tmp_path / rel, [np.array(ks, dtype=KEY_DTYPE)])
        assert keys_file_day(rel) == d
        committed.append(rel)
    save_keys(tmp_path / "keys/part-old.npy", [np.array(legacy, dtype=KEY_DTYPE)])
    committed.append("keys/part-old.npy")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    index = DayKeyIndex(tmp_path, committed, scratch, budget)
    new_total = 0
    for keys, days in batches[10:]:
        mask = index.add(keys.tobytes(), days)
        expected = []
        for k in keys.tolist():
            expected.append(k not in seen)
            seen.add(k)
        assert mask.tolist() == expected
        new_total += int(mask.sum())
    assert index.new_key_count == new_total
    if budget == 1:
        assert index.loads > 12  # days were dropped and loaded again
        assert index.peak_loaded_keys < 3000
    written = sum(len(np.fromfile(p, dtype=KEY_DTYPE)) for _, p in index.new_keys())
    assert written == new_total


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("keys-by-day")
    generate_tree(root / "tree", events=4000, seed=5, digests=False)
    return root / "tree"


def _rows(path: Path) -> list[tuple[object, ...]]:
    with Dataset(path) as ds:
        events = sorted(
            ds.con.sql("SELECT event_id, recipient_account_id, source_file FROM events").fetchall(), key=repr
        )
        dups = sorted(ds.con.sql("SELECT event_id, source_file FROM duplicates").fetchall(), key=repr)
    return [*events, ("--",), *dups]


def test_a_tiny_key_budget_gives_the_same_dataset(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "copy"  # a second copy of the bucket: every record a duplicate, by day
    shutil.copytree(tree, copy)
    serial = IngestOptions(workers=1)
    big = tmp_path / "big"
    ingest([tree], big, serial)
    ingest([copy], big, serial)
    monkeypatch.setattr(pipeline, "key_budget", lambda: 10)  # evict after every batch
    small = tmp_path / "small"
    ingest([tree], small, serial)
    second = ingest([copy], small, serial)
    assert second.duplicates_dropped > 0 and second.rows_written == 0
    assert _rows(small) == _rows(big)
    with Dataset(small) as ds:
        assert all(keys_file_day(f) is not None for f in ds.snapshot.files("keys"))
