"""Narrowing ``events`` to the event pairs a detection declares, so that the dataset is read once.

A detection's ``events`` header lists the ``eventSource:eventName`` pairs it reads (a name may
end with ``*``).  Reading ``request_parameters`` and the other JSON columns is what costs: DuckDB
decodes them for every row group holding a match, so each detection filtering the 2 M-event view
would pay ~0.5 s.  Instead the runner copies, in one streaming pass, the events of every pair some
detection declares (and the dataset holds) to a Parquet file in the dataset's scratch folder, and
runs each such detection with ``events`` replaced by a CTE over its own pairs::

    WITH events AS (SELECT * FROM read_parquet('<scope file>') WHERE <its pairs>), <its CTEs> SELECT ...

The copy is on disk, not in memory: held as a table it took ~0.6 GB per million events of the
dataset, so the hunt's memory grew with the data (10 GB at 10 M events).  As a file it costs only
the row groups a detection is reading, and it is deleted when the hunt ends.  It holds only the
columns some scoped detection names (a word of its SQL): a detection naming a column left out
fails loudly (the column does not exist), it cannot silently read an empty one.

Detections listing ``*`` or ``*:Name`` pairs run unchanged on the full view (they should read
only the light columns).  Whole-dataset baselines (first-seen, "was this region used before")
read ``main.events``, which is never narrowed.  The narrowing is only correct if the ``events``
header is complete: tests/test_hunt.py runs every detection both ways and compares.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from trailforensics.hunt.model import Detection

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

SCOPE_FILE = "hunt_scope.parquet"
_WITH_RE = re.compile(r"^\s*WITH\s+(?!RECURSIVE\b)", re.IGNORECASE)
_SELECT_RE = re.compile(r"^\s*(SELECT|FROM)\b", re.IGNORECASE)
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Scope:
    present: frozenset[tuple[str, str]]  # the (event_source, event_name) pairs of the dataset
    path: Path  # the Parquet copy of the scoped detections' events

    @property
    def source(self) -> str:
        """The copy as a FROM-able expression."""
        return f"read_parquet({_lit(str(self.path))})"


def is_scoped(det: Detection) -> bool:
    """True when every declared pair names its service (no ``*`` or ``*:Name``)."""
    return bool(det.events) and all(":" in e and not e.startswith("*") for e in det.events)


def matching_pairs(det: Detection, present: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    out = set()
    patterns = [e.partition(":") for e in det.events]
    for s, n in present:
        if any(s == source and fnmatch.fnmatchcase(n, name) for source, _, name in patterns):
            out.add((s, n))
    return sorted(out)


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _pairs_condition(pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return "false"
    by_source: dict[str, list[str]] = {}
    for s, n in pairs:
        by_source.setdefault(s, []).append(n)
    return " OR ".join(
        f"(event_source = {_lit(s)} AND event_name IN ({', '.join(map(_lit, names))}))"
        for s, names in sorted(by_source.items())
    )


def prepare_scope(ds: Dataset, detections: Iterable[Detection]) -> Scope | None:
    """Find the dataset's pairs and copy the events of the scoped detections' pairs to a scratch file.

    None when the connection may not write files (sandboxed by ``Dataset.user_sql``): the
    detections then read the whole view (the same hits, more slowly).
    """
    rows = ds.sql(
        "SELECT DISTINCT event_source, event_name FROM main.events "
        "WHERE event_source IS NOT NULL AND event_name IS NOT NULL"
    ).to_pylist()
    present = frozenset((r["event_source"], r["event_name"]) for r in rows)
    scoped = [d for d in detections if is_scoped(d)]
    where = scope_filter(scoped, present)
    described = ds.sql("SELECT column_name FROM (DESCRIBE main.events)").column("column_name").to_pylist()
    columns = ", ".join(_quote_ident(c) for c in named_columns(described, scoped))
    path = ds.scratch / SCOPE_FILE
    # Small row groups: a detection reading a rare pair decodes the JSON columns of few rows.
    try:
        ds.con.execute(
            f"COPY (SELECT {columns} FROM main.events WHERE {where}) TO {_lit(str(path))} "
            "(FORMAT parquet, ROW_GROUP_SIZE 16384)"
        )
    except duckdb.PermissionException:
        path.unlink(missing_ok=True)
        return None
    return Scope(present, path)


def scope_filter(scoped: Iterable[Detection], present: Iterable[tuple[str, str]]) -> str:
    """The WHERE condition (SQL) of the copy: the events of every pair a scoped detection declares."""
    wanted: set[tuple[str, str]] = set()
    present = list(present)
    for det in scoped:
        wanted.update(matching_pairs(det, present))
    names = sorted({n for _, n in wanted})
    if not names:
        return "false"
    return f"event_name IN ({', '.join(map(_lit, names))}) AND ({_pairs_condition(sorted(wanted))})"


def named_columns(described: Iterable[str], detections: Iterable[Detection]) -> list[str]:
    """The columns of ``events`` (``described``, in order) that the detections' SQL names, and the pair columns."""
    words = {w.lower() for d in detections for w in _WORD_RE.findall(d.sql)} | {"event_source", "event_name"}
    return [c for c in described if c.lower() in words]


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def drop_scope(scope: Scope) -> None:
    """Delete the copy (it can be large) once the detections have run."""
    scope.path.unlink(missing_ok=True)


def scoped_sql(det: Detection, scope: Scope) -> str:
    """The detection's SQL with ``events`` narrowed to its pairs (unchanged when not scoped)."""
    if not is_scoped(det):
        return det.sql
    condition = _pairs_condition(matching_pairs(det, scope.present))
    return with_events(det.sql, f"SELECT * FROM {scope.source} WHERE {condition}")


def with_events(sql: str, relation: str) -> str:
    """``sql`` with ``events`` replaced by ``relation`` (a SELECT) through a leading CTE (``main.events``
    still names the whole view); ``sql`` unchanged when it is not a plain query or a non-recursive WITH."""
    cte = f"events AS ({relation})"
    m = _WITH_RE.match(sql)
    if m:
        return f"WITH {cte},\n{sql[m.end() :]}"
    if _SELECT_RE.match(sql):
        return f"WITH {cte}\n{sql}"
    return sql
