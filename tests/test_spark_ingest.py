"""The Spark ingest writes the dataset the local ingest writes: row for row, file for file.

The local reference is the serial ingest (``workers=1``): it feeds the chunks to the key index in
order, so the copy of an event it keeps is the first in discovery order, which is what the
Spark dedup keeps (a parallel local ingest keeps whichever worker reported first).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trailforensics.engine.dataset import Dataset
from trailforensics.ingest import IngestOptions, ingest
from trailforensics.normalize.rebuild import rebuild_record
from trailforensics.spark.session import java_available
from trailforensics.store.layout import load_snapshot

if not java_available():
    pytest.skip("no Java runtime (Spark needs Java 17+; CI installs one in .ci/run)", allow_module_level=True)

from trailforensics.generate import generate_tree
from trailforensics.spark.ingest import ingest as spark_ingest
from trailforensics.spark.session import get_session

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_logs"
RUN_COLUMNS = {"ingest_run", "ingested_at"}  # differ by construction between two runs


@pytest.fixture(scope="module")
def spark() -> Any:
    return get_session("local[2]", shuffle_partitions=4)


def _table(ds: Path, sql: str) -> pa.Table:
    with Dataset(ds) as d:
        return d.sql(sql)


def _rows(ds: Path, view: str, order: str) -> list[dict[str, Any]]:
    table = _table(ds, f"SELECT * FROM {view} ORDER BY {order}")
    return [{k: v for k, v in r.items() if k not in RUN_COLUMNS} for r in table.to_pylist()]


def _keys(ds: Path) -> np.ndarray:
    files = load_snapshot(ds).files("keys")
    return np.sort(np.concatenate([np.load(ds / f) for f in files])) if files else np.zeros(0, "S16")


def assert_same_dataset(local: Path, distributed: Path) -> None:
    events_order = "source_file, record_index, event_id"
    a, b = _rows(local, "events", events_order), _rows(distributed, "events", events_order)
    assert len(a) == len(b) and a, "row counts differ"
    for x, y in zip(a, b):
        assert x == y
        assert rebuild_record(x) == rebuild_record(y)
    assert _rows(local, "manifest", "path") == _rows(distributed, "manifest", "path")
    dup_order = "source_file, record_index"
    assert _rows(local, "duplicates", dup_order) == _rows(distributed, "duplicates", dup_order)
    assert np.array_equal(_keys(local), _keys(distributed))
    for rollup in ("rollup_hourly", "rollup_principals", "rollup_actor_apis"):
        cols = ", ".join(_table(local, f"SELECT * FROM {rollup} LIMIT 0").column_names)
        assert _rows(local, rollup, cols) == _rows(distributed, rollup, cols), rollup
    # Same layout: the same tables, events in the same partitions.
    snap_a, snap_b = load_snapshot(local), load_snapshot(distributed)
    assert set(snap_a.tables) == set(snap_b.tables)
    parts = {f.split("/")[1] for f in snap_a.files("events")}
    assert parts == {f.split("/")[1] for f in snap_b.files("events")}
    for rel in snap_b.files("events"):
        assert (
            pq.read_schema(distributed / rel).remove_metadata()
            == pq.read_schema(local / snap_a.files("events")[0]).remove_metadata()
        )


def test_sample_logs_equal_row_for_row(spark: Any, tmp_path: Path) -> None:
    local = ingest([SAMPLE], tmp_path / "local", IngestOptions(workers=1))
    dist = spark_ingest([SAMPLE], tmp_path / "spark", spark=spark)
    assert dist.committed and not dist.aborted
    assert local.duplicates_dropped > 0  # the sample holds org-trail + account-trail copies
    for field in (
        "files_seen",
        "files_ingested",
        "files_failed",
        "records_read",
        "rows_written",
        "duplicates_dropped",
        "records_rejected",
        "skipped_by_reason",
        "failures",
        "partly_read",
    ):
        assert getattr(local, field) == getattr(dist, field), field
    assert_same_dataset(tmp_path / "local", tmp_path / "spark")
    # Incremental: nothing new to read, nothing written.
    again = spark_ingest([SAMPLE], tmp_path / "spark", spark=spark)
    assert again.files_unchanged == again.files_seen and again.rows_written == 0


def test_incremental_runs_dedup_against_earlier_keys(spark: Any, tmp_path: Path) -> None:
    # The account trail first, then everything: the org trail's copies are dropped against run 1's keys.
    first = SAMPLE / "metrolio-audit-logs-483920175562"
    for name, run in (
        ("local", lambda s, d: ingest(s, d, IngestOptions(workers=1))),
        ("spark", lambda s, d: spark_ingest(s, d, spark=spark)),
    ):
        run([first], tmp_path / name)
        second = run([SAMPLE], tmp_path / name)
        assert second.committed and second.duplicates_dropped > 0
    assert_same_dataset(tmp_path / "local", tmp_path / "spark")


def test_generated_tree_and_bad_files(spark: Any, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    generate_tree(tree, events=3000, seed=7, workers=1)
    logs = sorted(tree.rglob("*.json.gz"))
    (logs[0].parent / "truncated.json.gz").write_bytes(logs[0].read_bytes()[:100])
    shutil.copy(logs[1], logs[1].parent / "copy-of-a-log.json.gz")  # a whole file of duplicates
    local = ingest([tree], tmp_path / "local", IngestOptions(workers=1))
    dist = spark_ingest([tree], tmp_path / "spark", spark=spark)
    assert local.failures and local.failures == dist.failures  # the same per-file error
    assert local.duplicates_dropped > 0
    assert_same_dataset(tmp_path / "local", tmp_path / "spark")


def test_spark_reads_the_dataset_with_the_right_types(spark: Any, tmp_path: Path) -> None:
    from pyspark.sql import types as T

    spark_ingest([SAMPLE], tmp_path / "ds", spark=spark)
    df = spark.read.parquet(str(tmp_path / "ds" / "events"))
    fields = {f.name: f.dataType for f in df.schema.fields}
    assert isinstance(fields["event_time"], T.TimestampType)  # microseconds, UTC-adjusted
    assert isinstance(fields["event_date"], T.DateType)  # the partition column
    assert isinstance(fields["request_parameters"], T.StringType)  # JSON as text
    assert isinstance(fields["record_index"], (T.IntegerType, T.LongType))
    with Dataset(tmp_path / "ds") as d:
        expected = d.sql("SELECT count(*) AS n, min(event_time) AS t FROM events").to_pylist()[0]
    got = df.selectExpr("count(*) AS n", "min(event_time) AS t").collect()[0]
    assert got["n"] == expected["n"]
    assert got["t"].replace(tzinfo=None) == expected["t"].replace(tzinfo=None)
