"""Shared fixtures: paths to the third-party corpora (skipped cleanly when absent)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REALDATA = SHARED / "realdata"
PANTHER = SHARED / "corpora" / "panther" / "_all_tests.jsonl"
SIGMA = SHARED / "corpora" / "sigma"
SAMPLE_LOGS = ROOT / "sample_logs"

sys.path.insert(0, str(Path(__file__).parent))
# tools/ (the sample's storyline, `tools.sample`) is beside the package, not installed with it.
sys.path.insert(0, str(ROOT))


def sample_facts() -> dict[str, Any]:
    """The JSON facts block of sample_logs/README.md: what the sample incident holds."""
    readme = SAMPLE_LOGS / "README.md"
    if not readme.is_file():
        pytest.skip("sample_logs/ is not present")
    block = re.search(r"<!-- facts:begin -->\s*```json\s*(\{.*?\})\s*```", readme.read_text("utf-8"), re.S)
    assert block, "sample_logs/README.md has no facts block"
    data: dict[str, Any] = json.loads(block.group(1))
    return data


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
