"""A detection's test cases, kept beside its SQL: ``queries/detections/<id>.cases.jsonl``.

One JSON object per line, one line per CloudTrail record::

    {"case": "stop_and_delete", "expect": "hit", "severity": "high", "record": {...}}
    {"case": "stop_and_delete", "expect": "no_hit", "record": {...}}
    {"case": "stop_and_delete", "record": {...}}

``case`` groups the records of one scenario; ``expect`` is ``hit`` (the detection must report
this event, with ``severity`` when given) or ``no_hit`` (a near miss it must not report);
records without ``expect`` are context (the events before a login, the creation of a user...).
JSON Lines keeps each record exactly as CloudTrail writes it, one record per line, so a case
diffs line by line and a real event can be pasted in as is.

The test suite ingests the cases of every detection into one dataset and hunts it once, so
every case keeps to its own principal, access key, source address and time slot (the existing
ones use three-hour slots from 2026-01-05; a new case takes a free slot after the last one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trailforensics.hunt.model import Detection, DetectionError, normalize_severity

CASES_SUFFIX = ".cases.jsonl"
EXPECTATIONS = ("hit", "no_hit")


@dataclass
class DetectionCase:
    """One scenario of a detection: its records and the event ids it must and must not report."""

    detection: str
    name: str
    records: list[dict[str, Any]] = field(default_factory=list)
    hits: list[str] = field(default_factory=list)  # event ids, in file order
    no_hits: list[str] = field(default_factory=list)
    severities: dict[str, str] = field(default_factory=dict)  # event id -> the hit's expected severity

    @property
    def id(self) -> str:
        return f"{self.detection}:{self.name}"


def cases_path(detection: Detection) -> Path:
    """``<id>.cases.jsonl`` beside the detection's ``<id>.sql``."""
    return detection.path.with_name(detection.id + CASES_SUFFIX)


def parse_cases(text: str, detection: str, where: str = "") -> list[DetectionCase]:
    """The cases of one file, in order of first appearance; raises ``DetectionError`` on a bad line."""
    cases: dict[str, DetectionCase] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        at = f"{where}:{number}"
        try:
            entry = json.loads(line)
        except ValueError as exc:
            raise DetectionError(f"{at}: not JSON: {exc}") from exc
        if not isinstance(entry, dict) or not isinstance(entry.get("record"), dict) or not entry.get("case"):
            raise DetectionError(f"{at}: expected an object with `case` and `record`")
        unknown = sorted(set(entry) - {"case", "expect", "severity", "record"})
        if unknown:
            raise DetectionError(f"{at}: unknown key(s) {', '.join(unknown)}")
        record, expect = entry["record"], entry.get("expect")
        event_id = record.get("eventID")
        if expect is not None and expect not in EXPECTATIONS:
            raise DetectionError(f"{at}: `expect` must be one of {', '.join(EXPECTATIONS)}, got {expect!r}")
        if expect and not event_id:
            raise DetectionError(f"{at}: a record with an expectation needs an eventID")
        if "severity" in entry and expect != "hit":
            raise DetectionError(f"{at}: `severity` only goes with `expect: hit`")
        case = cases.setdefault(entry["case"], DetectionCase(detection, str(entry["case"])))
        case.records.append(record)
        if expect == "hit":
            case.hits.append(event_id)
            if "severity" in entry:
                case.severities[event_id] = normalize_severity(str(entry["severity"]))
        elif expect == "no_hit":
            case.no_hits.append(event_id)
    return list(cases.values())


def load_cases(detections: list[Detection]) -> list[DetectionCase]:
    """The cases of ``detections`` (a detection without a cases file has none)."""
    out: list[DetectionCase] = []
    for det in detections:
        path = cases_path(det)
        if path.is_file():
            out += parse_cases(path.read_text(encoding="utf-8"), det.id, str(path))
    return out
