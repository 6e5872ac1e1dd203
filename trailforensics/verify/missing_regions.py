"""A whole region of a multi-region trail whose digests are missing: its log files are in the
tree while the trail's other regions have digests for those hours (every region of a trail
delivers digests), or the signatures file names digests of a region with none in the tree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trailforensics.verify import model as m
from trailforensics.verify.chains import Chain, chain_id
from trailforensics.verify.edge_evidence import Evidence, Named, expected_rel, named_witness
from trailforensics.verify.paths import DigestName, TreeFile
from trailforensics.verify.run import HOUR, plural
from trailforensics.verify.witnesses import SIBLING_REGIONS, Witness

if TYPE_CHECKING:
    from trailforensics.verify.edges import Edges


def region_siblings(edges: Edges, f: TreeFile) -> list[Chain]:
    """For a log of a folder no chain covers: the chains of a multi-region trail whose other
    regions' sound digests cover its delivery minute, in the same bucket and account."""
    if f.scope is None or f.time is None or "/" not in f.scope:
        return []
    parent, region = f.scope.rsplit("/", 1)
    out = []
    for key, cs in edges.siblings.items():
        multi = len({c.summary.region for c in cs}) > 1 or any(c.summary.region != key[2] for c in cs)
        if not multi or any(c.summary.region == region for c in cs):
            continue
        same = [c for c in cs if c.summary.scope.rsplit("/", 1)[0] == parent]
        if any(c.sound.overlapping(f.time, f.time + 60) is not None for c in same):
            out += same
    return out


def check_regions(edges: Edges, orphans: dict[str, list[TreeFile]]) -> None:
    """Regions with log files but no digest, while their multi-region trail's other regions
    have digests for those hours (and regions the signatures file names, with no digest)."""
    found: dict[str, tuple[list[TreeFile], list[Chain], str]] = {}
    for scope, files in sorted(orphans.items()):
        region = scope.rsplit("/", 1)[1]
        by_id = {id(c): c for f in files for c in region_siblings(edges, f)}
        if not by_id:
            continue
        first = next(iter(by_id.values()))
        n = first.digests[-1].name
        assert n is not None
        cid = chain_id(DigestName(n.account, n.org_id, region, n.trail, n.home_region, 0, False, n.account_root))
        found[cid] = (files, list(by_id.values()), scope)
    for cid in sorted(set(found) | set(edges.absent_regions)):
        files, sibs, scope = found.get(cid, ([], [], ""))
        named = edges.absent_regions.get(cid, [])
        for x in named:
            x.explained = True
        _region_missing(edges, cid, files, sibs, scope, named)


def _region_missing(
    edges: Edges, cid: str, files: list[TreeFile], sibs: list[Chain], scope: str, named: list[Named]
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
        ev.strong.append(named_witness(x, ", absent from the tree"))
    ev.counts.append(len(named))
    count = max(1, *ev.counts)
    digest_folder = scope.replace("/CloudTrail/", "/CloudTrail-Digest/") if scope else ""
    expected = [digest_folder] if digest_folder else []
    base = sibs or [c for x in named[:1] for c in edges.siblings[(x.name.account, x.name.trail, x.name.home_region)]]
    expected += [expected_rel(base[0], x.entry.target) if base else x.entry.target for x in named]
    edges.mark_logs(files, f"no digest of region {region} is in the tree, although {ev.strong[0].text}")
    edges.run.find(
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
    edges.run.region_digests_missing += count
