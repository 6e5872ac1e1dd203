"""The command-line skin over the Python API: one module per command group.

Shared options, output and messages live in :mod:`trailforensics.cli.common`; every byte a command
prints goes through :mod:`trailforensics.output`.  Errors have one exit: a
:class:`~trailforensics.errors.TrailforensicsError` raised anywhere under a command becomes one line,
``error: <message>`` (terminal-safe), on stderr and the error's ``exit_code`` (see :class:`_Commands`).
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from trailforensics.errors import TrailforensicsError


class _Commands(TyperGroup):
    """The command group; the one place where library errors turn into a message and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except TrailforensicsError as exc:
            from trailforensics.cli.common import say

            say(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    name="trailforensics",
    cls=_Commands,
    help="Offline AWS CloudTrail forensics: ingest, query, verify, hunt, posture.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


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
