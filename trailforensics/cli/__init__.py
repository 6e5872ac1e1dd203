"""The command-line skin over the Python API: one module per command group.

Shared options, output and messages live in :mod:`trailforensics.cli.common`; every byte a command
prints goes through :mod:`trailforensics.output`.  Errors have one exit: a
:class:`~trailforensics.errors.TrailforensicsError` raised anywhere under a command becomes one line,
``error: <message>`` (terminal-safe), on stderr and the error's ``exit_code`` (see :class:`_Commands`);
so does DuckDB running out of memory within the ``--memory-limit``.

Start-up: importing this package and registering the commands loads no DuckDB, Arrow or rich
(``tests/test_startup.py``); the command modules import them inside the commands.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from trailforensics.cli.common import MemoryLimitOption, apply_memory_limit, close_datasets, say
from trailforensics.errors import TrailforensicsError

OUT_OF_MEMORY_HINT = "raise it with --memory-limit or TRAILFORENSICS_MEMORY_LIMIT"


def _out_of_memory(exc: BaseException) -> BaseException | None:
    """DuckDB's OutOfMemoryException in `exc` or what it was raised from, known by name (start-up
    imports no DuckDB).  Only explicit causes: a ``typer.Exit`` raised while handling one is a
    command that already said what went wrong."""
    seen: BaseException | None = exc
    while seen is not None:
        if any(
            cls.__name__ == "OutOfMemoryException" and cls.__module__.lstrip("_").startswith("duckdb")
            for cls in type(seen).__mro__
        ):
            return seen
        seen = seen.__cause__
    return None


def out_of_memory_message(exc: BaseException) -> str:
    from trailforensics.engine import resources

    said = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
    limit = resources.format_size(resources.memory_limit())
    return f"out of memory within the memory limit ({limit}) in {said}; {OUT_OF_MEMORY_HINT}"


class _Commands(TyperGroup):
    """The command group; the one place where library errors turn into a message and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except TrailforensicsError as exc:
            say(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            oom = _out_of_memory(exc)
            if oom is None:
                raise  # a bug: keep the traceback
            say(f"error: {out_of_memory_message(oom)}", err=True)
            raise typer.Exit(1) from None
        finally:
            close_datasets()  # their connections and spill folders (DATASET/.scratch/...)


app = typer.Typer(
    name="trailforensics",
    cls=_Commands,
    help="Offline AWS CloudTrail forensics: ingest, query, verify, hunt, posture.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _global_options(memory_limit: str = MemoryLimitOption) -> None:
    apply_memory_limit(memory_limit)


COMMAND_MODULES = (
    "ingest_cmd",
    "query_cmd",
    "shell_cmd",
    "hunt_cmd",
    "verify_cmd",
    "posture_cmd",
    "generate_cmd",
    "report_cmd",
)


def _register_commands() -> None:
    # Imported for their side effect of registering commands on `app`.
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"trailforensics.cli.{name}")


def main() -> None:
    """The `trailforensics` entry point (errors: see :class:`_Commands`)."""
    _register_commands()
    app()
