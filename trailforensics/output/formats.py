"""Rendering Arrow tables in the six output formats every row-returning command offers.

* ``table``: Rich, wide cells truncated, control characters escaped, a row count;
* ``csv``: UTF-8 with a header, formula-looking cells neutralised (see :mod:`.sanitize`);
* ``json`` / ``jsonl``: values exact (strings unescaped, JSON columns kept as text);
* ``parquet``: the Arrow table as is (needs ``-o``);
* ``timesketch``: JSON Lines with ``message``, ``datetime`` and ``timestamp_desc``.

Timestamps are always UTC ISO 8601 with ``Z``.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from trailforensics.normalize.timeparse import format_time
from trailforensics.output.sanitize import csv_safe, terminal_safe

FORMATS = ("table", "csv", "json", "jsonl", "parquet", "timesketch")
MAX_CELL = 60
TIME_COLUMNS = ("event_time", "first_seen", "time", "start", "first_time")


class OutputError(ValueError):
    pass


def plain(value: Any) -> Any:
    """A JSON-able Python value: UTC timestamps as ISO 8601 with Z."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def text(value: Any) -> str:
    """The display text of a value (before any escaping)."""
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _rows(table: pa.Table) -> Iterable[dict[str, Any]]:
    for batch in table.to_batches(max_chunksize=10_000):
        yield from batch.to_pylist()


def _dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS, default=str)


def write_table(
    table: pa.Table,
    fmt: str,
    out: Path | None = None,
    *,
    title: str | None = None,
    message_columns: tuple[str, ...] = ("actor", "event_name"),
    stream: TextIO | None = None,
) -> None:
    if fmt not in FORMATS:
        raise OutputError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        if out is None:
            raise OutputError("--format parquet needs -o FILE")
        pq.write_table(table, str(out), compression="zstd")
        return
    if out is not None:
        with open(out, "w", encoding="utf-8", newline="") as fh:
            _write_text(table, fmt, fh, title, message_columns, to_terminal=False)
        return
    target = stream or sys.stdout
    _write_text(table, fmt, target, title, message_columns, to_terminal=fmt == "table")


def _write_text(
    table: pa.Table,
    fmt: str,
    fh: TextIO,
    title: str | None,
    message_columns: tuple[str, ...],
    to_terminal: bool,
) -> None:
    if fmt == "table":
        render_rich(table, fh, title=title, escape=True)
    elif fmt == "csv":
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([csv_safe(c) for c in table.column_names])
        for row in _rows(table):
            writer.writerow([csv_safe(text(v)) for v in row.values()])
    elif fmt == "json":
        fh.write("[")
        for i, row in enumerate(_rows(table)):
            fh.write(("," if i else "") + "\n" + _dumps(plain(row)).decode())
        fh.write("\n]\n")
    elif fmt == "jsonl":
        for row in _rows(table):
            fh.write(_dumps(plain(row)).decode() + "\n")
    elif fmt == "timesketch":
        for row in _rows(table):
            fh.write(_dumps(timesketch_row(row, message_columns)).decode() + "\n")


def timesketch_row(row: dict[str, Any], message_columns: tuple[str, ...]) -> dict[str, Any]:
    out = plain(row)
    when = next((row[c] for c in TIME_COLUMNS if isinstance(row.get(c), datetime)), None)
    if when is None:
        when = next((v for v in row.values() if isinstance(v, datetime)), None)
    parts = [text(row.get(c)) for c in message_columns if row.get(c) is not None]
    message = " ".join(p for p in parts if p) or "CloudTrail event"
    out.update(
        message=message,
        datetime=plain(when) if when is not None else None,
        timestamp_desc="Event Time" if "event_time" in row else "Time",
    )
    return out


def render_rich(
    table: pa.Table, fh: TextIO, *, title: str | None = None, escape: bool = True, max_cell: int = MAX_CELL
) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(
        file=fh,
        width=None if fh.isatty() else 240,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )
    rich_table = Table(title=terminal_safe(title) if title else None, show_lines=False, header_style="bold")
    for name in table.column_names:
        rich_table.add_column(Text(terminal_safe(name)), overflow="ellipsis", no_wrap=True, max_width=max_cell + 2)
    for row in _rows(table):
        cells = []
        for value in row.values():
            s = text(value)
            if escape:
                s = terminal_safe(s)
            if len(s) > max_cell:
                s = s[: max_cell - 1] + "…"
            cells.append(Text(s))  # Text, never markup: log content cannot style the terminal
        rich_table.add_row(*cells)
    console.print(rich_table)
    n = table.num_rows
    console.print(Text(f"{n:,} row{'s' if n != 1 else ''}"))


def to_bytes(table: pa.Table, fmt: str) -> bytes:
    """Render to bytes (tests and callers that need the text)."""
    if fmt == "parquet":
        sink = io.BytesIO()
        pq.write_table(table, sink)
        return sink.getvalue()
    buf = io.StringIO()
    _write_text(table, fmt, buf, None, ("actor", "event_name"), to_terminal=False)
    return buf.getvalue().encode()


__all__ = ["FORMATS", "OutputError", "plain", "render_rich", "text", "to_bytes", "write_table"]
