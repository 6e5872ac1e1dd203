"""Digests deleted at the edges of a chain: the newest ones, the oldest ones, the last before a
restart, a whole region of a multi-region trail, and the one whose place holds another digest.

No successor names such a digest, so the chain itself cannot tell deleted from not yet
delivered.  The witnesses of :mod:`.witnesses` can: a digest is MISSING (`digest_missing`,
exit 8) when one proves it was due before the tree was copied; with nothing but hints (log
files or bucket-level times a copy taken before the next digest was due would also show, a
digest of another key lying in its place) it is a warning (`digest_maybe_missing`).  Every
finding names the witnesses it used (``details["witnesses"]``), and the log files the missing
digests would have listed are reported unverified because of them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from trailforensics.verify import model as m
from trailforensics.verify.chains import Chain, Window, chain_id
from trailforensics.verify.digests import Digest
from trailforensics.verify.keys import SignatureEntry
from trailforensics.verify.paths import DAY, DigestName, Tree, TreeFile, join, parse_digest_key, parse_digest_name
from trailforensics.verify.run import HOUR, SLACK, Run, plural, short
from trailforensics.verify.witnesses import (
    DELIVERY_TOLERANCE,
    LOG_FILES_AFTER,
    OTHER_DIGEST_IN_PLACE,
    PREVIOUS_DIGEST_LINK,
    SIBLING_REGIONS,
    SIGNATURES_FILE,
    Clock,
    Witness,
    due_count,
    overdue,
    sibling_count,
    sibling_delivered,
)


@dataclass
class Named:
    """A signatures-file entry naming a digest absent from the tree."""

    entry: SignatureEntry
    name: DigestName
    explained: bool = False


@dataclass
class Evidence:
    strong: list[Witness] = field(default_factory=list)
    hints: list[Witness] = field(default_factory=list)
    reach: list[int] = field(default_factory=list)  # times the strong evidence shows the chain reaching
    counts: list[int] = field(default_factory=list)  # digests the strong evidence shows missing
    files: list[str] = field(default_factory=list)
    logs: int = 0  # log files of the chain's folder beyond its edge
    siblings: bool = False  # other regions of the trail are part of the strong evidence

    @property
    def text(self) -> str:
        return " and ".join(w.text for w in self.strong + self.hints)

    def details(self) -> dict[str, object]:
        return {
            "witnesses": [w.to_json() for w in self.strong],
            "witness": self.strong[0].kind if self.strong else None,
            "hints": [w.to_json() for w in self.hints],
            "evidence": [w.text for w in self.strong],
        }


class Edges:
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

    @staticmethod
    def _present_until(c: Chain, lo: int, hi: int) -> int:
        """Digests that failed verification do not extend the chain, but they are there, not missing:
        the latest end (from its object key) of one between lo and hi, else lo."""
        ends = [d.name.end for d in c.digests if not d.sound and d.name is not None and lo < d.name.end < hi]
        return max(ends, default=lo)

    def _sibs(self, c: Chain) -> list[Chain]:
        return [s for s in self.siblings[c.trail_key] if s.summary.region != c.summary.region]

    def _named_witness(self, n: Named, extra: str = "") -> Witness:
        return Witness(
            SIGNATURES_FILE,
            f"the signatures file names {short(n.entry.target)} (ends {m.iso(n.name.end)}){extra}",
            running=True,
            files=(n.entry.target,),
        )

    @staticmethod
    def _expected_rel(c: Chain, target: str) -> str:
        """Where a digest named by `target` (key, bucket/key, tree path or bare name) lies in the tree."""
        if "AWSLogs/" not in target:
            newest = c.digests[-1].key
            return join(c.bucket_root, newest.rsplit("/", 1)[0], target.rsplit("/", 1)[-1])
        key = target[target.find("AWSLogs/") :]
        newest = c.digests[-1].key
        prefix = newest[: newest.find("AWSLogs/")] if "AWSLogs/" in newest else ""
        return join(c.bucket_root, prefix + key)

    def _mark_logs(self, files: list[TreeFile], why: str) -> None:
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
        e_end, restart = self._present_until(c, q.end, r.start), r.start
        ev = Evidence()
        on = [w for s in self._sibs(c) for w in s.sound.windows if e_end + SLACK < w.start < restart - SLACK]
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
                ev.strong.append(self._named_witness(n))
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
            self._newest(c, after.get(c.id, []))
            self._oldest(c, before.get(c.id, []))
        self._regions(orphans or {})
        self._unused_entries()

    def _sibling_end(self, c: Chain) -> tuple[int, str, str] | None:
        best: tuple[int, str, str] | None = None
        for s in self._sibs(c):
            for w in s.anchored[::-1]:
                if w.digest.sound:
                    if best is None or w.end > best[0]:
                        best = (w.end, w.digest.rel, s.summary.region)
                    break
        return best

    def _newest(self, c: Chain, logs: list[TreeFile]) -> None:
        assert c.end is not None
        end = self._present_until(c, c.end, self.latest)
        nxt = end + HOUR  # the next digest's end; it is due DELIVERY_TOLERANCE later
        logs = [f for f in logs if f.time is not None and f.time + 60 > end]
        times = [f.time for f in logs if f.time is not None]
        ev = Evidence(files=[], logs=len(logs))
        sib = self._sibling_end(c)
        if sib is not None and sibling_delivered(nxt, sib[0]):
            ev.siblings = True
            ev.strong.append(
                Witness(
                    SIBLING_REGIONS,
                    f"region {sib[2]} of trail {c.summary.trail} has a digest ending {m.iso(sib[0])} "
                    "(every region of a trail is on the same hourly schedule)",
                    time=sib[0],
                    running=True,
                    files=(sib[1],),
                )
            )
            ev.counts.append(sibling_count(end, sib[0]))
        for n in self.named.get(c.id, []):
            if n.name.end <= end + SLACK or n.explained:
                continue
            n.explained = True
            ev.strong.append(
                self._named_witness(n, ", absent from the tree (S3 metadata exists only for delivered digests)")
            )
            ev.counts.append(max(1, round((n.name.end - end) / HOUR)))
            ev.files.append(self._expected_rel(c, n.entry.target))
        late = [t for t in times if overdue(nxt, t)]
        after_text = (
            f"{plural(len(times), 'log file')} of its folder {'was' if len(times) == 1 else 'were'} delivered "
            f"after it, up to {m.iso(max(times) + 60) if times else ''}"
        )
        log_files = tuple(f.rel for f in logs[:50])
        if late:
            ev.strong.append(
                Witness(
                    LOG_FILES_AFTER,
                    f"{plural(len(late), 'log file')} of its folder {'was' if len(late) == 1 else 'were'} delivered "
                    f"after {m.iso(nxt + DELIVERY_TOLERANCE)}, when the next digest was due "
                    f"(up to {m.iso(max(late) + 60)})",
                    time=max(late),
                    running=True,
                    files=log_files,
                )
            )
            ev.counts.append(due_count(end, max(late)))
        copy = self.clock.copy_witnesses(c, nxt)
        if not ev.strong and copy and times:
            # the trail logged after its newest digest, and the copy is later than the next one's due time
            ev.strong += [Witness(LOG_FILES_AFTER, after_text, time=max(times), running=True, files=log_files), copy[0]]
            needed = math.ceil((max(times) + 60 - end) / HOUR)
            ev.counts.append(max(1, min(needed, due_count(end, copy[0].time or 0))))
        elif not ev.strong:
            if times:
                ev.hints.append(Witness(LOG_FILES_AFTER, after_text, time=max(times), running=True, files=log_files))
            ev.hints += copy
        for hole, rel in self.holes.get(c.id, []):
            if hole.end > end + SLACK:
                ev.files.insert(0, rel)
                # alone, only a digest of the next hour in its place hints at a deletion: a name further
                # on says nothing about the hours between
                if not ev.strong and hole.end <= nxt + SLACK:
                    ev.hints.append(
                        Witness(
                            OTHER_DIGEST_IN_PLACE,
                            f"{rel} holds a digest of another object key, not the digest its path names",
                            files=(rel,),
                        )
                    )
        ev.files += list(log_files)
        if ev.strong:
            self._newest_missing(c, ev, end, logs)
        elif ev.hints:
            copy_only = all(w.time is not None and not w.running for w in ev.hints if w.kind != OTHER_DIGEST_IN_PLACE)
            why = (
                "its digests were deleted, or the trail stopped logging or validating at that time (nothing in "
                "the tree shows it still logging)"
                if copy_only and copy
                else f"the newest digest may be missing (deleted), or was not yet delivered when the tree was "
                f"copied (the next one was due about {m.iso(nxt + DELIVERY_TOLERANCE)}); nothing in the tree "
                "proves which"
            )
            self.run.find(
                m.DIGEST_MAYBE_MISSING,
                f"{c.id}: the chain ends at {m.iso(end)} and {' and '.join(w.text for w in ev.hints)}: {why}",
                files=ev.files or [_newest_rel(c)],
                chain=c.id,
                start=end,
                end=max([nxt, *(t + 60 for t in times)]),
                details={
                    "position": "newest",
                    "newest_present": _newest_rel(c),
                    "log_files_after": len(logs),
                    **ev.details(),
                },
            )

    def _newest_missing(self, c: Chain, ev: Evidence, end: int, logs: list[TreeFile]) -> None:
        count = max(1, *ev.counts)
        hi = end + count * HOUR
        c.add_gap(end, hi, count)
        witness = ev.strong[0].text
        self._mark_logs(logs, f"{c.id} has no digest after {m.iso(end)}, although {witness}")
        self.run.find(
            m.DIGEST_MISSING,
            f"{c.id}: the chain ends at {m.iso(end)}, the next digest was due by "
            f"{m.iso(end + HOUR + DELIVERY_TOLERANCE)}, and {ev.text}: the newest "
            f"{'digest is' if count == 1 else 'digests are'} missing (about {count}: deleted, or log file "
            f"validation{' or the logging of this region' if ev.siblings else ''} was turned off)"
            + (
                f"; {plural(len(logs), 'log file')} it would list {'is' if len(logs) == 1 else 'are'} unverified"
                if logs
                else ""
            ),
            files=ev.files or [_newest_rel(c)],
            chain=c.id,
            start=end,
            end=hi,
            count=count,
            details={
                "position": "newest",
                "confirmed_by_other_chains": ev.siblings,
                "newest_present": _newest_rel(c),
                "log_files_after": ev.logs,
                "unverified_logs": [f.rel for f in logs[:50]],
                **ev.details(),
            },
        )

    def _oldest(self, c: Chain, logs: list[TreeFile]) -> None:
        assert c.start is not None
        first = c.anchored[0]
        start = c.start
        named = [n for n in self.named.get(c.id, []) if not n.explained and n.name.end <= start + SLACK]
        if not c.oldest_names_missing and not named:
            return
        ev = Evidence(
            files=[join(first.digest.bucket_root, first.digest.prev_key or "")] if first.digest.prev_key else []
        )
        if c.oldest_names_missing:
            self._oldest_siblings(c, ev)
            times = [f.time for f in logs if f.time is not None]
            if times:
                ev.strong.append(
                    Witness(
                        LOG_FILES_AFTER,
                        f"{plural(len(times), 'log file')} of its folder from {m.iso(min(times))} on predate it",
                        time=min(times),
                        running=True,
                        files=tuple(f.rel for f in logs[:50]),
                    )
                )
                ev.reach.append(min(times))
        for n in named:
            n.explained = True
            ev.strong.append(self._named_witness(n, ", absent from the tree"))
            ev.reach.append(n.name.end - HOUR)
        if not ev.strong:
            self.run.find(
                m.CHAIN_STARTS_MID,
                f"{c.id}: the oldest digest present ({short(first.digest.key)}) names a previous digest "
                "that is not in the tree (the tree starts mid-chain)",
                files=[first.digest.rel],
                chain=c.id,
                start=start,
                details={"missing_key": first.digest.prev_key},
            )
            return
        if c.oldest_names_missing:
            ev.strong.insert(
                0,
                Witness(
                    PREVIOUS_DIGEST_LINK,
                    f"{short(first.digest.key)} names {short(first.digest.prev_key or '')} as its previous digest",
                    running=True,
                    files=(first.digest.rel,),
                ),
            )
        lo = min(ev.reach)
        count = max(1, math.ceil((start - lo - SLACK) / HOUR))
        c.add_gap(lo, start, count)
        self._mark_logs(logs, f"{c.id} has no digest before {m.iso(start)}, although {ev.strong[-1].text}")
        self.run.find(
            m.DIGEST_MISSING,
            f"{c.id}: the oldest digest present ({short(first.digest.key)}) "
            + (
                "names a previous digest that is not in the tree, and "
                if c.oldest_names_missing
                else f"starts at {m.iso(start)}, but "
            )
            + f"{' and '.join(w.text for w in ev.strong if w.kind != PREVIOUS_DIGEST_LINK)}: the oldest "
            f"{'digest is' if count == 1 else 'digests are'} missing (about {count})",
            files=ev.files + [f.rel for f in logs[:50]] or [first.digest.rel],
            chain=c.id,
            start=lo,
            end=start,
            count=count,
            details={
                "position": "oldest",
                "missing_key": first.digest.prev_key,
                "log_files_before": len(logs),
                "unverified_logs": [f.rel for f in logs[:50]],
                **ev.details(),
            },
        )

    def _oldest_siblings(self, c: Chain, ev: Evidence) -> None:
        """Siblings show this region's missing predecessor was in the copy: one has a digest that
        ended before it, or started logging (null previous digest) before it, on a day the copy holds."""
        assert c.start is not None
        day = c.start - c.start % DAY
        lows = []
        for s in self._sibs(c):
            if not s.anchored or s.start is None:
                continue
            first_end = s.anchored[0].end
            lo = s.start if not s.oldest_names_missing else first_end
            if lo < c.start - SLACK and day >= first_end - first_end % DAY:
                lows.append(lo)
        if lows:
            ev.strong.append(
                Witness(
                    SIBLING_REGIONS,
                    f"other regions of trail {c.summary.trail} have digests from {m.iso(min(lows))}",
                    time=min(lows),
                    running=True,
                )
            )
            ev.reach.append(min(lows))

    # -- a whole region of a multi-region trail ---------------------------------------------------------
    def region_siblings(self, f: TreeFile) -> list[Chain]:
        """For a log of a folder no chain covers: the chains of a multi-region trail whose other
        regions' sound digests cover its delivery minute, in the same bucket and account."""
        if f.scope is None or f.time is None or "/" not in f.scope:
            return []
        parent, region = f.scope.rsplit("/", 1)
        out = []
        for key, cs in self.siblings.items():
            multi = len({c.summary.region for c in cs}) > 1 or any(c.summary.region != key[2] for c in cs)
            if not multi or any(c.summary.region == region for c in cs):
                continue
            same = [c for c in cs if c.summary.scope.rsplit("/", 1)[0] == parent]
            if any(c.sound.overlapping(f.time, f.time + 60) is not None for c in same):
                out += same
        return out

    def _regions(self, orphans: dict[str, list[TreeFile]]) -> None:
        """Regions with log files but no digest, while their multi-region trail's other regions
        have digests for those hours (and regions the signatures file names, with no digest)."""
        found: dict[str, tuple[list[TreeFile], list[Chain], str]] = {}
        for scope, files in sorted(orphans.items()):
            region = scope.rsplit("/", 1)[1]
            by_id = {id(c): c for f in files for c in self.region_siblings(f)}
            if not by_id:
                continue
            first = next(iter(by_id.values()))
            n = first.digests[-1].name
            assert n is not None
            cid = chain_id(DigestName(n.account, n.org_id, region, n.trail, n.home_region, 0, False, n.account_root))
            found[cid] = (files, list(by_id.values()), scope)
        for cid in sorted(set(found) | set(self.absent_regions)):
            files, sibs, scope = found.get(cid, ([], [], ""))
            named = self.absent_regions.get(cid, [])
            for x in named:
                x.explained = True
            self._region_missing(cid, files, sibs, scope, named)

    def _region_missing(
        self, cid: str, files: list[TreeFile], sibs: list[Chain], scope: str, named: list[Named]
    ) -> None:
        ev = Evidence()
        region = cid.split(" ")[1]
        times = sorted(f.time for f in files if f.time is not None)
        trail = sibs[0].summary.trail if sibs else (named[0].name.trail if named else "")
        if sibs:
            regions = sorted({c.summary.region for c in sibs})
            ev.strong.append(
                Witness(
                    SIBLING_REGIONS,
                    f"trail {trail} is multi-region (digests of {', '.join(regions)}) and their digests cover "
                    f"the delivery of {plural(len(files), 'log file')} of {region} "
                    f"({m.iso(times[0])} to {m.iso(times[-1] + 60)})",
                    time=times[-1],
                    running=True,
                    files=tuple(f.rel for f in files[:50]),
                )
            )
            windows = {w.end for c in sibs[:1] for t in times for w in [c.sound.overlapping(t, t + 60)] if w}
            ev.counts.append(len(windows))
        for x in named:
            ev.strong.append(self._named_witness(x, ", absent from the tree"))
        ev.counts.append(len(named))
        count = max(1, *ev.counts)
        digest_folder = scope.replace("/CloudTrail/", "/CloudTrail-Digest/") if scope else ""
        expected = [digest_folder] if digest_folder else []
        base = sibs or [c for x in named[:1] for c in self.siblings[(x.name.account, x.name.trail, x.name.home_region)]]
        expected += [self._expected_rel(base[0], x.entry.target) if base else x.entry.target for x in named]
        self._mark_logs(files, f"no digest of region {region} is in the tree, although {ev.strong[0].text}")
        self.run.find(
            m.DIGEST_MISSING,
            f"{cid}: no digest of this region is in the tree, but {ev.text}: the region's digests are missing "
            f"(about {count}: its digest folder deleted)"
            + (
                f"; {plural(len(files), 'log file')} of {region} {'is' if len(files) == 1 else 'are'} unverified"
                if files
                else ""
            ),
            files=expected + [f.rel for f in files[:50]],
            chain=cid,
            start=min([*times, *(x.name.end - HOUR for x in named)]) if times or named else None,
            end=max([*(t + 60 for t in times), *(x.name.end for x in named)]) if times or named else None,
            count=count,
            details={
                "position": "region",
                "digest_folder": digest_folder or None,
                "unverified_logs": [f.rel for f in files[:50]],
                **ev.details(),
            },
        )
        self.run.region_digests_missing += count

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


def _newest_rel(c: Chain) -> str:
    return c.anchored[-1].digest.rel if c.anchored else c.digests[-1].rel
