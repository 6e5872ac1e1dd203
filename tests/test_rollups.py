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


@pytest.mark.parametrize("pass_rows", [1, 1500])
def test_rollups_in_passes_of_partitions_equal_a_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pass_rows: int
) -> None:
    """Rolled up a few days at a time (one day per pass at 1 row): every rollup is keyed by day."""
    from trailforensics.store import rollups as store_rollups

    monkeypatch.setattr(store_rollups, "PASS_ROWS", pass_rows)
    seen: list[int] = []
    passes = store_rollups.partition_passes

    def counted(paths: list[Path], max_rows: int = pass_rows) -> list[list[Path]]:
        out = passes(paths, max_rows)
        seen.append(len(out))
        return out

    monkeypatch.setattr(store_rollups, "partition_passes", counted)
    assert ingest([SAMPLE], tmp_path / "ds").committed
    assert seen and seen[0] > 1
    with Dataset(tmp_path / "ds") as ds:
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


def _without_rollups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Dataset, "has_rollups", property(lambda self: False))


@pytest.mark.parametrize("which", ["sample", "incremental"])
def test_coverage_from_rollups_equals_the_scan(
    which: str, sample_ds: Path, incremental_ds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime, timezone

    from trailforensics.posture.activity_coverage import coverage

    path = sample_ds if which == "sample" else incremental_ds
    with Dataset(path) as ds:
        first = ds.sql("SELECT min(event_time) AS t FROM events").column("t")[0].as_py()
        windows = [
            {},
            {"by": "hour"},
            {"since": first.replace(minute=0, second=0, microsecond=0)},
            {"since": datetime(2000, 1, 1, tzinfo=timezone.utc), "until": first.replace(minute=0, second=0)},
        ]
        fast = [coverage(ds, **w) for w in windows]  # type: ignore[arg-type]
    _without_rollups(monkeypatch)
    with Dataset(path) as ds:
        slow = [coverage(ds, **w) for w in windows]  # type: ignore[arg-type]
    if which == "sample":  # the incident's unused regions: the rollup path must find them too
        assert {"us-west-2", "ap-southeast-1"} <= {
            f["region"] for f in fast[0].flags.to_pylist() if f["kind"] == "region"
        }
    assert fast[0].counts.num_rows > 0 and fast[1].counts.num_rows > 0
    for f, s in zip(fast, slow):
        assert f.counts.to_pylist() == s.counts.to_pylist()
        assert f.flags.to_pylist() == s.flags.to_pylist()


def _record(i: int, t: str, region: str, account: str = "111122223333") -> dict[str, object]:
    return {
        "eventVersion": "1.08",
        "eventID": f"00000000-0000-4000-8000-{i:012d}",
        "eventTime": t,
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": region,
        "sourceIPAddress": "198.51.100.7",
        "recipientAccountId": account,
        "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{account}:user/u"},
    }


