"""A Spark ingest's rollups (aggregated by Spark, written by its executors) equal the local ingest's.

The local reference is the serial ingest, run for run: the same sources in the same runs, so each
run's rollup rows are the same (a key appears once per run).  Compared file by file as stored:
exact values, Parquet types and metadata, and what the commands answering from them print.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from trailforensics.engine.dataset import Dataset
from trailforensics.ingest import IngestOptions, ingest
from trailforensics.schema import SCHEMA_VERSION
from trailforensics.schema.rollups import ROLLUPS
from trailforensics.spark.session import java_available
from trailforensics.store.layout import load_snapshot

if not java_available():
    pytest.skip("no Java runtime (Spark needs Java 17+; CI installs one in .ci/run)", allow_module_level=True)

from trailforensics.generate import generate_tree
from trailforensics.spark.ingest import ingest as spark_ingest
from trailforensics.spark.session import get_session

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_logs"
ACCOUNT_TRAIL = SAMPLE / "metrolio-audit-logs-483920175562"
ENGINES = ("local", "spark")


@pytest.fixture(scope="module")
def spark() -> Any:
    return get_session("local[2]", shuffle_partitions=4)


@pytest.fixture(scope="module")
def datasets(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each case ingested by both engines: ``{case: {engine: path, engine + "_runs": [run ids]}}``.

    * ``sample``: the account trail, then all of sample_logs (the second run rolls up its own events);
    * ``tree``: a generated tree, one run;
    * ``legacy``: ``tree`` with its rollups taken out of the snapshot (a dataset from before
      rollups), then sample_logs: the run rolls up every event and replaces the tables.
    """
    base = tmp_path_factory.mktemp("spark-rollups")
    tree = base / "tree-src"
    generate_tree(tree, events=2000, seed=11, workers=1)
    runners = {
        "local": lambda s, d: ingest(s, d, IngestOptions(workers=1)),
        "spark": lambda s, d: spark_ingest(s, d, spark=spark),
    }
    cases: dict[str, dict[str, Any]] = {"sample": {}, "tree": {}, "legacy": {}}
    for engine, run in runners.items():
        for case, batches in (("sample", [[ACCOUNT_TRAIL], [SAMPLE]]), ("tree", [[tree]])):
            path = base / f"{case}-{engine}"
            summaries = [run(sources, path) for sources in batches]
            assert all(s.committed and not s.aborted for s in summaries)
            cases[case][engine], cases[case][f"{engine}_runs"] = path, [s.run_id for s in summaries]
        legacy = base / f"legacy-{engine}"
        shutil.copytree(cases["tree"][engine], legacy)
        snap_path = legacy / "_snapshot.json"
        snap = json.loads(snap_path.read_text())
        for rollup in ROLLUPS:
            snap["tables"].pop(rollup.name, None)
        snap_path.write_text(json.dumps(snap))
        summary = run([SAMPLE], legacy)
        assert summary.committed and not summary.aborted
        cases["legacy"][engine], cases["legacy"][f"{engine}_runs"] = legacy, [summary.run_id]
    return cases


def _files(ds: Path, table: str) -> list[Path]:
    return [ds / rel for rel in load_snapshot(ds).files(table)]


def _rows(ds: Path, table: str) -> Counter[tuple[Any, ...]]:
    """The table's rows as stored, as a multiset."""
    rows: Counter[tuple[Any, ...]] = Counter()
    for path in _files(ds, table):
        rows.update(tuple(r.values()) for r in pq.read_table(path).to_pylist())
    return rows


