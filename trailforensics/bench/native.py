"""The baseline: DuckDB's own `read_json` of the same tree, with an explicit schema and JSON columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trailforensics.bench.measure import timed
from trailforensics.bench.trees import log_files

DUCK_COLUMNS = {
    "eventVersion": "VARCHAR",
    "userIdentity": "JSON",
    "eventTime": "VARCHAR",
    "eventSource": "VARCHAR",
    "eventName": "VARCHAR",
    "awsRegion": "VARCHAR",
    "sourceIPAddress": "VARCHAR",
    "userAgent": "VARCHAR",
    "errorCode": "VARCHAR",
    "errorMessage": "VARCHAR",
    "requestParameters": "JSON",
    "responseElements": "JSON",
    "additionalEventData": "JSON",
    "requestID": "VARCHAR",
    "eventID": "VARCHAR",
    "readOnly": "BOOLEAN",
    "resources": "JSON",
    "eventType": "VARCHAR",
    "apiVersion": "VARCHAR",
    "managementEvent": "BOOLEAN",
    "recipientAccountId": "VARCHAR",
    "sharedEventID": "VARCHAR",
    "vpcEndpointId": "VARCHAR",
    "eventCategory": "VARCHAR",
    "serviceEventDetails": "JSON",
    "insightDetails": "JSON",
    "tlsDetails": "JSON",
    "sessionCredentialFromConsole": "VARCHAR",
}


def raw_json_source() -> str:
    """DuckDB's own reader with an explicit schema and JSON columns (the file list is parameter $1)."""
    struct = "STRUCT(" + ", ".join(f'"{k}" {v}' for k, v in DUCK_COLUMNS.items()) + ")[]"
    return f"read_json($1, columns = {{'Records': '{struct}'}}, records = 'true', maximum_object_size = 1073741824)"


def duckdb_native_ingest(tree: Path, out: Path, label: str) -> dict[str, Any]:
    import duckdb

    target = out / f"duck-{label}.parquet"
    target.unlink(missing_ok=True)
    sql = (
        f"COPY (SELECT unnest(Records, recursive := true) FROM {raw_json_source()}) "
        f"TO '{target}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)"
    )
    con = duckdb.connect()
    files = log_files(tree)
    seconds, peak, _ = timed(lambda: con.execute(sql, [files]))
    row = con.execute(f"SELECT count(*) FROM '{target}'").fetchone()
    n = row[0] if row else 0
    con.close()
    return {
        "records": n,
        "seconds": round(seconds, 2),
        "records_per_s": round(n / seconds),
        "peak_rss_mb": round(peak / 2**20),
    }
