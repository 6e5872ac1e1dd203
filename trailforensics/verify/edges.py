"""Digests deleted at the edges of a chain: the newest ones, the oldest ones, the last before a
restart, a whole region of a multi-region trail, and the one whose place holds another digest.

No successor names such a digest, so the chain itself cannot tell deleted from not yet
delivered.  The witnesses of :mod:`.witnesses` can: a digest is MISSING (`digest_missing`,
exit 8) when one proves it was due before the tree was copied; with nothing but hints (log
files or bucket-level times a copy taken before the next digest was due would also show, a
digest of another key lying in its place) it is a warning (`digest_maybe_missing`).  Every
finding names the witnesses it used (``details["witnesses"]``), and the log files the missing
digests would have listed are reported unverified because of them.

:class:`Edges` holds what the analyses share (the chains, the signatures-file entries naming
absent digests, the digest paths holding another digest) and runs them; it finds the digests
missing before a restart itself, :mod:`.chain_ends` those at the newest and oldest ends and
:mod:`.missing_regions` whole regions; :mod:`.edge_evidence` has the witnesses they gather.
"""

from __future__ import annotations

import math
from collections import defaultdict

from trailforensics.verify import model as m
from trailforensics.verify.chain_ends import check_newest, check_oldest
from trailforensics.verify.chains import Chain, Window, chain_id
from trailforensics.verify.digests import Digest
from trailforensics.verify.edge_evidence import Evidence, Named, named_witness, present_until
from trailforensics.verify.keys import SignatureEntry
from trailforensics.verify.missing_regions import check_regions, region_siblings
from trailforensics.verify.paths import DigestName, Tree, TreeFile, parse_digest_key, parse_digest_name
from trailforensics.verify.run import HOUR, SLACK, Run, plural
from trailforensics.verify.witnesses import SIBLING_REGIONS, Clock, Witness


