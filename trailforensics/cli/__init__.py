"""The command-line skin over the Python API: one module per command group."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="trailforensics",
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
)


def _register_commands() -> None:
    # Imported for their side effect of registering commands on `app`.
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"trailforensics.cli.{name}")


def main() -> None:
    _register_commands()
    app()
