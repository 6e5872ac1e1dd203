"""Neutralising attacker-controlled text before it reaches a terminal or a spreadsheet.

* Terminal: every C0/C1 control character (ESC of ANSI sequences, BEL, backspace, CR...)
  and the Unicode bidi overrides are shown escaped (``\\x1b``, ``\\u202e``), never emitted.
* CSV: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return would be
  run as a formula by spreadsheet programs; it is prefixed with a single quote (OWASP's
  recommendation).  JSON, JSON Lines and Parquet keep values exact.
* Last guard: :func:`terminal_guard` (and :func:`styled_terminal_guard` for the table renderer's own
  bold/italic codes) is what :class:`trailforensics.output.sink.Sink` applies to everything it writes
  to a terminal, so text a renderer forgot to escape still cannot reach it raw.
"""

from __future__ import annotations

import re

# C0 controls except none, DEL, C1 controls, and bidi/zero-width formatting characters.
_UNSAFE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    code = ord(ch)
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """Escape control and bidi characters so the text cannot drive or fool the terminal."""
    return _UNSAFE_RE.sub(_escape, text)


_UNSAFE_IN_JSON_RE = re.compile("[\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def json_terminal_safe(text: str) -> str:
    """Serialised JSON for a terminal: the controls JSON leaves raw (DEL, C1, bidi) as \\uXXXX escapes.

    The result is still valid JSON with the same values (C0 controls are escaped by the encoder).
    """
    return _UNSAFE_IN_JSON_RE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


# What a terminal stream may still carry once its text was rendered: newlines and tabs (layout).
_UNSAFE_ON_TERMINAL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# ...and, from the table renderer only, its own bold / dim / italic styling (never a colour).
_RICH_STYLE_RE = "\x1b\\[(?:[0-3](?:;[0-3])*)?m"
_UNSAFE_BESIDE_STYLE_RE = re.compile(f"({_RICH_STYLE_RE})|{_UNSAFE_ON_TERMINAL_RE.pattern}")


def terminal_guard(text: str) -> str:
    """The last line of defence on a terminal: like :func:`terminal_safe`, but keeps newlines and tabs."""
    return _UNSAFE_ON_TERMINAL_RE.sub(_escape, text)


def styled_terminal_guard(text: str) -> str:
    """:func:`terminal_guard` for the table renderer's output: its bold/dim/italic codes pass, nothing else."""
    return _UNSAFE_BESIDE_STYLE_RE.sub(lambda m: m.group(1) or _escape(m), text)


def csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas (the value is otherwise unchanged)."""
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text
