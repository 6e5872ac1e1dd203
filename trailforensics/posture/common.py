"""Helpers shared by the posture modules: JSON fields, times, ARNs, display text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import orjson

from trailforensics.normalize.timeparse import format_time, parse_time

UTC = timezone.utc

# Global services log in us-east-1 (IAM, STS global endpoint, CloudFront, Organizations, Route 53...).
GLOBAL_SOURCES: frozenset[str] = frozenset(
    {
        "iam.amazonaws.com",
        "sts.amazonaws.com",
        "cloudfront.amazonaws.com",
        "organizations.amazonaws.com",
        "route53.amazonaws.com",
        "route53domains.amazonaws.com",
        "signin.amazonaws.com",
        "support.amazonaws.com",
        "health.amazonaws.com",
        "globalaccelerator.amazonaws.com",
        "shield.amazonaws.com",
        "waf.amazonaws.com",
        "budgets.amazonaws.com",
        "ce.amazonaws.com",
        "account.amazonaws.com",
        "billingconsole.amazonaws.com",
    }
)
GLOBAL_REGION = "us-east-1"


# The delivery location of a file: the folder holding AWSLogs/ (one per bucket when buckets are synced
# side by side), "AWSLogs" when the files were ingested from the AWSLogs folder itself.
def days_filter(days: Iterable[date], column: str = "event_date") -> str:
    """A filter on the partition column (DuckDB then opens only those days' files)."""
    return f"{column} IN (" + ", ".join(f"DATE '{d.isoformat()}'" for d in days) + ")"


LOCATION_SQL = "coalesce(nullif(regexp_extract(source_file, '^(.*?)/?AWSLogs/', 1), ''), 'AWSLogs')"


class _Unknown:
    """The value of a setting the logs never showed ("unknown", never a guess)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "unknown"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def loads(text: Any) -> Any:
    """A JSON column's value as Python (None when NULL or not JSON)."""
    if text is None:
        return None
    if isinstance(text, (dict, list)):
        return text
    try:
        return orjson.loads(text)
    except (orjson.JSONDecodeError, TypeError):
        return None


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def pick(obj: Any, *names: str) -> Any:
    """``obj[name]`` for the first name present, matched case-insensitively (None otherwise)."""
    if not isinstance(obj, dict):
        return None
    for name in names:
        if name in obj:
            return obj[name]
    lowered = {str(k).lower(): v for k, v in obj.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def as_list(value: Any) -> list[Any]:
    """A JSON value that may be one item or a list of items, as a list."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


_JAVA_RE = re.compile(r"^\s*([A-Z][a-z]{2})\s+(\d{1,2}),\s*(\d{4}),?\s+(\d{1,2}):(\d{2}):(\d{2})\s*([AP]M)\s*$", re.I)
_MONTHS = {
    m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))
}


def parse_any_time(value: Any) -> datetime | None:
    """ISO 8601 (also compact), epoch seconds/milliseconds, or Java's ``Mar 9, 2026, 3:12:00 PM`` (UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value)
    parsed = parse_time(text)
    if parsed is not None:
        return parsed
    m = _JAVA_RE.match(text)
    if not m:
        return None
    month = _MONTHS.get(m.group(1).lower())
    if month is None:
        return None
    hour = int(m.group(4)) % 12 + (12 if m.group(7).upper() == "PM" else 0)
    try:
        return datetime(int(m.group(3)), month, int(m.group(2)), hour, int(m.group(5)), int(m.group(6)), tzinfo=UTC)
    except ValueError:
        return None


def iso(value: datetime | None) -> str:
    return format_time(value) if value is not None else ""


def duration_text(seconds: float | None) -> str:
    """``51m 19s``, ``2h 03m``, ``3d 4h``."""
    if seconds is None:
        return ""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {(s % 3600) // 60:02d}m"
    return f"{s // 86400}d {(s % 86400) // 3600}h"


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse_arn(text: Any) -> Arn | None:
    if not isinstance(text, str) or not text.startswith("arn:"):
        return None
    parts = text.split(":", 5)
    if len(parts) < 6:
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def partition_of(*arns: Any) -> str:
    for a in arns:
        parsed = parse_arn(a)
        if parsed and parsed.partition:
            return parsed.partition
    return "aws"


def partition_of_region(region: str) -> str:
    """The partition a region belongs to (``cn-north-1`` -> ``aws-cn``)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def session_name_of(arn: str | None) -> str | None:
    """``arn:aws:sts::1:assumed-role/Role/session`` -> ``session``; federated-user names too."""
    parsed = parse_arn(arn)
    if not parsed or parsed.service != "sts":
        return None
    if parsed.resource.startswith("assumed-role/"):
        bits = parsed.resource.split("/", 2)
        return bits[2] if len(bits) == 3 else None
    if parsed.resource.startswith("federated-user/"):
        return parsed.resource.split("/", 1)[1]
    return None


def role_arn_of_session(arn: str | None) -> str | None:
    """The IAM role ARN behind an assumed-role session ARN."""
    parsed = parse_arn(arn)
    if not parsed or parsed.service != "sts" or not parsed.resource.startswith("assumed-role/"):
        return None
    role = parsed.resource.split("/")[1]
    return f"arn:{parsed.partition}:iam::{parsed.account}:role/{role}"


def ranked(counts: dict[str, int]) -> list[str]:
    """Every item, the most used first (then by name): a view that must cut the list keeps the
    items that carry the activity, and says how many it left out."""
    return [k for k, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def head_text(items: list[str], keep: int) -> str:
    """The first ``keep`` items and how many more there are (``a, b, +3 more``)."""
    shown = ", ".join(items[:keep])
    return shown + (f", +{len(items) - keep} more" if len(items) > keep else "")


def near(a: datetime | None, b: datetime | None, seconds: float) -> bool:
    return a is not None and b is not None and abs((a - b).total_seconds()) <= seconds


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
