"""Where command output goes: one :class:`Sink` per destination (the terminal, a pipe, a ``-o`` file).

A sink knows whether it writes to a terminal.  Every write passes its last guard there: a C0
control other than newline and tab, DEL, a C1 control or a bidi / zero-width formatting
character never reaches a terminal raw, whoever rendered the text.  Above that guard each kind
of output escapes in its own grammar so that what is shown stays readable and exact:

* :meth:`Sink.line`: a line of text, control characters shown as ``\\x1b`` / ``\\u202e``
  (everywhere, files too: the commands' messages quote log content);
* :meth:`Sink.json`: JSON, values exact; on a terminal DEL, C1 and bidi characters become
  ``\\uXXXX`` escapes, so the text is still valid JSON with the same values;
* tables and rows go through :mod:`trailforensics.output.formats`, which writes to a sink.

Files and pipes get exact bytes (a reviewer's script reads them).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import orjson

from trailforensics.errors import TrailforensicsError
from trailforensics.output.sanitize import json_terminal_safe, styled_terminal_guard, terminal_guard, terminal_safe


class OutputError(TrailforensicsError, ValueError):
    pass


def is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Sink:
    """One output destination; on a terminal nothing unsafe gets through :meth:`write`."""

    def __init__(self, stream: TextIO, *, terminal: bool | None = None) -> None:
        self.stream = stream
        self.terminal = is_terminal(stream) if terminal is None else terminal
        self._status_width = 0  # of the status line on screen (see status)

    @classmethod
    def stdout(cls) -> Sink:
        return cls(sys.stdout)

    @classmethod
    def stderr(cls) -> Sink:
        return cls(sys.stderr)

    @classmethod
    @contextmanager
    def open(cls, out: Path | None, *, stream: TextIO | None = None) -> Iterator[Sink]:
        """The ``-o`` file when given (exact text, UTF-8), else `stream` (default: standard output)."""
        if out is None:
            yield cls(stream or sys.stdout)
            return
        try:
            fh = open(out, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed below
        except OSError as exc:  # a missing folder, a folder given as the file, no permission
            raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from exc
        with fh:
            yield cls(fh, terminal=False)

    def write(self, text: str) -> None:
        self.stream.write(terminal_guard(text) if self.terminal else text)

    def line(self, text: str = "") -> None:
        """One line that may quote log content: control characters escaped, wherever it goes."""
        self.write(terminal_safe(text) + "\n")

    def lines(self, texts: Iterator[str] | list[str]) -> None:
        for text in texts:
            self.line(text)

    def json(self, doc: Any, *, indent: bool = True) -> None:
        """One JSON document (already plain: see :func:`trailforensics.output.formats.plain`)."""
        option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
        self.json_bytes(orjson.dumps(doc, option=option) + b"\n")

    def json_bytes(self, data: bytes) -> None:
        """Serialised JSON (UTF-8): exact bytes to a file or pipe, ``\\uXXXX`` escapes on a terminal."""
        if self.terminal:
            self.write(json_terminal_safe(data.decode("utf-8")))
            return
        buffer = getattr(self.stream, "buffer", None)
        if buffer is None:
            self.stream.write(data.decode("utf-8"))
            return
        self.stream.flush()
        buffer.write(data)
        buffer.flush()

    def flush(self) -> None:
        self.stream.flush()

    def status(self, text: str) -> None:
        """Redraw the one status line (a progress bar) in place, on a terminal only: the text escaped,
        and no escape sequence at all (a carriage return, then spaces over what was longer)."""
        if self.terminal:
            shown = terminal_safe(text)
            self.stream.write("\r" + shown + " " * max(self._status_width - len(shown), 0))
            self._status_width = len(shown)
            self.stream.flush()

    def clear_status(self) -> None:
        if self.terminal and self._status_width:
            self.stream.write("\r" + " " * self._status_width + "\r")
            self._status_width = 0
            self.stream.flush()

    def styled(self) -> _StyledStream:
        """A file for the table renderer (Rich): its own styling passes the guard, nothing else does."""
        return _StyledStream(self)


class _StyledStream:
    """The file-like object Rich writes to."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self.encoding = getattr(sink.stream, "encoding", None) or "utf-8"

    def write(self, text: str) -> int:
        self._sink.stream.write(styled_terminal_guard(text) if self._sink.terminal else text)
        return len(text)

    def flush(self) -> None:
        self._sink.stream.flush()

    def isatty(self) -> bool:
        return self._sink.terminal


__all__ = ["OutputError", "Sink", "is_terminal"]
