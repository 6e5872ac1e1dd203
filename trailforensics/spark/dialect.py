"""DuckDB SQL (detections, named queries, helper columns) -> Spark, Athena or Trino SQL, with sqlglot.

The SQL stays written once, in DuckDB's dialect; this module parses it with sqlglot and rewrites
what sqlglot cannot know about our SQL before it prints the target dialect:

* parameters (``$name``) become typed literals of the bound values;
* JSON paths with wildcards (``j->>'$.a[*].b'``: a list in DuckDB) become ``from_json`` +
  ``transform`` over the JSON text (``get_json_object`` would return one JSON string);
* recursive paths (``j->>'$..key'``, a list in DuckDB) become the SQL macros of :mod:`.macros`
  (``tfs_json_descend``...: no Python UDF);
* macros stay calls: on Spark they are SQL functions (:mod:`.macros`); for Athena/Trino export
  they are expanded inline (:func:`expand_macros`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlglot
from sqlglot import exp

from trailforensics.errors import TrailforensicsError

SPARK = "spark"
ATHENA = "athena"
TRINO = "trino"
DIALECTS = (SPARK, ATHENA, TRINO)

Tree = Any  # a sqlglot expression (its base class was renamed across sqlglot versions)
_WILDCARD = re.compile(r"\[\*\]")


class TranspileError(TrailforensicsError, ValueError):
    pass


def _literal(value: Any) -> Tree:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat()), "TIMESTAMP")
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[_literal(v) for v in value])
    return exp.Literal.string(str(value))


def bind_parameters(tree: Tree, params: Mapping[str, Any] | Sequence[Any]) -> Tree:
    """``$name`` (a mapping) or ``?`` (a sequence, in order) placeholders replaced by literals."""
    if not isinstance(params, Mapping):
        values = iter(params)

        def positional(node: Tree) -> Tree:
            if isinstance(node, exp.Placeholder) and not node.name:
                try:
                    return _literal(next(values))
                except StopIteration:
                    raise TranspileError("more ? placeholders than values") from None
            return node

        return tree.transform(positional)

    def replace(node: Tree) -> Tree:
        if isinstance(node, (exp.Parameter, exp.Placeholder)):
            name = node.name if isinstance(node, exp.Placeholder) else node.this.name
            if name not in params:
                raise TranspileError(f"unbound parameter ${name}")
            return _literal(params[name])
        return node

    return tree.transform(replace)


_LEN = re.compile(r"(?<![\w.])len\s*\(", re.IGNORECASE)


_MATERIALIZED = re.compile(r"\bAS\s+(?:NOT\s+)?MATERIALIZED\s*\(", re.IGNORECASE)


def parse_duckdb(sql: str) -> Tree:
    # DuckDB's len() of a list: sqlglot reads it as a string length; our SQL uses length() for strings.
    sql = _LEN.sub("tfs_len(", sql)
    # `AS [NOT] MATERIALIZED (...)`: a DuckDB memory hint for a CTE; the other engines plan CTEs themselves.
    sql = _MATERIALIZED.sub("AS (", sql)
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise TranspileError(f"sqlglot cannot parse the DuckDB SQL: {exc}") from exc
    return tree


def to_dialect(
    sql: str,
    dialect: str,
    params: Mapping[str, Any] | Sequence[Any] | None = None,
    pretty: bool = False,
    known_accounts: list[str] | None = None,
    main_events: str | None = None,
) -> str:
    """``sql`` (DuckDB) in ``dialect`` (``spark``, ``athena`` or ``trino``), macros expanded inline.

    ``main_events``: the view DuckDB's ``main.events`` names, when a CTE ``events`` narrows the
    query's own (the hunt's scope); by default ``main.events`` is ``events``."""
    from trailforensics.spark.macros import expand

    tree = parse_duckdb(sql)
    if main_events:

        def whole_view(node: Tree) -> Tree:
            if isinstance(node, exp.Table) and node.db == "main" and node.name == "events":
                return exp.table_(main_events, alias=node.alias or None)
            return node

        tree = tree.transform(whole_view)
    if params is not None:
        tree = bind_parameters(tree, params)
    tree = _rewrite_json_paths(tree, SPARK)
    # Every target gets the Spark form with the macros expanded (Athena and Trino: printed in
    # their dialect).  Twice: a rewrite may bring in nodes (a window's frame) the first pass missed.
    tree = tree.transform(_spark_function).transform(_spark_function)
    if dialect == SPARK:
        tree = tree.transform(_double_text)
    tree = sqlglot.parse_one(tree.sql(dialect=SPARK), read=SPARK)
    tree = expand(tree, known_accounts)
    try:
        if dialect != SPARK:
            tree = sqlglot.parse_one(tree.sql(dialect=SPARK), read=SPARK).transform(_typed_concat_ws)
        return tree.sql(dialect=dialect, pretty=pretty, unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.UnsupportedError as exc:
        raise TranspileError(f"cannot express in {dialect}: {exc}") from exc


# -- JSON paths -------------------------------------------------------------------------------


def _path_text(node: Tree) -> str | None:
    path = node.expression if hasattr(node, "expression") else None
    if isinstance(path, exp.JSONPath):
        return path.sql(dialect="duckdb").strip("'")
    if isinstance(path, exp.Literal) and path.is_string:
        return path.this
    return None


def _rewrite_json_paths(tree: Tree, dialect: str) -> Tree:
    """``->>`` / ``->`` with ``[*]`` (a list in DuckDB) as the target's list functions."""

    def replace(node: Tree) -> Tree:
        if isinstance(node, exp.TryCast) and not node.to.is_type(exp.DataType.Type.ARRAY):
            inner = node.this.unnest()
            if isinstance(inner, (exp.JSONExtractScalar, exp.JSONExtract)) and _recursive_steps(inner.expression):
                return exp.cast(exp.Null(), node.to.copy())  # DuckDB: a list cast to a scalar is NULL
        if (
            isinstance(node, exp.Lambda)
            and isinstance(node.this, exp.Literal)
            and node.this.is_string
            and node.this.this.startswith("$")
            and len(node.expressions) == 1
        ):
            # `f(x->'$.a')`: sqlglot reads an arrow inside a call's arguments as a lambda.
            parsed = sqlglot.parse_one(f"SELECT j -> {node.this.sql(dialect='duckdb')}", read="duckdb")
            extract = parsed.find(exp.JSONExtract)
            assert extract is not None
            node = exp.JSONExtract(this=exp.column(node.expressions[0].name), expression=extract.expression)
        if isinstance(node, (exp.JSONExtractScalar, exp.JSONExtract)):
            # The replacement is not visited again: rewrite the document's own paths first
            # (`(f(d->'$.a')[1]->'$.b')->>'$.c'`).
            node.set("this", node.this.transform(replace))
            steps = _recursive_steps(node.expression)
            if steps is not None:
                return _descend(node.this, steps, scalar=isinstance(node, exp.JSONExtractScalar))
            path = _path_text(node)
            if path is not None and "[*]" in path:
                return _wildcard_extract(node.this, path, scalar=isinstance(node, exp.JSONExtractScalar))
            if path is not None:
                # Spark reads `x -> 'p'` as a lambda: spell the extraction out.
                return exp.Anonymous(this="get_json_object", expressions=[node.this, exp.Literal.string(path)])
        return node

    return tree.transform(replace)


