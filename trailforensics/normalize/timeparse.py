"""Parsing and formatting CloudTrail times.  UTC everywhere; never local time."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pyarrow as pa

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
        try:
            dt = dt - sign * offset
        except OverflowError:  # 0001-01-01T00:30+01:00 is before year 1 in UTC: not a usable time
            return None
    return dt


def format_time(dt: datetime) -> str:
    """ISO 8601 UTC with Z; microseconds only when present."""
    dt = dt.astimezone(UTC)
    # Explicit padding: strftime("%Y") does not zero-pad years before 1000 on glibc.
    text = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    return text + (f".{dt.microsecond:06d}Z" if dt.microsecond else "Z")


def _canonical_micros(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised parse of ``YYYY-MM-DDTHH:MM:SSZ`` texts (the form CloudTrail writes).

    Returns (epoch microseconds, ok mask).  A value is ok only if it has exactly that form
    and is a real calendar time (so 2026-02-30 is not ok and goes to the careful parser).
    """
    n = len(arr)
    micros = np.zeros(n, np.int64)
    ok = np.zeros(n, bool)
    if arr.type != pa.string() or not n:
        return micros, ok
    offsets = np.frombuffer(arr.buffers()[1], np.int32, n + 1, arr.offset * 4)
    lengths = np.diff(offsets)
    valid = lengths == 20
    if arr.null_count:
        valid &= np.asarray(arr.is_valid())
    rows = np.flatnonzero(valid)
    if not len(rows):
        return micros, ok
    data = np.frombuffer(arr.buffers()[2], np.uint8)
    starts = offsets[rows]
    chars = data[starts[:, None] + np.arange(20)]  # (rows, 20)
    digits = chars.astype(np.int64) - 48
    pos = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
    good = np.all((digits[:, pos] >= 0) & (digits[:, pos] <= 9), axis=1)
    good &= (chars[:, 4] == 45) & (chars[:, 7] == 45) & (chars[:, 10] == 84) & (chars[:, 13] == 58)
    good &= (chars[:, 16] == 58) & (chars[:, 19] == 90)
    y = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    mo = digits[:, 5] * 10 + digits[:, 6]
    d = digits[:, 8] * 10 + digits[:, 9]
    hh = digits[:, 11] * 10 + digits[:, 12]
    mi = digits[:, 14] * 10 + digits[:, 15]
    ss = digits[:, 17] * 10 + digits[:, 18]
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    month_len = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(mo - 1, 0, 11)] + (leap & (mo == 2))
    good &= (mo >= 1) & (mo <= 12) & (d >= 1) & (d <= month_len) & (hh <= 23) & (mi <= 59) & (ss <= 59) & (y >= 1)
    # days from civil (Howard Hinnant's algorithm), vectorised
    yy = y - (mo <= 2)
    era = np.floor_divide(yy, 400)
    yoe = yy - era * 400
    mp = (mo + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    micros[rows] = ((days * 86400) + hh * 3600 + mi * 60 + ss) * 1_000_000
    ok[rows] = good
    return micros, ok


def parse_time_array(
    arr: pa.Array, canonical: Callable[[Any, Any, int, int], tuple[bytes, bytes]] | None = None
) -> tuple[pa.Array, list[int]]:
    """Vectorised parse of a string column of times.

    Returns the timestamp array and the indexes of non-NULL inputs whose text is not the
    canonical ``YYYY-MM-DDTHH:MM:SSZ`` form (their original text must be preserved).
    ``canonical`` is the C twin of :func:`_canonical_micros` (``_native.iso_micros``).
    """
    if canonical is not None and arr.type == pa.string():
        buffers = arr.buffers()
        raw_micros, raw_ok = canonical(buffers[1], buffers[2], len(arr), arr.offset)
        micros = np.frombuffer(raw_micros, np.int64).copy()
        ok = np.frombuffer(raw_ok, np.bool_).copy()
        if arr.null_count:
            ok &= np.asarray(arr.is_valid())
    else:
        micros, ok = _canonical_micros(arr)
    present = np.asarray(arr.is_valid()) if arr.null_count else np.ones(len(arr), bool)
    odd = np.flatnonzero(present & ~ok).tolist()
    if odd:
        texts = arr.take(pa.array(odd, pa.int64())).to_pylist()
        for i, text in zip(odd, texts):
            dt = parse_time(text)
            if dt is not None:
                micros[i] = int(dt.timestamp()) * 1_000_000 + dt.microsecond
                ok[i] = True
    result = pa.Array.from_buffers(
        TIMESTAMP, len(arr), [_bitmap(ok), pa.py_buffer(micros)], null_count=int((~ok).sum())
    )
    return result, odd


def _bitmap(mask: np.ndarray) -> pa.Buffer | None:
    if mask.all():
        return None
    return pa.py_buffer(np.packbits(mask, bitorder="little"))
