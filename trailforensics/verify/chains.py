"""Digest chains: which digests belong together, how they link, and what time their sound digests cover.

Two passes.  `build_chains` (before signatures are checked) groups digests by (account, region,
trail, home region), backfill digests apart, orders them by end time and links each to the
predecessor it names: forks, the predecessor's bytes against the hash its successor records,
digests the chain skips.  `anchor_chains` (once every check has run) keeps only what can be
trusted to say *when*: the windows of sound digests (no failed check; signature valid or
unchecked) and, for a digest that failed, the window its sound successor pins down.  A digest
that failed cannot stretch its chain: its own times are not evidence.  From those windows come
the chain's extent, restarts (null previous digest), and gaps (a sound digest names a
predecessor absent from the tree).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field

from trailforensics.verify import model as m
from trailforensics.verify.digests import HASH_ALGORITHM, Digest
from trailforensics.verify.paths import DigestName, join
from trailforensics.verify.run import HOUR, Run, short


@dataclass(frozen=True)
class Window:
    start: int
    end: int
    digest: Digest


class WindowIndex:
    """Digest windows, queried for overlap or containment in O(log n)."""

    def __init__(self, windows: list[Window]) -> None:
        self.windows = sorted(windows, key=lambda w: (w.start, w.end))
        self._starts = [w.start for w in self.windows]
        self._maxend: list[int] = []
        running = -(1 << 62)
        for w in self.windows:
            running = max(running, w.end)
            self._maxend.append(running)

    def __bool__(self) -> bool:
        return bool(self.windows)

    def _find(self, t0: int, t1: int, contain: bool) -> Window | None:
        i = bisect.bisect_left(self._starts, t1) - 1
        while i >= 0 and self._maxend[i] > t0:
            w = self.windows[i]
            if (w.start <= t0 and w.end >= t1) if contain else w.end > t0:
                return w
            i -= 1
        return None

    def overlapping(self, t0: int, t1: int) -> Window | None:
        """A window overlapping [t0, t1)."""
        return self._find(t0, t1, contain=False)

    def containing(self, t0: int, t1: int) -> Window | None:
        """A window holding all of [t0, t1]."""
        return self._find(t0, t1 + 1, contain=True)


@dataclass
class Chain:
    summary: m.ChainSummary
    digests: list[Digest]  # primary copies, in time order, whatever their checks said
    anchored: list[Window] = field(default_factory=list)  # sound and pinned windows, in time order
    sound: WindowIndex = field(default_factory=lambda: WindowIndex([]))
    proven: WindowIndex = field(default_factory=lambda: WindowIndex([]))  # every check passed
    failed: WindowIndex = field(default_factory=lambda: WindowIndex([]))  # pinned windows of failed digests
    gaps: list[tuple[int, int]] = field(default_factory=list)  # ranges hidden by missing digests
    stops: list[tuple[int, int]] = field(default_factory=list)  # between a segment's end and its restart
    segment_ends: list[tuple[Window, Window]] = field(default_factory=list)  # (last before a restart, restart)
    oldest_names_missing: bool = False  # the first sound digest names a predecessor absent from the tree

    @property
    def start(self) -> int | None:
        return self.summary.first_start

    @property
    def end(self) -> int | None:
        return self.summary.last_end

    @property
    def id(self) -> str:
        return self.summary.chain

    @property
    def trail_key(self) -> tuple[str, str, str]:
        """Chains with the same key are the regions of one trail (siblings)."""
        return (self.summary.account_id, self.summary.trail, self.summary.home_region)

    @property
    def bucket_root(self) -> str:
        return self.digests[-1].bucket_root

    def add_gap(self, lo: int, hi: int, count: int) -> None:
        self.gaps.append((lo, hi))
        self.summary.gaps.append((lo, hi, count))
        self.summary.digests_missing += count


def chain_id(n: DigestName) -> str:
    return f"{n.account} {n.region} {n.trail} (home {n.home_region}){' backfill' if n.backfill else ''}"


def std_by_scope(chains: dict[str, Chain]) -> dict[str, list[Chain]]:
    """The standard chains with an extent, by the log folder they cover."""
    out: dict[str, list[Chain]] = defaultdict(list)
    for c in chains.values():
        if not c.summary.backfill and c.summary.scope and c.start is not None:
            out[c.summary.scope].append(c)
    return out


# -- pass 1: grouping and links --------------------------------------------------------------------------
def build_chains(run: Run, digests: list[Digest]) -> dict[str, Chain]:
    _mark_copies(digests)
    groups: dict[str, list[Digest]] = defaultdict(list)
    for d in digests:
        d.chain = chain_id(d.name) if d.name else None
        if d.chain is not None and d.primary and d.end is not None:
            groups[d.chain].append(d)
    chains: dict[str, Chain] = {}
    for cid, ds in sorted(groups.items()):
        ds.sort(key=lambda d: (d.end or 0, d.key))
        n = ds[0].name
        assert n is not None
        summary = m.ChainSummary(
            chain=cid,
            bucket=ds[-1].bucket,
            account_id=n.account,
            region=n.region,
            trail=n.trail,
            home_region=n.home_region,
            backfill=n.backfill,
            scope=ds[-1].scope or "",
        )
        chains[cid] = Chain(summary, ds)
        _link(run, cid, ds)
        _check_predecessor_hashes(ds)
        _check_skipped(ds)
    return chains


def _mark_copies(digests: list[Digest]) -> None:
    """Several files claiming one object key: the one where it claims to be is the primary copy."""
    by_key: dict[str, list[Digest]] = defaultdict(list)
    for d in digests:
        by_key[d.key].append(d)
    for copies in by_key.values():
        if len(copies) < 2:
            continue
        copies.sort(key=lambda d: (any(k == m.DIGEST_MOVED for k, _ in d.problems), d.rel))
        for extra in copies[1:]:
            extra.primary = False
            if not any(k == m.DIGEST_MOVED for k, _ in extra.problems):
                extra.problems.append((m.DIGEST_MOVED, f"a second copy of {extra.key} (also at {copies[0].rel})"))


def _link(run: Run, cid: str, ds: list[Digest]) -> None:
    index = {alias: d for d in ds for alias in d.aliases}
    for d in ds:
        pred = index.get(d.prev_key or "") if d.readable else None
        if pred is None or pred is d or (pred.end or 0) > (d.end or 0):
            continue
        if pred.successors:
            run.find(
                m.CHAIN_FORK,
                f"{cid}: {short(pred.successors[0].key)} and {short(d.key)} both name "
                f"{short(pred.key)} as their previous digest: one of them is not genuine",
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
                (m.DIGEST_INVALID_FORMAT, f"previousDigestHashAlgorithm is {algo!r}, not {HASH_ALGORITHM}")
            )


def _check_predecessor_hashes(ds: list[Digest]) -> None:
    """The predecessor's bytes against the hash its successor(s) record (one genuine successor suffices)."""
    for d in ds:
        recorded = [(s, s.field("previousDigestHashValue")) for s in d.successors]
        if d.sha256 is not None and recorded and all(h != d.sha256 for _, h in recorded):
            s, h = recorded[0]
            d.problems.append(
                (
                    m.DIGEST_HASH_MISMATCH,
                    f"its content (SHA-256 {d.sha256}) differs from the hash its successor "
                    f"{short(s.key)} records ({h}): altered or replaced",
                )
            )


