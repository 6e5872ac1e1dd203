"""Named queries: ``queries/*.sql`` files with a metadata header; parameters are bound.

Header (SQL comments at the top of the file)::

    -- id: console_logins
    -- title: Console logins with MFA status
    -- description: Every ConsoleLogin with its result ...
    -- param: since timestamp 1970-01-01T00:00:00Z | Earliest event time
    -- param: user glob * | User name (glob)
    -- columns: event_time, actor, result, mfa_used

Parameter types: ``text``, ``glob``, ``timestamp`` (ISO 8601 or relative), ``int``,
``bool``.  A default of ``null`` means "no value"; no default means the parameter is
required.  In the SQL a parameter is ``$name``.

``-- id:`` names the query, as it names a detection (``queries/detections/``, which add their
own keys, see :mod:`trailforensics.hunt.loader`); the older ``-- name:`` is still read, so
users' own query folders keep working.  Without either, the file name is the id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.errors import TrailforensicsError
from trailforensics.query.when import BadTime, parse_when

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

PARAM_TYPES = ("text", "glob", "timestamp", "int", "bool")
_HEADER_RE = re.compile(r"^--\s*([a-z_][a-z0-9_]*)\s*:\s?(.*)$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class QueryError(TrailforensicsError, ValueError):
    pass


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: str | None  # None: the parameter is required
    description: str

    @property
    def required(self) -> bool:
        return self.default is None

    def convert(self, raw: str | None) -> Any:
        if raw is None or raw.lower() == "null":
            return None
        try:
            if self.type in ("text", "glob"):
                return raw
            if self.type == "timestamp":
                return parse_when(raw)
            if self.type == "int":
                return int(raw)
            if self.type == "bool":
                low = raw.lower()
                if low in ("true", "yes", "1", "on"):
                    return True
                if low in ("false", "no", "0", "off"):
                    return False
                raise ValueError(raw)
        except (ValueError, BadTime) as exc:
            raise QueryError(f"parameter {self.name}: {raw!r} is not a valid {self.type}") from exc
        raise QueryError(f"parameter {self.name}: unknown type {self.type}")


@dataclass
class NamedQuery:
    name: str
    title: str
    description: str
    params: list[Param]
    columns: list[str]
    sql: str
    path: Path
    meta: dict[str, str] = field(default_factory=dict)

    def bind(self, given: dict[str, str]) -> dict[str, Any]:
        names = {p.name for p in self.params}
        unknown = sorted(set(given) - names)
        if unknown:
            valid = ", ".join(sorted(names)) or "none"
            raise QueryError(f"{self.name}: unknown parameter(s) {', '.join(unknown)} (parameters: {valid})")
        missing = [p.name for p in self.params if p.required and p.name not in given]
        if missing:
            raise QueryError(
                f"{self.name}: missing required parameter(s) {', '.join(missing)} (use --param {missing[0]}=VALUE)"
            )
        return {p.name: p.convert(given.get(p.name, p.default)) for p in self.params}


def parse_query(text: str, path: Path) -> NamedQuery:
    meta: dict[str, str] = {}
    params: list[Param] = []
    body_lines = []
    in_header = True
    for line in text.splitlines():
        m = _HEADER_RE.match(line.strip()) if in_header else None
        if m:
            key, value = m.group(1), m.group(2).strip()
            if key == "param":
                params.append(_parse_param(value, path))
            else:
                meta[key] = (meta[key] + " " + value) if key in meta else value
            continue
        if in_header and line.strip().startswith("--"):
            continue  # a free comment in the header
        if line.strip():
            in_header = False
        body_lines.append(line)
    name = meta.get("id") or meta.get("name") or path.stem  # `-- name:`: the header before `-- id:`
    if not _NAME_RE.match(name):
        raise QueryError(f"{path}: invalid query name {name!r}")
    sql = "\n".join(body_lines).strip().rstrip(";")
    if not sql:
        raise QueryError(f"{path}: no SQL")
    used = set(re.findall(r"\$([a-z_][a-z0-9_]*)", sql))
    declared = {p.name for p in params}
    if used - declared:
        raise QueryError(f"{path}: SQL uses undeclared parameter(s) {', '.join(sorted(used - declared))}")
    columns = [c.strip() for c in meta.get("columns", "").split(",") if c.strip()]
    return NamedQuery(name, meta.get("title", name), meta.get("description", ""), params, columns, sql, path, meta)


def _parse_param(spec: str, path: Path) -> Param:
    head, _, description = spec.partition("|")
    parts = head.split(None, 2)
    if len(parts) < 2 or parts[1] not in PARAM_TYPES:
        raise QueryError(f"{path}: bad param line {spec!r} (expected: name type [default] | description)")
    default = parts[2].strip() if len(parts) > 2 else None
    return Param(parts[0], parts[1], default, description.strip())


def builtin_dir() -> Path:
    return Path(str(resources.files("trailforensics.queries")))


def load_queries(extra_dirs: list[Path] | None = None, subdir: str | None = None) -> dict[str, NamedQuery]:
    """Built-in queries (``queries/``), then the user's folders (later ones override)."""
    dirs = [builtin_dir() / subdir if subdir else builtin_dir(), *(extra_dirs or [])]
    found: dict[str, NamedQuery] = {}
    for d in dirs:
        if not d.is_dir():
            raise QueryError(f"no such folder: {d}")
        for path in sorted(d.glob("*.sql")):
            q = parse_query(path.read_text(encoding="utf-8"), path)
            found[q.name] = q
    return found


def run_query(ds: Dataset, query: NamedQuery, given: dict[str, str]) -> pa.Table:
    return ds.sql(query.sql, query.bind(given))
