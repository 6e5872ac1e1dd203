"""Ingest: AWSLogs trees (and other dumps) -> the Parquet dataset.

``from trailforensics.ingest import ingest`` is the Python entry point behind
``trailforensics ingest``.
"""

from trailforensics.ingest.pipeline import IngestOptions, ingest
from trailforensics.ingest.summary import IngestSummary

__all__ = ["IngestOptions", "IngestSummary", "ingest"]
