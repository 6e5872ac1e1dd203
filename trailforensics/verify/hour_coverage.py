"""Per (log folder, UTC hour): is the hour provably complete?

An hour is `covered` only when sound digest windows cover it and nothing breaks it: any overlap
with time hidden by missing digests, with the window of a digest that failed, or with a stop
(validation off) gives that state instead, worst first.  Hours come only from evidence that is
bounded: the chains' extents (sound digests), their gaps and stops, and log files with a
plausible delivery time; never from a time a failed digest or a file name merely claims.
"""

from __future__ import annotations

import bisect
from collections import defaultdict

from trailforensics.verify import model as m
from trailforensics.verify.chains import Chain
from trailforensics.verify.paths import Tree
from trailforensics.verify.run import HOUR, Run

EDGE_HOURS = 31 * 24  # hours listed beyond a chain's extent (deleted edge digests): the finding gives the rest


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


def _hours(a: int, b: int) -> range:
    return range(a - a % HOUR, b, HOUR)


def coverage(run: Run, scanned: Tree, chains: dict[str, Chain], listed: set[str]) -> None:
    logs_by_scope: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    meta: dict[str, tuple[str, str]] = {}
    for rel, f in scanned.logs.items():
        if f.scope is None or f.time is None:
            continue
        cell = logs_by_scope[f.scope][f.time - f.time % HOUR]
        cell[0] += 1
        cell[1] += rel in listed
        meta.setdefault(f.scope, (f.account or "", f.region or ""))
    std: dict[str, list[Chain]] = defaultdict(list)
    for c in chains.values():
        if not c.summary.backfill and c.summary.scope and (c.start is not None or c.failed):
            std[c.summary.scope].append(c)
            meta.setdefault(c.summary.scope, (c.summary.account_id, c.summary.region))
    for scope in sorted(set(logs_by_scope) | set(std)):
        _scope_rows(run, scope, meta[scope], std.get(scope, []), logs_by_scope.get(scope, {}))


def _scope_rows(run: Run, scope: str, where: tuple[str, str], cs: list[Chain], logs: dict[int, list[int]]) -> None:
    hours = set(logs)
    sound: list[tuple[int, int]] = []
    failed: list[tuple[int, int]] = []
    gaps: list[tuple[int, int]] = []
    stops: list[tuple[int, int]] = []
    extents = [(c.start, c.end) for c in cs if c.start is not None and c.end is not None]
    for c in cs:
        sound += [(w.start, w.end) for w in c.sound.windows]
        failed += [(w.start, w.end) for w in c.failed.windows]
        gaps += c.gaps
        stops += c.stops
    for a, b in extents:  # failed digests never add hours
        hours.update(_hours(a, b))
    if extents:
        lo = min(a for a, _ in extents) - EDGE_HOURS * HOUR
        hi = max(b for _, b in extents) + EDGE_HOURS * HOUR
        for a, b in gaps + stops:
            hours.update(_hours(max(a, lo), min(b, hi)))
    states = (
        (m.MISSING_DIGEST, _Union(gaps)),
        (m.INVALID_DIGEST, _Union(failed)),
        (m.VALIDATION_OFF, _Union(stops)),
    )
    covering = _Union(sound)
    broken = _Union(gaps + stops)
    trails = ",".join(sorted({c.summary.trail for c in cs})) or None
    for h in sorted(hours):
        n, k = logs.get(h, (0, 0))
        covered = covering.overlaps(h, h + HOUR)
        bad = next((s for s, u in states if u.overlaps(h, h + HOUR)), None)
        run.report.coverage.append(
            m.CoverageRow(
                scope=scope,
                account_id=where[0],
                region=where[1],
                hour=h,
                log_files=n,
                log_files_listed=k,
                digest_covered=covered,
                chain_broken=broken.overlaps(h, h + HOUR),
                state=bad or (m.COVERED if covered else m.NOT_COVERED),
                trails=trails,
            )
        )
