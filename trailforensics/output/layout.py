"""Fitting a table to a terminal's width: which columns to show, how wide, and what to say about the rest.

A responder reads times to the second, and pivots on severities, access keys, IPs and event names:
those columns are never cut.  When the table is too wide, in this order:

1. ARNs are shortened to their resource part (``user/daniel.kowalski``, ``assumed-role/ops-hop/s1``);
2. the other long columns give way (widest first, down to a floor), with an ellipsis;
3. the least useful columns are hidden (ids, user agents, free text first) and the caller says which.

When the protected columns alone are wider than the terminal, the widest of them (but timestamps)
wrap onto a second line: still whole, never an ellipsis.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

# Name patterns of the columns never cut (besides timestamps and numbers, known by type).
_PROTECTED_RE = re.compile(r"^(severity|event_name|access_key(_id)?|(source_)?ip|.*_ip|min_severity)$")

# Hidden first when nothing else fits, in this order; then any other unprotected column, rightmost first.
LEAST_USEFUL = (
    "event_id",
    "request_id",
    "shared_event_id",
    "author",
    "user_agent",
    "source_file",
    "details",
    "request",
    "error_message",
    "error",
    "service",
    "event_source",
    "recipient_account",
    "region",
)

_SHORT_COLUMN = 24  # values up to this wide stay whole until columns have been hidden
_LONG_COLUMN_FLOOR = 12
_TIGHT_FLOOR = 6
_FOLD_FLOOR = 8
_UNFOLDED_RE = re.compile(r"^(access_key(_id)?|(source_)?ip|.*_ip)$")  # copied whole from the screen
_BORDER_PER_COLUMN = 3  # "│ " before each cell and " " after
_ARN_RE = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:[^:]*:(.+)$", re.S)


def short_arn(value: str) -> str:
    """The resource part of an ARN (``user/daniel.kowalski``); any other text unchanged."""
    match = _ARN_RE.match(value)
    return match.group(1) if match and match.group(1) else value


def is_protected(name: str, *, exact: bool) -> bool:
    """Whether a column is never cut: `exact` for timestamps and numbers (known from the type)."""
    return exact or bool(_PROTECTED_RE.match(name))


@dataclass
class Layout:
    """What to show: `columns` (indexes into the table's columns), their `widths`, the `hidden` names."""

    columns: list[int]
    widths: list[int]
    hidden: list[str] = field(default_factory=list)
    arns_shortened: bool = False
    folded: list[int] = field(default_factory=list)  # protected columns wrapped onto more lines, not cut

    def total(self) -> int:
        return sum(self.widths) + _BORDER_PER_COLUMN * len(self.widths) + 1


def _natural(headers: Sequence[str], rows: Sequence[Sequence[str]], keep: Sequence[int]) -> list[int]:
    return [max([len(headers[c]), *(len(r[c]) for r in rows)]) for c in keep]


def _shrink(widths: list[int], floors: list[int], budget: int) -> list[int]:
    """Narrow the columns, the most above its floor first, until `budget` is met (or all are at their floor)."""
    widths = list(widths)
    while sum(widths) > budget:
        c = max(range(len(widths)), key=lambda i: widths[i] - floors[i])
        if widths[c] <= floors[c]:
            break
        widths[c] -= 1
    return widths


def _floors(widths: list[int], protected: list[bool], values: list[int | None], *, tight: bool) -> list[int]:
    """Protected columns stay whole, numbers keep their digits (`values`: their widest value, the header
    may be cut); short values (a finding id, a name) stay whole too unless `tight`."""
    return [
        w
        if p
        else v
        if v is not None
        else min(w, _TIGHT_FLOOR if tight else (w if w <= _SHORT_COLUMN else _LONG_COLUMN_FLOOR))
        for w, p, v in zip(widths, protected, values, strict=True)
    ]


def fit(
    headers: Sequence[str],
    rows: list[list[str]],
    exact: Sequence[bool],
    width: int | None,
    numeric: Sequence[bool] | None = None,
) -> Layout:
    """The layout of a table of `rows` (cell texts) in `width` characters (None: no limit).

    `exact[i]` marks a column whose type must never be cut (timestamps); `numeric[i]` one whose values
    keep their digits, though its header may be cut and it may be hidden.  May shorten the
    ARNs in `rows` in place (``arns_shortened`` says so).
    """
    keep = list(range(len(headers)))
    widths = _natural(headers, rows, keep)
    if width is None or sum(widths) + _BORDER_PER_COLUMN * len(widths) + 1 <= width:
        return Layout(keep, widths)
    protected = [is_protected(h, exact=e) for h, e in zip(headers, exact, strict=True)]
    shortened = False
    for c in keep:
        if protected[c]:
            continue
        for r in rows:
            short = short_arn(r[c])
            if short != r[c]:
                r[c] = short
                shortened = True
    order = [headers.index(n) for n in LEAST_USEFUL if n in headers and not protected[headers.index(n)]]
    order += [c for c in reversed(keep) if not protected[c] and c not in order]
    hidden: list[int] = []
    while True:
        shown = [c for c in keep if c not in hidden]
        budget = width - _BORDER_PER_COLUMN * len(shown) - 1
        natural = _natural(headers, rows, shown)
        guarded = [protected[c] for c in shown]
        values = [max((len(r[c]) for r in rows), default=1) if numeric and numeric[c] else None for c in shown]
        widths = _shrink(natural, _floors(natural, guarded, values, tight=False), budget)
        droppable = [c for c in order if c not in hidden]
        if sum(widths) > budget and droppable and len(shown) > 2:  # two columns at least: a pivot and a value
            hidden.append(droppable[0])
            continue
        if sum(widths) > budget:  # nothing left to hide: cut the short values too
            widths = _shrink(natural, _floors(natural, guarded, values, tight=True), budget)
        folded: list[int] = []
        if sum(widths) > budget:  # the protected columns alone are too wide: wrap some, never cut them
            floors = [
                w if not guarded[i] or exact[c] or _UNFOLDED_RE.match(headers[c]) else min(w, _FOLD_FLOOR)
                for i, (c, w) in enumerate(zip(shown, widths, strict=True))
            ]
            folded_widths = _shrink(widths, floors, budget)
            folded = [
                c for c, w, v in zip(shown, folded_widths, widths, strict=True) if w < v and guarded[shown.index(c)]
            ]
            widths = folded_widths
        return Layout(shown, widths, [headers[c] for c in sorted(hidden)], shortened, folded)
