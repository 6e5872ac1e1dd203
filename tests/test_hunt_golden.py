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


def hit_rows(ds_path: Path, **kwargs: Any) -> list[dict[str, Any]]:
    with Dataset(ds_path) as ds:
        result = run_hunt(ds, **kwargs)
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


def test_sample_hits_match_golden(tmp_path: Path) -> None:
    sample = ROOT / "sample_logs"
    if not sample.is_dir():
        pytest.skip("sample_logs/ is not present")
    summary = ingest([sample], tmp_path / "ds", IngestOptions(workers=1))
    assert summary.rows_written > 0
    check_golden(hit_rows(tmp_path / "ds"), SAMPLE_GOLDEN)


def test_case_hits_match_golden(tmp_path: Path) -> None:
    ds_path = ingest_records([r for c in CASES for r in c.records], tmp_path)
    check_golden(hit_rows(ds_path, known_accounts=[PARTNER]), CASES_GOLDEN)
