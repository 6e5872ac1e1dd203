"""The one way to change a dataset: lock, recover, stage, commit (or discard).

Every writer (ingest, ``verify --dataset``, ``compact``) goes through a :class:`Transaction`::

    with Transaction(dataset, "compact") as txn:        # lock, recover, load the snapshot
        rel = txn.new_file("manifest")                 # "manifest/part-<run>.parquet"
        write_parquet(txn.path_for(rel), ...)          # under .staging/<run>/
        txn.replace("manifest", [rel])                 # or txn.add(table, [rel, ...])
        txn.commit()                                   # leaving without commit discards

It is the only code that writes ``_snapshot.json``.  A commit writes the new snapshot and the
files to drop into ``.staging/<run>/COMMIT.json`` (the point of no return), moves the staged
files into place, replaces ``_snapshot.json`` atomically, then deletes the files the new
snapshot replaced.  Readers only open the files a snapshot lists, so a writer killed at any
moment leaves the dataset as before or as after: the next writer's :func:`recover` rolls a
commit that passed its marker forward, discards a run that did not, and deletes files and
half-written JSON that no snapshot knows.  The lock (``store/lock.py``) keeps it to one writer.

Crash-safety tests kill the process at the named points of a commit through the environment
variable ``TRAILFORENSICS_TEST_CRASH_AT`` (see :data:`CRASH_POINTS`).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from trailforensics.schema import SCHEMA_VERSION
from trailforensics.schema.rollups import ROLLUPS
from trailforensics.store.layout import (
    COMMIT_MARKER,
    FORMAT,
    MARKER,
    SNAPSHOT,
    STAGING,
    TABLE_DIRS,
    TMP_INFIX,
    NotADataset,
    Snapshot,
    atomic_write,
    is_dataset,
    load_snapshot,
)
from trailforensics.store.lock import WriteLock

SCRATCH = ".scratch"  # inside a stage: spills and copied input, never moved into the dataset
CRASH_ENV = "TRAILFORENSICS_TEST_CRASH_AT"
CRASH_POINTS = ("before-marker", "after-marker", "after-first-move", "before-snapshot", "snapshot-tmp-written")
# Tables kept in another table's folder; their files are named after the table.
SHARED_FOLDERS = {
    **{
        t: "verification"
        for t in ("verification", "verification_findings", "verification_coverage", "verification_chains")
    },
    **{r.name: "rollups" for r in ROLLUPS},
}
_KIND = re.compile(r"[a-z]+")


def new_run_id(kind: str, now: datetime | None = None) -> str:
    """``<UTC time>-<kind>-<random>``, e.g. ``20260312T101500Z-ingest-3fa9c1``: sorts by start time."""
    if not _KIND.fullmatch(kind):
        raise ValueError(f"run kind must be lower-case letters: {kind!r}")
    now = datetime.now(timezone.utc) if now is None else now.astimezone(timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}-{kind}-{secrets.token_hex(3)}"


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


class Transaction:
    """One writer's change to a dataset; a context manager holding the dataset's write lock.

    ``create=True`` makes the dataset when the folder is absent or empty (ingest, verify).
    Inside the block: :attr:`snapshot` (the live state), :attr:`notes` (what recovery did),
    :attr:`run_id`, :attr:`started_at` (UTC, whole seconds), :attr:`stage` and :attr:`scratch`.
    """

    def __init__(
        self,
        dataset: str | Path,
        kind: str,
        *,
        create: bool = False,
        run_id: str | None = None,
        now: datetime | None = None,
    ):
        self.root = Path(dataset).absolute()
        self.kind = kind
        self.create = create
        self.started_at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
        self.run_id = run_id or new_run_id(kind, self.started_at)
        self.stage = self.root / STAGING / self.run_id
        self.notes: list[str] = []
        self.snapshot = Snapshot()
        self._tables: dict[str, list[str]] = {}
        self._remove: list[str] = []
        self._lock = WriteLock(self.root)
        self._open = False
        self._marked = False  # past the point of no return: the stage belongs to recovery
        self.committed = False

    # -- opening and closing ---------------------------------------------------------------
    def __enter__(self) -> Transaction:
        if not self.create:
            load_snapshot(self.root)  # NotADataset before the lock would create the folder
        self._lock.__enter__()
        try:
            # Created under the lock: a racing second writer gets "locked", never "not a dataset".
            if self.create and not is_dataset(self.root):
                _create(self.root)
            self.notes = recover(self.root)
            self.snapshot = load_snapshot(self.root)
            self._tables = {k: list(v) for k, v in self.snapshot.tables.items()}
            self.stage.mkdir(parents=True)
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        self._open = True
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if not self._marked:
                shutil.rmtree(self.stage, ignore_errors=True)
        finally:
            self._open = False
            self._lock.__exit__(exc_type, exc, tb)

    # -- staging ---------------------------------------------------------------------------
    @property
    def scratch(self) -> Path:
        """A folder for spills and temporary copies; removed before the commit."""
        path = self.stage / SCRATCH
        path.mkdir(parents=True, exist_ok=True)
        return path

    def new_file(
        self, table: str, partition: str | None = None, part: str | None = None, suffix: str = ".parquet"
    ) -> str:
        """The dataset-relative name of a new file of ``table`` written by this run.

        ``events/event_date=2026-03-12/part-<run>-0000.parquet`` for
        ``new_file("events", "event_date=2026-03-12", "0000")``; tables sharing a folder
        (``verification_*``) are named ``verification/<table>-<run>.parquet``.
        """
        folder = SHARED_FOLDERS.get(table, table)
        if partition is not None:
            folder = f"{folder}/{partition}"
        stem = table if table in SHARED_FOLDERS else "part"
        return f"{folder}/{stem}-{self.run_id}{'' if part is None else '-' + part}{suffix}"

    def path_for(self, rel: str) -> Path:
        """Where to write the dataset-relative file ``rel`` during the run (its folder exists)."""
        path = self.stage / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def add(self, table: str, files: Iterable[str]) -> None:
        """Append staged files to ``table``."""
        files = list(files)
        self._check_staged(files, live=set())
        self._tables.setdefault(table, []).extend(files)

    def replace(self, table: str, files: Iterable[str]) -> None:
        """Make ``files`` the whole of ``table``; its other files are deleted after the commit.

        ``files`` may keep some of the table's live files (compact keeps small partitions).
        """
        files = list(files)
        old = self._tables.get(table, [])
        self._check_staged(files, live=set(old))
        kept = set(files)
        self._remove.extend(f for f in old if f not in kept)
        self._tables[table] = files

    @property
    def to_remove(self) -> list[str]:
        """Live files the commit will delete (replaced so far)."""
        return list(self._remove)

    def write_run_summary(self, summary: dict[str, Any]) -> str:
        """Stage ``runs/<run>.json`` and add it to the ``runs`` table."""
        rel = f"runs/{self.run_id}.json"
        self.path_for(rel).write_text(json.dumps(summary, indent=1), encoding="utf-8")
        self.add("runs", [rel])
        return rel

    def _check_staged(self, files: list[str], live: set[str]) -> None:
        if not self._open:
            raise RuntimeError("the transaction is not open (use it in a `with` block)")
        for rel in files:
            if rel not in live and not (self.stage / rel).is_file():
                raise FileNotFoundError(f"{rel} was not staged by run {self.run_id}")

    # -- committing ------------------------------------------------------------------------
    def commit(self) -> Snapshot:
        """Make the staged run live (see the module docstring); returns the new snapshot."""
        if not self._open or self._marked:
            raise RuntimeError("commit() needs an open transaction that has not committed")
        shutil.rmtree(self.stage / SCRATCH, ignore_errors=True)
        new = Snapshot(self.snapshot.generation + 1, self._tables)
        marker = {"snapshot": new.to_json(), "remove": self._remove}
        _crash_point("before-marker")
        atomic_write(self.stage / COMMIT_MARKER, marker)
        self._marked = True
        _crash_point("after-marker")
        _roll_forward(self.root, self.stage, marker)
        self.snapshot = new
        self.committed = True
        return new


def _create(root: Path) -> None:
    """Marker, then an empty snapshot (a dataset without a snapshot file reads as empty)."""
    for tmp in root.glob(f"{MARKER}{TMP_INFIX}*"):  # a creation that died while writing the marker
        tmp.unlink(missing_ok=True)
    if any(p for p in root.iterdir() if not p.name.startswith(".")):
        raise NotADataset(f"{root} exists and is not a trailforensics dataset (refusing to write into it)")
    atomic_write(root / MARKER, {"format": FORMAT, "schema_version": SCHEMA_VERSION})
    _save_snapshot(root, Snapshot())


def _save_snapshot(root: Path, snapshot: Snapshot) -> None:
    atomic_write(root / SNAPSHOT, snapshot.to_json(), before_replace=lambda: _crash_point("snapshot-tmp-written"))


def _roll_forward(root: Path, stage: Path, marker: dict[str, Any]) -> None:
    """Finish a commit whose marker is written; safe to repeat after a crash part-way."""
    staged = (p for p in stage.rglob("*") if p.is_file() and p.name != COMMIT_MARKER)
    for i, src in enumerate(sorted(p for p in staged if SCRATCH not in p.relative_to(stage).parts)):
        dest = root / src.relative_to(stage)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        if i == 0:
            _crash_point("after-first-move")
    _crash_point("before-snapshot")
    snapshot = Snapshot.from_json(marker["snapshot"])
    if snapshot.generation > load_snapshot(root).generation:
        _save_snapshot(root, snapshot)
    live = {f for files in snapshot.tables.values() for f in files}
    for rel in marker.get("remove", []):
        if rel not in live:
            (root / rel).unlink(missing_ok=True)
    shutil.rmtree(stage, ignore_errors=True)


def recover(root: Path) -> list[str]:
    """Finish or discard runs a crash interrupted; delete files no snapshot lists.

    Call with the write lock held (a :class:`Transaction` does).  Returns what was done.
    """
    notes: list[str] = []
    staging = root / STAGING
    if staging.is_dir():
        for stage in sorted(staging.iterdir()):
            marker_path = stage / COMMIT_MARKER
            if marker_path.is_file():
                with open(marker_path, encoding="utf-8") as fh:
                    marker = json.load(fh)
                _roll_forward(root, stage, marker)
                notes.append(f"completed the commit of interrupted run {stage.name}")
            else:
                shutil.rmtree(stage, ignore_errors=True)
                notes.append(f"discarded interrupted run {stage.name} (it had not committed)")
    for name in (SNAPSHOT, MARKER):
        for tmp in sorted(root.glob(f"{name}{TMP_INFIX}*")):
            tmp.unlink(missing_ok=True)
            notes.append(f"removed {tmp.name}, left by a writer that died while writing it")
    snapshot = load_snapshot(root)
    live = {f for files in snapshot.tables.values() for f in files}
    for table in TABLE_DIRS:
        folder = root / table
        if not folder.is_dir():
            continue
        for f in folder.rglob("*"):
            if f.is_file() and f.relative_to(root).as_posix() not in live:
                f.unlink()
                notes.append(f"removed orphan {f.relative_to(root).as_posix()}")
    return notes
