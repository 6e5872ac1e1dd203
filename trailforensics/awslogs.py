"""The AWSLogs object-key grammar: the one module that knows how CloudTrail names what it delivers.

A delivered object's key (and its path in a synced copy, where a bucket folder may come first)::

    [bucket/][prefix/]AWSLogs/[o-<org id>/]<account>/<folder>/<region>/<YYYY>/<MM>/<DD>/<name>

``<folder>`` is ``CloudTrail`` (log files), ``CloudTrail-Digest`` or ``CloudTrail-Insight``
(other services deliver under ``AWSLogs/<account>/<service>/`` too: not CloudTrail).  Names::

    log      <account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16 chars>.json.gz
    insight  <account>_CloudTrail-Insight_<region>_<YYYYMMDDTHHMMZ>_<16 chars>.json.gz
    digest   <account>_CloudTrail-Digest_<region>_<trail>_<home region>_<YYYYMMDDTHHMMSSZ>[_backfill].json.gz

Parsers return typed results (None when the text does not follow the grammar); builders give
the keys CloudTrail writes.  Times are UTC epoch seconds (``epoch``) or aware datetimes.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timezone

LOG_FOLDER = "CloudTrail"
DIGEST_FOLDER = "CloudTrail-Digest"
INSIGHT_FOLDER = "CloudTrail-Insight"
# kinds of a parsed key, by its folder
LOG, DIGEST, INSIGHT, OTHER = "log", "digest", "insight", "other"
_KINDS = {LOG_FOLDER: LOG, DIGEST_FOLDER: DIGEST, INSIGHT_FOLDER: INSIGHT}

_ORG = r"o-[a-z0-9]{10,32}"
REGION = r"[a-z]{2}(?:-[a-z0-9]+)+-\d+"

# Any file in a date folder of an AWSLogs tree: [...]/AWSLogs/[o-id/]<account>/<folder>/<region>/Y/M/D/<name>
_KEY_RE = re.compile(
    rf"(?:^|/)AWSLogs/(?:(?P<org>{_ORG})/)?(?P<account>[^/]+)/(?P<folder>[^/]+)/"
    r"(?P<region>[^/]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<name>[^/]+)$"
)
# The folder below the account, at any depth: [...]/AWSLogs/[o-id/]<account>/<folder>/
_FOLDER_RE = re.compile(rf"(?:^|/)AWSLogs/(?:{_ORG}/)?[^/]+/(?P<folder>[^/]+)/")
# The time in any delivered file's name (minutes, or seconds for digests)
_NAME_TIME_RE = re.compile(r"_(\d{8}T\d{4}(?:\d{2})?Z)(?:_|\.|$)")
# The minute in a log or Insights file's name
_LOG_TIME_RE = re.compile(r"_(\d{8}T\d{4})Z_")

# A digest's key: [prefix/]AWSLogs/[o-id/]<acct>/CloudTrail-Digest/<region>/Y/M/D/<digest name for acct, region>
DIGEST_KEY_RE = re.compile(
    rf"^(?P<root>(?:.*/)?AWSLogs/(?:(?P<org>{_ORG})/)?(?P<account>\d{{12}}))/CloudTrail-Digest/"
    rf"(?P<region>{REGION})/(?P<y>\d{{4}})/(?P<m>\d{{2}})/(?P<d>\d{{2}})/"
    r"(?P=account)_CloudTrail-Digest_(?P=region)_(?P<trail>.+)_(?P<home>" + REGION + r")_"
    r"(?P<ts>\d{8}T\d{6}Z)(?P<backfill>_backfill)?\.json\.gz$"
)
# A digest's file name alone (head-object files and signature entries may give only that)
DIGEST_NAME_RE = re.compile(
    rf"^(?P<account>\d{{12}})_CloudTrail-Digest_(?P<region>{REGION})_(?P<trail>.+)_(?P<home>{REGION})_"
    r"(?P<ts>\d{8}T\d{6}Z)(?P<backfill>_backfill)?\.json\.gz$"
)
# A digest name anywhere in a text (an S3 key in an event): lenient on the region and the account's position.
_DIGEST_TRAIL_RE = re.compile(
    r"\d{12}_CloudTrail-Digest_[a-z0-9-]+_(.+)_([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)_"
    r"\d{8}T\d{6}Z\.json\.gz$"
)
# The folder of a log or Insights file in a date folder: [...]/AWSLogs/[o-id/]<acct>/<folder>/<region>/Y/M/D/<name>
LOG_SCOPE_RE = re.compile(
    rf"^(?P<scope>(?:.*/)?AWSLogs/(?:(?P<org>{_ORG})/)?(?P<account>[^/]+)/(?P<service>CloudTrail|"
    r"CloudTrail-Insight)/(?P<region>[^/]+))/\d{4}/\d{2}/\d{2}/(?P<name>[^/]+)$"
)
# Any file below a region folder of the CloudTrail log tree, date folders or not
LOOSE_SCOPE_RE = re.compile(
    rf"^(?P<scope>(?:.*/)?AWSLogs/(?:(?P<org>{_ORG})/)?(?P<account>[^/]+)/CloudTrail/(?P<region>[^/]+))/"
    r"(?P<rest>.+)$"
)
_DATE_FOLDER_RE = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/[^/]+$")
# The only names CloudTrail gives log files
LOG_NAME_RE = re.compile(
    rf"^(?P<account>\d{{12}})_CloudTrail_(?P<region>{REGION})_(?P<ts>\d{{8}}T\d{{4}})Z_[A-Za-z0-9]{{16}}\.json\.gz$"
)
# An object key of a CloudTrail log, digest or Insights file (with or without a key prefix)
CLOUDTRAIL_KEY = re.compile(
    r"(?:^|/)AWSLogs/(?:.+/)?CloudTrail(?:-Digest|-Insight)?/|_CloudTrail(?:-Digest|-Insight)?_[a-z0-9-]+_\d{8}T"
)
# A valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)
_BUCKET_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")

DAY = 86400


# -- times ---------------------------------------------------------------------------------


def epoch(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> int | None:
    """Epoch seconds of a UTC date and time, None when it is not a valid one (year 0 included:
    the calendar functions raise on it)."""
    if not (1 <= y <= 9999 and 1 <= mo <= 12 and h < 24 and mi < 60 and s < 61):
        return None
    if not 1 <= d <= calendar.monthrange(y, mo)[1]:
        return None
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))


def compact_time(text: str) -> int | None:
    """``YYYYMMDDTHHMM[SS]`` (the times in object keys)."""
    if len(text) not in (13, 15) or text[8] != "T" or not (text[:8] + text[9:]).isdigit():
        return None
    sec = int(text[13:15]) if len(text) == 15 else 0
    return epoch(int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[9:11]), int(text[11:13]), sec)


def file_time(name: str) -> datetime | None:
    """The time in a delivered file's name (``..._20260310T0215Z_...``, digests with seconds), UTC."""
    m = _NAME_TIME_RE.search(name)
    if not m:
        return None
    text = m.group(1)
    fmt = "%Y%m%dT%H%M%SZ" if len(text) == 16 else "%Y%m%dT%H%MZ"
    try:
        return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def log_name_time(name: str) -> int | None:
    """The minute in a log file's name (``..._20260310T0247Z_<rand>.json.gz``), as epoch seconds."""
    m = _LOG_TIME_RE.search(name)
    if not m:
        return None
    return compact_time(m.group(1))


