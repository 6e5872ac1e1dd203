"""Digests deleted at either end of a chain: the newest ones (no digest after the chain's end,
although something shows the trail went on) and the oldest ones (the oldest digest present names
a predecessor the tree lacks, or the signatures file names older ones).

Each check weighs the witnesses of :mod:`.witnesses`: strong ones make the digests MISSING
(`digest_missing`), hints alone make them maybe missing (`digest_maybe_missing`); the log files
the missing digests would have listed are marked unverified because of them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from trailforensics.verify import model as m
from trailforensics.verify.chains import Chain
from trailforensics.verify.edge_evidence import Evidence, expected_rel, named_witness, newest_rel, present_until
from trailforensics.verify.paths import DAY, TreeFile, join
from trailforensics.verify.run import HOUR, SLACK, plural, short
from trailforensics.verify.witnesses import (
    DELIVERY_TOLERANCE,
    LOG_FILES_AFTER,
    OTHER_DIGEST_IN_PLACE,
    PREVIOUS_DIGEST_LINK,
    SIBLING_REGIONS,
    Witness,
    due_count,
    overdue,
    sibling_count,
    sibling_delivered,
)

if TYPE_CHECKING:
    from trailforensics.verify.edges import Edges


def _sibling_end(edges: Edges, c: Chain) -> tuple[int, str, str] | None:
    best: tuple[int, str, str] | None = None
    for s in edges.sibs(c):
        for w in s.anchored[::-1]:
            if w.digest.sound:
                if best is None or w.end > best[0]:
                    best = (w.end, w.digest.rel, s.summary.region)
                break
    return best


def check_newest(edges: Edges, c: Chain, logs: list[TreeFile]) -> None:
    """Digests missing after the chain's end; `logs`: the log files of its folder delivered after it."""
    assert c.end is not None
    end = present_until(c, c.end, edges.latest)
    nxt = end + HOUR  # the next digest's end; it is due DELIVERY_TOLERANCE later
    logs = [f for f in logs if f.time is not None and f.time + 60 > end]
    times = [f.time for f in logs if f.time is not None]
    ev = Evidence(files=[], logs=len(logs))
    sib = _sibling_end(edges, c)
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
    for n in edges.named.get(c.id, []):
        if n.name.end <= end + SLACK or n.explained:
            continue
        n.explained = True
        ev.strong.append(named_witness(n, ", absent from the tree (S3 metadata exists only for delivered digests)"))
        ev.counts.append(max(1, round((n.name.end - end) / HOUR)))
        ev.files.append(expected_rel(c, n.entry.target))
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
    copy = edges.clock.copy_witnesses(c, nxt)
    if not ev.strong and copy and times:
        # the trail logged after its newest digest, and the copy is later than the next one's due time
        ev.strong += [Witness(LOG_FILES_AFTER, after_text, time=max(times), running=True, files=log_files), copy[0]]
        needed = math.ceil((max(times) + 60 - end) / HOUR)
        ev.counts.append(max(1, min(needed, due_count(end, copy[0].time or 0))))
    elif not ev.strong:
        if times:
            ev.hints.append(Witness(LOG_FILES_AFTER, after_text, time=max(times), running=True, files=log_files))
        ev.hints += copy
    for hole, rel in edges.holes.get(c.id, []):
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
        _newest_missing(edges, c, ev, end, logs)
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
        edges.run.find(
            m.DIGEST_MAYBE_MISSING,
            f"{c.id}: the chain ends at {m.iso(end)} and {' and '.join(w.text for w in ev.hints)}: {why}",
            files=ev.files or [newest_rel(c)],
            chain=c.id,
            start=end,
            end=max([nxt, *(t + 60 for t in times)]),
            details={
                "position": "newest",
                "newest_present": newest_rel(c),
                "log_files_after": len(logs),
                **ev.details(),
            },
        )


def _newest_missing(edges: Edges, c: Chain, ev: Evidence, end: int, logs: list[TreeFile]) -> None:
    count = max(1, *ev.counts)
    hi = end + count * HOUR
    c.add_gap(end, hi, count)
    witness = ev.strong[0].text
    edges.mark_logs(logs, f"{c.id} has no digest after {m.iso(end)}, although {witness}")
    edges.run.find(
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
        files=ev.files or [newest_rel(c)],
        chain=c.id,
        start=end,
        end=hi,
        count=count,
        details={
            "position": "newest",
            "confirmed_by_other_chains": ev.siblings,
            "newest_present": newest_rel(c),
            "log_files_after": ev.logs,
            "unverified_logs": [f.rel for f in logs[:50]],
            **ev.details(),
        },
    )


def check_oldest(edges: Edges, c: Chain, logs: list[TreeFile]) -> None:
    """Digests missing before the chain's start; `logs`: the log files of its folder delivered before it."""
    assert c.start is not None
    first = c.anchored[0]
    start = c.start
    named = [n for n in edges.named.get(c.id, []) if not n.explained and n.name.end <= start + SLACK]
    if not c.oldest_names_missing and not named:
        return
    ev = Evidence(files=[join(first.digest.bucket_root, first.digest.prev_key or "")] if first.digest.prev_key else [])
    if c.oldest_names_missing:
        _oldest_siblings(edges, c, ev)
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
        ev.strong.append(named_witness(n, ", absent from the tree"))
        ev.reach.append(n.name.end - HOUR)
    if not ev.strong:
        edges.run.find(
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
    edges.mark_logs(logs, f"{c.id} has no digest before {m.iso(start)}, although {ev.strong[-1].text}")
    edges.run.find(
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


def _oldest_siblings(edges: Edges, c: Chain, ev: Evidence) -> None:
    """Siblings show this region's missing predecessor was in the copy: one has a digest that
    ended before it, or started logging (null previous digest) before it, on a day the copy holds."""
    assert c.start is not None
    day = c.start - c.start % DAY
    lows = []
    for s in edges.sibs(c):
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
