"""Time formatting in the styles CloudTrail records use (all UTC, no wall clock)."""

from __future__ import annotations

import calendar
import time
from datetime import datetime, timezone
from functools import lru_cache

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=1 << 16)
def iso(t: int) -> str:
    """`2026-03-09T10:15:00Z`, the eventTime format."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def compact_min(t: int) -> str:
    """`20260309T1015Z`, the timestamp of log file names."""
    return time.strftime("%Y%m%dT%H%MZ", time.gmtime(t))


def compact_sec(t: int) -> str:
    """`20260309T101500Z`, the timestamp of digest file names."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def date_path(t: int) -> str:
    """`2026/03/09`, the date folders of the S3 layout."""
    return time.strftime("%Y/%m/%d", time.gmtime(t))


def java_date(t: int, comma: bool = True) -> str:
    """Java `toString` style used inside responseElements.

    STS writes ``Mar 9, 2026, 3:12:00 PM`` (comma after the year), IAM writes
    ``Mar 9, 2026 3:12:00 PM``.
    """
    g = time.gmtime(t)
    hour = g.tm_hour % 12 or 12
    ampm = "AM" if g.tm_hour < 12 else "PM"
    sep = ", " if comma else " "
    return f"{MONTHS[g.tm_mon - 1]} {g.tm_mday}, {g.tm_year}{sep}{hour}:{g.tm_min:02d}:{g.tm_sec:02d} {ampm}"


def parse_iso(s: str) -> int:
    """Epoch seconds of an ISO 8601 UTC string (`Z` or `+00:00`)."""
    dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def to_epoch(dt: datetime) -> int:
    if dt.tzinfo is None:
        return calendar.timegm(dt.timetuple())
    return int(dt.timestamp())


def from_epoch(t: int) -> datetime:
    return datetime.fromtimestamp(t, tz=timezone.utc)
