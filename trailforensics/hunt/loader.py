"""Loading detections: ``queries/detections/<id>.sql`` files with a named-query header.

The header is the one of named queries (:mod:`trailforensics.query.named`, parsed by its
``parse_query``) plus the hunting keys::

    -- id: cloudtrail_tampering
    -- title: CloudTrail trail stopped, deleted or weakened
    -- severity: high
    -- attack: T1562.008
    -- attack_v19: T1685.002
    -- events: cloudtrail.amazonaws.com:StopLogging, cloudtrail.amazonaws.com:DeleteTrail
    -- description: ...
    -- false_positives: ...
    -- references: https://..., https://...
    -- param: window_minutes int 10 | Length of the window

A key may be repeated on several lines (the values are joined).  Lists (``attack``,
``events``, ``references``) are separated by commas or white space.
"""

from __future__ import annotations

import re
from pathlib import Path

from trailforensics.hunt.model import (
    OPTIONAL_KEYS,
    REQUIRED_KEYS,
    Detection,
    DetectionError,
    normalize_severity,
)
from trailforensics.query.named import QueryError, builtin_dir, parse_query

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_ATTACK_RE = re.compile(r"^T\d{4}(\.\d{3})?$")
# eventSource:eventName, either side may use * (``*`` alone: any event)
_EVENT_RE = re.compile(r"^(\*|(\*|[a-z0-9.-]+\.amazonaws\.com):[A-Za-z0-9*]+)$")
_SPLIT_RE = re.compile(r"[,\s]+")


def builtin_detections_dir() -> Path:
    return builtin_dir() / "detections"


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in _SPLIT_RE.split(value.strip()) if v)


def parse_detection(text: str, path: Path) -> Detection:
    """Parse and validate one detection file; raises :class:`DetectionError`."""
    try:
        query = parse_query(text, path)
    except QueryError as exc:
        raise DetectionError(str(exc)) from exc
    meta = dict(query.meta)
    where = f"{path}"
    unknown = sorted(set(meta) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
    if unknown:
        raise DetectionError(f"{where}: unknown header key(s) {', '.join(unknown)}")
    missing = [k for k in REQUIRED_KEYS if not meta.get(k, "").strip()]
    if missing:
        raise DetectionError(f"{where}: missing required header key(s) {', '.join(missing)}")
    det_id = meta["id"].strip()
    if not _ID_RE.match(det_id):
        raise DetectionError(f"{where}: invalid id {det_id!r} (lower-case letters, digits and _)")
    if path.stem != det_id:
        raise DetectionError(f"{where}: the file must be named {det_id}.sql after its id")
    try:
        severity = normalize_severity(meta["severity"])
    except DetectionError as exc:
        raise DetectionError(f"{where}: {exc}") from exc
    attack = _split(meta["attack"])
    attack_v19 = _split(meta.get("attack_v19", ""))
    for tid in attack + attack_v19:
        if not _ATTACK_RE.match(tid):
            raise DetectionError(f"{where}: {tid!r} is not an ATT&CK technique id (T1234 or T1234.001)")
    events = _split(meta["events"])
    for ev in events:
        if not _EVENT_RE.match(ev):
            raise DetectionError(f"{where}: {ev!r} is not an eventSource:eventName pair")
    references = _split(meta["references"])
    for ref in references:
        if not ref.startswith(("https://", "http://")):
            raise DetectionError(f"{where}: reference {ref!r} is not a URL")
    return Detection(
        id=det_id,
        title=meta["title"].strip(),
        severity=severity,
        attack=attack,
        attack_v19=attack_v19,
        events=events,
        description=meta["description"].strip(),
        false_positives=meta["false_positives"].strip(),
        references=references,
        query=query,
    )


def load_detections(extra_dirs: list[Path] | None = None) -> list[Detection]:
    """The built-in detections, then those of ``extra_dirs`` (a later one with the same id replaces).

    Raises :class:`DetectionError` for the first invalid file.
    """
    dirs = [builtin_detections_dir(), *(Path(d) for d in (extra_dirs or []))]
    found: dict[str, Detection] = {}
    for d in dirs:
        if not d.is_dir():
            raise DetectionError(f"no such folder: {d}")
        for path in sorted(d.glob("*.sql")):
            det = parse_detection(path.read_text(encoding="utf-8"), path)
            found[det.id] = det
    return sorted(found.values(), key=lambda d: d.id)