@pytest.mark.parametrize("case", ["sample", "tree", "legacy"])
def test_every_rollup_equals_the_local_one(datasets: dict[str, dict[str, Any]], case: str) -> None:
    local, dist = datasets[case]["local"], datasets[case]["spark"]
    with Dataset(dist) as ds:
        assert ds.has_rollups
        n_events = ds.sql("SELECT count(*) AS n FROM events").column("n")[0].as_py()
    for rollup in ROLLUPS:
        expected, got = _rows(local, rollup.name), _rows(dist, rollup.name)
        assert got == expected, rollup.name
        if rollup.where is None:  # every event is in one row of each run
            assert sum(r[rollup.table.schema.names.index("events")] for r in got.elements()) == n_events
        assert len(expected) > 0 or rollup.name == "rollup_s3_deletions"
        for path in _files(local, rollup.name) + _files(dist, rollup.name):
            stored = pq.read_schema(path)
            assert [(f.name, f.type) for f in stored] == [(f.name, f.type) for f in rollup.table.schema], path
            assert stored.metadata[b"trailforensics.schema_version"] == str(SCHEMA_VERSION).encode()
            assert (
                path.relative_to(dist if path.is_relative_to(dist) else local)
                .as_posix()
                .startswith(f"rollups/{rollup.name}-")
            )
    # Stored as UTC microseconds (what Athena/Trino and the DuckDB views read as timestamptz).
    hourly = pq.ParquetFile(_files(dist, "rollup_hourly")[0]).schema.column(1)
    logical = json.loads(hourly.logical_type.to_json())
    assert hourly.name == "hour" and hourly.physical_type == "INT64"
    assert (logical["Type"], logical["isAdjustedToUTC"], logical["timeUnit"]) == ("Timestamp", True, "microseconds")


def test_a_run_rolls_up_its_own_events(datasets: dict[str, dict[str, Any]]) -> None:
    """Incremental: each run's rollup files count that run's events; a backfill replaces the tables."""
    for case in ("sample", "legacy"):
        dist, runs = datasets[case]["spark"], datasets[case]["spark_runs"]
        with Dataset(dist) as ds:
            counts = {
                r["ingest_run"]: r["n"]
                for r in ds.sql("SELECT ingest_run, count(*) AS n FROM events GROUP BY ALL").to_pylist()
            }
        for rollup in ROLLUPS:
            names = [p.name for p in _files(dist, rollup.name)]
            assert all(any(run in n for n in names) for run in runs), rollup.name  # a file per run, even empty
            if case == "legacy":  # the tree's events too, rolled up by the last run
                assert all(runs[-1] in n for n in names), rollup.name
        for run in runs:
            files = [p for p in _files(dist, "rollup_hourly") if run in p.name]
            rolled = sum(sum(pq.read_table(p, columns=["events"]).column("events").to_pylist()) for p in files)
            assert rolled == (counts[run] if case == "sample" else sum(counts.values()))
        if case == "legacy":
            assert len(counts) == 2  # the tree's run and the last one


def _cli(command: str, ds: Path) -> Any:
    from typer.testing import CliRunner

    from trailforensics.cli import _register_commands, app

    _register_commands()
    result = CliRunner().invoke(app, [command, "-d", str(ds), "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.replace(str(ds), "<dataset>"))


@pytest.mark.parametrize("case", ["sample", "tree"])
@pytest.mark.parametrize("command", ["summary", "coverage", "trails"])
def test_commands_print_the_same(datasets: dict[str, dict[str, Any]], case: str, command: str) -> None:
    local, dist = _cli(command, datasets[case]["local"]), _cli(command, datasets[case]["spark"])
    assert local == dist
    assert local  # something to compare


def test_a_failed_attempts_rollup_files_are_not_committed(tmp_path: Path) -> None:
    from trailforensics.spark.rollups import PART, _drop_unreported
    from trailforensics.store.transaction import Transaction

    with Transaction(tmp_path / "ds", "ingest", create=True) as txn:
        template = txn.new_file("rollup_hourly", part=PART)
        kept, stray = (template.replace(PART, n) for n in ("00000", "00001"))
        for rel in (kept, stray):
            txn.path_for(rel).write_bytes(b"x")
        _drop_unreported(txn, {kept}, [template])
        assert (txn.stage / kept).is_file() and not (txn.stage / stray).exists()
