"""``Dataset``: a read-only DuckDB view of a trailforensics dataset.

    >>> ds = Dataset("case-42")
    >>> ds.sql("SELECT actor, count(*) FROM events GROUP BY ALL ORDER BY 2 DESC LIMIT 5")

Views: ``events`` (every row, with the helper columns ``actor`` and ``service``),
``files`` (the manifest, latest row per input file), ``manifest`` (every manifest row),
``duplicates`` (dropped copies and where they came from), plus the tables later
capabilities add (``verification``).  The dataset is only ever read: user SQL may run
SELECT/EXPLAIN (and, in the shell, in-memory CREATE/INSERT), never COPY/ATTACH/EXPORT.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from trailforensics.engine import resources, views
from trailforensics.engine.ipudf import register_ip_udf
from trailforensics.errors import TrailforensicsError
from trailforensics.schema.rollups import ROLLUPS
from trailforensics.store import layout

READ_ONLY_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
SHELL_STATEMENTS = READ_ONLY_STATEMENTS | frozenset(
    {
        duckdb.StatementType.CREATE,
        duckdb.StatementType.DROP,
        duckdb.StatementType.INSERT,
        duckdb.StatementType.UPDATE,
        duckdb.StatementType.DELETE,
        duckdb.StatementType.PRAGMA,
    }
)


_EXPLAIN_RE = re.compile(r"^\s*EXPLAIN\b(?:\s*\([^)]*\))?(?:\s+ANALY[SZ]E\b)?", re.IGNORECASE)


class QueryRefused(TrailforensicsError, ValueError):
    """A statement that could write files or change the session was refused."""


class Dataset:
    """The dataset's tables as DuckDB views, in bounded memory.

    ``memory_limit``: bytes or a size (``"1GB"``, ``"25%"``); default ``$TRAILFORENSICS_MEMORY_LIMIT``,
    else min(4 GiB, half the RAM).  Larger operators spill to ``DATASET/.scratch/`` (see
    :mod:`trailforensics.engine.resources`).
    """

    def __init__(self, path: str | Path, *, threads: int | None = None, memory_limit: str | int | None = None):
        self.path = Path(path).absolute()
        self.snapshot = layout.load_snapshot(self.path)
        self.memory_limit = resources.memory_limit(memory_limit)
        self._scratch = resources.ScratchDir(self.path)
        self.con = duckdb.connect(":memory:")
        resources.configure(self.con, limit=self.memory_limit, spill=self._scratch.open(), threads=threads)
        self.con.execute("SET TimeZone='UTC'")
        self.con.execute("SET autoinstall_known_extensions=false")
        self._sandboxed = False
        self._create_views()

    # -- views --------------------------------------------------------------------------
    def _create_views(self) -> None:
        from trailforensics.engine.extensions import register_extensions
        from trailforensics.engine.macros import register_macros

        files = self.snapshot.files
        register_macros(self.con)
        register_ip_udf(self.con)
        self.con.execute(views.files_view(self.path, files("manifest")))
        self.con.execute(views.duplicates_view(self.path, files("duplicates")))
        for rollup in ROLLUPS:
            self.con.execute(views.rollup_view(self.path, rollup.table, files(rollup.name)))
        register_extensions(self)
        verified = self.has_table("verification")
        if verified:
            self.con.execute(views.VERIFICATION_BY_FILE)
        self.con.execute(views.events_view(self.path, files("events"), verified))

    @property
    def scratch(self) -> Path:
        """This connection's private scratch folder (spill files; removed on close): for work files."""
        return self._scratch.path

    def has_table(self, name: str) -> bool:
        return bool(self.snapshot.files(name))

    @property
    def has_rollups(self) -> bool:
        """Whether the rollup views cover every event (see :mod:`trailforensics.schema.rollups`).

        Datasets written before rollups existed have none until their next ingest or compact;
        an empty dataset is covered trivially.
        """
        return all(self.has_table(r.name) for r in ROLLUPS) or not self.has_table("events")

    # -- queries ------------------------------------------------------------------------
    def sql(self, query: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pa.Table:
        """Run trusted SQL (ours or a notebook's) and return an Arrow table."""
        rel = self.con.sql(query, params=params)
        return rel.to_arrow_table() if rel is not None else pa.table({})

    def user_sql(
        self,
        query: str,
        params: Sequence[Any] | dict[str, Any] | None = None,
        *,
        allowed: frozenset[duckdb.StatementType] = READ_ONLY_STATEMENTS,
    ) -> pa.Table | None:
        """Run SQL typed by a user: only statements that cannot write files are accepted.

        Two locks: the statement types are checked (EXPLAIN by what it explains, since
        EXPLAIN ANALYZE runs it), and the connection is sandboxed the first time: DuckDB may
        then open no file but the dataset's own, install nothing, and change no setting.
        """
        statements = self.con.extract_statements(query)
        if not statements:
            raise QueryRefused("no SQL statement given")
        for st in statements:
            self._check_statement(st.type, st.query, allowed)
        self._sandbox()
        for st in statements[:-1]:
            self.con.sql(st.query)  # runs now unless it only reads (then it has no effect)
        rel = self.con.sql(statements[-1].query, params=params)
        return rel.to_arrow_table() if rel is not None else None

    def _check_statement(self, kind: duckdb.StatementType, text: str, allowed: frozenset[duckdb.StatementType]) -> None:
        if kind not in allowed:
            # A PIVOT without an IN list first creates an enum type: name the values instead.
            hint = " (list the values: PIVOT ... ON col IN ('a', 'b') ...)" if "PIVOT" in text.upper() else ""
            raise QueryRefused(f"{kind.name} statements are not allowed here: the dataset is read-only{hint}")
        if kind == duckdb.StatementType.EXPLAIN:
            inner = _EXPLAIN_RE.sub("", text, count=1)
            for st in self.con.extract_statements(inner) if inner.strip() else ():
                if st.type == duckdb.StatementType.EXPLAIN:
                    raise QueryRefused("nested EXPLAIN is not allowed")
                self._check_statement(st.type, st.query, READ_ONLY_STATEMENTS)

    def _sandbox(self) -> None:
        if self._sandboxed:
            return
        paths = [str(self.path / rel) for files in self.snapshot.tables.values() for rel in files]
        self.con.execute("SET allowed_paths=?", [paths])
        self.con.execute("SET enable_external_access=false")
        self.con.execute("SET autoload_known_extensions=false")
        self.con.execute("SET allow_community_extensions=false")
        self.con.execute("SET lock_configuration=true")
        self._sandboxed = True

    def close(self) -> None:
        self.con.close()
        self._scratch.close()

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Dataset({str(self.path)!r})"
