"""The rollup tables of a Spark ingest, aggregated by Spark and written by its executors.

The local ingest rolls up the staged event files with DuckDB (:mod:`trailforensics.store.rollups`);
on a cluster that would read every event of the run on the driver.  Here the same SQL (the
definitions of :mod:`trailforensics.schema.rollups`, the one-pass ``combined_sql`` and each
filtered rollup's ``build_sql``, transpiled by :mod:`.dialect`) runs as one Spark job over the
same files; each task writes its share of each rollup with the store's writer (the table's exact
schema and metadata), named by the :class:`~trailforensics.store.transaction.Transaction`, and the
driver adds the files to it.  A run's rows of one key land in one task (the aggregation's
shuffle), so the files of a run hold each key once, as the local single file does.

As locally, a dataset written before rollups existed gets them for all of its events in the
same run (``missing_rollups``: Spark reads the live event files too, and the files replace the
table's).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from trailforensics.schema import EVENT_SCHEMA, PARTITION_COLUMN
from trailforensics.spark.dialect import SPARK, to_dialect
from trailforensics.spark.tables import ddl_schema
from trailforensics.store.rollups import COMBINED, FILTERED, combined_sql, missing_rollups, rollup_rows, rollup_writer
from trailforensics.store.transaction import Transaction

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

WRITTEN_SCHEMA = "rollup string, path string"
SET = "rollup_set"  # the column telling which rollup a row of the one job belongs to
PART = "\x00"  # stands for the task's number in a file name the transaction gives


def add_rollups(spark: SparkSession, txn: Transaction, staged_events: list[str]) -> None:
    """``store.rollups.add_rollups`` on Spark: roll up the staged event files (relative paths), and
    all the live ones if the dataset has no rollups yet, and add the files to ``txn``."""
    backfill = bool(missing_rollups(txn))
    groups = [(txn.stage, staged_events)]
    if backfill:
        groups.append((txn.root, txn.snapshot.files("events")))
    reads = [_read_events(spark, base, files) for base, files in groups if files]
    if not reads:
        return
    events = reads[0]
    for more in reads[1:]:
        events = events.unionByName(more)
    view = f"tfs_rollup_events_{secrets.token_hex(4)}"
    _, ids = combined_sql(view)
    rollups = {**{ids[r.name]: r for r in COMBINED}, **{-1 - i: r for i, r in enumerate(FILTERED)}}
    templates = {r.name: txn.new_file(r.name, part=PART) for r in rollups.values()}
    conf = (str(txn.stage), str(txn.scratch), {i: r.name for i, r in rollups.items()}, templates)
    zone = spark.conf.get("spark.sql.session.timeZone") or "UTC"
    spark.conf.set("spark.sql.session.timeZone", "UTC")  # date_trunc to the hour and minute in UTC
    events.createOrReplaceTempView(view)
    try:
        written = _rolled_up(spark, view).mapInArrow(lambda it: _write_partition(it, conf), WRITTEN_SCHEMA).collect()
    finally:
        spark.catalog.dropTempView(view)
        spark.conf.set("spark.sql.session.timeZone", zone)
    files: dict[str, list[str]] = {r.name: [] for r in rollups.values()}
    for row in written:
        files[row["rollup"]].append(row["path"])
    _drop_unreported(txn, {rel for rels in files.values() for rel in rels}, templates.values())
    for rollup in rollups.values():
        rels = sorted(files[rollup.name])
        if not rels:  # no rows: still a file, so the table exists (rollups cover every event or none)
            rels = [txn.new_file(rollup.name)]
            rollup_writer(txn.path_for(rels[0]), rollup).close()
        if backfill:
            txn.replace(rollup.name, rels)
        else:
            txn.add(rollup.name, rels)


def spark_sql(duckdb_sql: str) -> str:
    """DuckDB SQL of the rollups in Spark SQL: the dialect layer, and ``GROUPING(a, b, ...)`` of
    several columns as ``grouping_id(a, b, ...)`` (Spark's ``grouping`` takes one; the bits are the
    same, the first column the highest)."""

    def grouping_id(node: Any) -> Any:
        if isinstance(node, exp.Grouping) and len(node.expressions) > 1:
            return exp.Anonymous(this="grouping_id", expressions=node.expressions)
        return node

    tree = sqlglot.parse_one(to_dialect(duckdb_sql, SPARK), read=SPARK).transform(grouping_id)
    return str(tree.sql(dialect=SPARK))


def _rolled_up(spark: SparkSession, view: str) -> DataFrame:
    """Every rollup's rows, tagged by ``rollup_set``: the combined pass and each filtered one."""
    select, _ = combined_sql(view)
    frames = [spark.sql(spark_sql(select))]
    for i, rollup in enumerate(FILTERED):
        frames.append(spark.sql(f"SELECT *, {-1 - i} AS {SET} FROM ({spark_sql(rollup.build_sql(view))})"))
    df = frames[0].withColumn(SET, frames[0][SET].cast("int"))
    for more in frames[1:]:
        df = df.unionByName(more, allowMissingColumns=True)
    return df


