"""The hunt's answer does not change when its execution does: the hits of every built-in detection on the sample
incident and on the detection cases (detection, event, severity, details) are compared with golden files.

Regenerate them (only when a detection's logic changes on purpose) with
``TRAILFORENSICS_REGOLDEN=1 pytest tests/test_hunt_golden.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from test_hunt import CASES, PARTNER, ingest_records

from trailforensics.engine import Dataset
from trailforensics.hunt import run_hunt
from trailforensics.ingest import IngestOptions, ingest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SAMPLE_GOLDEN = DATA / "hunt_sample_golden.jsonl"
CASES_GOLDEN = DATA / "hunt_cases_golden.jsonl"
KEYS = ("detection_id", "event_id", "severity", "details")


def hit_rows(ds_path: Path, *, sandboxed: bool = False, **kwargs: Any) -> list[dict[str, Any]]:
    with Dataset(ds_path) as ds:
        if sandboxed:  # user SQL locks the connection: the hunt can no longer write its scratch copy
            ds.user_sql("SELECT 1")
        result = run_hunt(ds, **kwargs)
        assert not list(ds.scratch.glob("*.parquet")), "the hunt left its scratch copy behind"
    assert result.ok, result.errors
    rows = result.hits.select(list(KEYS)).to_pylist()
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in KEYS))


def check_golden(rows: list[dict[str, Any]], golden: Path) -> None:
    if os.environ.get("TRAILFORENSICS_REGOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows), encoding="utf-8")
    expected = [json.loads(line) for line in golden.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(expected)
    assert rows == expected


@pytest.fixture(scope="module")
def sample_ds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sample = ROOT / "sample_logs"
    if not sample.is_dir():
        pytest.skip("sample_logs/ is not present")
    out = tmp_path_factory.mktemp("sample") / "ds"
    summary = ingest([sample], out, IngestOptions(workers=1))
    assert summary.rows_written > 0
    return out


def test_sample_hits_match_golden(sample_ds: Path) -> None:
    check_golden(hit_rows(sample_ds), SAMPLE_GOLDEN)


def test_sample_hits_on_a_sandboxed_connection(sample_ds: Path) -> None:
    check_golden(hit_rows(sample_ds, sandboxed=True), SAMPLE_GOLDEN)


def test_sample_hits_at_the_smallest_memory_limit(sample_ds: Path) -> None:
    with Dataset(sample_ds, memory_limit="64MiB") as ds:
        result = run_hunt(ds)
    assert result.ok, result.errors
    rows = sorted(result.hits.select(list(KEYS)).to_pylist(), key=lambda r: tuple(str(r[k]) for k in KEYS))
    check_golden(rows, SAMPLE_GOLDEN)


def test_case_hits_match_golden(tmp_path: Path) -> None:
    ds_path = ingest_records([r for c in CASES for r in c.records], tmp_path)
    check_golden(hit_rows(ds_path, known_accounts=[PARTNER]), CASES_GOLDEN)
