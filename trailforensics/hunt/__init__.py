"""Hunting: built-in detections stored as SQL files (``queries/detections/``) and their runner.

>>> from trailforensics.engine import Dataset
>>> from trailforensics.hunt import run_hunt, load_detections
>>> result = run_hunt(Dataset("case-42"), min_severity="medium")
>>> result.summary.to_pandas()    # one row per detection: hits, first/last time, actors
>>> result.hits.to_pandas()       # one row per hit: detection metadata + evidence columns
"""

from __future__ import annotations

from trailforensics.hunt.loader import builtin_detections_dir, load_detections, parse_detection
from trailforensics.hunt.model import (
    EVIDENCE_COLUMNS,
    HITS_SCHEMA,
    SEVERITIES,
    SUMMARY_SCHEMA,
    Detection,
    DetectionError,
)
from trailforensics.hunt.runner import HuntResult, run_detection, run_hunt, summarize
from trailforensics.hunt.sqlenv import KnownAccountsError, read_known_accounts

__all__ = [
    "EVIDENCE_COLUMNS",
    "HITS_SCHEMA",
    "SEVERITIES",
    "SUMMARY_SCHEMA",
    "Detection",
    "DetectionError",
    "HuntResult",
    "KnownAccountsError",
    "builtin_detections_dir",
    "load_detections",
    "parse_detection",
    "read_known_accounts",
    "run_detection",
    "run_hunt",
    "summarize",
]
