"""Coverage by ATT&CK tactic: the built-in detections beside the public CloudTrail rule sets.

Our detections carry technique ids; their tactics are those of ATT&CK (``report.attack.tactics_of``,
the table the incident report's matrix uses), and a detection counts once under each tactic of its
techniques (as a Panther or SigmaHQ rule counts under each tactic it names).  Panther's rules carry
their tactics in ``Reports: MITRE ATT&CK`` (``TA0005:T1562``), SigmaHQ's in ``attack.<tactic>`` tags
(ATT&CK v19 names: ``stealth`` and ``defense-impairment`` are the halves of Defense Evasion).  Their
counts (``PEER_TACTICS``) were read from the rule files in ``../shared/corpora`` with
:func:`peer_tactic_counts` (the test suite recomputes them when the corpora are present); the other
sets are known here only by their size (``PEER_TOTALS``).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from trailforensics.hunt.model import Detection
from trailforensics.report.attack import tactics_of

TACTICS: tuple[tuple[str, str, str], ...] = (  # (id, name, Sigma tag)
    ("TA0042", "Resource Development", "resource-development"),
    ("TA0001", "Initial Access", "initial-access"),
    ("TA0002", "Execution", "execution"),
    ("TA0003", "Persistence", "persistence"),
    ("TA0004", "Privilege Escalation", "privilege-escalation"),
    ("TA0005", "Defense Evasion", "defense-evasion"),
    ("TA0006", "Credential Access", "credential-access"),
    ("TA0007", "Discovery", "discovery"),
    ("TA0008", "Lateral Movement", "lateral-movement"),
    ("TA0009", "Collection", "collection"),
    ("TA0010", "Exfiltration", "exfiltration"),
    ("TA0040", "Impact", "impact"),
)
SIGMA_ALIASES = {"stealth": "TA0005", "defense-impairment": "TA0005"}  # v19 split Defense Evasion in two


# Read from ../shared/corpora with peer_tactic_counts(): panther-analysis @ daa10c88 (136 rules of
# rules/aws_cloudtrail_rules, _index.tsv `mitre`), SigmaHQ @ 8eaafff1 (57 rules of rules/cloud/aws/cloudtrail).
PEER_TACTICS: dict[str, dict[str, int]] = {
    "Panther": {"TA0001": 7, "TA0002": 4, "TA0003": 13, "TA0004": 7, "TA0005": 45, "TA0006": 11, "TA0007": 21,
                "TA0008": 6, "TA0010": 13, "TA0040": 17},
    "SigmaHQ": {"TA0001": 14, "TA0002": 4, "TA0003": 17, "TA0004": 19, "TA0005": 22, "TA0006": 5, "TA0007": 2,
                "TA0008": 4, "TA0009": 1, "TA0010": 6, "TA0040": 8, "TA0042": 1},
}  # fmt: skip
PEER_RULES: dict[str, int] = {"Panther": 136, "SigmaHQ": 57}
# Sets without rule files here: their size only, and where it comes from.
PEER_TOTALS: tuple[tuple[str, str, str], ...] = (
    (
        "Elastic",
        "196",
        "elastic/detection-rules @ 14cf530f: 194 in rules/integrations/aws + 2 (reference/detections.md §4)",
    ),
    ("Splunk", "81", "splunk/security_content @ b13b314a, detections/cloud (reference/detections.md §4)"),
    ("Tailpipe", "86", "the AWS CloudTrail detections mod, as counted in issue 15 (no rule files here)"),
    ("Suzaku", "~740", "success/attempt rule pairs, as counted in issue 15 (no rule files here)"),
)


def has_attempts(det: Detection) -> bool:
    """The detection also reports denied attempts (its SQL returns an ``attempt`` column)."""
    return re.search(r"\bAS\s+attempt\b", det.sql, re.IGNORECASE) is not None


def detection_tactics(det: Detection) -> set[str]:
    """The tactic ids of the detection's techniques."""
    by_name = {name: tid for tid, name, _ in TACTICS}
    return {by_name[t] for a in det.attack for t in tactics_of(a) if t in by_name}


def our_tactic_counts(detections: Iterable[Detection]) -> Counter[str]:
    return Counter(t for d in detections for t in detection_tactics(d))


def peer_tactic_counts(corpora: Path) -> dict[str, dict[str, int]]:
    """Rules per tactic of Panther's ``_index.tsv`` and SigmaHQ's rule files under ``corpora``."""
    panther: Counter[str] = Counter()
    with (corpora / "panther" / "_index.tsv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            panther.update({m.split(":")[0].strip() for m in (row["mitre"] or "").split(",") if ":" in m})
    by_tag = {tag: tid for tid, _, tag in TACTICS} | SIGMA_ALIASES
    sigma: Counter[str] = Counter()
    for path in sorted((corpora / "sigma").glob("*.yml")):
        tags = re.findall(r"^\s*-\s*attack\.([a-z-]+)\s*$", path.read_text(encoding="utf-8"), re.MULTILINE)
        sigma.update({by_tag[t] for t in tags if t in by_tag})
    return {"Panther": dict(sorted(panther.items())), "SigmaHQ": dict(sorted(sigma.items()))}


def coverage_table(detections: list[Detection]) -> list[str]:
    """The Markdown table of rules per tactic (ours, Panther, SigmaHQ) and the sizes of the other sets."""
    ours = our_tactic_counts(detections)
    out = [
        "| tactic | trailforensics | Panther | SigmaHQ |",
        "|---|---|---|---|",
    ]
    for tid, name, _ in TACTICS:
        cells = [str(ours.get(tid, 0))] + [str(PEER_TACTICS[p].get(tid, 0)) for p in ("Panther", "SigmaHQ")]
        out.append(f"| {name} ({tid}) | {' | '.join(cells)} |")
    out.append(f"| **rules** | **{len(detections)}** | **{PEER_RULES['Panther']}** | **{PEER_RULES['SigmaHQ']}** |")
    out += ["", "| rule set | rules | source |", "|---|---|---|"]
    out += [f"| {name} | {size} | {source} |" for name, size, source in PEER_TOTALS]
    return out
