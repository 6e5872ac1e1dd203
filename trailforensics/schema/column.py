"""The building blocks of the schema: a ``Column`` (name, Arrow type, doc) and a ``Table``."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")
DATE = pa.date32()
S = pa.string()
B = pa.bool_()
I32 = pa.int32()
I64 = pa.int64()


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    group: str
    doc: str
    source: str = ""  # the CloudTrail key (dotted path) the column comes from, if any
    # Helper columns only (computed by the `events` view, never stored): the SQL expression over
    # `events_raw` (alias `v` is the file's verification verdict), and the expression used instead
    # when the dataset holds no verification results.
    sql: str = ""
    sql_unverified: str = ""


def col(name: str, typ: pa.DataType, doc: str) -> Column:
    """A column of a table other than `events` (no group, no CloudTrail source)."""
    return Column(name, typ, "", doc)


def arrow_schema(columns: tuple[Column, ...]) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.type) for c in columns])


@dataclass(frozen=True)
class Table:
    """A table or view a user can query: its columns and a one-line description."""

    name: str
    columns: tuple[Column, ...]
    doc: str

    @property
    def schema(self) -> pa.Schema:
        return arrow_schema(self.columns)

    @property
    def docs(self) -> dict[str, str]:
        return {c.name: c.doc for c in self.columns}
