"""Log files no digest lists: where they fall against the chains of their folder.

A log no digest lists is placed against the chains that cover its folder: inside a sound
digest's window or a stop (validation off) it is unreferenced; in a gap, after a chain's end,
before a start that names a missing predecessor, or in a window only a failed digest covers,
it cannot be proven (and may reveal deleted digests); elsewhere it is not covered.  A file
whose name CloudTrail could not have written there (not a CloudTrail log name, another account
or region, a date other than its folder's, an implausible time) has no delivery time: inside a
covered folder it is unreferenced too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from trailforensics.verify import model as m
from trailforensics.verify.chains import Chain, std_by_scope
from trailforensics.verify.log_rows import log_row
from trailforensics.verify.paths import DAY, Tree, TreeFile
from trailforensics.verify.run import Run, plural, short


@dataclass
class Unlisted:
    """Log files no digest lists that bear on the chains' edges."""

    after: dict[str, list[TreeFile]] = field(default_factory=lambda: defaultdict(list))  # chain id -> files
    before: dict[str, list[TreeFile]] = field(default_factory=lambda: defaultdict(list))
    # log folder -> files, of a region with no digest whose multi-region trail's other regions cover them
    orphans: dict[str, list[TreeFile]] = field(default_factory=lambda: defaultdict(list))


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
