"""The one place that knows the Sigma API (``trailforensics.sigma``), imported lazily.

``run_hunt(ds, sigma=paths)`` uses it; the API it expects of the Sigma module::

    from trailforensics.sigma import load_sigma_rules, run_sigma_rules
    rules, failures = load_sigma_rules(paths)           # list[SigmaRule], list[(file, error)]
    hits = run_sigma_rules(ds, rules, errors=failed)    # pyarrow.Table in HITS_SCHEMA (hunt.model)

Sigma hits are conformed to ``HITS_SCHEMA`` here (missing columns NULL, levels on our severity
scale, ATT&CK ids as text), so a stand-in module only needs the right column names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.errors import TrailforensicsError
from trailforensics.hunt.model import HITS_SCHEMA, rule_severity

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

INSTALL_HINT = "Sigma rules need the optional Sigma support: pip install trailforensics[sigma]"


class SigmaUnavailable(TrailforensicsError, RuntimeError):
    """trailforensics.sigma or pySigma is not installed."""


class SigmaPathError(TrailforensicsError, ValueError):
    """A Sigma file or folder given to the hunt is missing or unreadable."""


@dataclass
class SigmaReport:
    """What became of the Sigma rules of a hunt (the CLI prints ``skipped`` as warnings)."""

    rules: list[Any] = field(default_factory=list)  # compiled rules (trailforensics.sigma.SigmaRule, with .warnings)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why): did not compile (unknown field...)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (rule id, error): compiled but failed to run


def load(paths: Sequence[Path | str]) -> SigmaReport:
    """Compile the Sigma rules of files or folders; rule files that do not compile are ``skipped``."""
    try:
        from trailforensics.sigma import load_sigma_rules
    except ImportError as exc:
        raise SigmaUnavailable(f"{INSTALL_HINT} ({exc})") from exc
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise SigmaPathError(f"no such Sigma file or folder: {', '.join(missing)}")
    try:
        rules, failures = load_sigma_rules([Path(p) for p in paths])
    except ImportError as exc:  # the module is there, pySigma is not
        raise SigmaUnavailable(f"{INSTALL_HINT} ({exc})") from exc
    except (OSError, ValueError) as exc:
        raise SigmaPathError(str(exc)) from exc
    return SigmaReport(rules=list(rules), skipped=[(str(f), str(e)) for f, e in failures])


def run(ds: Dataset, report: SigmaReport) -> pa.Table:
    """Run the compiled rules (failures are added to ``report.failed``); hits in ``HITS_SCHEMA``."""
    if not report.rules:
        return HITS_SCHEMA.empty_table()
    from trailforensics.sigma import run_sigma_rules

    return conform(run_sigma_rules(ds, list(report.rules), errors=report.failed))


def conform(table: pa.Table) -> pa.Table:
    """Sigma hits in ``HITS_SCHEMA``: missing columns NULL, severities on our scale, ATT&CK ids as text."""
    n = table.num_rows
    columns = []
    for f in HITS_SCHEMA:
        if f.name in table.column_names:
            col = table.column(f.name)
            if f.name == "severity":
                col = pa.array([rule_severity(v) for v in col.to_pylist()], pa.string())
            elif f.name == "attack" and not pa.types.is_string(col.type):
                col = pa.array([", ".join(v) if isinstance(v, list) else v for v in col.to_pylist()], pa.string())
            columns.append(col.cast(f.type))
        else:
            columns.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(columns, schema=HITS_SCHEMA)
