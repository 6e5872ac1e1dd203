"""`verify_tree`: every digest chain of a dump, every log file it lists, and what no digest lists.

Steps:

1. scan TREE: digest files, CloudTrail log files, Insights files (paths only);
2. read every digest (strict single-member gunzip, SHA-256 of the exact bytes, JSON);
   check format and location (a digest must be where its ``digestS3Object`` says);
3. group digests into chains by (account, region, trail, home region), backfill digests apart,
   order them by end time and link each to the predecessor it names: hash of the predecessor's
   bytes, forks, skipped (unlinked) digests, gaps (deleted digests, however many in a row:
   the hidden time range and an estimate of how many hourly digests it held), restarts
   (a null previous digest: logging or validation was stopped then started);
4. check signatures: each digest with its successor's ``previousDigestSignature`` and/or the
   S3-metadata signature from ``--signatures`` (the only source for the newest digest);
5. hash every log file a digest lists (worker processes for big trees; first gzip member
   only, anything after it is a finding) and compare with ``hashValue``;
6. every log file no digest lists: unreferenced when inside a chain's coverage (injected, or
   delivered while validation was off), otherwise unverified (no digest covers it); logs
   after a chain's newest digest reveal deleted newest digests;
7. per (scope, hour) coverage and per-chain summaries.
"""

from __future__ import annotations

import bisect
import math
import os
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trailforensics.verify import model as m
from trailforensics.verify.digests import HASH_ALGORITHM, Digest, check_signature, read_digest
from trailforensics.verify.hashing import HashResult, hash_files
from trailforensics.verify.keys import (
    KeyFileError,
    Keyring,
    load_public_keys,
    load_signatures,
    lookup_signature,
)
from trailforensics.verify.paths import LOG_SCOPE_RE, Tree, TreeFile, join, log_name_time, scan

HOUR = 3600
GRACE = 15 * 60  # digest delivery delay tolerated before a sibling chain's newer digests prove a deletion

ProgressFn = Callable[[str, int, int], None]
"""progress(event, files, nbytes): ("digests"|"logs", total files, total bytes) starts a phase,
("advance", files, bytes) reports work done, ("finish", 0, 0) ends."""


@dataclass
class _Chain:
    summary: m.ChainSummary
    digests: list[Digest] = field(default_factory=list)  # primary copies, in time order
    gaps: list[tuple[int, int]] = field(default_factory=list)  # ranges hidden by missing digests
    stops: list[tuple[int, int]] = field(default_factory=list)  # ranges between a chain end and its restart
    oldest_names_missing: bool = False
    _index: tuple[list[int], list[int], list[Digest]] | None = None

    def window(self, t0: int, t1: int, genuine: bool = False) -> Digest | None:
        """A digest of the chain whose window overlaps [t0, t1) (with a verified signature if `genuine`)."""
        if self._index is None:
            ws = sorted(
                (d for d in self.digests if d.start is not None and d.end is not None),
                key=lambda d: (d.start or 0, d.end or 0),
            )
            running, maxend = 0, []
            for d in ws:
                running = max(running, d.end or 0)
                maxend.append(running)
            self._index = ([d.start or 0 for d in ws], maxend, ws)
        starts, maxend, ws = self._index
        i = bisect.bisect_left(starts, t1) - 1
        while i >= 0 and maxend[i] > t0:
            d = ws[i]
            if (d.end or 0) > t0 and (not genuine or d.signature == m.SIG_VALID):
                return d
            i -= 1
        return None

    @property
    def start(self) -> int | None:
        return self.summary.first_start

    @property
    def end(self) -> int | None:
        return self.summary.last_end


@dataclass
class _Listing:
    digest: Digest
    expected: str | None
    bucket: str | None
    key: str


class _Run:
    def __init__(self, tree: Path, ring: Keyring, require_signatures: bool) -> None:
        self.tree_arg = tree
        self.ring = ring
        self.report = _empty_report(tree, require_signatures)
        self.per_chain_logs: dict[str, dict[str, int]] = {}

    def find(self, kind: str, message: str, **kw: Any) -> m.Finding:
        f = m.Finding(kind, message, **kw)
        self.report.findings.append(f)
        return f


