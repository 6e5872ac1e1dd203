"""Our small Sigma backend: a pySigma condition tree (after the CloudTrail pipeline) -> DuckDB SQL.

The result is a boolean SQL expression over the ``events`` view.  Semantics (Sigma spec, and what
the SIEMs the SigmaHQ rules were written for do):

* strings match case-insensitively (``lower(x) = 'v'``, ``contains``/``starts_with``/``ends_with``,
  ``lower(x) LIKE '...' ESCAPE '\\'``); ``|cased`` matches case-sensitively;
* wildcards ``*``/``?`` become ``%``/``_``; literal ``%``, ``_`` and ``\\`` are escaped;
* every value is rendered as a SQL string literal with ``'`` doubled (DuckDB strings have no
  other escape), so rule text never becomes SQL; NUL characters are refused;
* ``not`` is NULL-safe: ``NOT coalesce(expr, false)``, so a filter on a field the event lacks
  does not drop the event;
* numbers and booleans compare as text (``json_extract_string`` gives ``'true'``, ``'5432'``;
  boolean columns are cast to ``'true'``/``'false'``);
* a nested field (``request_parameters.a.b``) is ``json_extract_string(col, '$."a"."b"')`` with
  every segment quoted; list segments (``[]`` or ``LIST_KEYS``) give "any element" semantics via
  ``len(list_filter(<elements>, lambda tf_v: <predicate>)) > 0``;
* a whole JSON object (``request_parameters``) is its JSON text with ``\\"`` un-escaped, so
  ``contains`` behaves like a SIEM substring search, including JSON strings holding JSON;
* ``|re`` -> ``regexp_matches(x, '(?flags)re')`` (RE2, unanchored search, case-sensitive
  unless ``|i``); ``|cidr`` -> ``trailforensics.query.ipmatch`` (integer ranges for IPv4,
  a UDF for IPv6: no inet extension); ``|exists``; ``|fieldref`` (case-insensitive,
  NULL never equal); ``|lt``/``|gt``... compare numerically (``TRY_CAST``).

Keyword (full-text) detections are rejected, as are placeholders (``|expand``) and timestamp
part modifiers (``|minute``...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
)

from trailforensics.errors import TrailforensicsError
from trailforensics.query import ipmatch
from trailforensics.schema import COLUMNS
from trailforensics.sigma.pipeline import LIST_KEYS, json_columns, typed_columns

Pred = Callable[[str], str]


class SigmaCompileError(TrailforensicsError, ValueError):
    """A rule that cannot be compiled into SQL over our schema (the message says why)."""


# -- literals ------------------------------------------------------------------------------


def sql_string(value: str) -> str:
    """A DuckDB string literal: single quotes doubled (no other escapes exist in '...')."""
    if "\x00" in value:
        raise SigmaCompileError("values containing a NUL character are not supported")
    return "'" + value.replace("'", "''") + "'"


def json_path(segments: list[str]) -> str:
    """A JSON path literal with every key quoted (keys contain '-', ':', '.', quotes...)."""
    path = "$" + "".join('."' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in segments)
    return sql_string(path)


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- fields --------------------------------------------------------------------------------

_TYPES = {c.name: str(c.type) for c in COLUMNS}


@dataclass(frozen=True)
class FieldSQL:
    """How to read a mapped field: one VARCHAR expression, or a list of them (any element)."""

    name: str
    scalar: str | None = None
    elements: str | None = None

    def match(self, pred: Pred) -> str:
        if self.elements is None:
            return pred(str(self.scalar))
        return f"(len(list_filter({self.elements}, lambda tf_v: {pred('tf_v')})) > 0)"

    def exists(self) -> str:
        return self.match(lambda x: f"{x} IS NOT NULL")

    def is_null(self) -> str:
        if self.elements is None:
            return f"{self.scalar} IS NULL"
        return f"NOT coalesce({self.exists()}, false)"


def _elements_of(json_expr: str) -> str:
    """JSON[] of an array's elements, or a one-element list for any other value."""
    return (
        f"(CASE WHEN json_type({json_expr}) = 'ARRAY' THEN json_extract({json_expr}, '$[*]') "
        f"ELSE [CAST({json_expr} AS JSON)] END)"
    )


