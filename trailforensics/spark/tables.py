"""The dataset's tables as Spark temporary views, over the files its snapshot lists (never a partial run).

The same views as :class:`~trailforensics.engine.dataset.Dataset`: ``events_raw``, ``events`` (with
the helper columns, their DuckDB SQL transpiled), ``manifest``, ``files``, ``duplicates``, the
rollups and any other stored table (``verification``...).  An empty table is an empty typed view.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from trailforensics.engine import views
from trailforensics.schema import DUPLICATES_SCHEMA, EVENT_SCHEMA, HELPER_COLUMNS, MANIFEST_SCHEMA, PARTITION_COLUMN
from trailforensics.schema.rollups import ROLLUPS
from trailforensics.spark.dialect import SPARK, to_dialect
from trailforensics.store import layout

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_SPARK_TYPES = {
    pa.string(): "STRING",
    pa.bool_(): "BOOLEAN",
    pa.int32(): "INT",
    pa.int64(): "BIGINT",
    pa.timestamp("us", tz="UTC"): "TIMESTAMP",
    pa.date32(): "DATE",
}


def spark_type(t: pa.DataType) -> str:
    return _SPARK_TYPES[t]


def ddl_schema(schema: pa.Schema) -> str:
    return ", ".join(f"`{f.name}` {spark_type(f.type)}" for f in schema)


def _read(spark: SparkSession, root: Path, files: list[str], schema: pa.Schema, partitioned: bool = False) -> DataFrame:
    columns = ddl_schema(schema) + (f", `{PARTITION_COLUMN}` DATE" if partitioned else "")
    if not files:
        return spark.createDataFrame([], columns)
    reader = spark.read.schema(columns)
    if partitioned:
        reader = reader.option("basePath", str(root / "events"))
    return reader.parquet(*[str(root / f) for f in files])


def register_views(spark: SparkSession, dataset: str | Path) -> layout.Snapshot:
    """Create the views for ``dataset`` on ``spark``; returns the snapshot they read."""
    root = Path(dataset).absolute()
    snap = layout.load_snapshot(root)
    _read(spark, root, snap.files("events"), EVENT_SCHEMA, partitioned=True).createOrReplaceTempView("events_raw")
    _read(spark, root, snap.files("manifest"), MANIFEST_SCHEMA).createOrReplaceTempView("manifest")
    _read(spark, root, snap.files("duplicates"), DUPLICATES_SCHEMA).createOrReplaceTempView("duplicates")
    spark.sql(
        "CREATE OR REPLACE TEMPORARY VIEW files AS SELECT * FROM manifest "
        "QUALIFY row_number() OVER (PARTITION BY path ORDER BY ingested_at DESC, ingest_run DESC) = 1"
        if _supports_qualify(spark)
        else "CREATE OR REPLACE TEMPORARY VIEW files AS SELECT * EXCEPT (__n) FROM (SELECT *, row_number() OVER "
        "(PARTITION BY path ORDER BY ingested_at DESC, ingest_run DESC) AS __n FROM manifest) WHERE __n = 1"
    )
    for rollup in ROLLUPS:
        _read(spark, root, snap.files(rollup.name), rollup.table.schema).createOrReplaceTempView(rollup.name)
    verified = bool(snap.files("verification"))
    if verified:
        spark.read.parquet(*[str(root / f) for f in snap.files("verification")]).createOrReplaceTempView("verification")
        body = views.VERIFICATION_BY_FILE.split(" AS\n", 1)[1]
        spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW _verification_by_file AS {to_dialect(body, SPARK)}")
    helpers = ", ".join(
        f"{to_dialect(c.sql if verified else c.sql_unverified or c.sql, SPARK)} AS {c.name}" for c in HELPER_COLUMNS
    )
    join = " LEFT JOIN _verification_by_file v USING (source_file)" if verified else ""
    spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW events AS SELECT events_raw.*, {helpers} FROM events_raw{join}")
    return snap


def _supports_qualify(spark: SparkSession) -> bool:
    try:
        spark.sql("SELECT 1 AS x QUALIFY row_number() OVER (ORDER BY 1) = 1").collect()
    except Exception:
        return False
    return True