def verify_tree(
    tree: Path | str,
    *,
    public_keys: Sequence[Path | str] = (),
    signatures: Sequence[Path | str] = (),
    workers: int | None = None,
    progress: ProgressFn | None = None,
    require_signatures: bool = False,
) -> m.VerifyReport:
    """Verify every digest chain and log file under `tree`; never raises for bad evidence."""
    started = time.perf_counter()
    tree = Path(tree)
    try:
        ring = load_public_keys([Path(p) for p in public_keys])
    except KeyFileError as exc:
        return _fatal(tree, str(exc), require_signatures)
    run = _Run(tree, ring, require_signatures)
    report = run.report
    if not tree.is_dir():
        report.fatal = f"{tree} is not a folder"
        return report
    scanned = scan(tree)
    report.tree = str(scanned.root)
    sig_paths = [Path(p) for p in signatures]
    if not sig_paths:
        for candidate in (
            scanned.root / "_verification" / "digest-signatures.json",
            tree.absolute() / "_verification" / "digest-signatures.json",
        ):
            if candidate.is_file():
                sig_paths = [candidate]
                report.notes.append(
                    f"signatures read from {candidate} (found in the tree; signatures are not a "
                    "trust anchor, the public keys are)"
                )
                break
    try:
        book = load_signatures(sig_paths)
    except KeyFileError as exc:
        report.fatal = str(exc)
        return report
    report.notes.extend(book.problems)
    s = report.summary
    s.public_keys = len(ring)
    s.public_keys_rejected = len(ring.rejected)
    s.signatures_supplied = len(book)
    for source, stated, reason in ring.rejected:
        run.find(
            m.PUBLIC_KEY_REJECTED,
            f"public key {source} (fingerprint {stated or '?'}) refused: {reason}",
            details={"source": source, "fingerprint": stated},
        )

    # 2. digests
    if progress:
        progress("digests", len(scanned.digests), sum(f.size for f in scanned.digests))
    digests = []
    for f in scanned.digests:
        digests.append(read_digest(scanned.root, f, scanned.top_folders))
        if progress:
            progress("advance", 1, f.size)
    s.digests_found = len(digests)
    names: dict[str, int] = defaultdict(int)
    for d in digests:
        names[d.key.rsplit("/", 1)[-1]] += 1
    for d in digests:
        entry, problem = lookup_signature(
            book, key=d.key, bucket=d.bucket, rel=d.rel, same_name=names[d.key.rsplit("/", 1)[-1]]
        )
        if problem:
            report.notes.append(problem)
        if entry is not None:
            entry.used = True
            d.metadata_signature = entry.signature
            d.metadata_algorithm = entry.algorithm
            d.backfill_generated = entry.backfill_generated

    # 3. chains
    chains = _build_chains(run, digests, scanned)

    # 4. signatures
    for d in digests:
        check_signature(d, ring)
    _signature_findings(run, chains, digests)
    unused = [e for e in book.entries() if not e.used]
    if unused:
        run.find(
            m.SIGNATURE_ENTRY_UNUSED,
            f"{len(unused)} signature entr{'y' if len(unused) == 1 else 'ies'} match no digest in the tree",
            count=len(unused),
            details={"sources": [e.source for e in unused[:50]]},
        )

    # 5. logs listed by digests
    listings, missing = _resolve_listings(run, digests, scanned)
    items = [(str(scanned.path(rel)), _size(scanned, rel)) for rel in listings]
    if progress:
        progress("logs", len(items), sum(sz for _, sz in items))
    hashed = hash_files(items, workers=workers, progress=progress)
    if progress:
        progress("finish", 0, 0)
    s.bytes_hashed = sum(r.size for r in hashed.values())
    _log_results(run, scanned, chains, listings, missing, hashed)

    # 6. unlisted logs, newest/oldest missing digests
    listed_rels = set(listings)
    _unlisted(run, scanned, chains, listed_rels)

    # digest rows, findings per digest, chain summaries
    _digest_results(run, digests, chains)
    _coverage(run, scanned, chains, listed_rels)
    _summarise(run, chains, scanned)
    if not digests:
        report.fatal = (
            f"no CloudTrail digest files under {scanned.root}: nothing can be verified "
            "(log file validation off, or the CloudTrail-Digest folders were not synced)"
        )
    report.findings.sort(key=lambda f: (m.SEVERITY_ORDER[f.severity], f.kind, f.start or 0, f.files[:1]))
    s.seconds = round(time.perf_counter() - started, 3)
    return report


def _empty_report(tree: Path, require_signatures: bool, fatal: str | None = None) -> m.VerifyReport:
    return m.VerifyReport(
        tree=str(tree.absolute()),
        summary=m.Summary(),
        chains=[],
        findings=[],
        files=[],
        coverage=[],
        require_signatures=require_signatures,
        fatal=fatal,
    )


def _fatal(tree: Path, message: str, require_signatures: bool) -> m.VerifyReport:
    return _empty_report(tree, require_signatures, message)


def _size(scanned: Tree, rel: str) -> int:
    f = scanned.logs.get(rel)
    if f is not None:
        return f.size
    try:
        return os.path.getsize(scanned.path(rel))
    except OSError:
        return 0


def _chain_id(d: Digest) -> str | None:
    n = d.name
    if n is None:
        return None
    return f"{n.account} {n.region} {n.trail} (home {n.home_region}){' backfill' if n.backfill else ''}"


def _short(key: str) -> str:
    return key.rsplit("/", 1)[-1]


