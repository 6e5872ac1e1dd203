"""The evidence tree: which files are digests, logs and Insights files, and where S3 keys live locally.

TREE is a folder of synced buckets (``TREE/<bucket>/[prefix/]AWSLogs/...``), a single bucket
dump (``TREE/[prefix/]AWSLogs/...``) or any folder inside one (then the folder holding
``AWSLogs`` is the root, as for ingest: ``source_file`` values are relative to it).
"""

from __future__ import annotations

import calendar
import os
import re
from dataclasses import dataclass
from pathlib import Path

from trailforensics.discovery import CANDIDATE, DIGEST, INSIGHT, KIND_LOG_FILE, classify, source_root, walk_files

_REGION = r"[a-z]{2}(?:-[a-z0-9]+)+-\d+"
# [prefix/]AWSLogs/[o-id/]<acct>/CloudTrail-Digest/<region>/Y/M/D/
#     <acct>_CloudTrail-Digest_<region>_<trail>_<home>_<ts>[_backfill].json.gz
DIGEST_KEY_RE = re.compile(
    r"^(?P<root>(?:.*/)?AWSLogs/(?:(?P<org>o-[a-z0-9]{10,32})/)?(?P<account>\d{12}))/CloudTrail-Digest/"
    rf"(?P<region>{_REGION})/(?P<y>\d{{4}})/(?P<m>\d{{2}})/(?P<d>\d{{2}})/"
    r"(?P=account)_CloudTrail-Digest_(?P=region)_(?P<trail>.+)_(?P<home>" + _REGION + r")_"
    r"(?P<ts>\d{8}T\d{6}Z)(?P<backfill>_backfill)?\.json\.gz$"
)
# the folder of a log file: [...]/AWSLogs/[o-id/]<acct>/CloudTrail/<region>/Y/M/D/<name>
LOG_SCOPE_RE = re.compile(
    r"^(?P<scope>(?:.*/)?AWSLogs/(?:(?P<org>o-[a-z0-9]{10,32})/)?(?P<account>[^/]+)/(?P<service>CloudTrail|"
    r"CloudTrail-Insight)/(?P<region>[^/]+))/\d{4}/\d{2}/\d{2}/(?P<name>[^/]+)$"
)
# any file below a region folder of the CloudTrail log tree, date folders or not
LOOSE_SCOPE_RE = re.compile(
    r"^(?P<scope>(?:.*/)?AWSLogs/(?:(?P<org>o-[a-z0-9]{10,32})/)?(?P<account>[^/]+)/CloudTrail/(?P<region>[^/]+))/"
    r"(?P<rest>.+)$"
)
_DATE_FOLDER_RE = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/[^/]+$")
_LOG_TIME_RE = re.compile(r"_(\d{8}T\d{4})Z_")
# the only names CloudTrail gives log files: <acct>_CloudTrail_<region>_<YYYYMMDDTHHmm>Z_<16 chars>.json.gz
LOG_NAME_RE = re.compile(
    rf"^(?P<account>\d{{12}})_CloudTrail_(?P<region>{_REGION})_(?P<ts>\d{{8}}T\d{{4}})Z_[A-Za-z0-9]{{16}}\.json\.gz$"
)
# a digest's file name alone (head-object files and signature entries may give only that)
DIGEST_NAME_RE = re.compile(
    rf"^(?P<account>\d{{12}})_CloudTrail-Digest_(?P<region>{_REGION})_(?P<trail>.+)_(?P<home>{_REGION})_"
    r"(?P<ts>\d{8}T\d{6}Z)(?P<backfill>_backfill)?\.json\.gz$"
)
DAY = 86400


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
        return f"{self.account_root}/CloudTrail/{self.region}"


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


def parse_digest_key(key: str) -> DigestName | None:
    m = DIGEST_KEY_RE.match(key)
    if not m:
        return None
    end = compact_time(m.group("ts")[:-1])
    if end is None:
        return None
    return DigestName(
        m.group("account"),
        m.group("org"),
        m.group("region"),
        m.group("trail"),
        m.group("home"),
        end,
        bool(m.group("backfill")),
        m.group("root"),
    )


def parse_digest_name(text: str) -> DigestName | None:
    """A digest object key, tree path or bare file name (``account_root`` is empty for a bare name)."""
    if "AWSLogs/" in text:
        return parse_digest_key(text)
    m = DIGEST_NAME_RE.match(text.rsplit("/", 1)[-1])
    end = compact_time(m.group("ts")[:-1]) if m else None
    if m is None or end is None:
        return None
    return DigestName(
        m.group("account"),
        None,
        m.group("region"),
        m.group("trail"),
        m.group("home"),
        end,
        bool(m.group("backfill")),
        "",
    )


def log_name_time(name: str) -> int | None:
    """The minute in a log file's name (``..._20260310T0247Z_<rand>.json.gz``), as epoch seconds."""
    m = _LOG_TIME_RE.search(name)
    if not m:
        return None
    return compact_time(m.group(1))


def folder_day(rel: str) -> int | None:
    """The UTC day of a log's ``Y/M/D`` folder, None when it is not directly in a valid one."""
    m = LOOSE_SCOPE_RE.match(rel)
    d = _DATE_FOLDER_RE.match(m.group("rest")) if m else None
    return epoch(int(d.group(1)), int(d.group(2)), int(d.group(3))) if d else None


