"""Log files: those digests list (hash against the digest) and those no digest lists (where are they?).

Only a proven digest (every check passed) vouches for a log file.  A log listed only by
unproven digests (signature unchecked or invalid, or another check failed) is checked again
against the proven windows of its folder: when one of them holds its delivery minute and does
not list it, it is injected, whatever the unproven digest claims.

A log no digest lists is placed against the chains that cover its folder: inside a sound
digest's window or a stop (validation off) it is unreferenced; in a gap, after a chain's end,
before a start that names a missing predecessor, or in a window only a failed digest covers,
it cannot be proven (and may reveal deleted digests); elsewhere it is not covered.  A file
whose name CloudTrail could not have written there (not a CloudTrail log name, another account
or region, a date other than its folder's, an implausible time) has no delivery time: inside a
covered folder it is unreferenced too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from trailforensics.verify import model as m
from trailforensics.verify.chains import Chain, Window
from trailforensics.verify.digests import HASH_ALGORITHM, Digest
from trailforensics.verify.hashing import HashResult
from trailforensics.verify.paths import DAY, LOG_SCOPE_RE, Tree, TreeFile, join, log_name_time
from trailforensics.verify.run import Run, plural, short

MARGIN = 5 * 60  # a log's minute must lie this far inside a proven window to prove that window omits it


@dataclass
class Listing:
    digest: Digest
    expected: str | None
    bucket: str | None
    key: str


@dataclass
class Unlisted:
    """Log files no digest lists that bear on the chains' edges."""

    after: dict[str, list[TreeFile]] = field(default_factory=lambda: defaultdict(list))  # chain id -> files
    before: dict[str, list[TreeFile]] = field(default_factory=lambda: defaultdict(list))
    # log folder -> files, of a region with no digest whose multi-region trail's other regions cover them
    orphans: dict[str, list[TreeFile]] = field(default_factory=lambda: defaultdict(list))


def std_by_scope(chains: dict[str, Chain]) -> dict[str, list[Chain]]:
    """The standard chains with an extent, by the log folder they cover."""
    out: dict[str, list[Chain]] = defaultdict(list)
    for c in chains.values():
        if not c.summary.backfill and c.summary.scope and c.start is not None:
            out[c.summary.scope].append(c)
    return out


# -- listed logs ------------------------------------------------------------------------------------------
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


def _kind_of(rel: str) -> str:
    mt = LOG_SCOPE_RE.match(rel)
    return m.INSIGHT if mt and mt.group("service") == "CloudTrail-Insight" else m.KIND_LOG_FILE


def object_key(rel: str) -> str:
    idx = rel.find("AWSLogs/")
    return rel[idx:] if idx >= 0 else rel


def log_row(
    rel: str,
    status: str,
    reason: str | None,
    lst: Listing | None,
    scanned: Tree,
    actual: str | None = None,
    size: int | None = None,
) -> m.VerifiedFile:
    mt = LOG_SCOPE_RE.match(rel)
    f = scanned.logs.get(rel)
    d = lst.digest if lst else None
    return m.VerifiedFile(
        source_file=rel,
        kind=_kind_of(rel),
        status=status,
        reason=reason,
        digest_key=d.key if d else None,
        bucket=(lst.bucket if lst else None) or (d.bucket if d else None),
        object_key=lst.key if lst else object_key(rel),
        account_id=mt.group("account") if mt else (f.account if f else None),
        region=mt.group("region") if mt else (f.region if f else None),
        trail=d.name.trail if d and d.name else None,
        expected_sha256=lst.expected if lst else None,
        actual_sha256=actual,
        file_time=f.name_time if f else log_name_time(rel.rsplit("/", 1)[-1]),
        digest_start=d.start if d else None,
        digest_end=d.end if d else None,
        size=size,
    )


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


# -- logs no digest lists ---------------------------------------------------------------------------------
def _in_any(t: int, ranges: list[tuple[int, int]]) -> tuple[int, int] | None:
    return next(((a, b) for a, b in ranges if a <= t < b), None)


