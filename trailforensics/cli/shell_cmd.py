"""`trailforensics shell`: an interactive SQL prompt over the dataset."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import typer

from trailforensics.cli import app
from trailforensics.cli.common import DatasetOption, FormatOption, open_dataset, say
from trailforensics.cli.query_cmd import sql_error
from trailforensics.output.choices import FORMATS
from trailforensics.output.sink import Sink

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

HELP = """\
Statements end with ';' and may span lines.  Dot commands:
  .tables              list views and tables
  .schema [NAME]       columns of a view (default: events)
  .format FORMAT       output format: table, csv, json, jsonl, timesketch
  .help                this text
  .quit                leave (or Ctrl-D)"""


class Shell:
    def __init__(self, ds: Dataset, fmt: str, out: TextIO | Sink):
        self.ds = ds
        self.fmt = fmt
        self.out = out if isinstance(out, Sink) else Sink(out)

    def say(self, text: str) -> None:
        """One line of text that may quote log content (DuckDB errors echo values): escaped."""
        self.out.line(text)

    def command(self, line: str) -> bool:
        """Run a dot command; returns False to quit."""
        parts = line.strip().split()
        cmd, args = parts[0].lower(), parts[1:]
        if cmd in (".quit", ".exit", ".q"):
            return False
        if cmd == ".help":
            self.out.write(HELP + "\n")
        elif cmd == ".tables":
            rows = self.ds.con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()
            self.say("  ".join(r[0] for r in rows))
        elif cmd == ".schema":
            import duckdb

            name = args[0] if args else "events"
            try:
                rows = self.ds.con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                    "ORDER BY ordinal_position",
                    [name],
                ).fetchall()
            except duckdb.Error as exc:
                rows = []
                self.say(sql_error(exc))
            if not rows:
                self.say(f"no such view or table: {name}")
            for col, typ in rows:
                self.out.write(f"  {col:36} {typ}\n")
        elif cmd == ".format":
            if args and args[0] in FORMATS and args[0] != "parquet":
                self.fmt = args[0]
            else:
                self.out.write(f"formats: {', '.join(f for f in FORMATS if f != 'parquet')}\n")
        else:
            self.say(f"unknown command {cmd} (try .help)")
        return True

    def run_sql(self, sql: str) -> None:
        import duckdb

        from trailforensics.engine.dataset import SHELL_STATEMENTS, QueryRefused
        from trailforensics.output.formats import OutputError, write_table

        try:
            table = self.ds.user_sql(sql, allowed=SHELL_STATEMENTS)
        except QueryRefused as exc:
            self.say(f"refused: {exc}")
            return
        except duckdb.Error as exc:
            self.say(f"error: {sql_error(exc)}")
            return
        if table is not None and table.num_columns:
            try:
                write_table(table, self.fmt, None, stream=self.out)
            except OutputError as exc:
                self.say(f"error: {exc}")

    def loop(self, lines: TextIO, interactive: bool) -> None:
        buffer: list[str] = []
        while True:
            prompt = ("...> " if buffer else "tf> ") if interactive else ""
            try:
                line = input(prompt) if interactive else lines.readline()
            except (EOFError, KeyboardInterrupt):
                break
            if not interactive and line == "":
                break
            line = line.rstrip("\n")
            if not buffer and line.strip().startswith("."):
                if not self.command(line):
                    break
                continue
            buffer.append(line)
            if line.rstrip().endswith(";"):
                self.run_sql("\n".join(buffer))
                buffer = []
        if buffer and "".join(buffer).strip():
            self.run_sql("\n".join(buffer))


def _history() -> Path | None:
    try:
        import readline
    except ImportError:
        return None
    path = Path(os.environ.get("TRAILFORENSICS_HISTORY", Path.home() / ".trailforensics_history"))
    with contextlib.suppress(OSError):  # no history yet
        readline.read_history_file(path)
    readline.set_history_length(5000)
    return path


@app.command("shell")
def shell_command(dataset: Path = DatasetOption, fmt: str = FormatOption) -> None:
    """Interactive SQL prompt with history, .tables, .schema events and multi-line statements."""
    fmt = fmt or "table"
    ds = open_dataset(dataset)
    interactive = sys.stdin.isatty()
    history = _history() if interactive else None
    if interactive:
        say(f"trailforensics shell on {ds.path} (read-only). .help for help, .quit to leave.")
    Shell(ds, fmt, sys.stdout).loop(sys.stdin, interactive)
    if history is not None:
        import readline

        with contextlib.suppress(OSError):
            readline.write_history_file(history)
    raise typer.Exit(0)
