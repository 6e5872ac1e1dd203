"""A run killed at any moment (SIGKILL) leaves the dataset as before or as after.

Every writer commits through ``store.Transaction``; these tests kill ingest, ``verify -d`` and
``compact`` at each named point of its commit (``TRAILFORENSICS_TEST_CRASH_AT``).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from ct import record, simple_tree, write_log
from verify_fixtures import make_dump

from trailforensics.engine import Dataset
from trailforensics.ingest import IngestOptions, ingest
from trailforensics.store import layout
from trailforensics.store.compact import compact
from trailforensics.store.transaction import CRASH_ENV, CRASH_POINTS
from trailforensics.verify import store_results, verify_tree

UTC = timezone.utc
RUN = (
    "import sys; from trailforensics.ingest import ingest, IngestOptions\n"
    "if __name__ == '__main__':\n"
    "    s = ingest([sys.argv[1]], sys.argv[2], IngestOptions(workers=int(sys.argv[3])))\n"
    "    sys.exit(s.exit_code)\n"
)


COMPACT = "import sys; from trailforensics.store.compact import compact; compact(sys.argv[1])\n"
STORE = (
    "import pickle, sys; from trailforensics.verify import store_results\n"
    "with open(sys.argv[1], 'rb') as fh:\n"
    "    store_results(pickle.load(fh), sys.argv[2])\n"
)
COMMIT_POINTS = [p for p in CRASH_POINTS if p != "snapshot-tmp-written"]


def _start(src: Path, ds: Path, workers: int, crash_at: str | None = None) -> subprocess.Popen[bytes]:
    return _python(RUN, [str(src), str(ds), str(workers)], crash_at)


def _python(code: str, args: list[str], crash_at: str | None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, **{CRASH_ENV: crash_at or ""})
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )


def _rows(ds: Path) -> tuple[int, int]:
    if not layout.is_dataset(ds):
        return 0, 0
    with Dataset(ds) as d:
        total, distinct = d.sql("SELECT count(*), count(DISTINCT event_id) FROM events").to_pylist()[0].values()
        for rel in d.snapshot.files("events"):
            pq.read_metadata(ds / rel)  # every listed file is complete
    return total, distinct


def test_sigkill_at_any_moment(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    first = simple_tree(src / "a", files=20, per_file=150, seed=11)
    later = [
        record("GetObject", datetime(2026, 3, 12, 0, 0, tzinfo=UTC) + timedelta(seconds=i), event_id=f"b{i}")
        for i in range(3000)
    ]
    for i in range(10):
        write_log(src / "b", later[i * 300 : (i + 1) * 300], delivered=datetime(2026, 3, 12, 1, i, tzinfo=UTC))
    ds = tmp_path / "ds"
    assert ingest([src / "a"], ds, IngestOptions(workers=1)).rows_written == len(first)
    before, after = len(first), len(first) + len(later)

    probe = tmp_path / "probe"
    t0 = time.monotonic()
    assert _start(src, probe, 2).wait(timeout=120) == 0
    duration = time.monotonic() - t0

    for fraction in (0.05, 0.2, 0.4, 0.6, 0.75, 0.85, 0.95, 1.0):
        proc = _start(src, ds, 2)
        time.sleep(duration * fraction)
        proc.kill()
        proc.wait()
        total, distinct = _rows(ds)
        assert total == distinct and total in (before, after), (fraction, total)
        if total == after:
            break
    final = ingest([src], ds, IngestOptions(workers=2))
    assert final.exit_code == 0
    assert _rows(ds) == (after, after)
    assert not any((ds / ".staging").glob("*"))


def _files_are_live(ds: Path) -> None:
    """Every table file on disk is in the snapshot and nothing is staged (no orphans, no leftovers)."""
    live = {f for files in layout.load_snapshot(ds).tables.values() for f in files}
    on_disk = {p.relative_to(ds).as_posix() for t in layout.TABLE_DIRS for p in (ds / t).rglob("*") if p.is_file()}
    assert on_disk == live
    assert not any((ds / ".staging").glob("*"))
    assert not list(ds.glob("*.tmp-*"))


@pytest.mark.parametrize("point", COMMIT_POINTS)
def test_killed_inside_the_commit(tmp_path: Path, point: str) -> None:
    src = tmp_path / "dump"
    recs = simple_tree(src, files=4, per_file=20, seed=5)
    ds = tmp_path / "ds"
    proc = _start(src, ds, 1, crash_at=point)
    assert proc.wait(timeout=60) == -9
    assert _rows(ds) == (0, 0)  # readers still see the state before the run
    committed = point != "before-marker"  # past the marker, the next writer rolls it forward
    final = ingest([src], ds, IngestOptions(workers=1))
    assert final.exit_code == 0
    assert _rows(ds) == (len(recs), len(recs))
    assert final.files_unchanged == (4 if committed else 0)
    assert any("interrupted run" in n for n in final.notes)


@pytest.mark.parametrize("point", COMMIT_POINTS)
def test_compact_killed_inside_the_commit(tmp_path: Path, point: str) -> None:
    src = tmp_path / "dump"
    ds = tmp_path / "ds"
    for i in range(3):
        recs = [record("GetObject", datetime(2026, 3, 10, 1, i, tzinfo=UTC) + timedelta(seconds=j)) for j in range(40)]
        write_log(src, recs, delivered=datetime(2026, 3, 10, 1, 5 + 5 * i, tzinfo=UTC))
        assert ingest([src], ds, IngestOptions(workers=1)).exit_code == 0
    rows = _rows(ds)
    before = layout.load_snapshot(ds)
    assert len(before.files("events")) == 3
    assert _python(COMPACT, [str(ds)], point).wait(timeout=60) == -9
    assert _rows(ds) == rows  # readers see the files of before the run, all complete
    report = compact(ds)  # the next writer recovers first
    committed = point != "before-marker"
    assert any(("completed the commit" if committed else "discarded") in line for line in report)
    assert ("nothing to compact" in report) == committed  # rolled forward: already compacted
    assert _rows(ds) == rows
    assert len(layout.load_snapshot(ds).files("events")) == 1
    _files_are_live(ds)


@pytest.mark.parametrize("point", COMMIT_POINTS)
def test_verify_store_killed_inside_the_commit(tmp_path: Path, point: str) -> None:
    dump = make_dump(tmp_path / "tree")
    report = verify_tree(dump.tree, **dump.verify_kwargs())
    pickled = tmp_path / "report.pickle"
    pickled.write_bytes(pickle.dumps(report))
    ds = tmp_path / "ds"
    first = store_results(report, ds)
    assert _python(STORE, [str(pickled), str(ds)], point).wait(timeout=60) == -9
    assert layout.load_snapshot(ds).files("verification") == [first[0]]  # still the first run
    with Dataset(ds) as d:
        assert d.sql("SELECT count(*) AS n FROM verification").to_pylist()[0]["n"] == len(report.files)
    second = store_results(report, ds)  # recovers, then replaces whichever run is live
    assert layout.load_snapshot(ds).files("verification") == [second[0]]
    _files_are_live(ds)


def test_leftover_snapshot_tmp_is_removed_by_the_next_writer(tmp_path: Path) -> None:
    src = tmp_path / "dump"
    first = simple_tree(src / "a", files=2, per_file=10, seed=7)
    later = simple_tree(src / "b", files=2, per_file=10, seed=8)
    ds = tmp_path / "ds"
    assert ingest([src / "a"], ds, IngestOptions(workers=1)).exit_code == 0
    proc = _start(src, ds, 1, crash_at="snapshot-tmp-written")  # died between writing and renaming
    assert proc.wait(timeout=60) == -9
    assert [p.name for p in ds.glob("_snapshot.json.tmp-*")] == [f"_snapshot.json.tmp-{proc.pid}"]
    assert _rows(ds) == (len(first), len(first))
    final = ingest([src], ds, IngestOptions(workers=1))
    assert any(f"_snapshot.json.tmp-{proc.pid}" in n for n in final.notes)
    assert any("completed the commit" in n for n in final.notes)
    assert _rows(ds) == (len(first) + len(later),) * 2
    _files_are_live(ds)