# -- paths ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPath:
    """A file in a date folder of an AWSLogs tree, as its path names it (nothing validated
    beyond the shape: the account, region and date are the folder names as they are)."""

    org_id: str | None
    account: str
    folder: str  # CloudTrail, CloudTrail-Digest, CloudTrail-Insight, or another service's
    region: str
    year: str
    month: str
    day: str
    name: str

    @property
    def kind(self) -> str:
        """``log``, ``digest``, ``insight`` or ``other`` (another service's delivery)."""
        return _KINDS.get(self.folder, OTHER)

    @property
    def day_epoch(self) -> int | None:
        """The UTC day of the date folder, None when it is not a valid date."""
        return epoch(int(self.year), int(self.month), int(self.day))


def parse_path(path: str) -> KeyPath | None:
    """The AWSLogs fields of a key or tree path (anything may come before ``AWSLogs/``)."""
    m = _KEY_RE.search(path)
    if m is None:
        return None
    return KeyPath(m["org"], m["account"], m["folder"], m["region"], m["y"], m["m"], m["d"], m["name"])


def service_folder(path: str) -> str | None:
    """The folder below the account (``CloudTrail``, ``elasticloadbalancing``...) at any depth."""
    m = _FOLDER_RE.search(path)
    return m["folder"] if m else None