# -- 3. chains ---------------------------------------------------------------------------------------
def _build_chains(run: _Run, digests: list[Digest], scanned: Tree) -> dict[str, _Chain]:
    by_key: dict[str, list[Digest]] = defaultdict(list)
    for d in digests:
        by_key[d.key].append(d)
    for copies in by_key.values():
        if len(copies) > 1:
            copies.sort(key=lambda d: (any(k == m.DIGEST_MOVED for k, _ in d.problems), d.rel))
            for extra in copies[1:]:
                extra.primary = False
                if not any(k == m.DIGEST_MOVED for k, _ in extra.problems):
                    extra.problems.append((m.DIGEST_MOVED, f"a second copy of {extra.key} (also at {copies[0].rel})"))
    groups: dict[str, list[Digest]] = defaultdict(list)
    for d in digests:
        cid = _chain_id(d)
        d.chain = cid
        if cid is not None and d.primary and d.end is not None:
            groups[cid].append(d)
    chains: dict[str, _Chain] = {}
    for cid, ds in sorted(groups.items()):
        ds.sort(key=lambda d: (d.end or 0, d.key))
        n = ds[0].name
        assert n is not None
        c = _Chain(
            m.ChainSummary(
                chain=cid,
                bucket=ds[-1].bucket,
                account_id=n.account,
                region=n.region,
                trail=n.trail,
                home_region=n.home_region,
                backfill=n.backfill,
                scope=ds[-1].scope or "",
            ),
            ds,
        )
        c.summary.first_start = min((d.start if d.start is not None else d.end or 0) for d in ds)
        c.summary.last_end = max(d.end or 0 for d in ds)
        chains[cid] = c
        index = {d.key: d for d in ds}
        for i, d in enumerate(ds):
            q = ds[i - 1] if i else None
            if not d.readable:
                continue
            prev_key = d.prev_key
            if prev_key is None:
                if q is not None:
                    c.summary.restarts.append(d.start or d.end or 0)
                    if q.end is not None and d.start is not None and d.start > q.end:
                        c.stops.append((q.end, d.start))
                    hidden = (
                        f"; no digest covers {m.iso(q.end)} to {m.iso(d.start)}"
                        if q.end is not None and d.start is not None and d.start > q.end
                        else ""
                    )
                    run.find(
                        m.CHAIN_RESTART,
                        f"{cid}: the chain restarts at {m.iso(d.start)} (digest with null previousDigest*: "
                        f"logging or log file validation was stopped, then started){hidden}",
                        files=[d.rel],
                        chain=cid,
                        start=q.end,
                        end=d.start,
                        details={"restart": m.iso(d.start), "digest_key": d.key, "previous_digest": q.rel},
                    )
                continue
            pred = index.get(prev_key)
            if pred is not None and (pred.end or 0) <= (d.end or 0) and pred is not d:
                if pred.successors:
                    run.find(
                        m.CHAIN_FORK,
                        f"{cid}: {_short(pred.successors[0].key)} and {_short(d.key)} both name "
                        f"{_short(pred.key)} as their previous digest: one of them is not genuine",
                        files=[pred.successors[0].rel, d.rel],
                        chain=cid,
                        start=d.start,
                        end=d.end,
                    )
                pred.successors.append(d)
                d.predecessor = pred
                algo = d.field("previousDigestHashAlgorithm")
                if algo is not None and algo != HASH_ALGORITHM:
                    d.problems.append(
                        (
                            m.DIGEST_INVALID_FORMAT,
                            f"previousDigestHashAlgorithm is {algo!r}, not {HASH_ALGORITHM}",
                        )
                    )
                continue
            # the named predecessor is not in the tree
            if q is None:
                c.oldest_names_missing = True
                continue
            lo = q.end or 0
            hi = d.start if d.start is not None else (d.end or 0) - HOUR
            count = max(1, round((hi - lo) / HOUR))
            c.gaps.append((lo, hi))
            c.summary.gaps.append((lo, hi, count))
            c.summary.digests_missing += count
            expected_rel = join(d.bucket_root, prev_key)
            plural = "s" if count > 1 else ""
            run.find(
                m.DIGEST_MISSING,
                f"{cid}: {count} digest file{plural} missing (deleted?) between {_short(q.key)} and "
                f"{_short(d.key)}: nothing proves the logs of {m.iso(lo)} to {m.iso(hi)}; the newest missing "
                f"one is {prev_key}",
                files=[expected_rel],
                chain=cid,
                start=lo,
                end=hi,
                count=count,
                details={
                    "position": "middle",
                    "named_by": d.rel,
                    "previous_present": q.rel,
                    "missing_key": prev_key,
                },
            )
            run.report.files.append(
                m.FileResult(
                    source_file=expected_rel,
                    kind=m.DIGEST,
                    status=m.MISSING,
                    reason=f"named as previous digest by {_short(d.key)}; {count} digest(s) missing in "
                    f"{m.iso(lo)} to {m.iso(hi)}",
                    digest_key=prev_key,
                    bucket=d.field("previousDigestS3Bucket"),
                    object_key=prev_key,
                    account_id=c.summary.account_id,
                    region=c.summary.region,
                    trail=c.summary.trail,
                    expected_sha256=d.field("previousDigestHashValue"),
                    file_time=hi,
                    digest_end=hi,
                )
            )
        # the predecessor's bytes against the hash its successor(s) record (one genuine successor suffices)
        for d in ds:
            recorded = [(s, s.field("previousDigestHashValue")) for s in d.successors]
            if d.sha256 is not None and recorded and all(h != d.sha256 for _, h in recorded):
                s, h = recorded[0]
                d.problems.append(
                    (
                        m.DIGEST_HASH_MISMATCH,
                        f"its content (SHA-256 {d.sha256}) differs from the hash its successor "
                        f"{_short(s.key)} records ({h}): altered or replaced",
                    )
                )
        # digests the chain skips: not named by their successor in time, though it names another
        for i, d in enumerate(ds[:-1]):
            nxt = ds[i + 1]
            if (
                d.successor is None
                and nxt.readable
                and nxt.prev_key is not None
                and nxt.predecessor is not None
                and nxt.predecessor is not d
            ):
                d.problems.append(
                    (
                        m.DIGEST_UNLINKED,
                        f"not part of the chain: the next digest {_short(nxt.key)} names "
                        f"{_short(nxt.prev_key)} as its previous digest (injected or forged digest?)",
                    )
                )
    return chains


