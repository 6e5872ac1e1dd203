"""The ``tf_*`` and ``tfh_*`` macros as Spark SQL functions (and the ``tfs_*`` helpers they need).

Each is a SQL function (``CREATE TEMPORARY FUNCTION ... RETURN expr``), with the DuckDB macro's
semantics on the JSON text Spark reads (``get_json_object`` returns a string value unquoted,
an object or array as compact JSON text).  There is no Python UDF: Spark refuses them inside
lambdas, and each one is a Python worker per task that can fail under load.

=========================  ===================================================================
macro                      Spark implementation
=========================  ===================================================================
tf_pointer, tf_clip        SQL (string functions)
CAST(double AS VARCHAR)    SQL ``tfs_double_text`` (DuckDB prints Python's repr, Spark Java's)
tf_param_summary           SQL (``json_object_keys`` + ``get_json_object`` + ``filter``)
tf_json_eq                 SQL (``contains`` prefilter + ``get_json_object``)
tf_ip_list, tf_ipv4_int    SQL (``split``/``filter``; ``rlike`` + ``split_part`` + shifts)
tfh_ok, tfh_name           SQL
tfh_principal, tfh_doc     SQL (``try_parse_json`` checks a document held as a string)
tfh_list, tfh_statements   SQL (``from_json(..., 'array<string>')``)
tfh_public_statement       SQL
tfh_policy_public          SQL
tfh_policy_accounts        SQL (``regexp_extract_all``)
tfh_known, tfh_unknown     SQL (the known accounts as an array literal, made per hunt)
tfh_arn_account            SQL
tfh_private_ipv4/_ip       SQL
tfh_is_ip                  SQL
``$..key`` paths           SQL ``tfs_json_descend`` (``aggregate`` over the depth: a level per
                           step, matches sorted into DuckDB's order), ``tfs_json_member``,
                           ``tfs_json_elements``, ``tfs_json_unquote`` for the steps after it
=========================  ===================================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from trailforensics.hunt.sqlenv import _RESTRICTING_RE

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

S = "STRING"
_PRIVATE_V6 = "^(f[cd][0-9a-f]{0,2}:|fe80:|::1$)"
_MATCHES = "ARRAY<STRUCT<o: ARRAY<INT>, v: STRING>>"
_MAX_DEPTH = 64
_IPV4 = r"^(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}$"


def _q(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


# (name, parameters, return type, body): created in this order (later ones call earlier ones).
FUNCTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("tf_pointer", "k STRING", S, "'/' || replace(replace(k, '~', '~0'), '/', '~1')"),
    ("tfs_path", "k STRING", S, "'$[\\'' || k || '\\']'"),
    ("tf_clip", "s STRING, n INT", S, "CASE WHEN char_length(s) > n THEN left(s, n - 1) || '…' ELSE s END"),
    (
        "tfs_json_items",
        "j STRING, p STRING",
        "ARRAY<STRING>",
        "CASE WHEN j IS NULL THEN NULL ELSE coalesce(CASE WHEN startswith(ltrim(get_json_object(j, p)), '[') "
        "THEN from_json(get_json_object(j, p), 'array<string>') END, array()) END",
    ),
    ("tfs_json_text", "x STRING", S, "x"),
    ("tfs_json_get", "x STRING, p STRING", S, "get_json_object(x, p)"),
    (
        "tfs_is_container",
        "v STRING",
        "BOOLEAN",
        "(startswith(ltrim(v), '{') OR startswith(ltrim(v), '[')) AND try_parse_json(v) IS NOT NULL",
    ),
    # -- DuckDB JSON paths with ``..`` (a list): each value as JSON text ("JSON form": strings quoted),
    # containers as the document's own text (key order kept: a VARIANT would sort the keys).
    (
        "tfs_json_form",
        "s STRING, v VARIANT",
        S,
        "CASE WHEN v IS NULL THEN NULL WHEN (startswith(s, '{') OR startswith(s, '[')) "
        "AND left(schema_of_variant(v), 1) IN ('O', 'A') THEN s "
        "WHEN startswith(to_json(v), '\"') THEN to_json(v) ELSE lower(to_json(v)) END",  # 1.5E-7: 1.5e-7
    ),
    (
        "tfs_json_unquote",  # JSON form -> DuckDB ->> text (a string unquoted, JSON null a NULL)
        "m STRING",
        S,
        "CASE WHEN m = 'null' THEN NULL WHEN startswith(m, '\"') THEN variant_get(try_parse_json(m), '$', 'string') "
        "ELSE m END",
    ),
    (
        "tfs_json_member",
        "m STRING, k STRING",
        "ARRAY<STRING>",
        "CASE WHEN startswith(ltrim(m), '{') AND map_contains_key(from_json(m, 'map<string,string>'), k) "
        "THEN array(tfs_json_form(from_json(m, 'map<string,string>')[k], from_json(m, 'map<string,variant>')[k])) "
        "ELSE array() END",
    ),
    (
        "tfs_json_elements",
        "m STRING",
        "ARRAY<STRING>",
        "coalesce(zip_with(from_json(m, 'array<string>'), from_json(m, 'array<variant>'), "
        "(s, v) -> tfs_json_form(s, v)), array())",
    ),
    (
        "tfs_json_may_hold",  # cheap pruning: a container whose text names the key (or may, escaped)
        "t STRING, k STRING",
        "BOOLEAN",
        "(startswith(ltrim(t), '{') OR startswith(ltrim(t), '[')) "
        "AND (contains(t, '\"' || k || '\"') OR contains(t, '\\\\u'))",
    ),
    (
        "tfs_json_visit",  # one container: the value of its key k (ordered after o) and its containers to visit
        "t STRING, o ARRAY<INT>, k STRING",
        f"STRUCT<own: {_MATCHES}, kids: ARRAY<STRUCT<o: ARRAY<INT>, t: STRING>>>",
        "element_at(transform(array(CASE WHEN startswith(ltrim(t), '{') THEN named_struct("
        "'k', map_keys(from_json(t, 'map<string,string>')), 's', map_values(from_json(t, 'map<string,string>')), "
        "'v', map_values(from_json(t, 'map<string,variant>'))) ELSE named_struct('k', CAST(NULL AS ARRAY<STRING>), "
        "'s', from_json(t, 'array<string>'), 'v', from_json(t, 'array<variant>')) END), "
        "p -> named_struct("
        "'own', CASE WHEN array_position(p.k, k) > 0 THEN array(named_struct('o', concat(o, array(-1)), "
        "'v', tfs_json_form(element_at(p.s, CAST(array_position(p.k, k) AS INT)), "
        f"element_at(p.v, CAST(array_position(p.k, k) AS INT))))) ELSE CAST(array() AS {_MATCHES}) END, "
        "'kids', filter(transform(coalesce(p.s, array()), (s, i) -> CASE WHEN tfs_json_may_hold(s, k) "
        "AND left(schema_of_variant(element_at(p.v, i + 1)), 1) IN ('O', 'A') "
        "THEN named_struct('o', concat(o, array(i)), 't', s) END), x -> x IS NOT NULL))), 1)",
    ),
    (
        # DuckDB's `$..k`: the values of k at any depth, in DuckDB's order (an object's own k, then its
        # children's, in document order).  SQL functions cannot recurse: the containers are visited level
        # by level (aggregate over the depth), each match keeps its position (o) and they are sorted at
        # the end.  A document deeper than the loop is an error, never a silently shorter list.
        "tfs_json_descend",
        "j STRING, k STRING",
        "ARRAY<STRING>",
        f"CASE WHEN j IS NULL THEN NULL ELSE aggregate(sequence(1, {_MAX_DEPTH}), named_struct("
        "'todo', CASE WHEN tfs_json_may_hold(j, k) THEN array(named_struct('o', array(0), 't', j)) ELSE array() END, "
        f"'out', CAST(array() AS {_MATCHES})), "
        "(st, i) -> element_at(transform(array(transform(st.todo, n -> tfs_json_visit(n.t, n.o, k))), "
        "r -> named_struct('todo', flatten(transform(r, x -> x.kids)), "
        "'out', concat(st.out, flatten(transform(r, x -> x.own))))), 1), "
        "st -> CASE WHEN size(st.todo) > 0 "
        f"THEN raise_error('a JSON document nests deeper than {_MAX_DEPTH} levels: $..' || k || ' cannot follow it') "
        "ELSE transform(array_sort(st.out), x -> x.v) END) END",
    ),
    (
        # A DOUBLE (t: Spark's text of it) as DuckDB prints it: Python's repr (the shortest digits
        # that read back as the same double; exponent form outside 1e-4..1e16).  Spark's CAST gives
        # Java 17's Double.toString, not always the shortest: the digits come from the first precision
        # that round-trips.
        "tfs_double_text",
        "t STRING",
        S,
        "element_at(transform(array(CAST(t AS DOUBLE)), x -> CASE WHEN x IS NULL THEN NULL WHEN isnan(x) THEN 'nan' "
        "WHEN x = CAST('Infinity' AS DOUBLE) THEN 'inf' WHEN x = CAST('-Infinity' AS DOUBLE) THEN '-inf' "
        "WHEN x = 0 THEN IF(startswith(t, '-'), '-0.0', '0.0') "
        "ELSE element_at(transform(array(format_string(concat('%.', coalesce(element_at(filter(sequence(0, 16), "
        "p -> CAST(format_string(concat('%.', p, 'e'), x) AS DOUBLE) = x), 1), 16), 'e'), x)), "
        "e -> element_at(transform(array(named_struct('sign', IF(startswith(e, '-'), '-', ''), "
        "'d', regexp_replace(replace(split_part(regexp_replace(e, '^-', ''), 'e', 1), '.', ''), '0+$', ''), "
        "'pos', CAST(split_part(e, 'e', 2) AS INT) + 1)), "
        "b -> CASE WHEN b.pos - 1 BETWEEN -4 AND 15 THEN b.sign || CASE "
        "WHEN b.pos <= 0 THEN '0.' || repeat('0', -b.pos) || b.d "
        "WHEN b.pos >= length(b.d) THEN b.d || repeat('0', b.pos - length(b.d)) || '.0' "
        "ELSE substr(b.d, 1, b.pos) || '.' || substr(b.d, b.pos + 1) END "
        "ELSE b.sign || left(b.d, 1) || IF(length(b.d) > 1, '.' || substr(b.d, 2), '') || 'e' "
        "|| IF(b.pos - 1 < 0, '-', '+') || IF(abs(b.pos - 1) < 10, '0', '') || CAST(abs(b.pos - 1) AS STRING) END), "
        "1)), 1) END), 1)",
    ),
    (
        "tf_param_summary",
        "j STRING",
        S,
        "CASE WHEN j IS NULL OR NOT startswith(ltrim(j), '{') THEN NULL ELSE nullif(tf_clip(array_join(transform("
        "slice(filter(json_object_keys(j), k -> get_json_object(j, tfs_path(k)) IS NOT NULL "
        "AND NOT tfs_is_container(get_json_object(j, tfs_path(k)))), 1, 6), "
        "k -> k || '=' || tf_clip(get_json_object(j, tfs_path(k)), 60)), ' '), 200), '') END",
    ),
    (
        "tfs_json_type",
        "j STRING, p STRING",
        S,
        "CASE WHEN variant_get(try_parse_json(j), p) IS NULL THEN NULL "
        "WHEN startswith(schema_of_variant(variant_get(try_parse_json(j), p)), 'OBJECT') THEN 'OBJECT' "
        "WHEN startswith(schema_of_variant(variant_get(try_parse_json(j), p)), 'ARRAY') THEN 'ARRAY' "
        "WHEN schema_of_variant(variant_get(try_parse_json(j), p)) = 'STRING' THEN 'VARCHAR' "
        "WHEN schema_of_variant(variant_get(try_parse_json(j), p)) = 'VOID' THEN 'NULL' "
        "WHEN startswith(schema_of_variant(variant_get(try_parse_json(j), p)), 'DECIMAL') THEN 'DOUBLE' "
        "ELSE schema_of_variant(variant_get(try_parse_json(j), p)) END",
    ),
    ("tfs_regexp_escape", "s STRING", S, "regexp_replace(s, '([^A-Za-z0-9_\\\\x{80}-\\\\x{10FFFF}])', '\\\\\\\\$1')"),
    ("tf_json_eq", "j STRING, k STRING, v STRING", "BOOLEAN", "contains(j, v) AND get_json_object(j, tfs_path(k)) = v"),
    ("tf_ip_list", "s STRING", "ARRAY<STRING>", "filter(transform(split(s, ','), x -> trim(x)), x -> x <> '')"),
    (
        "tf_ipv4_int",
        "s STRING",
        "BIGINT",
        f"CASE WHEN s RLIKE '{_IPV4}' THEN shiftleft(CAST(split_part(s, '.', 1) AS BIGINT), 24) "
        "+ shiftleft(CAST(split_part(s, '.', 2) AS BIGINT), 16) + shiftleft(CAST(split_part(s, '.', 3) AS BIGINT), 8) "
        "+ CAST(split_part(s, '.', 4) AS BIGINT) END",
    ),
    (
        "tfh_ok",
        "err STRING, resp STRING, name STRING",
        "BOOLEAN",
        "err IS NULL AND NOT coalesce(get_json_object(resp, tfs_path(name)) = 'Failure', false)",
    ),
    (
        "tfh_denied",
        "err STRING",
        "BOOLEAN",
        "coalesce(lower(err) RLIKE '(accessdenied|unauthorized|notauthorized|forbidden|authorizationerror"
        "|dryrunoperation)', false)",
    ),
    (
        "tfh_name",
        "arn STRING, user_name STRING",
        S,
        "coalesce(nullif(regexp_extract(arn, '/([^/]+)$', 1), ''), user_name)",
    ),
    (
        "tfh_principal",
        "kind STRING, arn STRING, issuer_arn STRING, actor STRING",
        S,
        "CASE WHEN kind = 'AssumedRole' AND NOT coalesce(contains(arn, ':assumed-role/AWSReservedSSO_'), false) "
        "THEN coalesce(issuer_arn, actor) ELSE actor END",
    ),
    ("tfh_doc", "j STRING", S, "CASE WHEN j IS NOT NULL AND try_parse_json(j) IS NOT NULL THEN j END"),
    (
        "tfh_list",
        "j STRING",
        "ARRAY<STRING>",
        "CASE WHEN startswith(ltrim(j), '[') THEN coalesce(from_json(j, 'array<string>'), array()) "
        "WHEN startswith(ltrim(j), '{') THEN array(j) ELSE array() END",
    ),
    ("tfh_statements", "doc STRING", "ARRAY<STRING>", "tfh_list(get_json_object(doc, '$.Statement'))"),
    (
        "tfh_public_statement",
        "s STRING",
        "BOOLEAN",
        "coalesce(get_json_object(s, '$.Effect') = 'Allow', false) "
        "AND coalesce('*' IN (get_json_object(s, '$.Principal'), get_json_object(s, '$.Principal.AWS')) "
        "OR array_contains(tfs_json_items(s, '$.Principal.AWS'), '*'), false) "
        f"AND NOT coalesce(lower(get_json_object(s, '$.Condition')) RLIKE {_q(_RESTRICTING_RE)}, false)",
    ),
    (
        "tfh_policy_public",
        "j STRING",
        "BOOLEAN",
        "size(filter(tfh_statements(tfh_doc(j)), s -> tfh_public_statement(s))) > 0",
    ),
    (
        "tfh_policy_accounts",
        "j STRING",
        "ARRAY<STRING>",
        "array_distinct(flatten(transform(filter(tfh_statements(tfh_doc(j)), "
        "s -> coalesce(get_json_object(s, '$.Effect') = 'Allow', false)), "
        "s -> regexp_extract_all(coalesce(get_json_object(s, '$.Principal'), ''), "
        "'(?:^|[^0-9])([0-9]{12})(?:[^0-9]|$)', 1))))",
    ),
    ("tfh_arn_account", "arn STRING", S, "nullif(regexp_extract(arn, '^arn:[^:]*:[^:]*:[^:]*:([0-9]{12}):', 1), '')"),
    (
        "tfh_private_ipv4",
        "n BIGINT",
        "BOOLEAN",
        "n BETWEEN 167772160 AND 184549375 OR n BETWEEN 2886729728 AND 2887778303 "
        "OR n BETWEEN 3232235520 AND 3232301055 OR n BETWEEN 1681915904 AND 1686110207 "
        "OR n BETWEEN 2130706432 AND 2147483647 OR n BETWEEN 2851995648 AND 2852061183",
    ),
    (
        "tfh_private_ip",
        "ip STRING",
        "BOOLEAN",
        "CASE WHEN tf_ipv4_int(ip) IS NOT NULL THEN tfh_private_ipv4(tf_ipv4_int(ip)) "
        f"ELSE coalesce(lower(ip) RLIKE '{_PRIVATE_V6}', false) END",
    ),
    (
        "tfh_is_ip",
        "ip STRING",
        "BOOLEAN",
        "tf_ipv4_int(ip) IS NOT NULL OR coalesce(lower(ip) RLIKE '^[0-9a-f:.]*:[0-9a-f:.]*$', false)",
    ),
)


_PARSED: dict[str, tuple[list[str], Any]] = {}


def _macros(known_accounts: Iterable[str] | None) -> dict[str, tuple[list[str], Any]]:
    """Each macro's parameter names and parsed Spark body."""
    import sqlglot

    if not _PARSED:
        for name, params, _returns, body in FUNCTIONS:
            names = [p.split()[0] for p in params.split(",")]
            _PARSED[name] = (names, sqlglot.parse_one(body, read="spark"))
        _PARSED["tfh_unknown"] = (
            ["l"],
            sqlglot.parse_one("filter(l, a -> a IS NOT NULL AND NOT array_contains(tfh_known(), a))", read="spark"),
        )
    out = dict(_PARSED)
    if known_accounts is not None:
        known = ", ".join(_q(a) for a in sorted(set(known_accounts)))
        out["tfh_known"] = ([], sqlglot.parse_one(f"array({known})", read="spark"))
    return out


