"""Digests deleted at the edges of a chain: the newest ones, the oldest ones, the last before a restart.

No successor names such a digest, so the chain itself cannot tell.  The evidence used:

* sibling chains (the other regions of the same trail): logging and validation are per trail,
  so when a sibling has a digest window starting after this chain stopped (and before it
  restarted), this region's digests for that time existed;
* the signatures file (the acquisition's S3 metadata) naming a digest of the chain that is
  absent, when digests of the same bucket delivered after it are present (otherwise the
  signatures may simply have been captured after the tree was copied);
* log files of the chain's folder that no digest lists, delivered after the chain's end;
* the hourly cadence: the next digest is due an hour after the last one (plus a delivery delay).

Strong evidence is an error (`digest_missing`, exit 8); a hint alone (logs or a signature entry
that a copy taken before the next digest was due would also show) is a warning.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from trailforensics.verify import model as m
from trailforensics.verify.chains import Chain, Window, chain_id
from trailforensics.verify.keys import SignatureEntry
from trailforensics.verify.paths import DAY, DigestName, TreeFile, join, parse_digest_name
from trailforensics.verify.run import GRACE, HOUR, SLACK, Run, plural, short


@dataclass
class Named:
    """A signatures-file entry naming a digest absent from the tree."""

    entry: SignatureEntry
    name: DigestName
    explained: bool = False


@dataclass
class Evidence:
    strong: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    reach: list[int] = field(default_factory=list)  # times the strong evidence shows the chain reaching
    counts: list[int] = field(default_factory=list)  # digests the strong evidence shows missing
    files: list[str] = field(default_factory=list)
    logs: int = 0  # log files of the chain's folder beyond its edge
    siblings: bool = False  # other regions of the trail are part of the strong evidence


class Edges:
    def __init__(self, run: Run, chains: dict[str, Chain], entries: list[SignatureEntry], latest: int) -> None:
        self.run = run
        self.latest = latest  # no time after this is plausible
        self.chains = chains
        self.std = [c for c in chains.values() if not c.summary.backfill and c.start is not None]
        self.siblings: dict[tuple[str, str, str], list[Chain]] = defaultdict(list)
        for c in self.std:
            self.siblings[c.trail_key].append(c)
        self.bucket_end: dict[str, int] = {}  # newest sound digest end per bucket folder
        for c in chains.values():
            for w in c.anchored:
                if w.digest.sound:
                    self.bucket_end[c.bucket_root] = max(self.bucket_end.get(c.bucket_root, w.end), w.end)
        self.named: dict[str, list[Named]] = defaultdict(list)
        self.unmatched: list[SignatureEntry] = []
        self._sort_entries(entries)

    def _sort_entries(self, entries: list[SignatureEntry]) -> None:
        present = {(d.chain, d.name.end) for c in self.chains.values() for d in c.digests if d.name is not None}
        for e in entries:
            n = parse_digest_name(e.target)
            c = self.chains.get(chain_id(n)) if n else None
            if n is None or c is None or (c.id, n.end) in present:
                self.unmatched.append(e)
            else:
                self.named[c.id].append(Named(e, n))

    @staticmethod
    def _present_until(c: Chain, lo: int, hi: int) -> int:
        """Digests that failed verification do not extend the chain, but they are there, not missing:
        the latest end (from its object key) of one between lo and hi, else lo."""
        ends = [d.name.end for d in c.digests if not d.sound and d.name is not None and lo < d.name.end < hi]
        return max(ends, default=lo)

    def _sibs(self, c: Chain) -> list[Chain]:
        return [s for s in self.siblings[c.trail_key] if s.summary.region != c.summary.region]

    def _corroborated(self, c: Chain, n: Named) -> bool:
        """Digests of the same bucket delivered after the named one are in the tree: it was there too."""
        return self.bucket_end.get(c.bucket_root, 0) > n.name.end

    def _named_text(self, n: Named) -> str:
        return f"the signatures file names {short(n.entry.target)} (ends {m.iso(n.name.end)})"

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
                f"other regions of trail {c.summary.trail} have digests whose window starts as late as "
                f"{m.iso(latest)} (logging was on)"
            )
            ev.counts.append(math.ceil((latest - e_end) / HOUR))
        for n in self.named.get(c.id, []):
            if e_end + SLACK < n.name.end < restart + HOUR:
                n.explained = True
                ev.strong.append(self._named_text(n))
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
            f"{' and '.join(ev.strong)}: the last {plural(count, 'digest')} before the restart "
            f"{'is' if count == 1 else 'are'} missing (deleted?), hiding {m.iso(e_end)} to {m.iso(hi)}",
            files=[q.digest.rel],
            chain=c.id,
            start=e_end,
            end=hi,
            count=count,
            details={"position": "before_restart", "last_present": q.digest.rel, "restart": r.digest.rel},
        )

    # -- after classification: newest and oldest --------------------------------------------------------
    def ends(self, after: dict[str, list[TreeFile]], before: dict[str, list[TreeFile]]) -> None:
        for c in self.std:
            self._newest(c, after.get(c.id, []))
            self._oldest(c, before.get(c.id, []))
        self._unused_entries()

    def _newest(self, c: Chain, logs: list[TreeFile]) -> None:
        assert c.end is not None
        end = self._present_until(c, c.end, self.latest)
        due = end + HOUR + GRACE
        logs = [f for f in logs if f.time is not None and f.time + 60 > end]
        ev = Evidence(files=[f.rel for f in logs[:50]], logs=len(logs))
        sib_end = max((s.end for s in self._sibs(c) if s.end is not None), default=None)
        if sib_end is not None and sib_end > due:
            ev.siblings = True
            ev.strong.append(f"other regions of trail {c.summary.trail} have digests up to {m.iso(sib_end)}")
            ev.reach.append(sib_end)
        times = [f.time for f in logs if f.time is not None]
        late = [t for t in times if t > due]
        if late:
            ev.strong.append(
                f"{plural(len(late), 'log file')} of its folder {'was' if len(late) == 1 else 'were'} delivered "
                f"after {m.iso(due)}, when the next digest was due (up to {m.iso(max(late) + 60)})"
            )
            ev.reach.append(max(late) + 60)
        elif times:
            ev.hints.append(
                f"{plural(len(times), 'log file')} of its folder {'was' if len(times) == 1 else 'were'} delivered "
                f"after it, up to {m.iso(max(times) + 60)}"
            )
        for n in self.named.get(c.id, []):
            if n.name.end <= end + SLACK or n.explained:
                continue
            n.explained = True
            if self._corroborated(c, n):
                ev.strong.append(self._named_text(n) + ", absent although digests delivered after it are present")
                ev.counts.append(round((n.name.end - end) / HOUR))
                ev.reach.append(n.name.end)
            else:
                ev.hints.append(self._named_text(n) + ", absent from the tree")
        if ev.strong:
            self._newest_missing(c, ev, end)
        elif ev.hints:
            self.run.find(
                m.DIGEST_MAYBE_MISSING,
                f"{c.id}: the chain ends at {m.iso(end)} and {' and '.join(ev.hints)}: the newest digest may be "
                f"missing (deleted), or was not yet delivered when the tree was copied (the next one was due "
                f"about {m.iso(end + HOUR)}); nothing in the tree proves which",
                files=ev.files or [_newest_rel(c)],
                chain=c.id,
                start=end,
                end=max([end + HOUR, *(t + 60 for t in times)]),
                details={"position": "newest", "newest_present": _newest_rel(c), "log_files_after": len(logs)},
            )

    def _newest_missing(self, c: Chain, ev: Evidence, end: int) -> None:
        hi = max(ev.reach)
        count = max(1, (hi - end + GRACE) // HOUR, *ev.counts)
        c.add_gap(end, max(hi, end + HOUR), count)
        self.run.find(
            m.DIGEST_MISSING,
            f"{c.id}: the chain ends at {m.iso(end)} but {' and '.join(ev.strong + ev.hints)}: the newest "
            f"{'digest is' if count == 1 else 'digests are'} missing (about {count}: deleted, or log file "
            f"validation{' or the logging of this region' if ev.siblings else ''} was turned off)",
            files=ev.files or [_newest_rel(c)],
            chain=c.id,
            start=end,
            end=max(hi, end + HOUR),
            count=count,
            details={
                "position": "newest",
                "confirmed_by_other_chains": ev.siblings,
                "evidence": ev.strong,
                "newest_present": _newest_rel(c),
                "log_files_after": ev.logs,
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
                    f"{plural(len(times), 'log file')} of its folder from {m.iso(min(times))} on predate it"
                )
                ev.reach.append(min(times))
        for n in named:
            n.explained = True
            ev.strong.append(self._named_text(n) + ", absent from the tree")
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
        lo = min(ev.reach)
        count = max(1, math.ceil((start - lo - SLACK) / HOUR))
        c.add_gap(lo, start, count)
        self.run.find(
            m.DIGEST_MISSING,
            f"{c.id}: the oldest digest present ({short(first.digest.key)}) "
            + (
                "names a previous digest that is not in the tree, and "
                if c.oldest_names_missing
                else f"starts at {m.iso(start)}, but "
            )
            + f"{' and '.join(ev.strong)}: the oldest {'digest is' if count == 1 else 'digests are'} missing "
            f"(about {count})",
            files=ev.files or [first.digest.rel],
            chain=c.id,
            start=lo,
            end=start,
            count=count,
            details={
                "position": "oldest",
                "missing_key": first.digest.prev_key,
                "evidence": ev.strong,
                "log_files_before": len(logs),
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
            ev.strong.append(f"other regions of trail {c.summary.trail} have digests from {m.iso(min(lows))}")
            ev.reach.append(min(lows))

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
