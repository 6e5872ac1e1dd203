"""store.Transaction: the one owner of a dataset change (lock, create, recover, stage, commit)."""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from trailforensics.store import layout, transaction
from trailforensics.store.layout import NotADataset
from trailforensics.store.lock import DatasetLocked, WriteLock
from trailforensics.store.transaction import Transaction, new_run_id


def _stage(txn: Transaction, table: str, text: str, **kw: str) -> str:
    rel = txn.new_file(table, suffix=".txt", **kw)
    txn.path_for(rel).write_text(text)
    return rel


def _live(ds: Path) -> dict[str, list[str]]:
    return layout.load_snapshot(ds).tables


def test_run_ids_have_one_sortable_utc_format() -> None:
    early = new_run_id("ingest", datetime(2026, 3, 12, 10, 15, tzinfo=timezone.utc))
    assert re.fullmatch(r"20260312T101500Z-ingest-[0-9a-f]{6}", early)
    later = new_run_id("compact", datetime(2026, 3, 12, 10, 15, 1, tzinfo=timezone.utc))
    assert early < later
    with pytest.raises(ValueError):
        new_run_id("no-dashes")


def test_file_names() -> None:
    txn = Transaction("/nowhere", "ingest", run_id="R")
    assert txn.new_file("manifest") == "manifest/part-R.parquet"
    assert txn.new_file("keys", suffix=".npy") == "keys/part-R.npy"
    assert txn.new_file("events", "event_date=2026-03-12", "0000") == "events/event_date=2026-03-12/part-R-0000.parquet"
    assert txn.new_file("verification_findings") == "verification/verification_findings-R.parquet"


def test_add_replace_commit(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    with Transaction(ds, "ingest", create=True) as txn:
        a = _stage(txn, "manifest", "a")
        b = _stage(txn, "manifest", "b", part="1")
        txn.add("manifest", [a])
        txn.add("manifest", [b])
        summary = txn.write_run_summary({"n": 2})
        txn.commit()
    assert _live(ds) == {"manifest": [a, b], "runs": [summary]}
    assert (ds / a).read_text() == "a" and json.loads((ds / summary).read_text()) == {"n": 2}
    assert layout.load_snapshot(ds).generation == 1  # creation wrote generation 0
    with Transaction(ds, "compact") as txn:
        assert txn.snapshot.files("manifest") == [a, b]
        c = _stage(txn, "manifest", "c")
        txn.replace("manifest", [a, c])  # keeps a live file, drops b
        assert txn.to_remove == [b]
        txn.commit()
    assert _live(ds)["manifest"] == [a, c]
    assert (ds / a).exists() and (ds / c).exists() and not (ds / b).exists()
    assert not any((ds / layout.STAGING).iterdir())


def test_only_staged_or_live_files_can_be_listed(tmp_path: Path) -> None:
    with Transaction(tmp_path / "ds", "ingest", create=True) as txn, pytest.raises(FileNotFoundError):
        txn.add("manifest", ["manifest/part-nope.parquet"])


def test_leaving_without_commit_discards(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    with pytest.raises(ZeroDivisionError), Transaction(ds, "ingest", create=True) as txn:
        rel = _stage(txn, "manifest", "x")
        (txn.scratch / "spill").write_text("tmp")
        txn.add("manifest", [rel])
        raise ZeroDivisionError
    assert _live(ds) == {}
    assert not any((ds / layout.STAGING).iterdir()) and not (ds / "manifest").exists()
    with Transaction(ds, "compact") as txn:  # nothing to do: no commit, nothing left behind
        _stage(txn, "manifest", "y")
    assert _live(ds) == {} and not any((ds / layout.STAGING).iterdir())
    with WriteLock(ds):  # the lock was released both times
        pass


def test_scratch_is_never_committed(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    with Transaction(ds, "ingest", create=True) as txn:
        (txn.scratch / "spill.tmp").write_text("x")
        txn.add("manifest", [_stage(txn, "manifest", "m")])
        txn.commit()
    assert not list(ds.rglob("spill.tmp"))


def test_second_writer_is_refused(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    with Transaction(ds, "ingest", create=True), pytest.raises(DatasetLocked), Transaction(ds, "compact"):
        pass
    with Transaction(ds, "compact"):
        pass


def test_not_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(NotADataset, match="no trailforensics dataset"), Transaction(tmp_path / "absent", "compact"):
        pass
    assert not (tmp_path / "absent").exists()  # refusing did not create the folder
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    other = Transaction(tmp_path / "other", "ingest", create=True)
    with pytest.raises(NotADataset, match="refusing to write into it"), other:
        pass
    assert not layout.is_dataset(tmp_path / "other")


def test_create_happens_under_the_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writers racing to create a dataset: the loser is told "locked", not "not a dataset"."""
    ds = tmp_path / "ds"
    created = threading.Event()
    release = threading.Event()
    real_create = transaction._create

    def slow_create(root: Path) -> None:
        assert WriteLock(root).path.exists()  # the lock file (and its folder) came first
        real_create(root)
        created.set()
        release.wait(10)

    monkeypatch.setattr(transaction, "_create", slow_create)
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with Transaction(ds, "ingest", create=True):
                pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=first)
    thread.start()
    assert created.wait(10)
    try:
        with pytest.raises(DatasetLocked), Transaction(ds, "ingest", create=True):
            pass
    finally:
        release.set()
        thread.join(10)
    assert not errors and layout.is_dataset(ds)


class _Killed(BaseException):
    """Stands in for SIGKILL at a crash point (the subprocess tests in test_crash.py use the real one)."""


def test_recovery_after_a_crash_between_marker_and_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = tmp_path / "ds"
    with Transaction(ds, "ingest", create=True) as txn:
        old = _stage(txn, "manifest", "old")
        txn.add("manifest", [old])
        txn.commit()

    def crash(name: str) -> None:
        if name == "before-snapshot":
            raise _Killed

    monkeypatch.setattr(transaction, "_crash_point", crash)
    with pytest.raises(_Killed), Transaction(ds, "compact") as txn:
        new = _stage(txn, "manifest", "new")
        txn.replace("manifest", [new])
        txn.commit()
    assert _live(ds)["manifest"] == [old]  # readers still see the state before
    assert (ds / layout.STAGING / txn.run_id / layout.COMMIT_MARKER).is_file()  # kept for recovery
    monkeypatch.undo()
    with Transaction(ds, "compact") as nxt:
        assert nxt.notes == [f"completed the commit of interrupted run {txn.run_id}"]
        assert nxt.snapshot.files("manifest") == [new]
    assert (ds / new).read_text() == "new" and not (ds / old).exists()
    assert not any((ds / layout.STAGING).iterdir())


def test_recovery_discards_an_uncommitted_run_and_orphans(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    with Transaction(ds, "ingest", create=True):
        pass
    (ds / layout.STAGING / "dead-run" / "manifest").mkdir(parents=True)
    (ds / layout.STAGING / "dead-run" / "manifest" / "part-dead-run.parquet").write_text("x")
    (ds / "events").mkdir()
    (ds / "events" / "orphan.parquet").write_text("x")
    (ds / "_snapshot.json.tmp-999999").write_text("{")
    with Transaction(ds, "compact") as txn:
        assert txn.notes == [
            "discarded interrupted run dead-run (it had not committed)",
            "removed _snapshot.json.tmp-999999, left by a writer that died while writing it",
            "removed orphan events/orphan.parquet",
        ]
    assert not (ds / "events" / "orphan.parquet").exists() and not list(ds.glob("*.tmp-*"))
