"""Where each log file a digest lists lies in the tree (found) or should lie (missing).

A `logFiles` entry is resolved against the tree's layout: its bucket as a top folder, the bare
key, or the key under the digest's own bucket root.  Entries whose key or bucket could escape the
bucket (absolute, `..`, backslashes, NUL) are not followed: the digest gets a format problem.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from trailforensics.verify import model as m
from trailforensics.verify.digests import HASH_ALGORITHM, Digest
from trailforensics.verify.paths import Tree, join


@dataclass
class Listing:
    """One `logFiles` entry of a digest: the hash it records and the object it names."""

    digest: Digest
    expected: str | None
    bucket: str | None
    key: str


def _unsafe(text: str) -> bool:
    return (
        not text
        or text.startswith("/")
        or "\\" in text
        or "\x00" in text
        or any(part in ("..", ".") for part in text.split("/"))
    )


def resolve_listings(digests: list[Digest], scanned: Tree) -> tuple[dict[str, list[Listing]], dict[str, list[Listing]]]:
    """Where each listed log is in the tree (found) or should be (missing)."""
    listings: dict[str, list[Listing]] = defaultdict(list)
    missing: dict[str, list[Listing]] = defaultdict(list)
    exists_cache: dict[str, bool] = {}

    def exists(rel: str) -> bool:
        if rel in scanned.logs:
            return True
        if rel not in exists_cache:
            exists_cache[rel] = scanned.path(rel).is_file()
        return exists_cache[rel]

    for d in digests:
        entries = d.doc.get("logFiles") if d.doc is not None else None
        if not isinstance(entries, list):
            continue
        bad = 0
        for entry in entries:
            key = entry.get("s3Object") if isinstance(entry, dict) else None
            bucket = entry.get("s3Bucket") if isinstance(entry, dict) else None
            if (
                not isinstance(key, str)
                or _unsafe(key)
                or (bucket is not None and (not isinstance(bucket, str) or _unsafe(bucket) or "/" in bucket))
            ):
                bad += 1
                continue
            assert isinstance(entry, dict)
            algo = entry.get("hashAlgorithm")
            expected = entry.get("hashValue") if isinstance(entry.get("hashValue"), str) else None
            if algo is not None and algo != HASH_ALGORITHM:
                d.problems.append((m.DIGEST_INVALID_FORMAT, f"logFiles entry {key} uses hashAlgorithm {algo!r}"))
                expected = None
            candidates: list[str] = []
            if bucket and bucket in scanned.top_folders:
                candidates.append(join(bucket, key))
            candidates.append(key)
            if bucket is None or bucket == d.bucket or not d.bucket:
                candidates.append(join(d.bucket_root, key))
            listing = Listing(d, expected, bucket, key)
            found = next((c for c in dict.fromkeys(candidates) if exists(c)), None)
            if found is not None:
                listings[found].append(listing)
            else:
                expected_rel = (
                    candidates[0]
                    if bucket and bucket in scanned.top_folders
                    else (join(d.bucket_root, key) if d.bucket_root else key)
                )
                missing[expected_rel].append(listing)
        if bad:
            d.problems.append(
                (
                    m.DIGEST_INVALID_FORMAT,
                    f"{bad} logFiles entr{'y has' if bad == 1 else 'ies have'} no usable s3Object/s3Bucket "
                    "(missing, or a path escaping the bucket)",
                )
            )
    return listings, missing
