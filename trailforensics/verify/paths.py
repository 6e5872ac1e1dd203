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

from trailforensics.discovery import CLOUDTRAIL, DIGEST, INSIGHT, classify, source_root, walk_files

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
_LOG_TIME_RE = re.compile(r"_(\d{8}T\d{4})Z_")


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
    """Epoch seconds of a UTC date and time, None when it is not a valid one."""
    if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1] and h < 24 and mi < 60 and s < 61):
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


def log_name_time(name: str) -> int | None:
    """The minute in a log file's name (``..._20260310T0247Z_<rand>.json.gz``), as epoch seconds."""
    m = _LOG_TIME_RE.search(name)
    if not m:
        return None
    return compact_time(m.group(1))


@dataclass
class TreeFile:
    rel: str  # relative to the root, "/"-separated
    size: int
    kind: str  # cloudtrail | cloudtrail-insight | cloudtrail-digest
    scope: str | None = None  # logs: the `.../CloudTrail/<region>` folder they are in
    account: str | None = None
    region: str | None = None
    time: int | None = None  # logs: the minute in the name


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
        if kind not in (CLOUDTRAIL, INSIGHT):
            continue
        m = LOG_SCOPE_RE.match(rel)
        name = rel.rsplit("/", 1)[-1]
        f = TreeFile(
            rel,
            size,
            kind,
            scope=m.group("scope") if m else None,
            account=meta.get("account_id"),
            region=meta.get("region"),
            time=log_name_time(name),
        )
        if kind == CLOUDTRAIL:
            logs[rel] = f
        else:
            insights.append(f)
    try:
        top = frozenset(e.name for e in os.scandir(root) if e.is_dir(follow_symlinks=False))
    except OSError:
        top = frozenset()
    digests.sort(key=lambda f: f.rel)
    return Tree(root=root, digests=digests, logs=logs, insights=insights, top_folders=top)


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
