"""Generated documentation is current (run `make docs` after changing the schema or the queries)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trailforensics.docs import documents

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted(documents(ROOT)), ids=lambda p: p.name)
def test_generated_docs_are_current(path: Path) -> None:
    render = documents(ROOT)[path]
    assert path.is_file(), f"{path} is missing: run `make docs`"
    assert path.read_text(encoding="utf-8") == render(), f"{path.name} is stale: run `make docs`"
