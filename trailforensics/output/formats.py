"""Rendering Arrow tables in the six output formats every row-returning command offers, to a :class:`.sink.Sink`.

* ``table``: Rich, wide cells truncated, control characters escaped, a row count;
* ``csv``: UTF-8 with a header, formula-looking cells neutralised (see :mod:`.sanitize`);
* ``json`` / ``jsonl``: values exact (strings unescaped, JSON columns kept as text);
* ``parquet``: the Arrow table as is (needs ``-o``);
* ``timesketch``: JSON Lines with ``message``, ``datetime`` and ``timestamp_desc``.

On a terminal the csv and JSON formats escape in their own grammar (``\\x1b`` in a cell, ``\\u202e``
in a JSON string, still the same value), and the sink's guard stops anything else.
Timestamps are always UTC ISO 8601 with ``Z``.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterable
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from trailforensics.normalize.timeparse import format_time
from trailforensics.output.choices import FORMATS, check_format
from trailforensics.output.sanitize import csv_safe, json_terminal_safe, terminal_safe
from trailforensics.output.sink import OutputError, Sink

MAX_CELL = 60
TIME_COLUMNS = ("event_time", "first_seen", "time", "start", "first_time")


def plain(value: Any) -> Any:
    """A JSON-able Python value: UTC timestamps as ISO 8601 with Z."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):  # DuckDB's sums: whole numbers stay integers
        return int(value) if value == value.to_integral_value() else float(value)
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
        return _dumps(value).decode()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _rows(table: pa.Table) -> Iterable[dict[str, Any]]:
    for batch in table.to_batches(max_chunksize=10_000):
        yield from batch.to_pylist()


def _dumps(obj: Any) -> bytes:
    try:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS, default=str)
    except orjson.JSONEncodeError:  # an integer wider than 64 bits (DuckDB's HUGEINT): written exactly
        return orjson.dumps(_wide_ints(obj), option=orjson.OPT_NON_STR_KEYS, default=str)


