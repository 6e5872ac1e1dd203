"""Rollups are exact: what they say equals a scan of the events, after one run or several."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from trailforensics import Dataset
from trailforensics.generate import generate_tree
from trailforensics.ingest import ingest
from trailforensics.query.summary import summary_from_events, summary_from_rollups
from trailforensics.schema.rollups import ROLLUPS

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs"


def _rows(ds: Dataset, sql: str) -> list[tuple[object, ...]]:
    return sorted(ds.con.sql(sql).fetchall(), key=repr)


def assert_rollups_exact(ds: Dataset) -> None:
    assert ds.has_rollups
    for rollup in ROLLUPS:
        stored = _rows(ds, rollup.merge_sql(rollup.name))
        scanned = _rows(ds, rollup.build_sql("events_raw"))
        assert stored == scanned, rollup.name
        assert stored, rollup.name


def assert_summaries_equal(ds: Dataset) -> None:
    fast, slow = summary_from_rollups(ds), summary_from_events(ds, "", [])
    assert fast.keys() == slow.keys()
    for name in fast:
        assert fast[name].schema.names == slow[name].schema.names, name
        assert fast[name].to_pylist() == slow[name].to_pylist(), name


@pytest.fixture(scope="module")
def sample_ds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rollups") / "ds"
    assert ingest([SAMPLE], path).committed
    return path


def test_sample_rollups_equal_a_scan(sample_ds: Path) -> None:
    with Dataset(sample_ds) as ds:
        assert_rollups_exact(ds)
        assert_summaries_equal(ds)


@pytest.fixture(scope="module")
def incremental_ds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated tree ingested in three runs (one folder at a time), so keys repeat across files."""
    root = tmp_path_factory.mktemp("rollups-gen")
    tree = root / "tree"
    generate_tree(tree, events=6000, seed=11, digests=False)
    days = sorted(p for p in tree.rglob("*") if p.is_dir() and p.parent.name.isdigit() and len(p.name) == 2)
    ds = root / "ds"
    for part in (days[: len(days) // 3], days[len(days) // 3 : 2 * len(days) // 3], days[2 * len(days) // 3 :]):
        assert ingest(part or [tree], ds).committed
    copy = root / "copy"  # a second copy of the bucket: every record is a duplicate now
    shutil.copytree(tree, copy)
    again = ingest([copy], ds)
    assert again.committed and again.duplicates_dropped > 0 and again.rows_written == 0
    return ds


def test_incremental_rollups_equal_a_scan(incremental_ds: Path) -> None:
    with Dataset(incremental_ds) as ds:
        assert len(ds.snapshot.files("rollup_hourly")) >= 3
        assert_rollups_exact(ds)
        assert_summaries_equal(ds)


def test_dataset_without_rollups_gets_them_all_at_the_next_ingest(sample_ds: Path, tmp_path: Path) -> None:
    legacy = tmp_path / "legacy"
    shutil.copytree(sample_ds, legacy)
    snap_path = legacy / "_snapshot.json"
    snap = json.loads(snap_path.read_text())
    for rollup in ROLLUPS:  # as written by a version before rollups
        snap["tables"].pop(rollup.name, None)
    snap_path.write_text(json.dumps(snap))
    with Dataset(legacy) as ds:
        assert not ds.has_rollups  # the summary then scans: still right
        assert summary_from_events(ds, "", [])["overview"].to_pylist()[0]["events"] > 0
    extra = tmp_path / "extra.json"
    extra.write_text(
        json.dumps(
            {
                "Records": [
                    {
                        "eventVersion": "1.08",
                        "eventID": "11111111-2222-3333-4444-555555555555",
                        "eventTime": "2026-03-12T10:00:00Z",
                        "eventSource": "s3.amazonaws.com",
                        "eventName": "ListBuckets",
                        "awsRegion": "eu-west-1",
                        "sourceIPAddress": "203.0.113.9",
                        "recipientAccountId": "111122223333",
                        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/late"},
                    }
                ]
            }
        )
    )
    assert ingest([extra], legacy).committed
    with Dataset(legacy) as ds:
        assert_rollups_exact(ds)  # the old events were rolled up too
        assert_summaries_equal(ds)
