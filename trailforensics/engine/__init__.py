"""The engine: DuckDB views over the dataset and the ``Dataset`` API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

__all__ = ["Dataset"]


def __getattr__(name: str) -> Any:
    # Lazy, so that the light submodules (resources: the memory settings the CLI validates at
    # start-up) can be imported without loading DuckDB and Arrow.
    if name == "Dataset":
        from trailforensics.engine.dataset import Dataset

        return Dataset
    raise AttributeError(f"module 'trailforensics.engine' has no attribute {name!r}")