def test_gap_silences_from_minute_buckets_equal_the_scan(tmp_path: Path, sample_ds: Path) -> None:
    """Series whose 99th-percentile silence is far below, near and above the floor, with long gaps."""
    from datetime import datetime, timedelta, timezone

    from trailforensics.posture import activity_coverage as ac
    from trailforensics.posture import delivery_gaps as delivery

    start = datetime(2026, 5, 1, tzinfo=timezone.utc)
    records, i = [], 0
    # (region, step between events, gaps inserted after these event numbers (minutes))
    plans = [
        ("eu-west-1", timedelta(seconds=7), {400: 25, 900: 90}),  # dense: p99 < 1 min
        ("eu-central-1", timedelta(minutes=5), {100: 45, 200: 21}),  # p99 = 5 min: threshold is the floor
        ("us-west-2", timedelta(minutes=9), {50: 60, 120: 200}),  # p99 = 9 min: 3 x p99 above the floor
        ("ap-south-1", timedelta(seconds=50), {30: 30}),  # a few silences just under a minute
    ]
    for region, step, gaps in plans:
        t = start
        for n in range(1200 if step < timedelta(minutes=1) else 300):
            records.append(_record(i, t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", region))
            i += 1
            t += step + timedelta(minutes=gaps.get(n, 0))
    path = tmp_path / "gaps.json"
    path.write_text(json.dumps({"Records": records}))
    ds_path = tmp_path / "ds"
    assert ingest([path], ds_path).committed
    for p in (ds_path, sample_ds):
        with Dataset(p) as ds:
            where, params = ac._where(None, None, None)
            for floor, factor in (
                (timedelta(minutes=20), 3.0),
                (timedelta(minutes=5), 3.0),
                (timedelta(minutes=2), 1.5),
            ):
                fast = delivery.silences_by_minute(ds, where, params, floor, factor)
                slow = delivery.silences_by_scan(ds, where, params, floor, factor)
                assert fast is not None
                assert fast[1] == slow[1], (p.name, floor, factor)
                assert {k: v for k, v in fast[0].items()} == {k: dict(v) for k, v in slow[0].items()}
                if p == ds_path and floor == timedelta(minutes=20):
                    assert len(fast[1]) >= 4  # the planted gaps are found
            if p == ds_path:  # a floor the sub-minute silences could reach: the exact scan is needed
                assert delivery.silences_by_minute(ds, where, params, timedelta(minutes=2), 3.0) is None


@pytest.mark.parametrize("by_key", [True, False])
def test_identities_from_rollups_equal_the_scan(
    by_key: bool, incremental_ds: Path, sample_ds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trailforensics.query.identities import identities

    fast = {}
    for p in (sample_ds, incremental_ds):
        with Dataset(p) as ds:
            fast[p] = identities(ds, by_key=by_key).to_pylist()
    _without_rollups(monkeypatch)
    for p in (sample_ds, incremental_ds):
        with Dataset(p) as ds:
            slow = identities(ds, by_key=by_key).to_pylist()
            choices = {
                r["actor"]: (set(r["types"]), set(r["accounts"]))
                for r in ds.sql(
                    "SELECT actor, list(DISTINCT user_identity_type) AS types, "
                    "list(DISTINCT user_identity_account_id) AS accounts FROM events GROUP BY actor"
                ).to_pylist()
            }
        assert len(slow) > 3
        for f, s in zip(fast[p], slow, strict=True):
            # `type` and `account` are any_value() in both: either answer must be one of the principal's values
            assert f["type"] in choices[f["actor"]][0] | {None} and f["account"] in choices[f["actor"]][1] | {None}
            assert {k: v for k, v in f.items() if k not in ("type", "account")} == {
                k: v for k, v in s.items() if k not in ("type", "account")
            }


def test_compact_merges_rollups_and_builds_missing_ones(incremental_ds: Path, tmp_path: Path) -> None:
    from trailforensics.store.compact import compact

    copy = tmp_path / "ds"
    shutil.copytree(incremental_ds, copy)
    report = compact(copy)
    assert any(line.startswith("rollup_hourly:") for line in report), report
    with Dataset(copy) as ds:
        assert all(len(ds.snapshot.files(r.name)) == 1 for r in ROLLUPS)
        assert_rollups_exact(ds)
        assert_summaries_equal(ds)
    # a compacted dataset from before rollups: compact builds them even when nothing else changes
    snap_path = copy / "_snapshot.json"
    snap = json.loads(snap_path.read_text())
    for rollup in ROLLUPS:
        snap["tables"].pop(rollup.name, None)
    snap_path.write_text(json.dumps(snap))
    assert "rollups: built for every event" in compact(copy)
    with Dataset(copy) as ds:
        assert_rollups_exact(ds)


@pytest.mark.parametrize("which", ["sample", "incremental"])
def test_trails_from_rollups_equal_the_scan(
    which: str, sample_ds: Path, incremental_ds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`trails` reads only the days the rollups point at (deleted log files included): same report."""
    from trailforensics.posture.trailmodel import fetch_events
    from trailforensics.posture.trails import trails

    path = sample_ds if which == "sample" else incremental_ds
    with Dataset(path) as ds:
        fast_rows, fast = fetch_events(ds, None, []), trails(ds)
    _without_rollups(monkeypatch)
    with Dataset(path) as ds:
        slow_rows, slow = fetch_events(ds, None, []), trails(ds)
    assert fast_rows == slow_rows
    if which == "sample":  # the incident deletes log files: the deletions must come through
        assert any(r["event_name"].startswith("DeleteObject") for r in fast_rows)
    for name in ("state", "changes", "findings", "stops"):
        assert getattr(fast, name).to_pylist() == getattr(slow, name).to_pylist(), name
