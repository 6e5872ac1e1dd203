"""`compact --since/--until`: only the days asked for are rewritten (a daily job compacts yesterday)."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from trailforensics.cli import _register_commands, app
from trailforensics.store.compact import compact

_register_commands()

WINDOW_SUPPORTED = "since" in inspect.signature(compact).parameters


def _two_runs(tmp_path: Path) -> Path:
    """Two ingest runs over the same two days (2026-03-09 and 10): two files per day partition."""
    from tests.ct import simple_tree
    from trailforensics.ingest import IngestOptions, ingest

    ds = tmp_path / "ds"
    for seed in (1, 2):
        simple_tree(tmp_path / f"src{seed}", files=4, per_file=5, seed=seed)
        ingest([tmp_path / f"src{seed}"], ds, IngestOptions(workers=1))
    return ds


def _day_files(ds: Path) -> dict[str, int]:
    return {p.name: len(list(p.glob("*.parquet"))) for p in sorted((ds / "events").iterdir())}


def test_the_window_is_parsed_and_passed_as_utc_datetimes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake(dataset: Path, **kwargs: Any) -> list[str]:
        seen.update(kwargs, dataset=dataset)
        return ["event_date=2026-03-10: 2 files -> 1"]

    monkeypatch.setattr("trailforensics.store.compact.compact", fake)
    ds = tmp_path / "ds"
    r = CliRunner().invoke(app, ["compact", "-d", str(ds), "--since", "2026-03-10", "--until", "2026-03-11T00:00:00Z"])
    assert r.exit_code == 0, r.output
    assert seen == {
        "dataset": ds,
        "since": datetime(2026, 3, 10, tzinfo=UTC),
        "until": datetime(2026, 3, 11, tzinfo=UTC),
    }
    assert r.stdout == "event_date=2026-03-10: 2 files -> 1\n"


def test_without_a_window_nothing_extra_is_passed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr("trailforensics.store.compact.compact", lambda dataset, **kw: seen.update(kw) or [])
    r = CliRunner().invoke(app, ["compact", str(tmp_path / "ds")])
    assert r.exit_code == 0, r.output
    assert seen == {}  # works with a library that predates --since/--until


def test_a_bad_time_is_one_line_naming_the_option(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["compact", "-d", str(tmp_path / "ds"), "--until", "yesterday-ish"])
    assert r.exit_code == 1
    assert r.stderr.startswith("error: --until: ") and r.stderr.count("\n") == 1


@pytest.mark.skipif(not WINDOW_SUPPORTED, reason="trailforensics.store.compact.compact has no since/until yet")
def test_compact_since_rewrites_only_the_days_in_the_window(tmp_path: Path) -> None:
    ds = _two_runs(tmp_path)
    assert _day_files(ds) == {"event_date=2026-03-09": 2, "event_date=2026-03-10": 2}
    r = CliRunner().invoke(app, ["compact", "-d", str(ds), "--since", "2026-03-10", "--until", "2026-03-11"])
    assert r.exit_code == 0, r.output
    assert "event_date=2026-03-10: 2 files -> 1" in r.stdout
    assert "event_date=2026-03-09" not in r.stdout
    assert _day_files(ds) == {"event_date=2026-03-09": 2, "event_date=2026-03-10": 1}