def _check_skipped(ds: list[Digest]) -> None:
    """Digests the chain skips: not named by their successor in time, though it names another."""
    for i, d in enumerate(ds[:-1]):
        nxt = ds[i + 1]
        linked_elsewhere = nxt.predecessor is not None and nxt.predecessor is not d
        if d.successor is None and nxt.readable and nxt.prev_key is not None and linked_elsewhere:
            d.problems.append(
                (
                    m.DIGEST_UNLINKED,
                    f"not part of the chain: the next digest {short(nxt.key)} names "
                    f"{short(nxt.prev_key)} as its previous digest (injected or forged digest?)",
                )
            )


# -- pass 2: what the sound digests say about time ---------------------------------------------------------
def anchor_chains(run: Run, chains: dict[str, Chain]) -> None:
    for c in chains.values():
        sound = [Window(d.start, d.end, d) for d in c.digests if d.sound and d.start is not None and d.end is not None]
        pinned = [w for d in c.digests if not d.sound for w in [_pinned(d)] if w is not None]
        c.anchored = sorted(sound + pinned, key=lambda w: (w.end, w.start))
        c.sound = WindowIndex(sound)
        c.proven = WindowIndex([w for w in sound if w.digest.proven])
        if c.anchored:
            c.summary.first_start = min(w.start for w in c.anchored)
            c.summary.last_end = max(w.end for w in c.anchored)
        c.failed = WindowIndex(pinned + _edge_failures(c, {id(w.digest) for w in pinned}))
        _walk_links(run, c)


