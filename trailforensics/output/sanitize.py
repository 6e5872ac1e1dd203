"""Neutralising attacker-controlled text before it reaches a terminal or a spreadsheet.

* Terminal: every C0/C1 control character (ESC of ANSI sequences, BEL, backspace, CR...)
  and the Unicode bidi overrides are shown escaped (``\\x1b``, ``\\u202e``), never emitted.
* CSV: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return would be
  run as a formula by spreadsheet programs; it is prefixed with a single quote (OWASP's
  recommendation).  JSON, JSON Lines and Parquet keep values exact.
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


def csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas (the value is otherwise unchanged)."""
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text