def resolve_field(mapped: str, list_keys: frozenset[str] = LIST_KEYS) -> FieldSQL:
    """SQL for a field name produced by the CloudTrail pipeline."""
    if mapped in typed_columns():
        typ = _TYPES.get(mapped, "string")
        if typ == "string":
            return FieldSQL(mapped, scalar=mapped)
        if typ.startswith("timestamp"):
            return FieldSQL(mapped, scalar=f"strftime({mapped}, '%Y-%m-%dT%H:%M:%SZ')")
        return FieldSQL(mapped, scalar=f"lower(CAST({mapped} AS VARCHAR))")
    column, _, rest = mapped.partition(".")
    if column not in json_columns():
        raise SigmaCompileError(f"unknown field {mapped!r}: not a column of the CloudTrail schema")
    if not rest:  # the whole object, as searchable text
        return FieldSQL(mapped, scalar=f"replace({column}, '\\\"', '\"')")
    raw = rest.split(".")
    explicit = any(s.endswith("[]") for s in raw)
    segments: list[tuple[str, bool]] = []
    for s in raw:
        name = s[:-2] if s.endswith("[]") else s
        if not name:
            raise SigmaCompileError(f"field {mapped!r} has an empty path segment")
        segments.append((name, s.endswith("[]") if explicit else name in list_keys))
    current: str | None = None
    if column == "resources":  # the top-level array itself
        current = _elements_of(f"CAST({column} AS JSON)")
    pending: list[str] = []
    for name, is_list in segments:
        pending.append(name)
        if is_list:
            if current is None:
                current = _elements_of(f"json_extract({column}, {json_path(pending)})")
            else:
                inner = _elements_of(f"json_extract(tf_e, {json_path(pending)})")
                current = f"flatten(list_transform({current}, lambda tf_e: {inner}))"
            pending = []
    if current is None:
        return FieldSQL(mapped, scalar=f"json_extract_string({column}, {json_path(pending)})")
    tail = json_path(pending) if pending else "'$'"
    values = f"list_transform({current}, lambda tf_e: json_extract_string(tf_e, {tail}))"
    return FieldSQL(mapped, elements=values)


# -- values --------------------------------------------------------------------------------


def _lit(text: str, cased: bool) -> str:
    if cased:
        return sql_string(text)
    if text.isascii():
        return sql_string(text.lower())
    return f"lower({sql_string(text)})"


def string_predicate(value: SigmaString) -> Pred:
    cased = isinstance(value, SigmaCasedString)
    parts: list[str | SpecialChars] = []
    for part in value.s:
        if isinstance(part, Placeholder):
            raise SigmaCompileError(f"unresolved placeholder %{part.name}% (|expand value lists are not supported)")
        if (
            isinstance(part, SpecialChars)
            and part == SpecialChars.WILDCARD_MULTI
            and parts
            and parts[-1] == SpecialChars.WILDCARD_MULTI
        ):
            continue
        if isinstance(part, str) and parts and isinstance(parts[-1], str):
            parts[-1] += part
        else:
            parts.append(part)

    def col(x: str) -> str:
        return x if cased else f"lower({x})"

    texts = [p for p in parts if isinstance(p, str)]
    specials = [p for p in parts if not isinstance(p, str)]
    if not specials:
        text = texts[0] if texts else ""
        return lambda x: f"{col(x)} = {_lit(text, cased)}"
    if all(p == SpecialChars.WILDCARD_MULTI for p in specials) and len(texts) <= 1:
        if not texts:
            return lambda x: f"{x} IS NOT NULL"
        text = texts[0]
        lit = _lit(text, cased)
        shape = tuple(isinstance(p, str) for p in parts)
        if shape == (False, True, False):
            return lambda x: f"contains({col(x)}, {lit})"
        if shape == (True, False):
            return lambda x: f"starts_with({col(x)}, {lit})"
        if shape == (False, True):
            return lambda x: f"ends_with({col(x)}, {lit})"
    pattern = "".join(
        like_escape(p) if isinstance(p, str) else ("%" if p == SpecialChars.WILDCARD_MULTI else "_") for p in parts
    )
    lit = _lit(pattern, cased)
    return lambda x: f"{col(x)} LIKE {lit} ESCAPE '\\'"


_RE_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}

_OPS = SigmaCompareExpression.CompareOperators
_COMPARE = {_OPS.LT: "<", _OPS.LTE: "<=", _OPS.GT: ">", _OPS.GTE: ">="}
if hasattr(_OPS, "NEQ"):  # newer pySigma
    _COMPARE[_OPS.NEQ] = "<>"


def regex_predicate(value: SigmaRegularExpression) -> Pred:
    if value.regexp.contains_placeholder():
        raise SigmaCompileError("unresolved placeholder in a regular expression (|expand is not supported)")
    flags = "".join(sorted(_RE_FLAGS[f] for f in value.flags))
    pattern = (f"(?{flags})" if flags else "") + value.regexp.to_plain_regex()
    lit = sql_string(pattern)
    return lambda x: f"regexp_matches({x}, {lit})"


def cidr_predicate(value: SigmaCIDRExpression) -> Pred:
    sentinel = "\x00field\x00"
    template, params = ipmatch.ip_condition(sentinel, value.cidr)
    pieces = template.split("?")
    if len(pieces) != len(params) + 1:  # pragma: no cover - ipmatch changed its templates
        raise SigmaCompileError("cannot render the CIDR condition")
    rendered = pieces[0]
    for param, piece in zip(params, pieces[1:], strict=True):
        rendered += (str(int(param)) if isinstance(param, int) else sql_string(str(param))) + piece
    return lambda x: "(" + rendered.replace(sentinel, x) + ")"


