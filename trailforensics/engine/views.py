"""The DuckDB views every command and notebook queries: SQL text built from the schema.

The views and their columns (helper columns with their SQL) are defined in :mod:`trailforensics.schema`
(``VIEWS``); this module only turns them into DuckDB statements.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from trailforensics.schema import DUPLICATES_SCHEMA, EVENT_SCHEMA, HELPER_COLUMNS, MANIFEST_SCHEMA, PARTITION_COLUMN
from trailforensics.schema.column import Table

_DUCK_TYPES = {
    pa.string(): "VARCHAR",
    pa.bool_(): "BOOLEAN",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
    pa.date32(): "DATE",
}


def duckdb_type(t: pa.DataType) -> str:
    """The DuckDB type of a schema column's Arrow type."""
    return _DUCK_TYPES[t]


def _quote_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _empty(schema: pa.Schema, extra: dict[str, str] | None = None) -> str:
    cols = [f"CAST(NULL AS {_DUCK_TYPES[f.type]}) AS {f.name}" for f in schema]
    cols += [f"CAST(NULL AS {t}) AS {n}" for n, t in (extra or {}).items()]
    return "SELECT " + ", ".join(cols) + " WHERE false"


def parquet_source(root: Path, files: list[str], schema: pa.Schema, hive: bool = False) -> str:
    """A FROM-able expression over the files, or an empty typed relation."""
    if not files:
        extra = {PARTITION_COLUMN: "DATE"} if hive else None
        return f"({_empty(schema, extra)})"
    listed = ", ".join(_quote_path(root / f) for f in files)
    hive_opt = ", hive_partitioning=true, hive_types={'event_date': DATE}" if hive else ", hive_partitioning=false"
    return f"read_parquet([{listed}]{hive_opt}, union_by_name=true)"


def events_view(root: Path, files: list[str], verified: bool = False) -> str:
    """``events``: the rows plus ``actor``, ``service`` and the verification status of their file."""
    src = parquet_source(root, files, EVENT_SCHEMA, hive=True)
    helpers = ", ".join(f"{c.sql if verified else c.sql_unverified or c.sql} AS {c.name}" for c in HELPER_COLUMNS)
    join = " LEFT JOIN _verification_by_file v USING (source_file)" if verified else ""
    return (
        f"CREATE OR REPLACE VIEW events_raw AS SELECT * FROM {src};\n"
        f"CREATE OR REPLACE VIEW events AS SELECT events_raw.*, {helpers} FROM events_raw{join};"
    )


# Verification results are keyed by the path under the verified tree, events by the path under
# the ingested source.  Match each ingested file to the verified file that is the same object as
# precisely as the paths allow: the same relative path, else one path ending with the other (a
# tree rooted at the bucket folder against one holding several buckets), else the same S3 key
# part (`AWSLogs/...`); at the best level found, the status is used only when unambiguous (every
# candidate agrees), so a copy in another bucket folder never lends its verdict.  Computed once per
# Dataset over the (small) file tables, so event queries join on equality.
VERIFICATION_BY_FILE = """
CREATE OR REPLACE TEMP TABLE _verification_by_file AS
WITH v AS (
    SELECT source_file AS vf, status,
           coalesce(nullif(regexp_extract(source_file, 'AWSLogs/.*$'), ''), source_file) AS k
    FROM verification WHERE kind <> 'cloudtrail-digest'
),
f AS (
    SELECT DISTINCT source_file,
           coalesce(nullif(regexp_extract(source_file, 'AWSLogs/.*$'), ''), source_file) AS k
    FROM manifest WHERE status = 'ingested'
),
c AS (
    SELECT f.source_file, v.status,
           CASE WHEN v.vf = f.source_file THEN 0
                WHEN ends_with(v.vf, '/' || f.source_file) OR ends_with(f.source_file, '/' || v.vf) THEN 1
                ELSE 2 END AS level
    FROM f JOIN v USING (k)
),
best AS (
    SELECT source_file, status FROM c
    QUALIFY level = min(level) OVER (PARTITION BY source_file)
)
SELECT source_file, any_value(status) AS verification_status
FROM best GROUP BY source_file HAVING count(DISTINCT status) = 1
"""


def files_view(root: Path, files: list[str]) -> str:
    src = parquet_source(root, files, MANIFEST_SCHEMA)
    return (
        f"CREATE OR REPLACE VIEW manifest AS SELECT * FROM {src};\n"
        "CREATE OR REPLACE VIEW files AS SELECT * FROM manifest "
        "QUALIFY row_number() OVER (PARTITION BY path ORDER BY ingested_at DESC, ingest_run DESC) = 1;"
    )


def duplicates_view(root: Path, files: list[str]) -> str:
    src = parquet_source(root, files, DUPLICATES_SCHEMA)
    return f"CREATE OR REPLACE VIEW duplicates AS SELECT * FROM {src};"


def rollup_view(root: Path, table: Table, files: list[str]) -> str:
    """A rollup table as it is stored (a key may repeat across runs: aggregate when reading)."""
    src = parquet_source(root, files, table.schema)
    return f"CREATE OR REPLACE VIEW {table.name} AS SELECT * FROM {src};"