def _recursive_steps(path: Tree) -> list[tuple[str, str]] | None:
    """The steps of a path with a ``..`` (``$..a.b[*]..c``: a list in DuckDB), None for any other path."""
    if not isinstance(path, exp.JSONPath) or not any(isinstance(p, exp.JSONPathRecursive) for p in path.expressions):
        return None
    steps: list[tuple[str, str]] = []
    for part in path.expressions[1:]:
        if isinstance(part, (exp.JSONPathRecursive, exp.JSONPathKey)) and isinstance(part.this, str):
            if any(c in part.this for c in "\\\"'"):
                raise TranspileError(f"JSON path key {part.this!r}: quotes and backslashes are not supported here")
            steps.append(("descend" if isinstance(part, exp.JSONPathRecursive) else "member", part.this))
        elif isinstance(part, exp.JSONPathSubscript) and isinstance(part.this, exp.JSONPathWildcard):
            steps.append(("elements", ""))
        elif isinstance(part, exp.JSONPathSubscript) and isinstance(part.this, int) and part.this >= 0:
            steps.append(("index", str(part.this)))
        else:
            raise TranspileError(f"JSON path step {part!r} (after a `..`) is not supported")
    return steps


def _descend(doc: Tree, steps: list[tuple[str, str]], scalar: bool) -> Tree:
    """A path with ``..`` as the list DuckDB returns: each step maps the list of values (JSON text)
    to the next (:mod:`.macros`: ``tfs_json_descend``, ``tfs_json_member``, ``tfs_json_elements``),
    and ``->>`` unquotes the values at the end.  NULL for a NULL document, as in DuckDB."""
    current = ""
    for i, (kind, arg) in enumerate(steps):
        item = "__doc__" if i == 0 else f"m_p{i}"
        if kind == "descend":
            one = f"tfs_json_descend({item}, '{arg}')"
        elif kind == "member":
            one = f"tfs_json_member({item}, '{arg}')"
        elif kind == "elements":
            one = f"tfs_json_elements({item})"
        else:
            one = f"slice(tfs_json_elements({item}), {int(arg) + 1}, 1)"
        current = one if i == 0 else f"flatten(transform({current}, {item} -> {one}))"
    if scalar:
        current = f"transform({current}, m_v -> tfs_json_unquote(m_v))"
    current = f"CASE WHEN __doc__ IS NULL THEN NULL ELSE {current} END"
    parsed = sqlglot.parse_one(current, read="spark")
    return parsed.transform(lambda n: doc.copy() if isinstance(n, exp.Column) and n.name == "__doc__" else n)