def fieldref_predicate(value: SigmaFieldReference, list_keys: frozenset[str]) -> Pred:
    ref = resolve_field(value.field, list_keys)

    def cmp(a: str, b: str) -> str:
        if value.starts_with and value.ends_with:
            return f"contains(lower({a}), lower({b}))"
        if value.starts_with:
            return f"starts_with(lower({a}), lower({b}))"
        if value.ends_with:
            return f"ends_with(lower({a}), lower({b}))"
        return f"lower({a}) = lower({b})"

    if ref.elements is None:
        return lambda x: cmp(x, str(ref.scalar))
    return lambda x: f"(len(list_filter({ref.elements}, lambda tf_w: {cmp(x, 'tf_w')})) > 0)"


# -- the condition tree --------------------------------------------------------------------


class CloudTrailSQLBackend:
    """Converts parsed (pipeline-processed) Sigma conditions into a DuckDB boolean expression."""

    def __init__(self, list_keys: frozenset[str] = LIST_KEYS) -> None:
        self.list_keys = list_keys

    def convert_rule(self, rule: Any) -> str:
        """The WHERE condition of a processed pySigma ``SigmaRule`` (its conditions OR-ed)."""
        parts = []
        for condition in rule.detection.parsed_condition:
            tree = condition.parse()
            if tree is None:
                raise SigmaCompileError("the condition is empty")
            parts.append(self.convert(tree))
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def convert(self, node: Any) -> str:
        if isinstance(node, ConditionNOT):
            return f"NOT coalesce({self.convert(node.args[0])}, false)"
        if isinstance(node, ConditionOR):
            in_list = self._in_list(node)
            if in_list is not None:
                return in_list
            return "(" + " OR ".join(self.convert(a) for a in node.args) + ")"
        if isinstance(node, ConditionAND):
            return "(" + " AND ".join(self.convert(a) for a in node.args) + ")"
        if isinstance(node, ConditionFieldEqualsValueExpression):
            return self.field_value(node.field, node.value)
        if isinstance(node, ConditionValueExpression):
            raise SigmaCompileError(
                "keyword (full-text) detections are not supported: name the CloudTrail field to search"
            )
        raise SigmaCompileError(f"unsupported condition element {type(node).__name__}")

    def _in_list(self, node: ConditionOR) -> str | None:
        """``eventName: [a, b, c]`` -> ``lower(event_name) IN ('a', 'b', 'c')``."""
        fields = set()
        values = []
        for arg in node.args:
            if not isinstance(arg, ConditionFieldEqualsValueExpression):
                return None
            value = arg.value
            if type(value) is not SigmaString or value.contains_special() or value.contains_placeholder():
                return None
            fields.add(arg.field)
            values.append(value.to_plain_regex())  # plain parts only: the literal text
        if len(fields) != 1 or len(values) < 2:
            return None
        field = resolve_field(fields.pop(), self.list_keys)
        listed = ", ".join(_lit(v, False) for v in values)
        return field.match(lambda x: f"lower({x}) IN ({listed})")

    def field_value(self, name: str, value: Any) -> str:
        field = resolve_field(name, self.list_keys)
        if isinstance(value, SigmaExpansion):
            return "(" + " OR ".join(self.field_value(name, v) for v in value.values) + ")"
        if isinstance(value, SigmaString):
            return field.match(string_predicate(value))
        if isinstance(value, SigmaBool):
            text = "true" if value.boolean else "false"
            return field.match(lambda x: f"lower({x}) = '{text}'")
        if isinstance(value, SigmaTimestampPart):
            raise SigmaCompileError("timestamp part modifiers (|minute, |hour...) are not supported")
        if isinstance(value, SigmaNumber):
            lit = sql_string(str(value.number))
            return field.match(lambda x: f"{x} = {lit}")
        if isinstance(value, SigmaNull):
            return field.is_null()
        if isinstance(value, SigmaExists):
            return field.exists() if value.exists else f"NOT coalesce({field.exists()}, false)"
        if isinstance(value, SigmaRegularExpression):
            return field.match(regex_predicate(value))
        if isinstance(value, SigmaCIDRExpression):
            return field.match(cidr_predicate(value))
        if isinstance(value, SigmaCompareExpression):
            op = _COMPARE[value.op]
            num = repr(float(value.number.number))
            return field.match(lambda x: f"TRY_CAST({x} AS DOUBLE) {op} {num}")
        if isinstance(value, SigmaFieldReference):
            return field.match(fieldref_predicate(value, self.list_keys))
        raise SigmaCompileError(f"unsupported value type {type(value).__name__} for field {name!r}")
