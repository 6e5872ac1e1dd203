"""Rendering Arrow tables in the six output formats every row-returning command offers, to a :class:`.sink.Sink`.

* ``table``: Rich, wide cells truncated, control characters escaped, a row count;
* ``csv``: UTF-8 with a header, formula-looking cells neutralised (see :mod:`.sanitize`);
* ``json`` / ``jsonl``: values exact (strings unescaped), JSON columns nested as their exact JSON text
  (``jq '.request_parameters.bucketName'`` works) unless ``json_as_text``;
* ``parquet``: the Arrow table as is (needs ``-o``);
* ``timesketch``: JSON Lines with ``message``, ``datetime`` and ``timestamp_desc``.

On a terminal the csv and JSON formats escape in their own grammar (``\\x1b`` in a cell, ``\\u202e``
in a JSON string, still the same value), and the sink's guard stops anything else.
Timestamps are always UTC ISO 8601 with ``Z``.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
from trailforensics.schema import JSON_COLUMNS

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
    json_as_text: bool = False,
    max_rows: int | None = None,
) -> None:
    """Render `table` to the ``-o`` file `out`, else to `stream` (a sink or a text stream; default stdout).

    json/jsonl/timesketch: the JSON columns are nested JSON (their exact text), or strings with
    `json_as_text`.  table: at most `max_rows` rows on a terminal (see :func:`render_rich`).
    """
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
    options = _TextOptions(title, message_columns, json_as_text, max_rows)
    if isinstance(stream, Sink) and out is None:
        _write_text(table, fmt, stream, options)
        return
    # A file gets exact values; a terminal never gets raw control or bidi characters (see .sink).
    with Sink.open(out, stream=None if isinstance(stream, Sink) else stream) as sink:
        _write_text(table, fmt, sink, options)


@dataclass(frozen=True)
class _TextOptions:
    title: str | None = None
    message_columns: tuple[str, ...] = ("actor", "event_name")
    json_as_text: bool = False
    max_rows: int | None = None


# The events' columns that hold JSON text (schema.events): nested in JSON output unless --json-as-text.
# `null_fields` is in the same group but holds a comma-separated list, not JSON.
JSON_TEXT_COLUMNS = frozenset(c.name for c in JSON_COLUMNS if c.name != "null_fields")


def nest_json(row: dict[str, Any]) -> dict[str, Any]:
    """`row` (already :func:`plain`) with its JSON-text columns as embedded JSON: their exact text
    (big integers and decimals as written), only when it is valid JSON; otherwise the string."""
    for name in JSON_TEXT_COLUMNS.intersection(row):
        value = row[name]
        if isinstance(value, str) and _is_json(value):
            row[name] = orjson.Fragment(value.encode("utf-8"))
    return row


def _is_json(value: str) -> bool:
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        try:  # what orjson refuses but is JSON: integers beyond 64 bits
            json.loads(value)
        except ValueError:
            return False
    return True


def _write_text(table: pa.Table, fmt: str, sink: Sink, options: _TextOptions) -> None:
    """Files get exact values; a terminal never gets raw control or bidi characters, whatever the format."""
    if fmt == "table":
        render_rich(table, sink, title=options.title, escape=True, max_rows=options.max_rows)
    elif fmt == "csv":
        cell = _csv_cell_for_terminal if sink.terminal else _csv_cell
        writer = csv.writer(sink.stream if not sink.terminal else _Writes(sink), lineterminator="\n")
        writer.writerow([cell(c) for c in table.column_names])
        for row in _rows(table):
            writer.writerow([cell(v) for v in row.values()])
    else:
        dump = _json_for_terminal if sink.terminal else _json_text
        nest = (lambda row: row) if options.json_as_text else nest_json
        if fmt == "json":
            sink.write("[")
            for i, row in enumerate(_rows(table)):
                sink.write(("," if i else "") + "\n" + dump(nest(plain(row))))
            sink.write("\n]\n")
        elif fmt == "jsonl":
            for row in _rows(table):
                sink.write(dump(nest(plain(row))) + "\n")
        elif fmt == "timesketch":
            _write_timesketch(table, sink, options.message_columns, lambda line: dump(nest(line)))


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


TERMINAL_ROWS = 100  # a table on a terminal stops here (a note says how to see everything)


def render_rich(
    table: pa.Table,
    fh: TextIO | Sink,
    *,
    title: str | None = None,
    escape: bool = True,
    max_cell: int = MAX_CELL,
    width: int | None = None,
    max_rows: int | None = None,
) -> None:
    """A box-drawn table.  Fitted to the terminal's width (or `width`) by :func:`.layout.fit`, at most
    `max_rows` rows (default on a terminal: :data:`TERMINAL_ROWS`); to a file or pipe, every row at its
    natural width, lines not padded."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from trailforensics.output.layout import fit

    sink = fh if isinstance(fh, Sink) else Sink(fh)
    if width is None and sink.terminal:
        width = Console(file=sink.styled()).width  # type: ignore[arg-type]  # write/flush/isatty, as Rich needs
    if max_rows is None and sink.terminal:
        max_rows = TERMINAL_ROWS
    total = table.num_rows
    shown_rows = table.slice(0, max_rows) if max_rows is not None and max_rows < total else table
    rows: list[list[str]] = []
    for row in _rows(shown_rows):
        cells = []
        for value in row.values():
            s = text(value)
            if escape:
                s = terminal_safe(s)
            if len(s) > max_cell:
                s = s[: max_cell - 1] + "…"
            cells.append(s)
        rows.append(cells)
    headers = [terminal_safe(name) for name in table.column_names]
    exact = [pa.types.is_timestamp(f.type) for f in table.schema]
    numeric = [pa.types.is_integer(f.type) or pa.types.is_floating(f.type) for f in table.schema]
    layout = fit(headers, rows, exact, width, numeric)
    rich_table = Table(title=terminal_safe(title) if title else None, show_lines=False, header_style="bold")
    for c, w in zip(layout.columns, layout.widths, strict=True):
        folded = c in layout.folded  # a protected column wraps, never loses characters
        rich_table.add_column(Text(headers[c]), overflow="fold" if folded else "ellipsis", no_wrap=not folded, width=w)
    for cells in rows:
        rich_table.add_row(*(Text(cells[c]) for c in layout.columns))  # Text, never markup: log content cannot style
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=max(width or 0, layout.total()),
        force_terminal=sink.terminal,  # bold headers on a terminal only
        color_system="standard" if sink.terminal else None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )
    console.print(rich_table)
    notes = [f"{total:,} row{'s' if total != 1 else ''}"]
    if shown_rows.num_rows < total:
        notes = [f"showing {shown_rows.num_rows:,} of {total:,} rows; use --limit, -f csv/json or -o FILE for all"]
    if layout.hidden:
        hidden = ", ".join(layout.hidden)
        notes.append(f"hidden to fit {width} columns: {hidden} (widen the terminal, or use -f csv/json)")
    if layout.arns_shortened:
        notes.append("ARNs shortened to their resource (user/..., assumed-role/...): -f csv/json has them whole")
    out = "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())
    styled = sink.styled()
    styled.write(out + "".join(note + "\n" for note in notes))
    styled.flush()


def to_bytes(table: pa.Table, fmt: str) -> bytes:
    """Render to bytes (tests and callers that need the text)."""
    if fmt == "parquet":
        sink = io.BytesIO()
        pq.write_table(table, sink)
        return sink.getvalue()
    buf = io.StringIO()
    _write_text(table, fmt, Sink(buf, terminal=False), _TextOptions())
    return buf.getvalue().encode()


__all__ = ["FORMATS", "OutputError", "check_format", "plain", "render_rich", "text", "to_bytes", "write_table"]
