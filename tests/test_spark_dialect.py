"""The DuckDB constructs Spark spells differently give DuckDB's answers on Spark, value for value:
recursive JSON paths (``$..key``: SQL, no Python UDF), a DOUBLE printed as text, ``json_object``
with NULL members, and a list cast to a scalar."""

from __future__ import annotations

import json
import random
from typing import Any

import duckdb
import pytest

from trailforensics.spark.session import java_available

if not java_available():
    pytest.skip("no Java runtime (Spark needs Java 17+; CI installs one in .ci/run)", allow_module_level=True)

from trailforensics.spark.dialect import TranspileError, to_dialect
from trailforensics.spark.session import get_session

DOCS = [
    # DuckDB's order: an object's own key first, then its children in document order
    {"a": {"k": 1, "b": {"k": {"k": "s"}}, "c": [{"k": [1, 2]}, {"k": None}]}, "k": "top"},
    # a string holding JSON is a string, not a document to descend into
    {"policy": json.dumps({"k": "inside a string"}), "k": '{"not": "an object"}', "n": 1.5},
    {"items": [{"cidrIp": "0.0.0.0/0"}, {"ipRanges": {"items": {"cidrIp": "10.0.0.0/8"}}}, "cidrIp"]},
    {"esc\u00e9": {"k": 'caf\u00e9 "quoted" \\ back'}, "k": True, "z": {"k": False}},
    {"k": {"k": {"k": {"k": 7}}}, "m": [[[{"k": 1.25e-07}]]]},
    {"other": 1},
    [{"k": 1}, {"k": 2}],
]
PATHS = ["$..k", "$..k[*]", "$..k.k", "$..k..k", "$..k[0]", "$..cidrIp", "$..items[*]", "$..missing", "$.a..k"]


@pytest.fixture(scope="module")
def spark() -> Any:
    return get_session("local[2]", shuffle_partitions=2)


def _duck(sql: str, rows: list[tuple[Any, ...]], columns: str) -> list[Any]:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t ({columns})")
    if rows:
        con.executemany(f"INSERT INTO t VALUES ({', '.join('?' for _ in rows[0])})", [list(r) for r in rows])
    return [r[0] for r in con.execute(sql).fetchall()]


def _spark(spark: Any, sql: str, rows: list[tuple[Any, ...]], columns: str) -> list[Any]:
    spark.createDataFrame(rows, columns.replace("VARCHAR", "STRING")).createOrReplaceTempView("t")
    return [r[0] for r in spark.sql(to_dialect(sql, "spark")).collect()]


@pytest.mark.parametrize("arrow", ["->>", "->"])
@pytest.mark.parametrize("path", PATHS)
def test_recursive_json_paths_as_duckdb(spark: Any, path: str, arrow: str) -> None:
    rows = [(i, json.dumps(d)) for i, d in enumerate(DOCS)] + [(len(DOCS), None)]
    sql = f"SELECT CAST(j AS JSON){arrow}'{path}' FROM t ORDER BY i"
    expected = _duck(sql, rows, "i INTEGER, j VARCHAR")
    got = _spark(spark, sql.replace("CAST(j AS JSON)", "j"), rows, "i INTEGER, j VARCHAR")
    if arrow == "->":  # JSON text: compare the values, not the spacing
        expected = [None if v is None else [None if x is None else json.loads(x) for x in v] for v in expected]
        got = [None if v is None else [None if x is None else json.loads(x) for x in v] for v in got]
    assert got == expected


def test_recursive_path_inside_a_lambda(spark: Any) -> None:
    """A Python UDF cannot run inside a lambda on Spark; the SQL descent can."""
    rows = [(json.dumps({"perms": [{"r": {"cidrIp": "0.0.0.0/0"}}, {"cidrIp": "10.0.0.0/8"}, {"x": 1}]}),)]
    sql = "SELECT list_transform(tfh_list(j->'$.perms'), lambda p: p->>'$..cidrIp') FROM t"
    assert _spark(spark, sql, rows, "j VARCHAR") == [[["0.0.0.0/0"], ["10.0.0.0/8"], []]]


def test_a_document_deeper_than_the_descent_is_an_error(spark: Any) -> None:
    deep: Any = {"k": 1}
    for _ in range(70):
        deep = {"d": deep}
    with pytest.raises(Exception, match="deeper than 64 levels"):
        _spark(spark, "SELECT j->>'$..k' FROM t", [(json.dumps(deep),)], "j VARCHAR")
    # but not when the key is nowhere in it (the descent stops where the text cannot hold the key)
    assert _spark(spark, "SELECT j->>'$..zz' FROM t", [(json.dumps(deep),)], "j VARCHAR") == [[]]


def test_list_cast_to_a_scalar_is_null_as_in_duckdb(spark: Any) -> None:
    rows = [(json.dumps({"a": {"n": "12"}}),)]
    sql = "SELECT TRY_CAST(CAST(j AS JSON)->>'$..n' AS INTEGER) FROM t"
    assert _duck(sql, rows, "j VARCHAR") == [None]
    assert _spark(spark, sql.replace("CAST(j AS JSON)", "j"), rows, "j VARCHAR") == [None]


def test_double_as_text_as_in_duckdb(spark: Any) -> None:
    rng = random.Random(3)
    values = [9.25e-05, 0.0005, 1e-4, 1e-5, 123456789.0, 1e15, 1e16, 1.5e300, 2.5, 250.0, 0.1 + 0.2, -3.0e-7]
    values += [0.0, -0.0, 5e-324, 2e-310, 1e7, 9999999.0, float("inf"), float("-inf"), float("nan"), 1 / 3]
    values += [rng.uniform(-1e6, 1e6) for _ in range(100)] + [10 ** rng.uniform(-20, 15) for _ in range(100)]
    values += [round(rng.uniform(0, 100), 4) for _ in range(50)]
    rows = [(i, v) for i, v in enumerate(values)] + [(len(values), None)]
    sql = "SELECT CAST(x AS VARCHAR) || '|' || CAST(i AS VARCHAR) FROM t ORDER BY i"
    assert _spark(spark, sql, rows, "i INTEGER, x DOUBLE") == _duck(sql, rows, "i INTEGER, x DOUBLE")


def test_json_object_keeps_null_members(spark: Any) -> None:
    rows = [("a", None)]
    sql = "SELECT json_object('x', x, 'y', y, 'n', 1) FROM t"
    expected = [json.loads(v) for v in _duck(sql, rows, "x VARCHAR, y VARCHAR")]
    assert [json.loads(v) for v in _spark(spark, sql, rows, "x VARCHAR, y VARCHAR")] == expected
    assert expected == [{"x": "a", "y": None, "n": 1}]


def test_unsupported_path_step_is_a_transpile_error() -> None:
    with pytest.raises(TranspileError, match="not supported"):
        to_dialect("SELECT j->>'$..k[-1]' FROM t", "spark")