def _wildcard_extract(doc: Tree, path: str, scalar: bool) -> Tree:
    """``$.a[*].b[*]`` -> ``flatten(transform(tf_json_items(doc, '$.a'), x -> tf_json_items(x, '$.b')))``.

    ``tf_json_items`` (see :mod:`.macros`) lists the items of the array at a path; DuckDB gives
    nothing for a path that is absent or not an array, and the items of each level in order.
    """
    parts = _WILDCARD.split(path)
    head, rest = parts[0], parts[1:]
    fn = "tfs_json_items_text" if scalar else "tfs_json_items"
    expr = f"{fn}(__doc__, '{head}')" if len(parts) == 2 and not rest[0] else None
    # Build as SQL text for clarity, then parse it back (Spark dialect).
    current = f"tfs_json_items(__doc__, '{head}')"
    for i, piece in enumerate(rest):
        last = i == len(rest) - 1
        if last:
            if piece:
                getter = "get_json_object" if scalar else "tfs_json_get"
                current = f"filter(transform({current}, x{i} -> {getter}(x{i}, '${piece}')), x{i} -> x{i} IS NOT NULL)"
            elif scalar:
                current = f"transform({current}, x{i} -> tfs_json_text(x{i}))"
        else:
            current = f"flatten(transform({current}, x{i} -> tfs_json_items(x{i}, '${piece}')))"
    del expr, fn
    parsed = sqlglot.parse_one(current, read="spark")
    return parsed.transform(lambda n: doc.copy() if isinstance(n, exp.Column) and n.name == "__doc__" else n)


# -- DuckDB functions Spark spells differently -------------------------------------------------

_STRFTIME = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss", "%f": "SSSSSS", "%j": "DDD"}
_UNITS = {"to_minutes": "MINUTE", "to_hours": "HOUR", "to_days": "DAY", "to_seconds": "SECOND"}


def _java_pattern(fmt: str) -> str:
    """A strftime format as a Java date-time pattern (other text quoted as literals)."""
    out, literal = [], ""
    i = 0
    while i < len(fmt):
        token = fmt[i : i + 2]
        if token in _STRFTIME:
            if literal:
                out.append("'" + literal.replace("'", "''") + "'")
                literal = ""
            out.append(_STRFTIME[token])
            i += 2
        else:
            literal += fmt[i]
            i += 1
    if literal:
        out.append("'" + literal.replace("'", "''") + "'")
    return "".join(out)


_UNIT_MICROS = {"SECOND": 10**6, "MINUTE": 60 * 10**6, "HOUR": 3600 * 10**6, "DAY": 86400 * 10**6}


def call(name: str, *args: Tree) -> Tree:
    return exp.Anonymous(this=name, expressions=list(args))


def glob_regex(pattern: str) -> str:
    """A DuckDB GLOB pattern (``*``, ``?``, ``[...]``; whole string, case-sensitive) as a regex."""
    out, i = ["^"], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out) + "$"


def _typed_concat_ws(node: Tree) -> Tree:
    """``concat_ws`` of strings (our SQL never passes it a list): said so, sqlglot cannot print it
    for Trino without knowing the arguments' types."""
    if isinstance(node, exp.ConcatWs):
        sep, *args = node.expressions
        typed = [a if isinstance(a, exp.Literal) else exp.cast(a, "STRING") for a in args]
        return exp.ConcatWs(expressions=[sep, *typed])
    return node


def _double_text(node: Tree) -> Tree:
    """``CAST(x AS VARCHAR)``: DuckDB prints a DOUBLE as Python's repr does (``9.25e-05``), Spark as
    Java does (``9.25E-5``); the type is known only when Spark analyses the query (``typeof``, folded)."""
    if (
        isinstance(node, exp.Cast)
        and not isinstance(node, exp.TryCast)
        and node.to.is_type(*exp.DataType.TEXT_TYPES)
        and not isinstance(node.this, (exp.Literal, exp.Null))
    ):
        is_double = exp.EQ(this=call("typeof", node.this.copy()), expression=exp.Literal.string("double"))
        plain = exp.cast(node.this.copy(), "STRING")
        # Both branches must type-check whatever x is: the macro reads the double back from its text.
        text = call("tfs_double_text", plain.copy())
        return exp.Case(ifs=[exp.If(this=is_double, true=text)], default=plain)
    return node


