"""The evidence tree: which files are digests, logs and Insights files, and where S3 keys live locally.

TREE is a folder of synced buckets (``TREE/<bucket>/[prefix/]AWSLogs/...``), a single bucket
dump (``TREE/[prefix/]AWSLogs/...``) or any folder inside one (then the folder holding
``AWSLogs`` is the root, as for ingest: ``source_file`` values are relative to it).  The key
grammar (digest and log names, scopes) is :mod:`trailforensics.awslogs`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from trailforensics.awslogs import (
    DAY,
    DIGEST_KEY_RE,
    DIGEST_NAME_RE,
    LOG_NAME_RE,
    LOG_SCOPE_RE,
    LOOSE_SCOPE_RE,
    DigestName,
    LogScope,
    compact_time,
    epoch,
    log_name_time,
    log_scope,
    parse_digest_key,
    parse_digest_name,
    parse_log_name,
)
from trailforensics.discovery import CANDIDATE, DIGEST, INSIGHT, KIND_LOG_FILE, classify, source_root, walk_files

# The key grammar lives in trailforensics.awslogs; these names stay importable from here.
__all__ = [
    "DAY",
    "DIGEST_KEY_RE",
    "DIGEST_NAME_RE",
    "LOG_NAME_RE",
    "LOG_SCOPE_RE",
    "LOOSE_SCOPE_RE",
    "DigestName",
    "Tree",
    "TreeFile",
    "compact_time",
    "delivery_time",
    "epoch",
    "folder_day",
    "guess_root",
    "join",
    "local_root",
    "log_name_time",
    "parse_digest_key",
    "parse_digest_name",
    "scan",
]


def folder_day(rel: str) -> int | None:
    """The UTC day of a log's ``Y/M/D`` folder, None when it is not directly in a valid one."""
    scope = log_scope(rel)
    return scope.day if scope else None


def delivery_time(rel: str) -> tuple[int | None, str | None]:
    """The delivery minute a log file's name gives, if CloudTrail could have written that file
    there, else (None, why): a name CloudTrail never gives, another account or region than its
    folder, or a day other than its date folder's."""
    scope = log_scope(rel)
    n = parse_log_name(rel.rsplit("/", 1)[-1])
    if scope is None or n is None:
        return None, "its name is not a CloudTrail log file name"
    if n.account != scope.account or n.region != scope.region:
        return None, f"its name is for account {n.account} region {n.region}, not its folder's"
    t = compact_time(n.minute)
    if t is None:
        return None, "the time in its name is not a valid date"
    day = scope.day
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
        loose = log_scope(rel)
        if kind == CANDIDATE and loose:
            # a file below a region's log folder but not in a date folder: not CloudTrail's, still a log-folder file
            kind, meta = KIND_LOG_FILE, {"account_id": loose.account, "region": loose.region}
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


def _log_file(rel: str, size: int, meta: dict[str, str | None], loose: LogScope | None) -> TreeFile:
    t, problem = delivery_time(rel)
    return TreeFile(
        rel,
        size,
        KIND_LOG_FILE,
        scope=loose.scope if loose else None,
        account=meta.get("account_id"),
        region=meta.get("region"),
        time=t,
        name_time=log_name_time(rel.rsplit("/", 1)[-1]),
        time_problem=problem,
        day=loose.day if loose else None,
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
