"""What the analyses of a chain's edges gather: the signatures-file entries naming digests absent
from the tree, the witnesses for (and hints of) a deletion, and where the deleted digests would lie.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trailforensics.verify import model as m
from trailforensics.verify.chains import Chain
from trailforensics.verify.keys import SignatureEntry
from trailforensics.verify.paths import DigestName, join
from trailforensics.verify.run import short
from trailforensics.verify.witnesses import SIGNATURES_FILE, Witness


@dataclass
class Named:
    """A signatures-file entry naming a digest absent from the tree."""

    entry: SignatureEntry
    name: DigestName
    explained: bool = False


@dataclass
class Evidence:
    """What bears on one edge: strong witnesses (the digests are missing) and hints (maybe)."""

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


def present_until(c: Chain, lo: int, hi: int) -> int:
    """Digests that failed verification do not extend the chain, but they are there, not missing:
    the latest end (from its object key) of one between lo and hi, else lo."""
    ends = [d.name.end for d in c.digests if not d.sound and d.name is not None and lo < d.name.end < hi]
    return max(ends, default=lo)


def named_witness(n: Named, extra: str = "") -> Witness:
    return Witness(
        SIGNATURES_FILE,
        f"the signatures file names {short(n.entry.target)} (ends {m.iso(n.name.end)}){extra}",
        running=True,
        files=(n.entry.target,),
    )


def expected_rel(c: Chain, target: str) -> str:
    """Where a digest named by `target` (key, bucket/key, tree path or bare name) lies in the tree."""
    if "AWSLogs/" not in target:
        newest = c.digests[-1].key
        return join(c.bucket_root, newest.rsplit("/", 1)[0], target.rsplit("/", 1)[-1])
    key = target[target.find("AWSLogs/") :]
    newest = c.digests[-1].key
    prefix = newest[: newest.find("AWSLogs/")] if "AWSLogs/" in newest else ""
    return join(c.bucket_root, prefix + key)


def newest_rel(c: Chain) -> str:
    return c.anchored[-1].digest.rel if c.anchored else c.digests[-1].rel
