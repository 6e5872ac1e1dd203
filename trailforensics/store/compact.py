"""`compact`: rewrite partitions grown from many incremental runs into few large sorted files.

DuckDB does the rewrite (an external sort that spills to disk under a memory limit), so a
partition larger than memory compacts fine.  The new files are committed through a
:class:`~trailforensics.store.transaction.Transaction` that replaces the old ones: readers
see either the old files or the new ones, never a mix.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import duckdb
import numpy as np

from trailforensics.schema import SCHEMA_VERSION
from trailforensics.store.transaction import Transaction
from trailforensics.store.writer import COMPRESSION_LEVEL, ROW_GROUP_ROWS

MEMORY_LIMIT = "1GB"


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def compact(dataset: str | Path, min_files: int = 2) -> list[str]:
    """Compact every events partition with at least ``min_files`` files; returns a report."""
    report: list[str] = []
    with Transaction(dataset, "compact") as txn:
        report.extend(txn.notes)
        root, snap = txn.root, txn.snapshot
        con = duckdb.connect()
        con.execute(f"SET memory_limit='{MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory='{txn.scratch}'")
        con.execute("SET preserve_insertion_order=false")
        by_partition: dict[str, list[str]] = defaultdict(list)
        for rel in snap.files("events"):
            by_partition[rel.split("/")[1]].append(rel)
        new_events: list[str] = []
        for partition, files in sorted(by_partition.items()):
            if len(files) < min_files:
                new_events.extend(files)
                continue
            rel = txn.new_file("events", partition=partition, part="0000")
            con.execute(
                f"COPY (SELECT * FROM read_parquet({_sql_list([root / f for f in files])}, hive_partitioning=false)"
                f" ORDER BY event_time) TO '{txn.path_for(rel)}' (FORMAT parquet, COMPRESSION zstd, "
                f"COMPRESSION_LEVEL {COMPRESSION_LEVEL}, ROW_GROUP_SIZE {ROW_GROUP_ROWS}, "
                f"KV_METADATA {{'trailforensics.schema_version': '{SCHEMA_VERSION}'}})"
            )
            new_events.append(rel)
            report.append(f"{partition}: {len(files)} files -> 1")
        txn.replace("events", new_events)
        for table in ("duplicates", "manifest"):
            files = snap.files(table)
            if len(files) < min_files:
                continue
            rel = txn.new_file(table)
            con.execute(
                f"COPY (SELECT * FROM read_parquet({_sql_list([root / f for f in files])})) "
                f"TO '{txn.path_for(rel)}' (FORMAT parquet, COMPRESSION zstd)"
            )
            txn.replace(table, [rel])
            report.append(f"{table}: {len(files)} files -> 1")
        keys = snap.files("keys")
        if len(keys) >= min_files:
            rel = txn.new_file("keys", suffix=".npy")
            np.save(txn.path_for(rel), np.concatenate([np.load(root / f) for f in keys]))
            txn.replace("keys", [rel])
        con.close()
        if not txn.to_remove:
            return [*report, "nothing to compact"]  # leaving without a commit discards the stage
        txn.commit()
    return report