def _signature_findings(run: _Run, chains: dict[str, _Chain], digests: list[Digest]) -> None:
    by_chain: dict[str | None, list[Digest]] = defaultdict(list)
    for d in digests:
        if d.signature in (m.SIG_UNCHECKED_NO_KEYS, m.SIG_UNCHECKED_NO_SIGNATURE):
            by_chain[d.chain].append(d)
    for cid, ds in by_chain.items():
        c = chains.get(cid or "")
        newest = c.digests[-1] if c is not None and c.digests else None
        no_keys = [d for d in ds if d.signature == m.SIG_UNCHECKED_NO_KEYS]
        no_sig = [d for d in ds if d.signature == m.SIG_UNCHECKED_NO_SIGNATURE and d is newest]
        orphan = [d for d in ds if d.signature == m.SIG_UNCHECKED_NO_SIGNATURE and d is not newest]
        for group, why in (
            (no_keys, "no public keys supplied (--public-keys)"),
            (no_sig, "no signature known: newest digest of its chain, and --signatures has none for it"),
            (
                orphan,
                "no signature known: no digest names it as its predecessor (the next one is "
                "missing, or the chain restarted after it), and --signatures has none for it",
            ),
        ):
            if not group:
                continue
            n = len(group)
            run.find(
                m.SIGNATURE_UNCHECKED,
                f"{cid or 'digest'}: signature of {n} digest{'s' if n > 1 else ''} not checked: {why}",
                files=[d.rel for d in group[:20]],
                chain=cid,
                count=n,
                start=min((d.start or 0) for d in group),
                end=max((d.end or 0) for d in group),
            )


# -- 5. listed logs -----------------------------------------------------------------------------------
def _unsafe(text: str) -> bool:
    return (
        not text
        or text.startswith("/")
        or "\\" in text
        or "\x00" in text
        or any(part in ("..", ".") for part in text.split("/"))
    )


def _resolve_listings(
    run: _Run, digests: list[Digest], scanned: Tree
) -> tuple[dict[str, list[_Listing]], dict[str, list[_Listing]]]:
    listings: dict[str, list[_Listing]] = defaultdict(list)
    missing: dict[str, list[_Listing]] = defaultdict(list)
    exists_cache: dict[str, bool] = {}

    def exists(rel: str) -> bool:
        if rel in scanned.logs:
            return True
        if rel not in exists_cache:
            exists_cache[rel] = scanned.path(rel).is_file()
        return exists_cache[rel]

    for d in digests:
        if d.doc is None:
            continue
        entries = d.doc.get("logFiles") or []
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
            listing = _Listing(d, expected, bucket, key)
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


def _kind_of(rel: str) -> str:
    mt = LOG_SCOPE_RE.match(rel)
    return m.INSIGHT if mt and mt.group("service") == "CloudTrail-Insight" else m.LOG


def _log_row(
    rel: str,
    status: str,
    reason: str | None,
    lst: _Listing | None,
    scanned: Tree,
    actual: str | None = None,
    size: int | None = None,
) -> m.FileResult:
    mt = LOG_SCOPE_RE.match(rel)
    f = scanned.logs.get(rel)
    d = lst.digest if lst else None
    return m.FileResult(
        source_file=rel,
        kind=_kind_of(rel),
        status=status,
        reason=reason,
        digest_key=d.key if d else None,
        bucket=(lst.bucket if lst else None) or (d.bucket if d else None),
        object_key=lst.key if lst else _object_key(rel),
        account_id=mt.group("account") if mt else (f.account if f else None),
        region=mt.group("region") if mt else (f.region if f else None),
        trail=d.name.trail if d and d.name else None,
        expected_sha256=lst.expected if lst else None,
        actual_sha256=actual,
        file_time=f.time if f else log_name_time(rel.rsplit("/", 1)[-1]),
        digest_start=d.start if d else None,
        digest_end=d.end if d else None,
        size=size,
    )


def _object_key(rel: str) -> str:
    idx = rel.find("AWSLogs/")
    return rel[idx:] if idx >= 0 else rel


def _genuine_window(chains: dict[str, _Chain], f: TreeFile | None) -> Digest | None:
    """A digest with a verified signature, in the log's folder, whose window holds its delivery minute."""
    if f is None or f.time is None:
        return None
    for c in chains.values():
        if c.summary.scope == f.scope and not c.summary.backfill:
            d = _window_of(c, f.time, f.time + 60, genuine=True)
            if d is not None:
                return d
    return None


