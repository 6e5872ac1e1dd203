"""Witnesses: what in the tree shows that an absent digest was due before the tree was copied.

A digest absent from the tree was deleted, or had not been delivered when the copy was taken;
the chain alone cannot tell which at its edges.  A *witness* is independent evidence about the
copy's time or about the digest itself:

* ``sibling_regions``: digests of the trail's other regions.  Logging and validation are per
  trail, and a multi-region trail delivers every region's digest on the same hourly schedule:
  a sibling digest ending at W in the copy shows that this region's digests ending up to W
  (within the clock noise ``SLACK``) had been delivered too, while the trail was logging;
* ``signatures_file``: an entry of the signatures file (S3 metadata, captured with the tree)
  naming the digest: S3 metadata exists only for delivered objects;
* ``previous_digest_link``: the next digest's ``previousDigestS3Object`` names it;
* ``log_files_after``: log files of its own folder delivered after it was due (the trail was
  logging and the copy is later);
* ``other_trails``: digests of other trails in the same bucket (the copy is later than their
  end times);
* ``copy_newest_file``: the newest log file of the same bucket, by the delivery minute in its
  name (never the file system's modification time, which a copy of a copy resets).

The last two date the copy but say nothing about this trail still logging (a trail stopped or
deleted long ago is not missing digests): alone they only make a warning; with log files of the
trail's own folder delivered after its newest digest they prove the next digest was due.

Against every other witness a digest is *due* :data:`DELIVERY_TOLERANCE` (5 minutes) after the
end time in its name: CloudTrail writes a digest when its hour ends, so a file delivered later
than that shows the copy was taken after it was due.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trailforensics.verify import model as m
from trailforensics.verify.chains import Chain
from trailforensics.verify.paths import Tree
from trailforensics.verify.run import HOUR, SLACK

DELIVERY_TOLERANCE = 5 * 60  # after its end time, a digest not yet in the bucket is late, not missing

SIBLING_REGIONS = "sibling_regions"
SIGNATURES_FILE = "signatures_file"
PREVIOUS_DIGEST_LINK = "previous_digest_link"
LOG_FILES_AFTER = "log_files_after"
OTHER_TRAILS = "other_trails"
COPY_NEWEST_FILE = "copy_newest_file"
OTHER_DIGEST_IN_PLACE = "other_digest_in_place"  # a hint only: a digest of another key lies at its path


@dataclass(frozen=True)
class Witness:
    kind: str
    text: str
    time: int | None = None  # the copy was taken after this time (None: it names the digest itself)
    running: bool = False  # it also shows the trail was logging (not only when the copy was taken)
    files: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "time": m.iso(self.time), "files": list(self.files)}


def overdue(end: int, copy_after: int) -> bool:
    """A digest ending at `end` was due before a copy holding something delivered at `copy_after`."""
    return end + DELIVERY_TOLERANCE < copy_after


def sibling_delivered(end: int, sibling_end: int) -> bool:
    """A digest ending at `end` was delivered if a sibling region of its trail has one ending at or
    after it in the copy: a trail writes every region's digests on one hourly schedule."""
    return end <= sibling_end + SLACK


def sibling_count(last_end: int, sibling_end: int) -> int:
    """How many hourly digests after one ending at `last_end` a sibling ending at `sibling_end` shows."""
    return max(0, (sibling_end + SLACK - last_end) // HOUR)


def due_count(last_end: int, copy_after: int) -> int:
    """How many hourly digests after one ending at `last_end` were due before `copy_after`."""
    return max(0, (copy_after - DELIVERY_TOLERANCE - last_end - 1) // HOUR)


class Clock:
    """Per bucket folder: the newest sound digest of each trail, and the newest log file."""

    def __init__(self, chains: dict[str, Chain], scanned: Tree) -> None:
        self.roots = sorted({c.bucket_root for c in chains.values()}, key=len, reverse=True)
        self.digests: dict[str, dict[tuple[str, str, str], tuple[int, str]]] = {}
        for c in chains.values():
            for w in c.anchored:
                if not w.digest.sound:
                    continue
                per = self.digests.setdefault(c.bucket_root, {})
                if w.end > per.get(c.trail_key, (-1, ""))[0]:
                    per[c.trail_key] = (w.end, w.digest.rel)
        self.logs: dict[str, tuple[int, str]] = {}
        for f in scanned.logs.values():
            root = self._root(f.rel)
            if f.time is None or root is None:
                continue
            if f.time > self.logs.get(root, (-1, ""))[0]:
                self.logs[root] = (f.time, f.rel)

    def _root(self, rel: str) -> str | None:
        """The bucket folder of the digests (the longest) that a file lies under."""
        return next((r for r in self.roots if not r or rel.startswith(r + "/")), None)

    def copy_witnesses(self, c: Chain, due: int) -> list[Witness]:
        """Bucket-level witnesses showing the copy was taken after a digest of `c` ending at `due`
        was due (other trails' digests, the newest log file)."""
        out = []
        others = [(end, rel, k) for k, (end, rel) in self.digests.get(c.bucket_root, {}).items() if k != c.trail_key]
        if others:
            end, rel, k = max(others)
            if overdue(due, end):
                out.append(
                    Witness(
                        OTHER_TRAILS,
                        f"trail {k[1]} delivered a digest ending {m.iso(end)} to the same bucket",
                        time=end,
                        files=(rel,),
                    )
                )
        newest = self.logs.get(c.bucket_root)
        if newest is not None and overdue(due, newest[0]):
            out.append(
                Witness(
                    COPY_NEWEST_FILE,
                    f"the newest log file of the same bucket was delivered at {m.iso(newest[0])}",
                    time=newest[0],
                    files=(newest[1],),
                )
            )
        return out
