"""The Spark ingest writes the dataset the local ingest writes: row for row, file for file.

The local reference is the serial ingest (``workers=1``): it feeds the chunks to the key index in
order, so the copy of an event it keeps is the first in discovery order, which is what the
Spark dedup keeps (a parallel local ingest keeps whichever worker reported first).
"""

from __future__ import annotations

import gzip
import os
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
from trailforensics.schema.rollups import ROLLUPS
from trailforensics.spark.session import java_available
from trailforensics.store.layout import load_snapshot

if not java_available():
    pytest.skip("no Java runtime (Spark needs Java 17+; CI installs one in .ci/run)", allow_module_level=True)

from trailforensics.generate import generate_tree
from trailforensics.ingest.pipeline import _tasks
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


def _as_listed_by_hadoop(row: dict[str, Any]) -> dict[str, Any]:
    """A manifest row as a ``file:`` URI ingest records the same file: Hadoop names it ``file:/abs``,
    knows its mtime to the millisecond, and has no ctime."""
    return {
        **row,
        "path": f"file:{row['path']}",
        "mtime_ns": row["mtime_ns"] // 1_000_000 * 1_000_000,
        "ctime_ns": None,
    }


def _keys(ds: Path) -> np.ndarray:
    files = load_snapshot(ds).files("keys")
    return np.sort(np.concatenate([np.load(ds / f) for f in files])) if files else np.zeros(0, "S16")


def assert_same_dataset(local: Path, distributed: Path, *, through_hadoop: bool = False) -> None:
    """``through_hadoop``: ``distributed`` was ingested from the ``file:`` URI of ``local``'s source."""
    events_order = "source_file, record_index, event_id"
    a, b = _rows(local, "events", events_order), _rows(distributed, "events", events_order)
    assert len(a) == len(b) and a, "row counts differ"
    for x, y in zip(a, b):
        assert x == y
        assert rebuild_record(x) == rebuild_record(y)
    manifest = _rows(local, "manifest", "path")
    if through_hadoop:
        manifest = [_as_listed_by_hadoop(r) for r in manifest]
    assert manifest == _rows(distributed, "manifest", "path")
    dup_order = "source_file, record_index"
    assert _rows(local, "duplicates", dup_order) == _rows(distributed, "duplicates", dup_order)
    assert np.array_equal(_keys(local), _keys(distributed))
    for rollup in (r.name for r in ROLLUPS):
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


SUMMARY_FIELDS = (
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
)


@pytest.fixture(scope="module")
def local_sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The serial local ingest of sample_logs: the reference of the path and the URI runs."""
    ds = tmp_path_factory.mktemp("local-sample") / "ds"
    return ds, ingest([SAMPLE], ds, IngestOptions(workers=1))


@pytest.mark.parametrize("through_hadoop", [False, True], ids=["path", "file-uri"])
def test_sample_logs_equal_row_for_row(
    spark: Any, local_sample: tuple[Path, Any], tmp_path: Path, through_hadoop: bool
) -> None:
    local_ds, local = local_sample
    source = SAMPLE.as_uri() if through_hadoop else SAMPLE
    dist = spark_ingest([source], tmp_path / "spark", spark=spark)
    assert dist.committed and not dist.aborted
    assert local.duplicates_dropped > 0  # the sample holds org-trail + account-trail copies
    for field in SUMMARY_FIELDS:
        assert getattr(local, field) == getattr(dist, field), field
    assert_same_dataset(local_ds, tmp_path / "spark", through_hadoop=through_hadoop)
    # Incremental: nothing new to read, nothing written.
    again = spark_ingest([source], tmp_path / "spark", spark=spark)
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
    logs = sorted(p for p in tree.rglob("*.json.gz") if "/CloudTrail/" in p.as_posix())
    (logs[0].parent / "truncated.json.gz").write_bytes(logs[0].read_bytes()[:100])
    (logs[2].parent / logs[2].name.replace(".json.gz", "-bad.json.gz")).write_bytes(
        gzip.compress(b'{"Records": [{"eventVersion": "1.08", "eventID": ')
    )
    shutil.copy(logs[1], logs[1].parent / "copy-of-a-log.json.gz")  # a whole file of duplicates
    (tree / ".DS_Store").write_bytes(b"\0")  # hidden: reported as skipped
    (tree / "_notes").mkdir()  # Spark's file index hides "_" names unless told not to
    (tree / "_notes" / "lookup.json").write_bytes(logs[3].read_bytes())
    # Over the size limit, and over binaryFile's 2 GiB: a per-file error, never a failed Spark job.
    with open(tree / "huge.json", "wb") as fh:
        fh.truncate(3 << 30)  # sparse: no disk used
    local = ingest([tree], tmp_path / "local", IngestOptions(workers=1))
    assert local.duplicates_dropped > 0 and local.skipped_by_reason
    for expected in ("file too large", "invalid JSON", "truncated gzip"):
        assert any(expected in why for _name, why in local.failures), expected
    for through_hadoop in (False, True):
        ds = tmp_path / f"spark-{through_hadoop}"
        source = tree.as_uri() if through_hadoop else tree
        dist = spark_ingest([source], ds, spark=spark)
        for field in SUMMARY_FIELDS:  # the same per-file errors and skips
            assert getattr(local, field) == getattr(dist, field), (through_hadoop, field)
        assert_same_dataset(tmp_path / "local", ds, through_hadoop=through_hadoop)
    again = spark_ingest([tree.as_uri()], ds, spark=spark)
    assert again.aborted is None and again.files_unchanged == again.files_seen == local.files_seen
    assert again.rows_written == 0 and again.files_ingested == 0


def test_a_uri_spark_cannot_list_aborts_in_one_line(spark: Any, tmp_path: Path) -> None:
    missing = spark_ingest([(tmp_path / "nowhere").as_uri()], tmp_path / "ds1", spark=spark)
    assert missing.aborted == f"source does not exist: {tmp_path / 'nowhere'}"
    no_connector = spark_ingest(["s3a://case-bucket/AWSLogs/"], tmp_path / "ds2", spark=spark)
    assert no_connector.aborted is not None and "\n" not in no_connector.aborted
    assert no_connector.aborted.startswith("cannot list s3a://case-bucket/AWSLogs/: ")
    assert "S3AFileSystem not found" in no_connector.aborted and "docs/SCALE-OUT.md" in no_connector.aborted
    assert not missing.committed and not no_connector.committed


def test_a_file_vanished_after_listing_is_a_per_file_error(spark: Any, tmp_path: Path) -> None:
    from trailforensics.spark import sources

    tree = tmp_path / "tree"
    generate_tree(tree, events=200, seed=3, workers=1)
    listed, read_as = sources.listed(spark, [tree.as_uri()])
    gone = next(f for f, _label in listed if f.kind == "cloudtrail")
    os.unlink(gone.path.removeprefix("file:"))
    data = sources.contents(spark, [tree.as_uri()], [(read_as[gone.path], 0, 0)], len(read_as)).collect()
    assert data == []  # ignoreMissingFiles: no row, no failed job
    task = pipeline_tasks([gone])[0]
    result, built = sources.read_task(task, None, "run", None)
    assert (result.status, result.reason, built) == ("failed", sources.MISSING, [])


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


def pipeline_tasks(files: list[Any]) -> list[Any]:
    return _tasks(files, {}, [])[0]