def _spark_function(node: Tree) -> Tree:
    if isinstance(node, exp.Table) and node.args.get("db") is not None and node.db == "main":
        node.set("db", None)  # DuckDB's `main.events`: the view not narrowed by a CTE of that name
        return node
    if isinstance(node, exp.Column) and node.args.get("db") is not None and node.db == "main":
        node.set("db", None)
        return node
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Count) and isinstance(node.this.this, exp.Distinct):
        # Spark has no DISTINCT window aggregate: the size of the window's set (NULLs left out, as count does).
        values = node.this.this.expressions
        window = node.copy()
        window.set("this", call("collect_set", values[0].copy()))
        return call("size", window)
    if isinstance(node, exp.Glob):
        pattern = node.expression
        if not (isinstance(pattern, exp.Literal) and pattern.is_string):
            # Computed at run time: * and ? as LIKE's % and _ (character classes are not supported).
            like = pattern.copy()
            for old, new in (("\\", "\\\\"), ("%", "\\%"), ("_", "\\_"), ("*", "%"), ("?", "_")):
                like = call("replace", like, exp.Literal.string(old), exp.Literal.string(new))
            return exp.Like(this=node.this, expression=like)
        return exp.RegexpLike(this=node.this, expression=exp.Literal.string(glob_regex(pattern.this)))
    if isinstance(node, exp.JSONObject) and all(isinstance(kv, exp.JSONKeyValue) for kv in node.expressions):
        # DuckDB keeps NULL members (`"k":null`); Spark's to_json leaves them out unless told.
        fields = [exp.Alias(this=kv.expression, alias=exp.to_identifier(kv.this.name)) for kv in node.expressions]
        options = call("map", exp.Literal.string("ignoreNullFields"), exp.Literal.string("false"))
        return call("to_json", exp.Struct(expressions=fields), options)
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.JSON:
        return exp.DataType.build("STRING")  # JSON is text on Spark (``CAST([] AS JSON[])``)
    if isinstance(node, exp.ArrayOverlaps):
        return call("arrays_overlap", node.this, node.expression)
    if isinstance(node, exp.DateDiff) and node.args.get("date_part_boundary"):
        unit = str(node.args["unit"].name).upper()
        if unit in _UNIT_MICROS:  # DuckDB counts the unit boundaries crossed

            def floor_units(t: Tree) -> Tree:
                return call(
                    "floor",
                    exp.Div(this=call("unix_micros", t.copy()), expression=exp.Literal.number(_UNIT_MICROS[unit])),
                )

            diff = exp.Sub(this=floor_units(node.this), expression=floor_units(node.expression))
            return exp.cast(diff, "BIGINT")
    if isinstance(node, exp.TimeToUnix) and isinstance(node.this, exp.Sub):  # epoch(interval): seconds
        micros = exp.Sub(
            this=call("unix_micros", node.this.this.copy()), expression=call("unix_micros", node.this.expression.copy())
        )
        return exp.Div(this=exp.Paren(this=micros), expression=exp.Literal.number(1000000.0))
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Slice):
        sl = node.expressions[0]
        begin, end = sl.this, sl.expression
        length = exp.Add(this=exp.Sub(this=end.copy(), expression=begin.copy()), expression=exp.Literal.number(1))
        return call("slice", node.this, begin, length)

    if isinstance(node, exp.TimeToStr) and isinstance(node.args.get("format"), exp.Literal):
        return call("date_format", node.this, exp.Literal.string(_java_pattern(node.args["format"].this)))
    if isinstance(node, exp.JSONType):
        path = node.expression if node.expression is not None else exp.Literal.string("$")
        if isinstance(path, exp.Literal) and path.is_string:  # DuckDB's `."a-b"` is `["a-b"]` for variant_get
            path = exp.Literal.string(re.sub(r'\."([^"]*)"', r'["\1"]', path.this))
        return call("tfs_json_type", node.this, path)
    if not isinstance(node, exp.Anonymous):
        return node
    name, args = node.name.lower(), node.expressions
    if name == "tfs_len":
        return call("array_size", *args)
    if name in _UNITS:
        if isinstance(args[0], exp.Literal):  # a window frame bound must be a literal interval
            return exp.Interval(this=exp.Literal.string(str(args[0].this)), unit=exp.var(_UNITS[name]))
        return exp.Mul(this=exp.Interval(this=exp.Literal.string("1"), unit=exp.var(_UNITS[name])), expression=args[0])
    if name == "json_array_length" and len(args) == 2:
        return call("json_array_length", call("get_json_object", args[0], args[1]))
    if name == "list_slice" and len(args) == 3:
        begin, end = args[1], args[2]
        length = exp.Add(this=exp.Sub(this=end.copy(), expression=begin.copy()), expression=exp.Literal.number(1))
        return call("slice", args[0], begin, length)
    if name == "regexp_escape":
        return call("tfs_regexp_escape", *args)
    return node
