"""Offline validation of CloudTrail digest files, and the missing, altered and injected logs they reveal.

    >>> from trailforensics.verify import verify_tree, store_results
    >>> report = verify_tree(Path("dump"), public_keys=[Path("keys.json")], signatures=[Path("sigs.json")])
    >>> report.exit_code, report.summary.logs_missing, [f.kind for f in report.errors()]
    >>> store_results(report, Path("case42"))   # table `verification` (events gain its status)

Modules: :mod:`.core` (the walk), :mod:`.digests` (one digest: format, location, signature),
:mod:`.chains` (links between digests, and the time their sound digests cover), :mod:`.edges`
(digests deleted at a chain's edges: before a restart, and the order of the checks) with
:mod:`.chain_ends` (newest and oldest), :mod:`.missing_regions` (a whole region of a trail) and
:mod:`.edge_evidence` (the witnesses they gather), :mod:`.witnesses` (what proves a digest was
due), :mod:`.listings` (where listed log files are), :mod:`.listed_logs` (log files digests
list), :mod:`.unlisted` (log files no digest lists), :mod:`.log_rows` (a log file's report row),
:mod:`.hour_coverage` (per hour), :mod:`.hashing` (streaming first-member SHA-256 in worker
processes), :mod:`.keys` (public keys and signature files), :mod:`.paths` (tree layout, file
names), :mod:`.model` (report, statuses, finding kinds, exit codes), :mod:`.report` (text/JSON),
:mod:`.store` (dataset tables), :mod:`.run` (one run's state).

Attributes are loaded lazily so that hashing worker processes start without Arrow or
cryptography.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trailforensics.verify.core import verify_tree
    from trailforensics.verify.model import (
        EXIT_ERROR,
        EXIT_INVALID,
        EXIT_MISSING,
        EXIT_OK,
        EXIT_UNCHECKED,
        EXIT_UNREFERENCED,
        ChainSummary,
        CoverageRow,
        Finding,
        Summary,
        VerifiedFile,
        VerifyReport,
    )
    from trailforensics.verify.store import store_results

__all__ = [
    "EXIT_ERROR",
    "EXIT_INVALID",
    "EXIT_MISSING",
    "EXIT_OK",
    "EXIT_UNCHECKED",
    "EXIT_UNREFERENCED",
    "ChainSummary",
    "CoverageRow",
    "Finding",
    "Summary",
    "VerifiedFile",
    "VerifyReport",
    "store_results",
    "verify_tree",
]


def __getattr__(name: str) -> Any:
    if name == "verify_tree":
        from trailforensics.verify.core import verify_tree

        return verify_tree
    if name == "store_results":
        from trailforensics.verify.store import store_results

        return store_results
    if name in __all__:
        from trailforensics.verify import model

        return getattr(model, name)
    raise AttributeError(f"module 'trailforensics.verify' has no attribute {name!r}")
