"""`verify_tree`: every digest chain of a dump, every log file it lists, and what no digest lists.

Steps:

1. scan TREE: digest files, CloudTrail log files, Insights files (paths only);
2. read every digest (strict single-member gunzip, SHA-256 of the exact bytes, JSON);
   check format and location (a digest must be where its ``digestS3Object`` says);
3. group digests into chains by (account, region, trail, home region), backfill digests apart,
   order them by end time and link each to the predecessor it names (:mod:`.chains`);
4. check signatures: each digest with its successor's ``previousDigestSignature`` and/or the
   S3-metadata signature from ``--signatures`` (the only source for the newest digest);
5. bound every time by the evidence: a digest whose signature is not proven cannot claim a time
   before CloudTrail existed or after the newest of now and the proven digests, nor a log name;
6. anchor the chains on their sound digests (no failed check): extent, restarts, gaps (deleted
   digests, however many in a row); digests deleted before a restart (:mod:`.edges`, with the
   witnesses of :mod:`.witnesses`);
7. hash every log file a digest lists (worker processes for big trees; first gzip member
   only, anything after it is a finding) and compare with ``hashValue``; only proven digests
   vouch for a log (:mod:`.listings`, :mod:`.listed_logs`);
8. every log file no digest lists: unreferenced when inside a chain's coverage, otherwise
   unproven or not covered (:mod:`.unlisted`); the newest and oldest digests deleted
   (:mod:`.chain_ends`), and regions of a multi-region trail whose digests are all gone
   (:mod:`.missing_regions`), in the order :mod:`.edges` runs them;
9. per (scope, hour) coverage (:mod:`.hour_coverage`) and per-chain summaries.
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from trailforensics.verify import model as m
from trailforensics.verify.chains import Chain, anchor_chains, build_chains
from trailforensics.verify.digests import CLOUDTRAIL_EPOCH, UNCHECKED, Digest, check_signature, check_times, read_digest
from trailforensics.verify.edges import Edges
from trailforensics.verify.hashing import hash_files
from trailforensics.verify.hour_coverage import coverage
from trailforensics.verify.keys import (
    KeyFileError,
    Keyring,
    SignatureBook,
    load_public_keys,
    load_signatures,
    lookup_signature,
)
from trailforensics.verify.listed_logs import log_results
from trailforensics.verify.listings import resolve_listings
from trailforensics.verify.log_rows import object_key
from trailforensics.verify.paths import DAY, Tree, scan
from trailforensics.verify.run import Run, empty_report, plural
from trailforensics.verify.unlisted import unlisted_logs

ProgressFn = Callable[[str, int, int], None]
"""progress(event, files, nbytes): ("digests"|"logs", total files, total bytes) starts a phase,
("advance", files, bytes) reports work done, ("finish", 0, 0) ends."""


def verify_tree(
    tree: Path | str,
    *,
    public_keys: Sequence[Path | str] = (),
    signatures: Sequence[Path | str] = (),
    workers: int | None = None,
    progress: ProgressFn | None = None,
    allow_unsigned: bool = False,
    require_signatures: bool = False,
) -> m.VerifyReport:
    """Verify every digest chain and log file under `tree`; never raises for bad evidence.

    Signatures that could not be checked make the result NOT PROVEN (exit bit 32) unless
    `allow_unsigned`; `require_signatures` is the former opt-in, now the default (kept so that
    old callers still work; it wins over `allow_unsigned`)."""
    started = time.perf_counter()
    tree = Path(tree)
    allow_unsigned = allow_unsigned and not require_signatures
    try:
        ring = load_public_keys([Path(p) for p in public_keys])
    except KeyFileError as exc:
        return empty_report(tree, allow_unsigned, str(exc))
    run = Run(tree, allow_unsigned)
    report = run.report
    if not tree.is_dir():
        report.fatal = f"{tree} is not a folder"
        return report
    scanned = scan(tree)
    report.tree = str(scanned.root)
    try:
        book = _signature_book(run, tree, scanned, [Path(p) for p in signatures])
    except KeyFileError as exc:
        report.fatal = str(exc)
        return report
    _key_findings(run, ring, book)

    digests = _read_digests(scanned, book, run, progress)
    chains = build_chains(run, digests)
    for d in digests:
        check_signature(d, ring)
    _signature_findings(run, chains, digests)
    listings, missing = resolve_listings(digests, scanned)
    latest = _bound_times(scanned, digests)
    anchor_chains(run, chains)
    edges = Edges(run, chains, [e for e in book.entries() if not e.used], latest, scanned, digests)
    edges.restarts()

    items = [(str(scanned.path(rel)), _size(scanned, rel)) for rel in listings]
    if progress:
        progress("logs", len(items), sum(sz for _, sz in items))
    hashed = hash_files(items, workers=workers, progress=progress)
    if progress:
        progress("finish", 0, 0)
    report.summary.bytes_hashed = sum(r.size for r in hashed.values())
    log_results(run, scanned, chains, listings, missing, hashed)
    unlisted = unlisted_logs(run, scanned, chains, set(listings), edges.region_siblings)
    edges.ends(unlisted.after, unlisted.before, unlisted.orphans)

    _digest_results(run, digests, chains)
    coverage(run, scanned, chains, set(listings))
    _summarise(run, chains, scanned)
    if not digests:
        report.fatal = (
            f"no CloudTrail digest files under {scanned.root}: nothing can be verified "
            "(log file validation off, or the CloudTrail-Digest folders were not synced)"
        )
    report.findings.sort(key=lambda f: (m.SEVERITY_ORDER[f.severity], f.kind, f.start or 0, f.files[:1]))
    report.summary.seconds = round(time.perf_counter() - started, 3)
    return report


def _signature_book(run: Run, tree: Path, scanned: Tree, sig_paths: list[Path]) -> SignatureBook:
    if not sig_paths:
        for candidate in (
            scanned.root / "_verification" / "digest-signatures.json",
            tree.absolute() / "_verification" / "digest-signatures.json",
        ):
            if candidate.is_file():
                sig_paths = [candidate]
                run.report.notes.append(
                    f"signatures read from {candidate} (found in the tree; signatures are not a "
                    "trust anchor, the public keys are)"
                )
                break
    book = load_signatures(sig_paths)
    run.report.notes.extend(book.problems)
    return book


def _key_findings(run: Run, ring: Keyring, book: SignatureBook) -> None:
    s = run.report.summary
    s.public_keys = len(ring)
    s.public_keys_rejected = len(ring.rejected)
    s.signatures_supplied = len(book)
    for source, stated, reason in ring.rejected:
        run.find(
            m.PUBLIC_KEY_REJECTED,
            f"public key {source} (fingerprint {stated or '?'}) refused: {reason}",
            details={"source": source, "fingerprint": stated},
        )


def _read_digests(scanned: Tree, book: SignatureBook, run: Run, progress: ProgressFn | None) -> list[Digest]:
    if progress:
        progress("digests", len(scanned.digests), sum(f.size for f in scanned.digests))
    digests = []
    for f in scanned.digests:
        digests.append(read_digest(scanned.root, f, scanned.top_folders))
        if progress:
            progress("advance", 1, f.size)
    run.report.summary.digests_found = len(digests)
    names: dict[str, int] = defaultdict(int)
    for d in digests:
        names[d.key.rsplit("/", 1)[-1]] += 1
    for d in digests:
        entry, problem = lookup_signature(
            book, key=d.key, bucket=d.bucket, rel=d.rel, same_name=names[d.key.rsplit("/", 1)[-1]]
        )
        if problem:
            run.report.notes.append(problem)
        if entry is not None:
            entry.used = True
            d.has_metadata = True
            d.metadata_signature = entry.signature
            d.metadata_algorithm = entry.algorithm
            d.metadata_backfill = entry.backfill_raw
            d.backfill_generated = entry.backfill_generated
    return digests


def _bound_times(scanned: Tree, digests: list[Digest]) -> int:
    """Nothing unproven may claim a time before CloudTrail or after the newest of now and the
    proven digests (a day's slack): such a digest fails, such a log name gives no time.
    Returns that latest plausible time."""
    proven_end = max((d.end for d in digests if d.signature == m.SIG_VALID and d.end is not None), default=0)
    latest = max(int(time.time()), proven_end) + DAY
    for d in digests:
        check_times(d, latest)
    for f in scanned.logs.values():
        if f.time is not None and not CLOUDTRAIL_EPOCH <= f.time <= latest:
            f.time_problem = (
                f"the time in its name ({m.iso(f.time)}) is implausible: before CloudTrail existed or after "
                f"{m.iso(latest)}"
            )
            f.time = None
    return latest


def _size(scanned: Tree, rel: str) -> int:
    f = scanned.logs.get(rel)
    if f is not None:
        return f.size
    try:
        return os.path.getsize(scanned.path(rel))
    except OSError:
        return 0


def _signature_findings(run: Run, chains: dict[str, Chain], digests: list[Digest]) -> None:
    by_chain: dict[str | None, list[Digest]] = defaultdict(list)
    for d in digests:
        if d.signature in UNCHECKED and not d.problems:  # one that failed another check is INVALID anyway
            by_chain[d.chain].append(d)
    for cid, ds in by_chain.items():
        c = chains.get(cid or "")
        newest = c.digests[-1] if c is not None and c.digests else None
        no_keys = [d for d in ds if d.signature == m.SIG_UNCHECKED_NO_KEYS]
        no_sig = [d for d in ds if d.signature == m.SIG_UNCHECKED_NO_SIGNATURE and d is newest]
        orphan = [d for d in ds if d.signature == m.SIG_UNCHECKED_NO_SIGNATURE and d is not newest]
        for group, reason, why in (
            (no_keys, "no public keys", "no public keys supplied (--public-keys)"),
            (
                no_sig,
                "no signature for the newest digest",
                "no signature known: newest digest of its chain, and --signatures has none for it",
            ),
            (
                orphan,
                "no signature for a digest no successor names",
                "no signature known: no digest names it as its predecessor (the next one is "
                "missing, or the chain restarted after it), and --signatures has none for it",
            ),
        ):
            if not group:
                continue
            n = len(group)
            run.find(
                m.SIGNATURE_UNCHECKED,
                f"{cid or 'digest'}: signature of {plural(n, 'digest')} not checked: {why}",
                files=[d.rel for d in group[:20]],
                chain=cid,
                count=n,
                start=min((d.start or 0) for d in group),
                end=max((d.end or 0) for d in group),
                details={"reason": reason},
            )


# -- digest rows and findings ---------------------------------------------------------------------------
def _digest_results(run: Run, digests: list[Digest], chains: dict[str, Chain]) -> None:
    no_key: dict[tuple[str | None, str], list[Digest]] = defaultdict(list)
    for d in digests:
        if d.problems:
            status = m.INVALID
            reason: str | None = "; ".join(dict.fromkeys(r for _, r in d.problems))
            for kind in dict.fromkeys(k for k, _ in d.problems):
                if kind == m.DIGEST_NO_PUBLIC_KEY:
                    no_key[(d.chain, d.fingerprint)].append(d)
                    continue
                run.find(
                    kind,
                    f"{d.rel}: " + "; ".join(r for k, r in d.problems if k == kind),
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
        run.report.files.append(_digest_row(d, status, reason))
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
            f"{cid or ds[0].rel}: {plural(count, 'digest')} cannot be trusted: {reason}",
            files=[d.rel for d in ds[:20]],
            chain=cid,
            count=count,
            start=min(d.start or 0 for d in ds),
            end=max(d.end or 0 for d in ds),
            details={"fingerprint": fp},
        )


def _digest_row(d: Digest, status: str, reason: str | None) -> m.VerifiedFile:
    n = d.name
    return m.VerifiedFile(
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


def _summarise(run: Run, chains: dict[str, Chain], scanned: Tree) -> None:
    report = run.report
    s = report.summary
    for cid, c in chains.items():
        stats: Counter[str] = run.per_chain_logs.get(cid, Counter())
        c.summary.logs_listed = stats.get("listed", 0)
        c.summary.logs_valid = stats.get(m.VALID, 0)
        c.summary.logs_invalid = stats.get(m.INVALID, 0)
        c.summary.logs_missing = stats.get(m.MISSING, 0)
        report.chains.append(c.summary)
    s.chains = len(chains)
    s.restarts = sum(len(c.summary.restarts) for c in chains.values())
    s.digests_missing = sum(c.summary.digests_missing for c in chains.values()) + run.region_digests_missing
    s.logs_unproven = run.unlisted["unproven"]
    s.logs_not_covered = run.unlisted["not_covered"]
    for r in report.files:
        if r.kind == m.DIGEST:
            if r.status == m.VALID:
                s.digests_valid += 1
            elif r.status == m.INVALID:
                s.digests_invalid += 1
            elif r.status == m.UNVERIFIED:
                s.digests_unchecked += 1
        elif r.digest_key is not None:
            s.logs_listed += 1
            if r.status == m.VALID:
                s.logs_valid += 1
            elif r.status == m.INVALID:
                s.logs_invalid += 1
            elif r.status == m.MISSING:
                s.logs_missing += 1
            elif r.status == m.UNVERIFIED:
                s.logs_unverified += 1
    s.insight_files = len(scanned.insights)
    listed_rels = {r.source_file for r in report.files}
    for f in scanned.insights:
        if f.rel not in listed_rels:
            report.files.append(
                m.VerifiedFile(
                    source_file=f.rel,
                    kind=m.INSIGHT,
                    status=m.UNVERIFIED,
                    reason="Insights file listed by no digest: not covered by log file validation",
                    object_key=object_key(f.rel),
                    account_id=f.account,
                    region=f.region,
                    file_time=f.time,
                    size=f.size,
                )
            )
