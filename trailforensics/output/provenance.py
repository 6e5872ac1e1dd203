"""Which tool wrote a JSON summary: its version, for chain of custody (no Arrow, no DuckDB)."""

from __future__ import annotations

from typing import Any

from trailforensics import __version__

VERSION_KEY = "trailforensics_version"


def with_version(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` with the tool's version as its first key (JSON summaries are objects; row streams are not)."""
    return {VERSION_KEY: __version__, **doc}