def _log_results(
    run: _Run,
    scanned: Tree,
    chains: dict[str, _Chain],
    listings: dict[str, list[_Listing]],
    missing: dict[str, list[_Listing]],
    hashed: dict[str, HashResult],
) -> None:
    report = run.report
    per_chain: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for rel, lsts in sorted(listings.items()):
        res = hashed[str(scanned.path(rel))]
        trusted = [x for x in lsts if x.digest.signature == m.SIG_VALID]
        primary = trusted[0] if trusted else lsts[0]
        mismatched = [x for x in lsts if x.expected != res.sha256]
        if res.error:
            status, reason = m.INVALID, f"unreadable: {res.error}"
            run.find(
                m.LOG_UNREADABLE,
                f"{rel}: {res.error} (listed by {_short(primary.digest.key)})",
                files=[rel],
                chain=primary.digest.chain,
                start=primary.digest.start,
                end=primary.digest.end,
            )
        elif res.trailing:
            what = (
                f"a second gzip member ({res.trailing:,} bytes)"
                if res.trailing_member
                else f"{res.trailing:,} bytes of other data"
            )
            first = "matches" if not mismatched else "does not match"
            status = m.INVALID
            reason = (
                f"{what} follows the first gzip member, whose content {first} the digest: appended after "
                "delivery (awscli ignores it, most readers parse it)"
            )
            run.find(
                m.LOG_TRAILING_DATA,
                f"{rel}: {reason}",
                files=[rel],
                chain=primary.digest.chain,
                start=primary.digest.start,
                end=primary.digest.end,
                details={
                    "trailing_bytes": res.trailing,
                    "gzip_member": res.trailing_member,
                    "first_member_matches": not mismatched,
                    "digest": primary.digest.rel,
                },
            )
        elif mismatched:
            bad = mismatched[0]
            status = m.INVALID
            reason = (
                f"SHA-256 of its content is {res.sha256}, digest {_short(bad.digest.key)} records "
                f"{bad.expected}: altered after delivery"
            )
            primary = bad
            run.find(
                m.LOG_HASH_MISMATCH,
                f"{rel}: {reason}",
                files=[rel],
                chain=bad.digest.chain,
                start=bad.digest.start,
                end=bad.digest.end,
                details={"expected": bad.expected, "actual": res.sha256, "digest": bad.digest.rel},
            )
        elif trusted:
            status, reason = m.VALID, None
        elif all(x.digest.signature in (m.SIG_INVALID, m.SIG_NO_KEY) for x in lsts) and (
            genuine := _genuine_window(chains, scanned.logs.get(rel))
        ):
            status = m.UNREFERENCED
            reason = (
                f"listed only by {_short(primary.digest.key)}, which is not genuine (signature "
                f"{primary.digest.signature}), inside the window of genuine digest {_short(genuine.key)} "
                f"({m.iso(genuine.start)} to {m.iso(genuine.end)}), which does not list it: injected"
            )
            run.report.summary.logs_unreferenced += 1
            run.find(
                m.LOG_UNREFERENCED,
                f"{rel}: {reason}",
                files=[rel],
                chain=genuine.chain,
                start=primary.digest.start,
                end=primary.digest.end,
            )
        else:
            sig = primary.digest.signature
            status = m.UNVERIFIED
            reason = (
                f"hash matches digest {_short(primary.digest.key)}, whose signature is {sig}"
                + (f" ({primary.digest.signature_note})" if primary.digest.signature_note else "")
                + ": the digest itself is not proven"
            )
        for x in lsts:
            if x.digest.chain:
                per_chain[x.digest.chain]["listed"] += 1
                per_chain[x.digest.chain][status] += 1
        report.files.append(_log_row(rel, status, reason, primary, scanned, res.sha256, res.size))
    for rel, lsts in sorted(missing.items()):
        lst = next((x for x in lsts if x.digest.signature == m.SIG_VALID), lsts[0])
        d = lst.digest
        reason = f"listed by digest {_short(d.key)} ({m.iso(d.start)} to {m.iso(d.end)}), not in the tree: deleted"
        run.find(
            m.LOG_MISSING,
            f"{rel}: {reason}",
            files=[rel],
            chain=d.chain,
            start=d.start,
            end=d.end,
            details={
                "digest": d.rel,
                "expected_sha256": lst.expected,
                "s3_bucket": lst.bucket,
                "s3_object": lst.key,
            },
        )
        for x in lsts:
            if x.digest.chain:
                per_chain[x.digest.chain]["listed"] += 1
                per_chain[x.digest.chain][m.MISSING] += 1
        report.files.append(_log_row(rel, m.MISSING, reason, lst, scanned))
    run.per_chain_logs = per_chain


# -- 6. logs no digest lists ----------------------------------------------------------------------------
def _in_any(t: int, ranges: list[tuple[int, int]]) -> tuple[int, int] | None:
    return next(((a, b) for a, b in ranges if a <= t < b), None)


def _window_of(c: _Chain, t0: int, t1: int, genuine: bool = False) -> Digest | None:
    return c.window(t0, t1, genuine)


class _Union:
    """A union of [a, b) ranges, queried for overlap in O(log n)."""

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for a, b in sorted(ranges):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        self.starts = [a for a, _ in merged]
        self.ends = [b for _, b in merged]

    def overlaps(self, a: int, b: int) -> bool:
        i = bisect.bisect_right(self.ends, a)
        return i < len(self.starts) and self.starts[i] < b