class Edges:
    """One run's chains seen from their edges: what the checks share, and the order they run in."""

    def __init__(
        self,
        run: Run,
        chains: dict[str, Chain],
        entries: list[SignatureEntry],
        latest: int,
        scanned: Tree,
        digests: list[Digest] | None = None,
    ) -> None:
        self.run = run
        self.latest = latest  # no time after this is plausible
        self.chains = chains
        self.clock = Clock(chains, scanned)
        self.std = [c for c in chains.values() if not c.summary.backfill and c.start is not None]
        self.siblings: dict[tuple[str, str, str], list[Chain]] = defaultdict(list)
        for c in self.std:
            self.siblings[c.trail_key].append(c)
        self.named: dict[str, list[Named]] = defaultdict(list)
        self.absent_regions: dict[str, list[Named]] = defaultdict(list)  # chain id of a region with no digest
        self.unmatched: list[SignatureEntry] = []
        self._sort_entries(entries)
        self.holes = self._holes(digests or [])
        self._rows: dict[str, m.VerifiedFile] | None = None

    def _sort_entries(self, entries: list[SignatureEntry]) -> None:
        present = {(d.chain, d.name.end) for c in self.chains.values() for d in c.digests if d.name is not None}
        for e in entries:
            n = parse_digest_name(e.target)
            c = self.chains.get(chain_id(n)) if n else None
            trail_present = n is not None and bool(self.siblings.get((n.account, n.trail, n.home_region)))
            if n is not None and c is None and not n.backfill and trail_present:
                self.absent_regions[chain_id(n)].append(Named(e, n))
            elif n is None or c is None or (c.id, n.end) in present:
                self.unmatched.append(e)
            else:
                self.named[c.id].append(Named(e, n))

    def _holes(self, digests: list[Digest]) -> dict[str, list[tuple[DigestName, str]]]:
        """Digest paths holding a digest of another object key: the genuine one is not there."""
        out: dict[str, list[tuple[DigestName, str]]] = defaultdict(list)
        for d in digests:
            if not any(k == m.DIGEST_MOVED for k, _ in d.problems):
                continue
            n = parse_digest_key(d.rel)
            c = self.chains.get(chain_id(n)) if n else None
            if n is None or c is None or any(x.name is not None and x.name.end == n.end for x in c.digests):
                continue
            out[c.id].append((n, d.rel))
        return out

    def sibs(self, c: Chain) -> list[Chain]:
        """The chains of the other regions of `c`'s trail."""
        return [s for s in self.siblings[c.trail_key] if s.summary.region != c.summary.region]

    def mark_logs(self, files: list[TreeFile], why: str) -> None:
        """Log files a missing digest would have listed: unverified because that digest was deleted."""
        if self._rows is None:
            self._rows = {r.source_file: r for r in self.run.report.files if r.kind != m.DIGEST}
        for f in files:
            row = self._rows.get(f.rel)
            if row is not None and row.status == m.UNVERIFIED:
                row.reason = f"not proven, the digest that would list it was deleted: {why}"

    # -- before classification: the last digests before a restart -------------------------------------
    def restarts(self) -> None:
        for c in self.std:
            for q, r in list(c.segment_ends):
                self._before_restart(c, q, r)
        for c in self.chains.values():  # entries inside gaps already found are explained by them
            for n in self.named.get(c.id, []):
                if any(lo < n.name.end <= hi + SLACK for lo, hi in c.gaps):
                    n.explained = True

    def _before_restart(self, c: Chain, q: Window, r: Window) -> None:
        e_end, restart = present_until(c, q.end, r.start), r.start
        ev = Evidence()
        on = [w for s in self.sibs(c) for w in s.sound.windows if e_end + SLACK < w.start < restart - SLACK]
        if on:
            latest = max(w.start for w in on)
            ev.strong.append(
                Witness(
                    SIBLING_REGIONS,
                    f"other regions of trail {c.summary.trail} have digests whose window starts as late as "
                    f"{m.iso(latest)} (logging was on)",
                    time=latest,
                    running=True,
                )
            )
            ev.counts.append(math.ceil((latest - e_end) / HOUR))
        for n in self.named.get(c.id, []):
            if e_end + SLACK < n.name.end < restart + HOUR:
                n.explained = True
                ev.strong.append(named_witness(n))
                ev.counts.append(round((n.name.end - e_end) / HOUR))
        if not ev.strong:
            return
        count = max(1, *ev.counts)
        hi = min(restart, e_end + count * HOUR)
        c.add_gap(e_end, hi, count)
        # the part of the stop the missing digests covered was not a stop
        c.stops = [(hi, b) if (a, b) == (e_end, restart) else (a, b) for a, b in c.stops]
        c.stops = [(a, b) for a, b in c.stops if a < b]
        self.run.find(
            m.DIGEST_MISSING,
            f"{c.id}: the chain stops at {m.iso(e_end)} and restarts at {m.iso(restart)}, but "
            f"{ev.text}: the last {plural(count, 'digest')} before the restart "
            f"{'is' if count == 1 else 'are'} missing (deleted?), hiding {m.iso(e_end)} to {m.iso(hi)}",
            files=[q.digest.rel],
            chain=c.id,
            start=e_end,
            end=hi,
            count=count,
            details={
                "position": "before_restart",
                "last_present": q.digest.rel,
                "restart": r.digest.rel,
                **ev.details(),
            },
        )

    # -- after classification: newest, oldest, whole regions ---------------------------------------------
    def ends(
        self,
        after: dict[str, list[TreeFile]],
        before: dict[str, list[TreeFile]],
        orphans: dict[str, list[TreeFile]] | None = None,
    ) -> None:
        for c in self.std:
            check_newest(self, c, after.get(c.id, []))
            check_oldest(self, c, before.get(c.id, []))
        check_regions(self, orphans or {})
        self._unused_entries()

    def region_siblings(self, f: TreeFile) -> list[Chain]:
        """For a log of a folder no chain covers: the chains of a multi-region trail whose other
        regions' sound digests cover its delivery minute (see :func:`.missing_regions.region_siblings`)."""
        return region_siblings(self, f)

    def _unused_entries(self) -> None:
        left = self.unmatched + [n.entry for ns in self.named.values() for n in ns if not n.explained]
        if not left:
            return
        self.run.find(
            m.SIGNATURE_ENTRY_UNUSED,
            f"{plural(len(left), 'signature entry', 'signature entries')} "
            f"{'matches' if len(left) == 1 else 'match'} no digest in the tree",
            count=len(left),
            details={"sources": [e.source for e in left[:50]], "targets": [e.target for e in left[:50]]},
        )
