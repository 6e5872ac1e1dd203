"""Sigma rules over CloudTrail: parsed by pySigma, compiled to DuckDB SQL by our own backend.

    >>> rules, errors = load_sigma_rules([Path("rules/")])
    >>> hits = run_sigma_rules(Dataset("case-42"), rules)

pySigma is an optional dependency: ``pip install 'trailforensics[sigma]'``.

* ``pipeline``: the CloudTrail processing pipeline as data (field names -> our columns);
* ``backend``: the condition tree -> SQL conversion (semantics documented there);
* ``rules``: loading and compiling rule files (``SigmaRule``, ``load_sigma_rules``);
* ``run``: running rules over a dataset (``run_sigma_rules``).

Rules from SigmaHQ are under the Detection Rule License 1.1: keep their metadata and credit
the author wherever matches are shown (the ``author`` column of the hits).
"""

from __future__ import annotations

try:
    import sigma  # noqa: F401  (pySigma)
    from sigma.rule import SigmaRule as _PySigmaRule  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "trailforensics.sigma needs pySigma, an optional dependency: pip install 'trailforensics[sigma]'"
    ) from exc

from trailforensics.sigma.backend import CloudTrailSQLBackend, SigmaCompileError
from trailforensics.sigma.pipeline import cloudtrail_pipeline, pipeline_definition
from trailforensics.sigma.rules import SigmaRule, compile_rule, compile_text, load_sigma_rules
from trailforensics.sigma.run import ERRORS_METADATA_KEY, HITS_SCHEMA, run_sigma_rules

__all__ = [
    "ERRORS_METADATA_KEY",
    "HITS_SCHEMA",
    "CloudTrailSQLBackend",
    "SigmaCompileError",
    "SigmaRule",
    "cloudtrail_pipeline",
    "compile_rule",
    "compile_text",
    "load_sigma_rules",
    "pipeline_definition",
    "run_sigma_rules",
]
