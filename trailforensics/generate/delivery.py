"""CloudTrail-style delivery: records -> log files.

A trail delivers, per (account, region), one file for each ~5-minute window
that had events.  A few percent of events arrive late (up to ~15 minutes after
their eventTime), the file timestamp is the delivery time (after its newest
event), and records inside a file are only roughly in time order.

Every decision is a function of the trail's `salt` and of the record itself
(its random eventID) or of its window, never of the other records: adding an
event to one window leaves every other file, and every file name, unchanged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from trailforensics.generate.engine import Event
from trailforensics.generate.model import JSON
from trailforensics.generate.rng import Rng, derive_seed

WINDOW = 300
_MASK = 0xFFFFFFFF
_SCALE = 1.0 / 4294967296.0


@dataclass
class Batch:
    account: str
    region: str
    delivered: int  # epoch seconds; the file name carries its minute
    records: list[JSON]
    oldest: int
    newest: int
    name: str = ""  # the 16 random characters of the file name


def batch_events(
    events: list[Event],
    salt: int,
    *,
    window: int = WINDOW,
    late_frac: float = 0.03,
    max_late: int = 900,
    max_records: int = 6000,
) -> list[Batch]:
    """Group `events` into delivery batches; deterministic for a given `salt`."""
    s1 = salt & _MASK
    s2 = (salt >> 32) & _MASK
    groups: dict[tuple[str, str, int], list[tuple[float, int, JSON]]] = defaultdict(list)
    for t, acct, region, rec in events:
        eid = rec["eventID"]
        u = ((int(eid[-8:], 16) ^ s1) & _MASK) * _SCALE
        v = ((int(eid[-12:-8] + eid[:4], 16) ^ s2) & _MASK) * _SCALE
        delay = window + (u / late_frac) * (max_late - window) if u < late_frac else (u - late_frac) * 80.0
        groups[(acct, region, int((t + delay) // window))].append((t + (v - 0.5) * 70.0, t, rec))
    out: list[Batch] = []
    for acct, region, w in sorted(groups):
        items = groups[(acct, region, w)]
        items.sort(key=lambda it: (it[0], it[2]["eventID"]))
        rng = Rng(derive_seed(salt, acct, region, w))
        base = (w + 1) * window + rng.randint(20, 200)
        for i in range(0, len(items), max_records):
            part = items[i : i + max_records]
            times = [it[1] for it in part]
            out.append(
                Batch(
                    acct,
                    region,
                    base + 60 * (i // max_records),
                    [it[2] for it in part],
                    min(times),
                    max(times),
                    rng.alnum(16),
                )
            )
    return out
