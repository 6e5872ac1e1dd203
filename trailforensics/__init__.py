"""trailforensics: offline AWS CloudTrail forensics.

The package is usable from a notebook as well as from the CLI::

    from trailforensics import Dataset
    from trailforensics.ingest import ingest
    ingest(["./dump"], "case42")
    Dataset("case42").sql("SELECT actor, count(*) FROM events GROUP BY ALL")
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["Dataset", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `import trailforensics` (and CLI start-up) does not load DuckDB or Arrow.
    if name == "Dataset":
        from trailforensics.engine.dataset import Dataset

        return Dataset
    raise AttributeError(f"module 'trailforensics' has no attribute {name!r}")
