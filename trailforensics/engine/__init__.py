"""The engine: DuckDB views over the dataset and the ``Dataset`` API."""

from trailforensics.engine.dataset import Dataset

__all__ = ["Dataset"]
