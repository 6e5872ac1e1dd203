"""Parsing and formatting CloudTrail times.  UTC everywhere; never local time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.compute as pc

from trailforensics.schema import TIMESTAMP

UTC = timezone.utc
CANONICAL_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

_TIME_RE = re.compile(
    r"^\s*(\d{4})-?(\d{2})-?(\d{2})[T ](\d{2}):?(\d{2}):?(\d{2})(?:[.,](\d{1,9}))?"
    r"\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


def parse_time(text: str | None) -> datetime | None:
    """Parse the time notations found in real logs; None when it is not a time."""
    if not text:
        return None
    m = _TIME_RE.match(text)
    if not m:
        return None
    year, month, day, hour, minute, second, frac, zone = m.groups()
    try:
        dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except ValueError:
        return None
    if frac:
        dt = dt.replace(microsecond=int(frac[:6].ljust(6, "0")))
    if zone and zone[0] in "+-":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        dt = dt - sign * offset
    return dt


def format_time(dt: datetime) -> str:
    """ISO 8601 UTC with Z; microseconds only when present."""
    dt = dt.astimezone(UTC)
    # Explicit padding: strftime("%Y") does not zero-pad years before 1000 on glibc.
    text = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    return text + (f".{dt.microsecond:06d}Z" if dt.microsecond else "Z")


def parse_time_array(arr: pa.Array) -> tuple[pa.Array, list[int]]:
    """Vectorised parse of a string column of times.

    Returns the timestamp array and the indexes of non-NULL inputs whose text is not the
    canonical ``YYYY-MM-DDTHH:MM:SSZ`` form (their original text must be preserved).
    """
    parsed = pc.strptime(arr, format=CANONICAL_FORMAT, unit="us", error_is_null=True).cast(TIMESTAMP)
    # Canonical only if formatting the parsed time gives back the same text (Arrow's
    # strptime rolls 2026-02-30 over to March 2).
    canonical = pc.fill_null(pc.equal(pc.strftime(parsed, format=CANONICAL_FORMAT), arr), False)
    n_canon = pc.sum(canonical).as_py() or 0
    if n_canon == len(arr) - arr.null_count:
        return parsed, []
    flags = canonical.to_pylist()
    texts = arr.to_pylist()
    odd = [i for i, flag in enumerate(flags) if not flag and texts[i] is not None]
    result = parsed.to_pylist()
    for i in odd:
        result[i] = parse_time(texts[i])
    return pa.array(result, TIMESTAMP), odd
