"""A run killed at any moment (SIGKILL) leaves the dataset as before or as after."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from ct import record, simple_tree, write_log

from trailforensics.engine import Dataset
from trailforensics.ingest import IngestOptions, ingest
from trailforensics.store import layout

UTC = timezone.utc
RUN = (
    "import sys; from trailforensics.ingest import ingest, IngestOptions\n"
    "if __name__ == '__main__':\n"
    "    s = ingest([sys.argv[1]], sys.argv[2], IngestOptions(workers=int(sys.argv[3])))\n"
    "    sys.exit(s.exit_code)\n"
)


def _start(src: Path, ds: Path, workers: int, crash_at: str | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, TRAILFORENSICS_TEST_CRASH_AT=crash_at or "")
    return subprocess.Popen(
        [sys.executable, "-c", RUN, str(src), str(ds), str(workers)],
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


@pytest.mark.parametrize("point", ["before-marker", "after-marker", "after-first-move", "before-snapshot"])
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
