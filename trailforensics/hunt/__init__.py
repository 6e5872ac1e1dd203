"""Hunting: built-in detections stored as SQL files (``queries/detections/``), Sigma rules, one API.

>>> from trailforensics.engine import Dataset
>>> from trailforensics.hunt import run_hunt
>>> result = run_hunt(Dataset("case-42"), min_severity="medium", sigma=["rules/"])
>>> result.summary.to_pandas()    # one row per detection: hits, first/last time, actors
>>> result.hits.to_pandas()       # one row per hit (``Hit``): detection metadata + evidence columns
>>> result.sigma.skipped          # Sigma rule files that did not compile, and why

``run_hunt`` is what ``trailforensics hunt`` prints (the CLI only parses options and renders).
Each detection ``queries/detections/<id>.sql`` has its test cases beside it in
``<id>.cases.jsonl`` (CloudTrail records marked ``hit``/``no_hit``, see :mod:`.cases`).
"""

from __future__ import annotations

from trailforensics.hunt.cases import DetectionCase, cases_path, load_cases
from trailforensics.hunt.loader import builtin_detections_dir, load_detections, parse_detection
from trailforensics.hunt.model import (
    EVIDENCE_COLUMNS,
    HITS_SCHEMA,
    SEVERITIES,
    SUMMARY_SCHEMA,
    Detection,
    DetectionError,
    Hit,
    without_author,
)
from trailforensics.hunt.runner import HuntResult, run_detection, run_hunt, summarize
from trailforensics.hunt.sigma_bridge import SigmaPathError, SigmaReport, SigmaUnavailable
from trailforensics.hunt.sqlenv import KnownAccountsError, read_known_accounts

__all__ = [
    "EVIDENCE_COLUMNS",
    "HITS_SCHEMA",
    "SEVERITIES",
    "SUMMARY_SCHEMA",
    "Detection",
    "DetectionCase",
    "DetectionError",
    "Hit",
    "HuntResult",
    "KnownAccountsError",
    "SigmaPathError",
    "SigmaReport",
    "SigmaUnavailable",
    "builtin_detections_dir",
    "cases_path",
    "load_cases",
    "load_detections",
    "parse_detection",
    "read_known_accounts",
    "run_detection",
    "run_hunt",
    "summarize",
    "without_author",
]
