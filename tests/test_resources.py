"""Memory is a setting: every Dataset connection has a limit and a private spill folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trailforensics import Dataset
from trailforensics.engine import resources
from trailforensics.ingest import ingest

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs"


@pytest.fixture(scope="module")
def sample_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("resources") / "ds"
    assert ingest([SAMPLE], path).committed
    return path


def test_parse_size_units() -> None:
    assert resources.parse_size("1GB") == 1000**3
    assert resources.parse_size("512MiB") == 512 << 20
    assert resources.parse_size("1.5 GiB") == int(1.5 * (1 << 30))
    assert resources.parse_size("2g") == 2 * 1000**3
    if resources.total_ram():
        assert resources.parse_size("50%") == resources.total_ram() // 2
    for bad in ("lots", "1XB", "-1GB", "10MB"):  # 10MB: below the minimum
        with pytest.raises(resources.BadMemoryLimit):
            resources.parse_size(bad)


def test_default_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(resources.ENV_MEMORY_LIMIT, raising=False)
    limit = resources.memory_limit()
    assert limit <= resources.DEFAULT_CAP
    if resources.total_ram():
        assert limit <= resources.total_ram() // 2
    monkeypatch.setenv(resources.ENV_MEMORY_LIMIT, "700MiB")
    assert resources.memory_limit() == 700 << 20
    assert resources.memory_limit("1GiB") == 1 << 30  # an explicit value wins over the environment


def test_dataset_connection_is_bounded_and_spills_inside_the_dataset(sample_dataset: Path) -> None:
    ds = Dataset(sample_dataset, memory_limit="128MiB")
    try:
        limit, spill = ds.con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()
        assert "MiB" in limit and float(limit.split()[0]) <= 128
        assert Path(spill).parent == sample_dataset / resources.SCRATCH
        assert Path(spill).is_dir()
        # An aggregate far larger than the limit completes by spilling, inside the sandbox too.
        n = ds.user_sql(
            "SELECT count(*) AS n FROM (SELECT range % 2500000 AS k, count(*) FROM range(8000000) GROUP BY 1)"
        )
        assert n is not None and n.column("n")[0].as_py() == 2_500_000
    finally:
        ds.close()
    assert not Path(spill).exists()


def test_stale_scratch_of_a_dead_process_is_removed(sample_dataset: Path, tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = sample_dataset / resources.SCRATCH / f"{int(dead.stdout)}-abcdef"
    stale.mkdir(parents=True)
    (stale / "spill.tmp").write_bytes(b"x")
    mine = sample_dataset / resources.SCRATCH / f"{os.getpid()}-keepme"
    mine.mkdir()
    Dataset(sample_dataset).close()
    assert not stale.exists()
    assert mine.exists()  # a live process's folder is never touched
    mine.rmdir()
