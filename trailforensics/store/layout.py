"""The dataset folder, its snapshot, and atomic commits.

Layout::

    DATASET/
      trailforensics.json          marker: format and schema version
      _snapshot.json               the live files of every table (replaced atomically)
      events/event_date=YYYY-MM-DD/part-<run>-<n>.parquet
      duplicates/part-<run>-<n>.parquet
      manifest/part-<run>.parquet
      keys/part-<run>.npy          dedup keys of the rows each run wrote
      runs/<run>.json              run summaries
      .staging/<run>/...           a run in progress (never read by queries)

Readers only open the files the snapshot lists, so they never see a partial run.  A run
writes under ``.staging/<run>/``; to commit it writes the new snapshot into the staging
folder (the point of no return), moves its files into place, then replaces
``_snapshot.json``.  A run killed before that marker leaves nothing behind that counts;
one killed after it is rolled forward by the next writer (:func:`recover`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
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
TABLE_DIRS = ("events", "duplicates", "manifest", "keys", "runs", "verification")


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


def create(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if not is_dataset(path):
        if any(p for p in path.iterdir() if not p.name.startswith(".")):
            raise NotADataset(f"{path} exists and is not a trailforensics dataset (refusing to write into it)")
        _atomic_write(path / MARKER, {"format": FORMAT, "schema_version": SCHEMA_VERSION})
        save_snapshot(path, Snapshot())


def load_snapshot(path: Path) -> Snapshot:
    if not is_dataset(path):
        raise NotADataset(f"no trailforensics dataset at {path} (run `trailforensics ingest SRC -d {path}`)")
    snap = path / SNAPSHOT
    if not snap.exists():
        return Snapshot()
    with open(snap, encoding="utf-8") as fh:
        return Snapshot.from_json(json.load(fh))


def save_snapshot(path: Path, snapshot: Snapshot) -> None:
    _atomic_write(path / SNAPSHOT, snapshot.to_json())


def _atomic_write(target: Path, data: dict[str, Any]) -> None:
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    _fsync_dir(target.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def staging_dir(path: Path, run_id: str) -> Path:
    d = path / STAGING / run_id
    d.mkdir(parents=True, exist_ok=True)
    return d


def _crash_point(name: str) -> None:
    # Crash-safety tests kill the process at named points of a commit.
    if os.environ.get("TRAILFORENSICS_TEST_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def commit(path: Path, run_id: str, new: Snapshot, remove: list[str] | None = None) -> None:
    """Make a staged run live: marker, moves, snapshot swap, then drop replaced files."""
    stage = path / STAGING / run_id
    marker = {"snapshot": new.to_json(), "remove": remove or []}
    _crash_point("before-marker")
    _atomic_write(stage / COMMIT_MARKER, marker)
    _crash_point("after-marker")
    _roll_forward(path, stage, marker)


def _roll_forward(path: Path, stage: Path, marker: dict[str, Any]) -> None:
    for i, src in enumerate(sorted(p for p in stage.rglob("*") if p.is_file() and p.name != COMMIT_MARKER)):
        dest = path / src.relative_to(stage)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        if i == 0:
            _crash_point("after-first-move")
    _crash_point("before-snapshot")
    snapshot = Snapshot.from_json(marker["snapshot"])
    current = load_snapshot(path)
    if snapshot.generation > current.generation:
        save_snapshot(path, snapshot)
    live = {f for files in snapshot.tables.values() for f in files}
    for rel in marker.get("remove", []):
        if rel not in live:
            (path / rel).unlink(missing_ok=True)
    shutil.rmtree(stage, ignore_errors=True)


def recover(path: Path) -> list[str]:
    """Finish or discard runs a crash interrupted; delete files no snapshot lists.

    Call with the write lock held.  Returns a description of what was done.
    """
    notes: list[str] = []
    staging = path / STAGING
    if staging.is_dir():
        for stage in sorted(staging.iterdir()):
            marker_path = stage / COMMIT_MARKER
            if marker_path.is_file():
                with open(marker_path, encoding="utf-8") as fh:
                    marker = json.load(fh)
                _roll_forward(path, stage, marker)
                notes.append(f"completed the commit of interrupted run {stage.name}")
            else:
                shutil.rmtree(stage, ignore_errors=True)
                notes.append(f"discarded interrupted run {stage.name} (it had not committed)")
    snapshot = load_snapshot(path)
    live = {f for files in snapshot.tables.values() for f in files}
    for table in TABLE_DIRS:
        root = path / table
        if not root.is_dir():
            continue
        for f in root.rglob("*"):
            if f.is_file() and f.relative_to(path).as_posix() not in live:
                f.unlink()
                notes.append(f"removed orphan {f.relative_to(path).as_posix()}")
    return notes
