"""Shared fixtures: paths to the third-party corpora (skipped cleanly when absent)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REALDATA = SHARED / "realdata"
PANTHER = SHARED / "corpora" / "panther" / "_all_tests.jsonl"
SIGMA = SHARED / "corpora" / "sigma"
SAMPLE_LOGS = ROOT / "sample_logs"

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not present")
    return REALDATA


@pytest.fixture
def panther_path() -> Path:
    if not PANTHER.is_file():
        pytest.skip("../shared/corpora/panther is not present")
    return PANTHER