def _drop_unreported(txn: Transaction, reported: set[str], templates: Iterable[str]) -> None:
    """Remove staged rollup files of this run no successful task reported (a failed attempt's)."""
    for folder in {txn.stage / Path(t).parent for t in templates}:
        for path in folder.glob("*") if folder.is_dir() else []:
            if path.is_file() and path.relative_to(txn.stage).as_posix() not in reported:
                path.unlink()


def _read_events(spark: SparkSession, base: Path, files: list[str]) -> DataFrame:
    """The event files ``files`` (relative to ``base``) with their partition column, as locally
    (a column an older file lacks reads as NULL).  ``file:`` URIs: the stage is a local or
    mounted folder even where Hadoop's default filesystem is HDFS."""
    columns = ddl_schema(EVENT_SCHEMA) + f", `{PARTITION_COLUMN}` DATE"
    return (
        spark.read.schema(columns)
        .option("basePath", _uri(base / "events"))
        .parquet(*[_uri(base / rel) for rel in files])
    )


def _uri(path: Path) -> str:
    return "file://" + str(path.absolute())


# -- executor side -------------------------------------------------------------------------------


def _write_partition(
    batches: Iterator[pa.RecordBatch], conf: tuple[str, str, dict[int, str], dict[str, str]]
) -> Iterator[pa.RecordBatch]:
    """Write this task's rows of each rollup to one file per rollup; yield ``(rollup, path)`` rows."""
    from pyspark import TaskContext

    from trailforensics.schema.rollups import ROLLUPS

    stage, scratch, names, templates = conf
    by_name = {r.name: r for r in ROLLUPS}
    ctx = TaskContext.get()
    part = f"{ctx.partitionId() if ctx is not None else 0:05d}"
    writers: dict[str, Any] = {}
    tmp: dict[str, Path] = {}
    try:
        for batch in batches:
            table = pa.Table.from_batches([batch])
            sets = table.column(SET)
            for set_id in pc.unique(sets).to_pylist():
                name = names[set_id]
                rows = table.filter(pc.equal(sets, set_id))
                if name not in writers:
                    final = Path(stage) / templates[name].replace(PART, part)
                    # Beside the stage, in the scratch folder (deleted before the commit): an
                    # attempt that dies leaves nothing the commit would move into the dataset.
                    tmp[name] = Path(scratch) / f"{final.name}.tmp-{os.getpid()}"
                    writers[name] = rollup_writer(tmp[name], by_name[name])
                writers[name].write_table(rollup_rows(by_name[name], rows))
    finally:
        for w in writers.values():
            w.close()
    names_out, paths_out = [], []
    for name, path in tmp.items():  # write then rename: a retried task replaces its files whole
        rel = templates[name].replace(PART, part)
        (Path(stage) / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, Path(stage) / rel)
        names_out.append(name)
        paths_out.append(rel)
    yield pa.RecordBatch.from_arrays(
        [pa.array(names_out, pa.string()), pa.array(paths_out, pa.string())], names=["rollup", "path"]
    )