def _unlisted(run: _Run, scanned: Tree, chains: dict[str, _Chain], listed: set[str]) -> None:
    report = run.report
    std_by_scope: dict[str, list[_Chain]] = defaultdict(list)
    for c in chains.values():
        if not c.summary.backfill and c.summary.scope:
            std_by_scope[c.summary.scope].append(c)
    trailing: dict[str, list[TreeFile]] = defaultdict(list)
    before: dict[str, list[TreeFile]] = defaultdict(list)
    not_covered: dict[str, list[TreeFile]] = defaultdict(list)
    unreferenced = 0
    for rel, f in sorted(scanned.logs.items()):
        if rel in listed:
            continue
        cs = std_by_scope.get(f.scope or "", [])
        t = f.time
        if not cs or t is None:
            why = (
                "no digest chain covers "
                + (f.scope or rel.rsplit("/", 1)[0])
                + " (log file validation off for its trail, or its digests were not synced)"
                if t is not None or not cs
                else "no time in its file name"
            )
            report.files.append(_log_row(rel, m.UNVERIFIED, why, None, scanned, size=f.size))
            not_covered[_top(rel)].append(f)
            continue
        t1 = t + 60  # the name gives the delivery minute
        verdict: tuple[int, str, _Chain] | None = None
        for c in cs:
            if c.end is not None and t1 > c.end:
                cand = (2, "after", c)
            elif c.start is not None and t < c.start:
                cand = (3, "before", c)
            elif _window_of(c, t, t1) is not None:
                cand = (0, "window", c)
            elif _in_any(t, c.stops) is not None:
                cand = (0, "stopped", c)
            elif _in_any(t, c.gaps) is not None:
                cand = (1, "gap", c)
            else:
                cand = (0, "window", c)
            if verdict is None or cand[0] < verdict[0]:
                verdict = cand
        assert verdict is not None
        _, where, c = verdict
        if where == "window":
            d = _window_of(c, t, t1)
            inside = (
                f"inside the window of digest {_short(d.key)} ({m.iso(d.start)} to {m.iso(d.end)}), "
                "which does not list it"
                if d
                else f"inside the coverage of {c.summary.chain}"
            )
            reason = f"listed by no digest, {inside}: injected, or delivered while log file validation was off"
            unreferenced += 1
            report.files.append(_log_row(rel, m.UNREFERENCED, reason, None, scanned, size=f.size))
            run.find(m.LOG_UNREFERENCED, f"{rel}: {reason}", files=[rel], chain=c.summary.chain, start=t, end=t1)
        elif where == "stopped":
            a, b = _in_any(t, c.stops) or (0, 0)
            reason = (
                f"listed by no digest, delivered between {m.iso(a)} and {m.iso(b)} while {c.summary.chain} "
                "produced no digests (validation or logging off): injected, or delivered while validation "
                "was off"
            )
            report.files.append(_log_row(rel, m.UNREFERENCED, reason, None, scanned, size=f.size))
            run.find(m.LOG_UNREFERENCED, f"{rel}: {reason}", files=[rel], chain=c.summary.chain, start=t, end=t1)
        elif where == "gap":
            a, b = _in_any(t, c.gaps) or (0, 0)
            reason = f"delivered between {m.iso(a)} and {m.iso(b)}, where the digests of {c.summary.chain} are missing"
            report.files.append(_log_row(rel, m.UNVERIFIED, reason, None, scanned, size=f.size))
        elif where == "after":
            trailing[c.summary.chain].append(f)
            reason = (
                f"delivered after the newest digest of {c.summary.chain} (ends {m.iso(c.end)}): that digest "
                "is missing, or was not yet delivered when the dump was taken"
            )
            report.files.append(_log_row(rel, m.UNVERIFIED, reason, None, scanned, size=f.size))
        else:
            before[c.summary.chain].append(f)
            if c.oldest_names_missing:
                reason = (
                    f"delivered before the oldest digest of {c.summary.chain} present ({m.iso(c.start)}), "
                    "which names a previous digest missing from the tree"
                )
            else:
                not_covered[_top(rel)].append(f)
                reason = f"delivered before {c.summary.chain} starts ({m.iso(c.start)})"
            report.files.append(_log_row(rel, m.UNVERIFIED, reason, None, scanned, size=f.size))
    report.summary.logs_unreferenced += unreferenced
    _edge_missing(run, chains, trailing, before)
    for top, files in sorted(not_covered.items()):
        scopes = sorted({f.scope or "" for f in files})
        where = top or "the tree"
        run.find(
            m.LOGS_NOT_COVERED,
            f"{len(files)} log file{'s' if len(files) != 1 else ''} under {where} are covered by no digest "
            f"({len(scopes)} folder{'s' if len(scopes) != 1 else ''}): they cannot be verified",
            files=scopes[:50],
            count=len(files),
            start=min((f.time for f in files if f.time is not None), default=None),
            end=max((f.time + 60 for f in files if f.time is not None), default=None),
            details={"folders": scopes},
        )


def _top(rel: str) -> str:
    idx = rel.find("AWSLogs/")
    return rel[:idx].strip("/").split("/", 1)[0] if idx > 0 else ""