def _place(t: int, cs: list[Chain]) -> tuple[str, Chain]:
    """Where a delivery minute falls among the chains covering its folder (the most telling place)."""
    best: tuple[int, str, Chain] | None = None
    for c in cs:
        assert c.start is not None and c.end is not None
        if c.start <= t and t + 60 <= c.end and c.sound.overlapping(t, t + 60) is not None:
            cand = (0, "window", c)
        elif c.start <= t and t + 60 <= c.end and _in_any(t, c.stops) is not None:
            cand = (0, "stopped", c)
        elif c.failed.overlapping(t, t + 60) is not None:
            cand = (1, "failed", c)
        elif t + 60 > c.end:
            cand = (3, "after", c)
        elif t < c.start:
            cand = (4, "before", c)
        elif _in_any(t, c.gaps) is not None:
            cand = (2, "gap", c)
        else:
            cand = (0, "window", c)
        if best is None or cand[0] < best[0]:
            best = cand
    assert best is not None
    return best[1], best[2]


def unlisted_logs(
    run: Run,
    scanned: Tree,
    chains: dict[str, Chain],
    listed: set[str],
    region_siblings: Callable[[TreeFile], list[Chain]] | None = None,
) -> Unlisted:
    """`region_siblings(f)`: for a log of a folder no chain covers, the chains of a multi-region trail
    whose other regions cover its delivery (then its region's digests are missing, not absent)."""
    by_scope = std_by_scope(chains)
    out = Unlisted()
    not_covered: dict[str, list[TreeFile]] = defaultdict(list)
    for rel, f in sorted(scanned.logs.items()):
        if rel in listed:
            continue
        cs = by_scope.get(f.scope or "", [])
        sibs = region_siblings(f) if region_siblings is not None and not cs else []
        if sibs:
            out.orphans[f.scope or ""].append(f)
            run.unlisted["unproven"] += 1
            _row(
                run,
                scanned,
                f,
                m.UNVERIFIED,
                f"no digest of its region is in the tree, although trail {sibs[0].summary.trail} is multi-region "
                "and its other regions' digests cover its delivery: its region's digests are missing",
            )
        elif not cs:
            why = (
                "no digest chain covers "
                + (f.scope or rel.rsplit("/", 1)[0])
                + (" (log file validation off for its trail, or its digests were not synced)")
            )
            if f.time_problem:
                why = f"{f.time_problem}; {why}"
            _row(run, scanned, f, m.UNVERIFIED, why)
            not_covered[_top(rel)].append(f)
        elif f.time is None:
            _timeless(run, scanned, f, cs, not_covered)
        else:
            _timed(run, scanned, f, cs, out, not_covered)
    _not_covered_finding(run, not_covered)
    run.unlisted["not_covered"] += sum(len(v) for v in not_covered.values())
    return out


def _row(run: Run, scanned: Tree, f: TreeFile, status: str, reason: str) -> None:
    run.report.files.append(log_row(f.rel, status, reason, None, scanned, size=f.size))


def _unreferenced(run: Run, scanned: Tree, f: TreeFile, c: Chain, reason: str) -> None:
    _row(run, scanned, f, m.UNREFERENCED, reason)
    run.report.summary.logs_unreferenced += 1
    start = f.time if f.time is not None else f.day
    end = start + (60 if f.time is not None else DAY) if start is not None else None
    run.find(m.LOG_UNREFERENCED, f"{f.rel}: {reason}", files=[f.rel], chain=c.id, start=start, end=end)


