"""Times given on the command line: ISO 8601 (UTC unless an offset is given) or relative."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from trailforensics.errors import TrailforensicsError
from trailforensics.normalize.timeparse import parse_time

_RELATIVE_RE = re.compile(r"^\s*-?(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|days|w|week|weeks)\s*$", re.I)
_UNITS = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "hr": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_DATE_RE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


class BadTime(TrailforensicsError, ValueError):
    pass


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """``2026-03-10T02:00:00Z``, ``2026-03-10``, ``2026-03-10 02:00``, or ``-7d``/``2h`` (that long ago)."""
    now = now or datetime.now(timezone.utc)
    m = _RELATIVE_RE.match(text)
    if m:
        try:
            return now - timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2).lower()])
        except (OverflowError, ValueError) as exc:
            raise BadTime(f"{text!r} reaches outside the calendar (years 1 to 9999)") from exc
    d = _DATE_RE.match(text)
    if d:
        try:
            return datetime(int(d.group(1)), int(d.group(2)), int(d.group(3)), tzinfo=timezone.utc)
        except ValueError as exc:
            raise BadTime(f"not a date: {text!r} ({exc})") from exc
    candidate = text.strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}$", candidate):
        candidate += ":00"
    parsed = parse_time(candidate)
    if parsed is None:
        raise BadTime(f"not a time: {text!r} (use ISO 8601 such as 2026-03-10T02:00:00Z, or -7d, 2h, 30m)")
    return parsed