def _edge_missing(
    run: _Run,
    chains: dict[str, _Chain],
    trailing: dict[str, list[TreeFile]],
    before: dict[str, list[TreeFile]],
) -> None:
    """Deleted newest digests (logs after the chain's end, or sibling chains running on) and
    deleted oldest digests (logs before a start that names a missing predecessor)."""
    siblings: dict[tuple[str, str, str], int] = {}
    for c in chains.values():
        if c.summary.backfill or c.end is None:
            continue
        k = (c.summary.account_id, c.summary.trail, c.summary.home_region)
        siblings[k] = max(siblings.get(k, 0), c.end)
    for cid, c in chains.items():
        if c.summary.backfill or c.end is None or c.start is None:
            continue
        logs = trailing.get(cid, [])
        last_log = max(((f.time or 0) + 60 for f in logs), default=None)
        sib_end = siblings.get((c.summary.account_id, c.summary.trail, c.summary.home_region), 0)
        confirmed = sib_end > c.end + HOUR + GRACE
        if logs or confirmed:
            hi = max(last_log or 0, sib_end if confirmed else 0)
            count = max(math.ceil((hi - c.end) / HOUR), 1)
            evidence = []
            if logs:
                evidence.append(
                    f"{len(logs)} log file{'s' if len(logs) > 1 else ''} delivered after it, up to {m.iso(last_log)}"
                )
            if confirmed:
                evidence.append(f"other chains of trail {c.summary.trail} run on to {m.iso(sib_end)}")
            caveat = "" if confirmed else " (or the dump was taken before CloudTrail delivered it)"
            c.gaps.append((c.end, hi))
            c.summary.gaps.append((c.end, hi, count))
            c.summary.digests_missing += count
            run.find(
                m.DIGEST_MISSING,
                f"{cid}: the chain ends at {m.iso(c.end)} but {' and '.join(evidence)}: the newest "
                f"digest{'s are' if count > 1 else ' is'} missing (about {count}){caveat}",
                files=[f.rel for f in logs[:50]],
                chain=cid,
                start=c.end,
                end=hi,
                count=count,
                details={
                    "position": "newest",
                    "confirmed_by_other_chains": confirmed,
                    "newest_present": c.digests[-1].rel,
                    "log_files_after": len(logs),
                },
            )
        first = c.digests[0]
        early = before.get(cid, [])
        if c.oldest_names_missing:
            if early:
                lo = min(f.time or c.start for f in early)
                count = max(math.ceil((c.start - lo) / HOUR), 1)
                c.gaps.append((lo, c.start))
                c.summary.gaps.append((lo, c.start, count))
                c.summary.digests_missing += count
                run.find(
                    m.DIGEST_MISSING,
                    f"{cid}: the oldest digest present ({_short(first.key)}) names a previous digest "
                    f"that is not in the tree, and {len(early)} log file{'s' if len(early) > 1 else ''} "
                    f"from {m.iso(lo)} "
                    f"on predate it: the oldest digests are missing (about {count})",
                    files=[join(first.bucket_root, first.prev_key or "")],
                    chain=cid,
                    start=lo,
                    end=c.start,
                    count=count,
                    details={
                        "position": "oldest",
                        "missing_key": first.prev_key,
                        "log_files_before": len(early),
                    },
                )
            else:
                run.find(
                    m.CHAIN_STARTS_MID,
                    f"{cid}: the oldest digest present ({_short(first.key)}) names a previous digest "
                    "that is not in the tree (the dump starts mid-chain)",
                    files=[first.rel],
                    chain=cid,
                    start=c.start,
                    details={"missing_key": first.prev_key},
                )


# -- digest rows and findings ---------------------------------------------------------------------------
def _digest_results(run: _Run, digests: list[Digest], chains: dict[str, _Chain]) -> None:
    report = run.report
    no_key: dict[tuple[str | None, str], list[Digest]] = defaultdict(list)
    for d in digests:
        if d.problems:
            status = m.INVALID
            reason = "; ".join(dict.fromkeys(r for _, r in d.problems))
            for kind in dict.fromkeys(k for k, _ in d.problems):
                if kind == m.DIGEST_NO_PUBLIC_KEY:
                    no_key[(d.chain, d.fingerprint)].append(d)
                    continue
                reasons = "; ".join(r for k, r in d.problems if k == kind)
                run.find(
                    kind,
                    f"{d.rel}: {reasons}",
                    files=[d.rel],
                    chain=d.chain,
                    start=d.start,
                    end=d.end,
                    details={"digest_key": d.key, "signature": d.signature},
                )
        elif d.signature == m.SIG_VALID:
            status, reason = m.VALID, None
        else:
            status, reason = m.UNVERIFIED, f"signature not checked: {d.signature_note or d.signature}"
        n = d.name
        report.files.append(
            m.FileResult(
                source_file=d.rel,
                kind=m.DIGEST,
                status=status,
                reason=reason,
                digest_key=d.key,
                bucket=d.bucket,
                object_key=d.key,
                account_id=n.account if n else d.file.account,
                region=n.region if n else d.file.region,
                trail=n.trail if n else None,
                actual_sha256=d.sha256,
                signature=d.signature or None,
                file_time=n.end if n else None,
                digest_start=d.start,
                digest_end=d.end,
                size=d.file.size,
            )
        )
        c = chains.get(d.chain or "")
        if c is not None:
            c.summary.digests += 1
            if status == m.VALID:
                c.summary.digests_valid += 1
            elif status == m.INVALID:
                c.summary.digests_invalid += 1
            else:
                c.summary.digests_unchecked += 1
    for (cid, fp), ds in no_key.items():
        reason = next(r for k, r in ds[0].problems if k == m.DIGEST_NO_PUBLIC_KEY)
        count = len(ds)
        run.find(
            m.DIGEST_NO_PUBLIC_KEY,
            f"{cid or ds[0].rel}: {count} digest{'s' if count > 1 else ''} cannot be trusted: {reason}",
            files=[d.rel for d in ds[:20]],
            chain=cid,
            count=count,
            start=min(d.start or 0 for d in ds),
            end=max(d.end or 0 for d in ds),
            details={"fingerprint": fp},
        )