def _timeless(run: Run, scanned: Tree, f: TreeFile, cs: list[Chain], not_covered: dict[str, list[TreeFile]]) -> None:
    """A file CloudTrail could not have delivered there: suspicious inside a covered folder."""
    problem = f.time_problem or "its name has no delivery time"
    inside = [
        c
        for c in cs
        if f.day is None or (c.start is not None and c.end is not None and f.day < c.end and f.day + DAY > c.start)
    ]
    if inside:
        c = inside[0]
        where = "its day" if f.day is not None else "its folder"
        reason = (
            f"{problem}: not a file CloudTrail delivered, listed by no digest, and {where} is inside the coverage of "
            f"{c.id}: injected"
        )
        _unreferenced(run, scanned, f, c, reason)
        return
    reason = f"{problem}; listed by no digest, in a date folder outside the coverage of {cs[0].id}"
    _row(run, scanned, f, m.UNVERIFIED, reason)
    not_covered[_top(f.rel)].append(f)


def _timed(
    run: Run,
    scanned: Tree,
    f: TreeFile,
    cs: list[Chain],
    out: Unlisted,
    not_covered: dict[str, list[TreeFile]],
) -> None:
    assert f.time is not None
    t = f.time
    where, c = _place(t, cs)
    if where == "window":
        w = c.sound.overlapping(t, t + 60)
        inside = (
            f"inside the window of digest {short(w.digest.key)} ({m.iso(w.start)} to {m.iso(w.end)}), "
            "which does not list it"
            if w
            else f"inside the coverage of {c.id}"
        )
        _unreferenced(
            run,
            scanned,
            f,
            c,
            f"listed by no digest, {inside}: injected, or delivered while log file validation was off",
        )
        return
    if where == "stopped":
        a, b = _in_any(t, c.stops) or (0, 0)
        reason = (
            f"listed by no digest, delivered between {m.iso(a)} and {m.iso(b)} while {c.id} "
            "produced no digests (validation or logging off): injected, or delivered while validation was off"
        )
        _unreferenced(run, scanned, f, c, reason)
        return
    if where == "before" and not c.oldest_names_missing:
        _row(run, scanned, f, m.UNVERIFIED, f"delivered before {c.id} starts ({m.iso(c.start)})")
        not_covered[_top(f.rel)].append(f)
        return
    run.unlisted["unproven"] += 1
    if where == "failed":
        w = c.failed.overlapping(t, t + 60)
        assert w is not None
        reason = (
            f"inside the window of digest {short(w.digest.key)}, which failed verification and does not list it: "
            "cannot be proven"
        )
    elif where == "gap":
        a, b = _in_any(t, c.gaps) or (0, 0)
        reason = f"delivered between {m.iso(a)} and {m.iso(b)}, where the digests of {c.id} are missing"
    elif where == "after":
        out.after[c.id].append(f)
        reason = (
            f"delivered after the newest digest of {c.id} (ends {m.iso(c.end)}): that digest "
            "is missing, or was not yet delivered when the tree was copied"
        )
    else:
        out.before[c.id].append(f)
        reason = (
            f"delivered before the oldest digest of {c.id} present ({m.iso(c.start)}), "
            "which names a previous digest missing from the tree"
        )
    _row(run, scanned, f, m.UNVERIFIED, reason)


def _top(rel: str) -> str:
    idx = rel.find("AWSLogs/")
    return rel[:idx].strip("/").split("/", 1)[0] if idx > 0 else ""


def _not_covered_finding(run: Run, not_covered: dict[str, list[TreeFile]]) -> None:
    for top, files in sorted(not_covered.items()):
        scopes = sorted({f.scope or f.rel.rsplit("/", 1)[0] for f in files})
        where = top or "the tree"
        n = len(files)
        run.find(
            m.LOGS_NOT_COVERED,
            f"{plural(n, 'log file')} under {where} {'is' if n == 1 else 'are'} covered by no digest "
            f"({plural(len(scopes), 'folder')}): {'it' if n == 1 else 'they'} cannot be verified",
            files=scopes[:50],
            count=n,
            start=min((f.time for f in files if f.time is not None), default=None),
            end=max((f.time + 60 for f in files if f.time is not None), default=None),
            details={"folders": scopes},
        )