def _edge_failures(c: Chain, pinned: set[int]) -> list[Window]:
    """Failed digests no sound digest names, next to the chain's extent (a newest digest whose
    signature fails, say): the hour their object key names, to explain the logs there; they never
    extend the chain."""
    out = []
    for d in c.digests:
        if d.sound or id(d) in pinned or d.name is None:
            continue
        end = d.name.end
        # with no sound digest at all, every failed one says only which hour its key names
        if c.start is None or c.end is None or c.start - 2 * HOUR <= end <= c.end + 2 * HOUR:
            out.append(Window(end - HOUR, end, d))
    return out


def _pinned(d: Digest) -> Window | None:
    """The window of a digest that failed, as far as a sound successor naming it vouches for it:
    it ends where the successor starts (its own start only if consistent with that)."""
    starts = [s.start for s in d.successors if s.sound and s.start is not None]
    if not starts:
        return None
    end = min(starts)
    start = d.start if d.start is not None and end - 2 * HOUR <= d.start < end else end - HOUR
    return Window(start, end, d)


def _walk_links(run: Run, c: Chain) -> None:
    """Restarts and gaps along the anchored windows; only sound digests' claims count."""
    keys = {alias for d in c.digests for alias in d.aliases}
    prev: Window | None = None
    for w in c.anchored:
        d = w.digest
        if d.sound and d.readable:
            if d.prev_key is None and prev is not None:
                _restart(run, c, prev, w)
            elif d.prev_key is not None and d.predecessor is None and d.prev_key not in keys:
                if prev is None:
                    c.oldest_names_missing = True
                else:
                    _middle_gap(run, c, prev, w)
        prev = w


def _restart(run: Run, c: Chain, q: Window, w: Window) -> None:
    d = w.digest
    c.summary.restarts.append(w.start)
    c.segment_ends.append((q, w))
    hidden = ""
    if w.start > q.end:
        c.stops.append((q.end, w.start))
        hidden = f"; no digest covers {m.iso(q.end)} to {m.iso(w.start)}"
    run.find(
        m.CHAIN_RESTART,
        f"{c.id}: the chain restarts at {m.iso(w.start)} (digest with null previousDigest*: "
        f"logging or log file validation was stopped, then started){hidden}",
        files=[d.rel],
        chain=c.id,
        start=q.end,
        end=w.start,
        details={"restart": m.iso(w.start), "digest_key": d.key, "previous_digest": q.digest.rel},
    )


def _middle_gap(run: Run, c: Chain, q: Window, w: Window) -> None:
    d = w.digest
    prev_key = d.prev_key or ""
    lo, hi = q.end, w.start
    count = max(1, round((hi - lo) / HOUR))
    c.add_gap(lo, hi, count)
    expected_rel = join(d.bucket_root, prev_key)
    run.find(
        m.DIGEST_MISSING,
        f"{c.id}: {count} digest file{'s' if count > 1 else ''} missing (deleted?) between {short(q.digest.key)} "
        f"and {short(d.key)}: nothing proves the logs of {m.iso(lo)} to {m.iso(hi)}; the newest missing "
        f"one is {prev_key}",
        files=[expected_rel],
        chain=c.id,
        start=lo,
        end=hi,
        count=count,
        details={"position": "middle", "named_by": d.rel, "previous_present": q.digest.rel, "missing_key": prev_key},
    )
    run.report.files.append(
        m.VerifiedFile(
            source_file=expected_rel,
            kind=m.DIGEST,
            status=m.MISSING,
            reason=f"named as previous digest by {short(d.key)}; {count} digest(s) missing in "
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