def _wide_ints(value: Any) -> Any:
    """Integers orjson cannot hold (beyond 64 bits) as exact JSON number text."""
    if isinstance(value, int) and not isinstance(value, bool) and not -(1 << 63) <= value < 1 << 64:
        return orjson.Fragment(str(value))
    if isinstance(value, dict):
        return {k: _wide_ints(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_wide_ints(v) for v in value]
    return value


def write_table(
    table: pa.Table,
    fmt: str,
    out: Path | None = None,
    *,
    title: str | None = None,
    message_columns: tuple[str, ...] = ("actor", "event_name"),
    stream: TextIO | Sink | None = None,
) -> None:
    """Render `table` to the ``-o`` file `out`, else to `stream` (a sink or a text stream; default stdout)."""
    check_format(fmt)
    if fmt == "parquet" and out is None:
        raise OutputError("--format parquet needs -o FILE")
    if fmt == "timesketch" and not any(pa.types.is_timestamp(f.type) for f in table.schema):
        raise OutputError("the timesketch format needs rows with a time; this output has no time column")
    if fmt == "parquet":
        try:
            pq.write_table(table, str(out), compression="zstd")
        except OSError as exc:
            raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from exc
        return
    if isinstance(stream, Sink) and out is None:
        _write_text(table, fmt, stream, title, message_columns)
        return
    # A file gets exact values; a terminal never gets raw control or bidi characters (see .sink).
    with Sink.open(out, stream=None if isinstance(stream, Sink) else stream) as sink:
        _write_text(table, fmt, sink, title, message_columns)


def _write_text(
    table: pa.Table,
    fmt: str,
    sink: Sink,
    title: str | None,
    message_columns: tuple[str, ...],
) -> None:
    """Files get exact values; a terminal never gets raw control or bidi characters, whatever the format."""
    if fmt == "table":
        render_rich(table, sink, title=title, escape=True)
    elif fmt == "csv":
        cell = _csv_cell_for_terminal if sink.terminal else _csv_cell
        writer = csv.writer(sink.stream if not sink.terminal else _Writes(sink), lineterminator="\n")
        writer.writerow([cell(c) for c in table.column_names])
        for row in _rows(table):
            writer.writerow([cell(v) for v in row.values()])
    else:
        dump = _json_for_terminal if sink.terminal else _json_text
        if fmt == "json":
            sink.write("[")
            for i, row in enumerate(_rows(table)):
                sink.write(("," if i else "") + "\n" + dump(plain(row)))
            sink.write("\n]\n")
        elif fmt == "jsonl":
            for row in _rows(table):
                sink.write(dump(plain(row)) + "\n")
        elif fmt == "timesketch":
            _write_timesketch(table, sink, message_columns, dump)


class _Writes:
    """A sink as the file object the csv module writes to."""

    def __init__(self, sink: Sink) -> None:
        self.write = sink.write


def _write_timesketch(
    table: pa.Table, sink: Sink, message_columns: tuple[str, ...], dump: Callable[[Any], str]
) -> None:
    """Timesketch's JSONL: every line needs a `datetime`, so rows without a time cannot go in."""
    skipped = 0
    for row in _rows(table):
        line = timesketch_row(row, message_columns)
        if line["datetime"] is None:
            skipped += 1
            continue
        sink.write(dump(line) + "\n")
    if skipped:
        sys.stderr.write(f"note: {skipped:,} row(s) without a time left out of the timesketch output\n")


def _csv_cell(value: Any) -> str:
    # Only text can be a formula: a negative number stays a number.
    return csv_safe(value) if isinstance(value, str) else text(value)


def _csv_cell_for_terminal(value: Any) -> str:
    return terminal_safe(_csv_cell(value))


def _json_text(value: Any) -> str:
    return _dumps(value).decode()


def _json_for_terminal(value: Any) -> str:
    return json_terminal_safe(_dumps(value).decode())


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


_SHORT_COLUMN = 24  # values up to this wide (names, IPs, finding ids) stay whole while anything else can shrink
_LONG_COLUMN_FLOOR = 12
_TIGHT_FLOOR = 6


def _column_widths(schema: pa.Schema, headers: list[str], rows: list[list[str]], width: int) -> list[int]:
    """Each column's width when the table must fit `width` characters.

    The widest column gives way first, long free-text columns before short ones (a severity,
    a finding id, an IP), so no column is squeezed to nothing as Rich's even reduction does.
    Timestamps are never cut: a responder reads times to the second.
    """
    widths = [max([len(h), *(len(r[c]) for r in rows)]) for c, h in enumerate(headers)]
    stamps = [pa.types.is_timestamp(f.type) for f in schema]
    budget = width - 3 * len(headers) - 1  # borders and padding
    for floor_of in (
        lambda w: w if w <= _SHORT_COLUMN else _LONG_COLUMN_FLOOR,  # first the long columns
        lambda w: _TIGHT_FLOOR,  # then everything but timestamps
    ):
        floors = [w if stamp else min(w, floor_of(w)) for w, stamp in zip(widths, stamps, strict=True)]
        while sum(widths) > budget:
            c = max(range(len(widths)), key=lambda i: widths[i] - floors[i])
            if widths[c] <= floors[c]:
                break
            widths[c] -= 1
    return widths  # still too wide at the tightest: the terminal crops the right edge


def render_rich(
    table: pa.Table,
    fh: TextIO | Sink,
    *,
    title: str | None = None,
    escape: bool = True,
    max_cell: int = MAX_CELL,
    width: int | None = None,
) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    sink = fh if isinstance(fh, Sink) else Sink(fh)
    console = Console(
        file=sink.styled(),  # type: ignore[arg-type]  # a write/flush/isatty file, as Rich needs
        width=width or (None if sink.terminal else 240),
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )
    rows: list[list[str]] = []
    for row in _rows(table):
        cells = []
        for value in row.values():
            s = text(value)
            if escape:
                s = terminal_safe(s)
            if len(s) > max_cell:
                s = s[: max_cell - 1] + "…"
            cells.append(s)
        rows.append(cells)
    rich_table = Table(title=terminal_safe(title) if title else None, show_lines=False, header_style="bold")
    headers = [terminal_safe(name) for name in table.column_names]
    for header, w in zip(headers, _column_widths(table.schema, headers, rows, console.width), strict=True):
        rich_table.add_column(Text(header), overflow="ellipsis", no_wrap=True, width=w)
    for cells in rows:
        rich_table.add_row(*(Text(s) for s in cells))  # Text, never markup: log content cannot style the terminal
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
    _write_text(table, fmt, Sink(buf, terminal=False), None, ("actor", "event_name"))
    return buf.getvalue().encode()


__all__ = ["FORMATS", "OutputError", "check_format", "plain", "render_rich", "text", "to_bytes", "write_table"]
