"""The one base of every error trailforensics raises on purpose.

A library function raises a :class:`TrailforensicsError` subclass with a message written for the
user; the command line (:func:`trailforensics.cli.main`) turns it into one line,
``error: <message>`` (terminal-safe), on stderr and exits with its :attr:`~TrailforensicsError.exit_code`.
Anything else escaping a command is a bug and keeps its traceback.

Each subclass keeps the builtin base it had before (``class BadTime(TrailforensicsError, ValueError)``),
so callers catching ``ValueError`` or ``OSError`` are unaffected.  The readers' internal exceptions
(``RejectedRecord``, ``NotARecord``, ``LookAlike``...) are caught where they are raised and share
the base all the same.
"""

from __future__ import annotations


class TrailforensicsError(Exception):
    """An error with a message meant for the user; the CLI exits with ``exit_code``."""

    exit_code: int = 1


__all__ = ["TrailforensicsError"]
