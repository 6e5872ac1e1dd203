"""The dataset folder on disk, read side: its layout, marker and snapshot.

Layout::

    DATASET/
      trailforensics.json          marker: format and schema version
      _snapshot.json               the live files of every table (replaced atomically)
      .lock                        the write lock (store/lock.py)
      events/event_date=YYYY-MM-DD/part-<run>-<worker>-<n>.parquet
      duplicates/part-<run>-<worker>.parquet
      manifest/part-<run>.parquet
      keys/part-<run>.npy          dedup keys of the rows each run wrote
      verification/<table>-<run>.parquet   the last `verify --dataset` run
      rollups/<rollup>-<run>.parquet       aggregates of the events (schema/rollups.py)
      .scratch/<pid>-<hex>/        a reader's DuckDB spill folder (engine/resources.py)
      runs/<run>.json              run summaries
      .staging/<run>/...           a run in progress (never read by queries)

Readers only open the files the snapshot lists (:func:`load_snapshot`), so they never see a
partial run.  Everything that writes (creating the dataset, staging, committing, recovering
after a crash) belongs to :class:`trailforensics.store.transaction.Transaction`, the only
writer of ``_snapshot.json``; this module keeps the names, the snapshot's shape and the
atomic JSON write it uses.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trailforensics.errors import TrailforensicsError
from trailforensics.schema import SCHEMA_VERSION

MARKER = "trailforensics.json"
SNAPSHOT = "_snapshot.json"
STAGING = ".staging"
COMMIT_MARKER = "COMMIT.json"
FORMAT = "trailforensics-dataset"
TMP_INFIX = ".tmp-"  # <file>.tmp-<pid>: a JSON file being written
TABLE_DIRS = ("events", "duplicates", "manifest", "keys", "runs", "verification", "rollups")


class NotADataset(TrailforensicsError, FileNotFoundError):
    pass


@dataclass
class Snapshot:
    generation: int = 0
    tables: dict[str, list[str]] = field(default_factory=dict)

    def files(self, table: str) -> list[str]:
        return list(self.tables.get(table, []))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "generation": self.generation,
            "tables": self.tables,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        return cls(
            generation=int(data.get("generation", 0)),
            tables={k: list(v) for k, v in data.get("tables", {}).items()},
        )


def is_dataset(path: Path) -> bool:
    return (path / MARKER).is_file()


def load_snapshot(path: Path) -> Snapshot:
    if not is_dataset(path):
        raise NotADataset(f"no trailforensics dataset at {path} (run `trailforensics ingest SRC -d {path}`)")
    snap = path / SNAPSHOT
    if not snap.exists():
        return Snapshot()
    with open(snap, encoding="utf-8") as fh:
        return Snapshot.from_json(json.load(fh))


def tmp_name(target: Path) -> Path:
    """Where :func:`atomic_write` writes before the rename (recovery removes leftovers)."""
    return target.with_name(f"{target.name}{TMP_INFIX}{os.getpid()}")


def atomic_write(target: Path, data: dict[str, Any], before_replace: Callable[[], None] | None = None) -> None:
    """Write JSON to a temporary file, fsync it, rename it over ``target``, fsync the folder."""
    tmp = tmp_name(target)
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    if before_replace is not None:
        before_replace()
    os.replace(tmp, target)
    fsync_dir(target.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
