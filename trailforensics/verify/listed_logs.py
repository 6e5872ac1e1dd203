"""Log files digests list: hashed against the digest, and checked for injection.

Only a proven digest (every check passed) vouches for a log file.  A log listed only by
unproven digests (signature unchecked or invalid, or another check failed) is checked again
against the proven windows of its folder: when one of them holds its delivery minute and does
not list it, it is injected, whatever the unproven digest claims.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from trailforensics.verify import model as m
from trailforensics.verify.chains import Chain, Window, std_by_scope
from trailforensics.verify.digests import Digest
from trailforensics.verify.hashing import HashResult
from trailforensics.verify.listings import Listing
from trailforensics.verify.log_rows import log_row
from trailforensics.verify.paths import DAY, Tree, TreeFile
from trailforensics.verify.run import Run, short

MARGIN = 5 * 60  # a log's minute must lie this far inside a proven window to prove that window omits it


def _not_proven(d: Digest) -> str:
    """Why a digest does not vouch for what it lists."""
    if d.problems:
        return "it failed verification (" + "; ".join(dict.fromkeys(k for k, _ in d.problems)) + ")"
    note = f" ({d.signature_note})" if d.signature_note else ""
    return f"its signature is {d.signature}{note}"


def genuine_cover(
    chains: dict[str, Chain], by_scope: dict[str, list[Chain]], f: TreeFile | None, listed_by: list[Listing]
) -> Window | None:
    """A proven window of the log's folder that holds its delivery minute (well inside), or its
    folder's day for a name CloudTrail could not have written there.  A chain with proven digests
    may list its own logs in its unproven newest digest: then only that chain's proven windows count."""
    if f is None or f.scope is None:
        return None
    cs = [c for c in by_scope.get(f.scope, []) if c.proven]
    if f.time is None:
        for c in cs:
            w = c.proven.overlapping(f.day, f.day + DAY) if f.day is not None else c.proven.windows[0]
            if w is not None:
                return w
        return None
    genuine = [c for x in listed_by for c in [chains.get(x.digest.chain or "")] if c is not None and c.proven]
    for c in genuine or cs:
        w = c.proven.containing(f.time - MARGIN, f.time + 60 + MARGIN)
        if w is not None:
            return w
    return None


def log_results(
    run: Run,
    scanned: Tree,
    chains: dict[str, Chain],
    listings: dict[str, list[Listing]],
    missing: dict[str, list[Listing]],
    hashed: dict[str, HashResult],
) -> None:
    by_scope = std_by_scope(chains)
    per_chain: dict[str, Counter[str]] = defaultdict(Counter)
    for rel, lsts in sorted(listings.items()):
        res = hashed[str(scanned.path(rel))]
        status, reason, primary = _listed_status(run, scanned, chains, by_scope, rel, lsts, res)
        for x in lsts:
            if x.digest.chain:
                per_chain[x.digest.chain]["listed"] += 1
                per_chain[x.digest.chain][status] += 1
        run.report.files.append(log_row(rel, status, reason, primary, scanned, res.sha256, res.size))
    for rel, lsts in sorted(missing.items()):
        lst = next((x for x in lsts if x.digest.proven), lsts[0])
        d = lst.digest
        reason = f"listed by digest {short(d.key)} ({m.iso(d.start)} to {m.iso(d.end)}), not in the tree: deleted"
        if not d.proven:
            reason += f" (if that digest is genuine: {_not_proven(d)})"
        run.find(
            m.LOG_MISSING,
            f"{rel}: {reason}",
            files=[rel],
            chain=d.chain,
            start=d.start,
            end=d.end,
            details={"digest": d.rel, "expected_sha256": lst.expected, "s3_bucket": lst.bucket, "s3_object": lst.key},
        )
        for x in lsts:
            if x.digest.chain:
                per_chain[x.digest.chain]["listed"] += 1
                per_chain[x.digest.chain][m.MISSING] += 1
        run.report.files.append(log_row(rel, m.MISSING, reason, lst, scanned))
    run.per_chain_logs = per_chain


def _listed_status(
    run: Run,
    scanned: Tree,
    chains: dict[str, Chain],
    by_scope: dict[str, list[Chain]],
    rel: str,
    lsts: list[Listing],
    res: HashResult,
) -> tuple[str, str | None, Listing]:
    trusted = [x for x in lsts if x.digest.proven]
    primary = trusted[0] if trusted else lsts[0]
    # a proven digest's hash is the reference; unproven claims only count when nothing proven lists it
    mismatched = [x for x in (trusted or lsts) if x.expected != res.sha256]
    d = primary.digest
    span = {"chain": d.chain, "start": d.start, "end": d.end}
    if res.error:
        run.find(m.LOG_UNREADABLE, f"{rel}: {res.error} (listed by {short(d.key)})", files=[rel], **span)
        return m.INVALID, f"unreadable: {res.error}", primary
    if res.trailing:
        what = (
            f"a second gzip member ({res.trailing:,} bytes)"
            if res.trailing_member
            else f"{res.trailing:,} bytes of other data"
        )
        reason = (
            f"{what} follows the first gzip member, whose content {'does not match' if mismatched else 'matches'} "
            "the digest: appended after delivery (awscli ignores it, most readers parse it)"
        )
        details = {
            "trailing_bytes": res.trailing,
            "gzip_member": res.trailing_member,
            "first_member_matches": not mismatched,
            "digest": d.rel,
        }
        run.find(m.LOG_TRAILING_DATA, f"{rel}: {reason}", files=[rel], details=details, **span)
        return m.INVALID, reason, primary
    if mismatched:
        bad = mismatched[0]
        reason = (
            f"SHA-256 of its content is {res.sha256}, digest {short(bad.digest.key)} records "
            f"{bad.expected}: altered after delivery"
        )
        run.find(
            m.LOG_HASH_MISMATCH,
            f"{rel}: {reason}",
            files=[rel],
            chain=bad.digest.chain,
            start=bad.digest.start,
            end=bad.digest.end,
            details={"expected": bad.expected, "actual": res.sha256, "digest": bad.digest.rel},
        )
        return m.INVALID, reason, bad
    if trusted:
        return m.VALID, None, primary
    genuine = genuine_cover(chains, by_scope, scanned.logs.get(rel), lsts)
    if genuine is not None:
        g = genuine.digest
        reason = (
            f"listed only by {short(d.key)}, which is not proven ({_not_proven(d)}), inside the window of "
            f"proven digest {short(g.key)} ({m.iso(genuine.start)} to {m.iso(genuine.end)}), which does not "
            "list it: injected"
        )
        run.report.summary.logs_unreferenced += 1
        run.find(m.LOG_UNREFERENCED, f"{rel}: {reason}", files=[rel], chain=g.chain, start=d.start, end=d.end)
        return m.UNREFERENCED, reason, primary
    reason = f"hash matches digest {short(d.key)}, which is not proven: {_not_proven(d)}"
    return m.UNVERIFIED, reason, primary
