"""`compact`: rewrite partitions grown from many incremental runs into few large sorted files.

DuckDB does the rewrite (an external sort that spills to disk under a memory limit), so a
partition larger than memory compacts fine.  The new files are committed like an ingest
run: readers see either the old files or the new ones, never a mix.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import numpy as np

from trailforensics.schema import SCHEMA_VERSION
from trailforensics.store import layout
from trailforensics.store.lock import WriteLock
from trailforensics.store.writer import COMPRESSION_LEVEL, ROW_GROUP_ROWS

MEMORY_LIMIT = "1GB"


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def compact(dataset: str | Path, min_files: int = 2) -> list[str]:
    """Compact every events partition with at least ``min_files`` files; returns a report."""
    root = Path(dataset).absolute()
    report: list[str] = []
    with WriteLock(root):
        report.extend(layout.recover(root))
        snap = layout.load_snapshot(root)
        run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-c" + secrets.token_hex(2)
        stage = layout.staging_dir(root, run_id)
        tables = {k: list(v) for k, v in snap.tables.items()}
        removed: list[str] = []
        con = duckdb.connect()
        con.execute(f"SET memory_limit='{MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory='{stage / 'tmp'}'")
        con.execute("SET preserve_insertion_order=false")
        by_partition: dict[str, list[str]] = defaultdict(list)
        for rel in snap.files("events"):
            by_partition[rel.split("/")[1]].append(rel)
        new_events: list[str] = []
        for partition, files in sorted(by_partition.items()):
            if len(files) < min_files:
                new_events.extend(files)
                continue
            rel = f"events/{partition}/part-{run_id}-0000.parquet"
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"COPY (SELECT * FROM read_parquet({_sql_list([root / f for f in files])}, hive_partitioning=false)"
                f" ORDER BY event_time) TO '{stage / rel}' (FORMAT parquet, COMPRESSION zstd, "
                f"COMPRESSION_LEVEL {COMPRESSION_LEVEL}, ROW_GROUP_SIZE {ROW_GROUP_ROWS}, "
                f"KV_METADATA {{'trailforensics.schema_version': '{SCHEMA_VERSION}'}})"
            )
            new_events.append(rel)
            removed.extend(files)
            report.append(f"{partition}: {len(files)} files -> 1")
        tables["events"] = new_events
        for table in ("duplicates", "manifest"):
            files = snap.files(table)
            if len(files) < min_files:
                continue
            rel = f"{table}/part-{run_id}.parquet"
            (stage / table).mkdir(parents=True, exist_ok=True)
            con.execute(
                f"COPY (SELECT * FROM read_parquet({_sql_list([root / f for f in files])})) "
                f"TO '{stage / rel}' (FORMAT parquet, COMPRESSION zstd)"
            )
            tables[table] = [rel]
            removed.extend(files)
            report.append(f"{table}: {len(files)} files -> 1")
        keys = snap.files("keys")
        if len(keys) >= min_files:
            rel = f"keys/part-{run_id}.npy"
            (stage / "keys").mkdir(parents=True, exist_ok=True)
            np.save(stage / rel, np.concatenate([np.load(root / f) for f in keys]))
            tables["keys"] = [rel]
            removed.extend(keys)
        con.close()
        if not removed:
            layout.recover(root)  # drops the empty staging folder
            return [*report, "nothing to compact"]
        layout.commit(root, run_id, layout.Snapshot(snap.generation + 1, tables), remove=removed)
    return report