def expand(tree: Any, known_accounts: Iterable[str] | None = None) -> Any:
    """Every macro call in ``tree`` (a sqlglot tree) replaced by its body, recursively.

    Spark refuses SQL functions inside lambdas (``filter(l, s -> tfh_public_statement(s))``), and
    Athena/Trino have none: so calls are expanded inline.  The body's lambda variables are renamed
    so that they never capture a variable of the arguments.
    """
    from sqlglot import exp

    bodies = _macros(known_accounts)
    counter = [0]

    def replace(node: Any) -> Any:
        if not isinstance(node, exp.Anonymous) or node.name.lower() not in bodies:
            return node
        name = node.name.lower()
        params, body = bodies[name]
        if len(node.expressions) != len(params):
            raise ValueError(f"{name} takes {len(params)} argument(s), {len(node.expressions)} given")
        counter[0] += 1
        body = body.copy()
        for lam in list(body.find_all(exp.Lambda)):
            for var in lam.expressions:
                old = var.name
                new = f"{old}_m{counter[0]}"
                for ident in lam.this.find_all(exp.Column, exp.Identifier):
                    if ident.name == old and not isinstance(ident.parent, exp.Column):
                        ident.set("this", new)
                    elif isinstance(ident, exp.Column) and ident.table == old and not ident.db:
                        ident.set("table", exp.to_identifier(new))  # a field of a struct variable: `n.o`
                var.set("this", new)
        args = dict(zip(params, node.expressions))

        def substitute(n: Any) -> Any:
            if isinstance(n, exp.Column) and not n.table and n.name in args:
                return exp.Paren(this=args[n.name].copy())
            return n

        # In parentheses: `NOT tfh_ok(...)` must negate the whole body, not its first term.
        return exp.Paren(this=expand(body.transform(substitute), known_accounts))

    return tree.transform(replace)


def register(spark: SparkSession, known_accounts: Iterable[str] = ()) -> None:
    """Create the macros as SQL functions on the session, for ad-hoc SQL (``tfh_known``: ``known_accounts``).

    Detections get them expanded inline instead (see :func:`expand`).
    """
    import sqlglot

    known = list(known_accounts)
    for name, params, returns, body in (
        *FUNCTIONS,
        ("tfh_known", "", "ARRAY<STRING>", "tfh_known()"),
        ("tfh_unknown", "l ARRAY<STRING>", "ARRAY<STRING>", "tfh_unknown(l)"),
    ):
        inline = expand(sqlglot.parse_one(body, read="spark"), known)
        spark.sql(
            f"CREATE OR REPLACE TEMPORARY FUNCTION {name}({params}) RETURNS {returns} "
            f"RETURN {inline.sql(dialect='spark')}"
        )