def delivery_time(rel: str) -> tuple[int | None, str | None]:
    """The delivery minute a log file's name gives, if CloudTrail could have written that file
    there, else (None, why): a name CloudTrail never gives, another account or region than its
    folder, or a day other than its date folder's."""
    m = LOOSE_SCOPE_RE.match(rel)
    name = rel.rsplit("/", 1)[-1]
    n = LOG_NAME_RE.match(name)
    if m is None or n is None:
        return None, "its name is not a CloudTrail log file name"
    if n.group("account") != m.group("account") or n.group("region") != m.group("region"):
        return None, f"its name is for account {n.group('account')} region {n.group('region')}, not its folder's"
    t = compact_time(n.group("ts"))
    if t is None:
        return None, "the time in its name is not a valid date"
    day = folder_day(rel)
    if day is None:
        return None, "it is not in a YYYY/MM/DD folder"
    if not day <= t < day + DAY:
        return None, "the date in its name differs from its YYYY/MM/DD folder"
    return t, None


@dataclass
class TreeFile:
    rel: str  # relative to the root, "/"-separated
    size: int
    kind: str  # cloudtrail | cloudtrail-insight | cloudtrail-digest
    scope: str | None = None  # logs: the `.../CloudTrail/<region>` folder they are in
    account: str | None = None
    region: str | None = None
    time: int | None = None  # logs: the delivery minute, when the name and folder are CloudTrail's (and plausible)
    name_time: int | None = None  # logs: any time the name shows, trusted or not (for reports)
    time_problem: str | None = None  # logs: why `time` is None
    day: int | None = None  # logs: the day of its YYYY/MM/DD folder


@dataclass
class Tree:
    root: Path
    digests: list[TreeFile]
    logs: dict[str, TreeFile]  # rel -> file (CloudTrail log files)
    insights: list[TreeFile]
    top_folders: frozenset[str]  # names of the root's sub-folders (candidate bucket folders)

    def path(self, rel: str) -> Path:
        return Path(os.path.join(self._root, rel) if os.sep == "/" else self.root.joinpath(*rel.split("/")))

    @property
    def _root(self) -> str:
        return str(self.root)


def _walk(root: Path, start: Path) -> list[tuple[str, int]]:
    """(path relative to root with "/" separators, size) of every file below start."""
    out: list[tuple[str, int]] = []
    rootlen = len(str(root).rstrip(os.sep)) + 1
    for path, entry in walk_files(start):
        try:
            size = entry.stat().st_size
        except OSError:
            continue
        out.append((path[rootlen:].replace(os.sep, "/"), size))
    return out


def scan(tree: Path) -> Tree:
    start = Path(tree).absolute()
    root = source_root(start)
    digests: list[TreeFile] = []
    logs: dict[str, TreeFile] = {}
    insights: list[TreeFile] = []
    for rel, size in _walk(root, start):
        kind, _reason, meta = classify(rel)
        if kind == DIGEST:
            if rel.endswith(".json.gz"):
                digests.append(TreeFile(rel, size, DIGEST, account=meta.get("account_id"), region=meta.get("region")))
            continue
        loose = LOOSE_SCOPE_RE.match(rel)
        if kind == CANDIDATE and loose:
            # a file below a region's log folder but not in a date folder: not CloudTrail's, still a log-folder file
            kind, meta = KIND_LOG_FILE, {"account_id": loose.group("account"), "region": loose.group("region")}
        if kind not in (KIND_LOG_FILE, INSIGHT):
            continue
        m = LOG_SCOPE_RE.match(rel)
        if kind == KIND_LOG_FILE:
            logs[rel] = _log_file(rel, size, meta, loose)
        else:
            name = rel.rsplit("/", 1)[-1]
            scope = m.group("scope") if m else None
            t = log_name_time(name)
            insights.append(
                TreeFile(rel, size, kind, scope, meta.get("account_id"), meta.get("region"), time=t, name_time=t)
            )
    try:
        top = frozenset(e.name for e in os.scandir(root) if e.is_dir(follow_symlinks=False))
    except OSError:
        top = frozenset()
    digests.sort(key=lambda f: f.rel)
    return Tree(root=root, digests=digests, logs=logs, insights=insights, top_folders=top)


def _log_file(rel: str, size: int, meta: dict[str, str | None], loose: re.Match[str] | None) -> TreeFile:
    t, problem = delivery_time(rel)
    return TreeFile(
        rel,
        size,
        KIND_LOG_FILE,
        scope=loose.group("scope") if loose else None,
        account=meta.get("account_id"),
        region=meta.get("region"),
        time=t,
        name_time=log_name_time(rel.rsplit("/", 1)[-1]),
        time_problem=problem,
        day=folder_day(rel),
    )


def local_root(rel: str, claimed_key: str) -> str | None:
    """The tree-relative bucket root a digest at `rel` lies under if it is where `claimed_key` says
    (``""`` for the tree root itself), else None (the digest was moved)."""
    if rel == claimed_key:
        return ""
    if rel.endswith("/" + claimed_key):
        return rel[: -len(claimed_key) - 1]
    return None


def guess_root(rel: str) -> str:
    """For a digest not where it claims to be: the folder above its ``[prefix/]AWSLogs`` part, at
    most one level below the tree root (a bucket folder)."""
    idx = rel.find("AWSLogs/")
    head = rel[:idx].strip("/") if idx > 0 else ""
    return head.split("/", 1)[0] if head else ""


def join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p)
