"""MITRE ATT&CK (Enterprise, cloud): the tactics each technique the detections name belongs to.

Detections carry technique ids only (``-- attack: T1098.001``); the report groups them by tactic
for the tactic x technique matrix.  A sub-technique not listed falls back to its parent; an id
neither knows is shown under "unmapped" rather than dropped.  Source: attack.mitre.org (v16).
"""

from __future__ import annotations

# Kill-chain order, as the ATT&CK matrix shows them.
TACTICS: tuple[str, ...] = (
    "Reconnaissance",
    "Resource Development",
    "Initial Access",
    "Execution",
    "Persistence",
    "Privilege Escalation",
    "Defense Evasion",
    "Credential Access",
    "Discovery",
    "Lateral Movement",
    "Collection",
    "Command and Control",
    "Exfiltration",
    "Impact",
)
UNMAPPED = "Unmapped"

_IA, _EX, _PE, _PR, _DE = "Initial Access", "Execution", "Persistence", "Privilege Escalation", "Defense Evasion"
_CA, _DI, _LM, _CO, _EF, _IM = (
    "Credential Access",
    "Discovery",
    "Lateral Movement",
    "Collection",
    "Exfiltration",
    "Impact",
)

TECHNIQUE_TACTICS: dict[str, tuple[str, ...]] = {
    "T1021": (_LM,),
    "T1040": (_CA, _DI),
    "T1053": (_EX, _PE, _PR),
    "T1059": (_EX,),
    "T1069": (_DI,),
    "T1070": (_DE,),
    "T1078": (_DE, _PE, _PR, _IA),
    "T1087": (_DI,),
    "T1098": (_PE, _PR),
    "T1110": (_CA,),
    "T1133": (_PE, _IA),
    "T1136": (_PE,),
    "T1190": (_IA,),
    "T1199": (_IA,),
    "T1484": (_DE, _PR),
    "T1485": (_IM,),
    "T1486": (_IM,),
    "T1490": (_IM,),
    "T1496": (_IM,),
    "T1525": (_PE,),
    "T1526": (_DI,),
    "T1530": (_CO,),
    "T1535": (_DE,),
    "T1537": (_EF,),
    "T1546": (_PR, _PE),
    "T1548": (_PR, _DE),
    "T1550": (_DE, _LM),
    "T1552": (_CA,),
    "T1555": (_CA,),
    "T1556": (_CA, _DE, _PE),
    "T1562": (_DE,),
    "T1565": (_IM,),
    "T1578": (_DE,),
    "T1580": (_DI,),
    "T1584": ("Resource Development",),
    "T1619": (_DI,),
    "T1651": (_EX,),
    "T1666": (_DE,),
    "T1087.004": (_DI,),
    "T1098.001": (_PE, _PR),
}


def technique_ids(attack: str | None) -> list[str]:
    """``"T1078.004, T1580"`` -> ``["T1078.004", "T1580"]`` (Sigma's ``attack.t1078.004`` too)."""
    out = []
    for part in (attack or "").replace(";", ",").split(","):
        tid = part.strip().upper().removeprefix("ATTACK.")
        if tid.startswith("T") and tid[1:2].isdigit():
            out.append(tid)
    return out


def tactics_of(technique: str) -> tuple[str, ...]:
    """The tactics of a technique id (its parent's for an unlisted sub-technique)."""
    found = TECHNIQUE_TACTICS.get(technique) or TECHNIQUE_TACTICS.get(technique.split(".")[0])
    return found or (UNMAPPED,)