@dataclass(frozen=True)
class LogScope:
    """A file below a region folder of the CloudTrail log tree (date folders or not)."""

    scope: str  # ``[...]/AWSLogs/[o-id/]<acct>/CloudTrail/<region>``
    org_id: str | None
    account: str
    region: str
    rest: str  # the path below the region folder

    @property
    def day(self) -> int | None:
        """The UTC day of its ``Y/M/D`` folder, None when it is not directly in a valid one."""
        d = _DATE_FOLDER_RE.match(self.rest)
        return epoch(int(d.group(1)), int(d.group(2)), int(d.group(3))) if d else None


def log_scope(rel: str) -> LogScope | None:
    m = LOOSE_SCOPE_RE.match(rel)
    return LogScope(m["scope"], m["org"], m["account"], m["region"], m["rest"]) if m else None


@dataclass(frozen=True)
class LogName:
    account: str
    region: str
    minute: str  # ``YYYYMMDDTHHMM`` as written (``compact_time`` validates it)


def parse_log_name(name: str) -> LogName | None:
    """A log file name exactly as CloudTrail writes them, else None."""
    m = LOG_NAME_RE.match(name)
    return LogName(m["account"], m["region"], m["ts"]) if m else None


@dataclass(frozen=True)
class DigestName:
    account: str
    org_id: str | None
    region: str
    trail: str
    home_region: str
    end: int  # the timestamp in the key (the digest end time)
    backfill: bool
    account_root: str  # ``[prefix/]AWSLogs/[o-id/]<acct>``

    def log_scope(self) -> str:
        return f"{self.account_root}/{LOG_FOLDER}/{self.region}"


def parse_digest_key(key: str) -> DigestName | None:
    """A digest's object key (or tree path): it must be in its own account's and region's folder."""
    m = DIGEST_KEY_RE.match(key)
    if not m:
        return None
    end = compact_time(m.group("ts")[:-1])
    if end is None:
        return None
    return DigestName(m["account"], m["org"], m["region"], m["trail"], m["home"], end, bool(m["backfill"]), m["root"])


def parse_digest_name(text: str) -> DigestName | None:
    """A digest object key, tree path or bare file name (``account_root`` is empty for a bare name)."""
    if "AWSLogs/" in text:
        return parse_digest_key(text)
    m = DIGEST_NAME_RE.match(text.rsplit("/", 1)[-1])
    end = compact_time(m.group("ts")[:-1]) if m else None
    if m is None or end is None:
        return None
    return DigestName(m["account"], None, m["region"], m["trail"], m["home"], end, bool(m["backfill"]), "")


def digest_trail(key: str) -> tuple[str, str] | None:
    """(trail name, home region) a digest file's key or name shows, leniently, else None."""
    m = _DIGEST_TRAIL_RE.search(key)
    return (m.group(1), m.group(2)) if m else None


def is_cloudtrail_key(key: str) -> bool:
    """Whether an S3 key is (or names) a CloudTrail log, digest or Insights file."""
    return CLOUDTRAIL_KEY.search(key) is not None


def is_bucket_name(name: str) -> bool:
    """Whether a folder name is a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)."""
    return _BUCKET_NAME_RE.match(name) is not None


# -- builders ------------------------------------------------------------------------------


def _compact(t: int, seconds: bool) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y%m%dT%H%M%SZ" if seconds else "%Y%m%dT%H%MZ")


def account_root(account: str, org_id: str | None = None, prefix: str = "") -> str:
    """``[prefix/]AWSLogs/[o-id/]<account>``."""
    parts = [prefix.strip("/"), "AWSLogs", org_id, account]
    return "/".join(p for p in parts if p)


def day_folder(t: int) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y/%m/%d")


def log_key(account: str, region: str, minute: int, suffix: str, *, org_id: str | None = None, prefix: str = "") -> str:
    """The key CloudTrail gives a log file delivered at ``minute`` (``suffix``: its 16 random chars)."""
    name = f"{account}_CloudTrail_{region}_{_compact(minute, False)}_{suffix}.json.gz"
    return f"{account_root(account, org_id, prefix)}/{LOG_FOLDER}/{region}/{day_folder(minute)}/{name}"


def digest_key(
    account: str,
    region: str,
    trail: str,
    home_region: str,
    end: int,
    *,
    org_id: str | None = None,
    prefix: str = "",
    backfill: bool = False,
) -> str:
    """The key CloudTrail gives the digest of ``region``'s logs whose window ends at ``end``."""
    tail = "_backfill" if backfill else ""
    name = f"{account}_CloudTrail-Digest_{region}_{trail}_{home_region}_{_compact(end, True)}{tail}.json.gz"
    return f"{account_root(account, org_id, prefix)}/{DIGEST_FOLDER}/{region}/{day_folder(end)}/{name}"
