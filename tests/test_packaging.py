"""Packaging: every subpackage ships, and the named queries ship inside the wheel."""

from __future__ import annotations

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "trailforensics").rglob("__init__.py")}
    found.add("trailforensics.queries")
    assert found <= listed, f"add to pyproject.toml [tool.setuptools] packages: {sorted(found - listed)}"
    assert config["package-dir"]["trailforensics.queries"] == "queries"


def test_queries_are_importable_as_package_data() -> None:
    from trailforensics.query.named import builtin_dir

    assert (builtin_dir() / "console_logins.sql").is_file()
