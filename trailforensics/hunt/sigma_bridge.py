"""The one place that knows the Sigma API (``trailforensics.sigma``), imported lazily.

Expected API (owned by the Sigma module)::

    from trailforensics.sigma import load_sigma_rules, run_sigma_rules
    rules, failures = load_sigma_rules(paths)   # list[SigmaRule], list[(file, error)]
    hits = run_sigma_rules(ds, rules)           # pyarrow.Table: detection_id, title, severity, attack,
                                                # author, + the evidence columns of the built-ins

The Detection Rule License requires the rule author in every output showing matches, so merged
hits carry an ``author`` column (``trailforensics`` for the built-ins).  Adjust this module only if
that API changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.errors import TrailforensicsError
from trailforensics.hunt.model import (
    EVIDENCE_COLUMNS,
    EVIDENCE_SCHEMA,
    METADATA_COLUMNS,
    SEVERITY_ALIASES,
    SEVERITY_RANK,
)
from trailforensics.hunt.runner import HuntResult, filter_hits, sort_hits, summarize

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

INSTALL_HINT = "Sigma rules need the optional Sigma support: pip install trailforensics[sigma]"
BUILTIN_AUTHOR = "trailforensics"
MERGED_SCHEMA = pa.schema(
    [pa.field(c, pa.string()) for c in METADATA_COLUMNS] + [pa.field("author", pa.string())] + list(EVIDENCE_SCHEMA)
)


class SigmaUnavailable(TrailforensicsError, RuntimeError):
    """trailforensics.sigma or pySigma is not installed."""


def load(paths: Sequence[Path]) -> tuple[list[Any], list[tuple[str, str]]]:
    """Compile the Sigma rules of files or folders: (rules, [(file, error)])."""
    try:
        from trailforensics.sigma import load_sigma_rules
    except ImportError as exc:
        raise SigmaUnavailable(f"{INSTALL_HINT} ({exc})") from exc
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise FileNotFoundError(f"no such Sigma file or folder: {', '.join(missing)}")
    try:
        rules, failures = load_sigma_rules([Path(p) for p in paths])
    except ImportError as exc:  # the module is there, pySigma is not
        raise SigmaUnavailable(f"{INSTALL_HINT} ({exc})") from exc
    return list(rules), [(str(f), str(e)) for f, e in failures]


def run(ds: Dataset, rules: Sequence[Any]) -> pa.Table:
    """Run compiled rules; returns hits in MERGED_SCHEMA."""
    from trailforensics.sigma import run_sigma_rules

    return normalize(run_sigma_rules(ds, list(rules)))


def _severity(value: Any) -> str:
    low = str(value or "").strip().lower()
    low = SEVERITY_ALIASES.get(low, low)
    return low if low in SEVERITY_RANK else "medium"  # a rule without a known level


def normalize(table: pa.Table) -> pa.Table:
    """Sigma hits in MERGED_SCHEMA: missing columns NULL, severities on our scale, ATT&CK ids as text."""
    n = table.num_rows
    columns = []
    for f in MERGED_SCHEMA:
        if f.name in table.column_names:
            col = table.column(f.name)
            if f.name == "severity":
                col = pa.array([_severity(v) for v in col.to_pylist()], pa.string())
            elif f.name == "attack" and not pa.types.is_string(col.type):
                col = pa.array([", ".join(v) if isinstance(v, list) else v for v in col.to_pylist()], pa.string())
            columns.append(col.cast(f.type))
        else:
            columns.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(columns, schema=MERGED_SCHEMA)


def with_author(hits: pa.Table, author: str = BUILTIN_AUTHOR) -> pa.Table:
    """Built-in hits in MERGED_SCHEMA (``author`` after ``attack``)."""
    author_col = pa.array([author] * hits.num_rows, pa.string())
    cols = [hits.column(c) for c in METADATA_COLUMNS] + [author_col] + [hits.column(c) for c in EVIDENCE_COLUMNS]
    return pa.Table.from_arrays(cols, schema=MERGED_SCHEMA)


def merge(
    result: HuntResult,
    sigma_hits: pa.Table,
    *,
    min_severity: str = "info",
    since: datetime | None = None,
    until: datetime | None = None,
    errors: Sequence[tuple[str, str]] = (),
) -> HuntResult:
    """The built-in result plus Sigma hits (filtered like the built-ins'); both carry ``author``."""
    sigma_hits = filter_hits(normalize(sigma_hits), min_severity=min_severity, since=since, until=until)
    hits = sort_hits(pa.concat_tables([with_author(result.hits), sigma_hits]))
    summary = summarize(hits, result.detections)
    authors: dict[str, str] = {}
    for row in hits.select(["detection_id", "author"]).to_pylist():
        authors.setdefault(row["detection_id"], row["author"] or "")
    author_col = pa.array(
        [authors.get(d, BUILTIN_AUTHOR) for d in summary.column("detection_id").to_pylist()], pa.string()
    )
    summary = summary.add_column(summary.column_names.index("attack") + 1, "author", author_col)
    return replace(result, hits=hits, summary=summary, errors=[*result.errors, *errors])
