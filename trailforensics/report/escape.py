"""Escaping log values for the report: every value from the logs is hostile.

HTML (and the SVG inlined in it): ``&``, ``<``, ``>``, ``"`` and ``'`` become entities, so no
value can open a tag, close the ``<style>`` or an attribute; C0/C1 controls and bidi / zero-width
characters are shown as ``\\x1b`` / ``\\u202e`` (the terminal's convention, from
:mod:`trailforensics.output.sanitize`), so a right-to-left override cannot reorder what a reader
sees.  Markdown: the same visible escapes, then only what a CommonMark / GitHub renderer would
read as syntax inside a line is escaped, so a ticket stays readable (``arn:aws:iam::1:user/a_b``
is left alone): ``<`` (tags, autolinks), ``&`` starting an entity, ``[`` (links, images), ``|``
(table cells), emphasis / code / strike characters, a backslash before punctuation, and the
``://`` / ``www.`` / ``user@host.`` that GitHub would turn into links.  Values are always inline
(newlines are shown as ``\\n``), so line-start syntax (``#``, ``>``, ``-``, ``1.``) cannot occur.
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


_MD_RULES = re.compile(
    r"\\(?=[!-/:-@\[-`{-~])"  # a backslash that would escape the next character
    r"|[`*~|\[]"  # code spans, emphasis, strike-through, table cells, links and images
    r"|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"  # "_" emphasises only at a word's edge
    r"|:(?=//)|(?<=\bwww)\.|@(?=[A-Za-z0-9-]+\.)"  # GitHub's bare-URL and e-mail autolinks
)
_MD_ENTITY_RE = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def md(value: Any) -> str:
    """A value as Markdown inline text (a table cell, a heading): shown literally by any renderer."""
    shown = _MD_ENTITY_RE.sub("&amp;", visible(value)).replace("<", "&lt;")
    return _MD_RULES.sub(lambda m: "\\" + m.group(0), shown)


def md_code(value: str) -> str:
    """Our own text (a CLI command) as a Markdown code span; log values never go through here."""
    ticks = "``" if "`" in value else "`"
    return f"{ticks} {value} {ticks}" if ticks == "``" else f"`{value}`"
