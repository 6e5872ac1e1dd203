"""Escaping log values for the report: every value from the logs is hostile.

HTML (and the SVG inlined in it): ``&``, ``<``, ``>``, ``"`` and ``'`` become entities, so no
value can open a tag, close the ``<style>`` or an attribute; C0/C1 controls and bidi / zero-width
characters are shown as ``\\x1b`` / ``\\u202e`` (the terminal's convention, from
:mod:`trailforensics.output.sanitize`), so a right-to-left override cannot reorder what a reader
sees.  Markdown: the same visible escapes, then every character CommonMark could read as syntax
is backslash-escaped and ``<``/``>``/``&`` become entities (no raw HTML, no link, no emphasis).
"""

from __future__ import annotations

import html
import re
from typing import Any

from trailforensics.output.formats import text
from trailforensics.output.sanitize import terminal_safe

# U+2028/U+2029 break lines in some viewers; shown escaped like the other invisible characters.
_LINE_SEPARATORS_RE = re.compile("[\u2028\u2029]")


def visible(value: Any) -> str:
    """The display text of a value with every control / bidi character shown as an escape."""
    shown = terminal_safe(text(value))
    return _LINE_SEPARATORS_RE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", shown)


def h(value: Any) -> str:
    """A value as HTML text or attribute content (quotes escaped too)."""
    return html.escape(visible(value), quote=True)


# ASCII punctuation CommonMark allows to be backslash-escaped (all of it), minus the three that
# become entities instead.
_MD_PUNCT_RE = re.compile(r"([!\"#$%'()*+,\-./:;=?@\[\\\]^_`{|}~])")


def md(value: Any) -> str:
    """A value as Markdown inline text (a table cell or a line): shown literally by any renderer."""
    shown = visible(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_PUNCT_RE.sub(r"\\\1", shown)


def md_code(value: str) -> str:
    """Our own text (a CLI command) as a Markdown code span; log values never go through here."""
    ticks = "``" if "`" in value else "`"
    return f"{ticks} {value} {ticks}" if ticks == "``" else f"`{value}`"
