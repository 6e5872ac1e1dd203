"""The state one `verify_tree` call shares between its steps: the report being built and its findings."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from trailforensics.verify import model as m

HOUR = 3600
SLACK = 120  # clock noise between the times CloudTrail writes in different regions' digests


class Run:
    def __init__(self, tree: Path, allow_unsigned: bool) -> None:
        self.report = empty_report(tree, allow_unsigned)
        self.per_chain_logs: dict[str, Counter[str]] = {}
        self.unlisted: Counter[str] = Counter()  # "unproven" / "not_covered" log files no digest lists
        self.region_digests_missing = 0  # digests of regions with no chain at all (a deleted region folder)

    def find(self, kind: str, message: str, **kw: Any) -> m.Finding:
        f = m.Finding(kind, message, **kw)
        self.report.findings.append(f)
        return f


def empty_report(tree: Path, allow_unsigned: bool, fatal: str | None = None) -> m.VerifyReport:
    return m.VerifyReport(
        tree=str(tree.absolute()),
        summary=m.Summary(),
        chains=[],
        findings=[],
        files=[],
        coverage=[],
        allow_unsigned=allow_unsigned,
        fatal=fatal,
    )


def short(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 log file', '2 log files' (or `many` for irregular plurals)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"
