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

import os
import signal
import sys
from contextlib import suppress
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from trailforensics import __version__
from trailforensics.cli.common import MemoryLimitOption, apply_memory_limit, close_datasets, say
from trailforensics.engine.resources import ENV_MEMORY_LIMIT
from trailforensics.errors import TrailforensicsError

INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
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


_interrupted = False


def _on_sigint(signum: int, frame: Any) -> None:
    # Remembered as well as raised: DuckDB turns the KeyboardInterrupt raised inside a query into its
    # own "query interrupted" error, which a command may report as a failure and go on.
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt


def _catch_interrupts() -> None:
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)


def interrupted() -> bool:
    """Whether Ctrl-C was pressed (a command that catches errors per step checks it to stop early)."""
    return _interrupted


def _stop_interrupted() -> NoReturn:
    # Writers commit last (store.transaction): an interrupted command committed nothing.
    say("interrupted, nothing committed", err=True)
    raise typer.Exit(INTERRUPTED) from None


def _silence_stdout() -> None:
    """Point standard output at the null device so that the interpreter's last flush to the closed
    pipe raises nothing (Python's documented way out of SIGPIPE)."""
    with suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


class _Commands(TyperGroup):
    """The command group; the one place where library errors turn into a message and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        _catch_interrupts()
        # --memory-limit reaches this process's connections and its workers through the
        # environment; an in-process caller (a notebook, a test) gets its own back afterwards.
        memory_setting = os.environ.get(ENV_MEMORY_LIMIT)
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
        except KeyboardInterrupt:
            _stop_interrupted()
        except BrokenPipeError:
            _silence_stdout()  # `... | head -1`: the reader has what it wanted; not an error
            raise typer.Exit(0) from None
        except TrailforensicsError as exc:
            if _interrupted:
                _stop_interrupted()
            say(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            if _interrupted:  # DuckDB's "query interrupted", or a command's exit after it
                _stop_interrupted()
            oom = _out_of_memory(exc)
            if oom is None:
                raise  # a bug (or a command's own typer.Exit): keep it as it is
            say(f"error: {out_of_memory_message(oom)}", err=True)
            raise typer.Exit(1) from None
        finally:
            close_datasets()  # their connections and spill folders (DATASET/.scratch/...)
            if memory_setting is None:
                os.environ.pop(ENV_MEMORY_LIMIT, None)
            else:
                os.environ[ENV_MEMORY_LIMIT] = memory_setting
        if _interrupted:  # the command handled DuckDB's error and finished: the user still asked to stop
            _stop_interrupted()
        return result


app = typer.Typer(
    name="trailforensics",
    cls=_Commands,
    help="Offline AWS CloudTrail forensics: ingest, query, verify, hunt, posture.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        say(f"trailforensics {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global_options(
    memory_limit: str = MemoryLimitOption,
    version: bool = typer.Option(
        False,
        "--version",
        "-V",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit (also in every JSON summary and report).",
    ),
) -> None:
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
    try:
        app()
    except BrokenPipeError:  # while printing help or a usage error
        _silence_stdout()
        raise SystemExit(0) from None
    except KeyboardInterrupt:  # while parsing the options, before any command ran
        say("interrupted, nothing committed", err=True)
        raise SystemExit(INTERRUPTED) from None