# -- 7. coverage ----------------------------------------------------------------------------------------
def _coverage(run: _Run, scanned: Tree, chains: dict[str, _Chain], listed: set[str]) -> None:
    logs_by_scope: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    meta: dict[str, tuple[str, str]] = {}
    for rel, f in scanned.logs.items():
        if f.scope is None or f.time is None:
            continue
        cell = logs_by_scope[f.scope][f.time - f.time % HOUR]
        cell[0] += 1
        cell[1] += rel in listed
        meta.setdefault(f.scope, (f.account or "", f.region or ""))
    std: dict[str, list[_Chain]] = defaultdict(list)
    for c in chains.values():
        if not c.summary.backfill and c.summary.scope:
            std[c.summary.scope].append(c)
            meta.setdefault(c.summary.scope, (c.summary.account_id, c.summary.region))
    rows = run.report.coverage
    for scope in sorted(set(logs_by_scope) | set(std)):
        account, region = meta[scope]
        cs = std.get(scope, [])
        hours = set(logs_by_scope.get(scope, {}))
        windows: list[tuple[int, int]] = []
        broken: list[tuple[int, int, str]] = []
        for c in cs:
            windows += [(d.start, d.end) for d in c.digests if d.start is not None and d.end is not None]
            broken += [(a, b, "missing_digest") for a, b in c.gaps] + [(a, b, "validation_off") for a, b in c.stops]
            if c.start is not None and c.end is not None:
                hours.update(range(c.start - c.start % HOUR, c.end, HOUR))
        for a, b, _ in broken:
            hours.update(range(a - a % HOUR, b, HOUR))
        covering = _Union(windows)
        gaps = _Union([(a, b) for a, b, s in broken if s == "missing_digest"])
        stops = _Union([(a, b) for a, b, s in broken if s == "validation_off"])
        trails = ",".join(sorted({c.summary.trail for c in cs})) or None
        for h in sorted(hours):
            n, k = logs_by_scope.get(scope, {}).get(h, (0, 0))
            covered = covering.overlaps(h, h + HOUR)
            states = [s for s, u in (("missing_digest", gaps), ("validation_off", stops)) if u.overlaps(h, h + HOUR)]
            state = "covered" if covered else (states[0] if states else "not_covered")
            rows.append(
                m.CoverageRow(
                    scope=scope,
                    account_id=account,
                    region=region,
                    hour=h,
                    log_files=n,
                    log_files_listed=k,
                    digest_covered=covered,
                    chain_broken=bool(states),
                    state=state,
                    trails=trails,
                )
            )


def _summarise(run: _Run, chains: dict[str, _Chain], scanned: Tree) -> None:
    report = run.report
    s = report.summary
    per_chain = run.per_chain_logs
    for cid, c in chains.items():
        stats = per_chain.get(cid, {})
        c.summary.logs_listed = stats.get("listed", 0)
        c.summary.logs_valid = stats.get(m.VALID, 0)
        c.summary.logs_invalid = stats.get(m.INVALID, 0)
        c.summary.logs_missing = stats.get(m.MISSING, 0)
        report.chains.append(c.summary)
    s.chains = len(chains)
    s.restarts = sum(len(c.summary.restarts) for c in chains.values())
    s.digests_missing = sum(c.summary.digests_missing for c in chains.values())
    for r in report.files:
        if r.kind == m.DIGEST:
            if r.status == m.VALID:
                s.digests_valid += 1
            elif r.status == m.INVALID:
                s.digests_invalid += 1
            elif r.status == m.UNVERIFIED:
                s.digests_unchecked += 1
            continue
        listed = r.digest_key is not None
        if listed:
            s.logs_listed += 1
            if r.status == m.VALID:
                s.logs_valid += 1
            elif r.status == m.INVALID:
                s.logs_invalid += 1
            elif r.status == m.MISSING:
                s.logs_missing += 1
            elif r.status == m.UNVERIFIED:
                s.logs_unverified += 1
        elif r.status == m.UNVERIFIED and r.kind == m.LOG:
            s.logs_not_covered += 1
    s.insight_files = len(scanned.insights)
    listed_rels = {r.source_file for r in report.files}
    for f in scanned.insights:
        if f.rel not in listed_rels:
            report.files.append(
                m.FileResult(
                    source_file=f.rel,
                    kind=m.INSIGHT,
                    status=m.UNVERIFIED,
                    reason="Insights file listed by no digest: not covered by log file validation",
                    object_key=_object_key(f.rel),
                    account_id=f.account,
                    region=f.region,
                    file_time=f.time,
                    size=f.size,
                )
            )
