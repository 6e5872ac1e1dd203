"""DDL and exported queries for Athena, Trino and Spark: every statement parses back in its dialect
with sqlglot, and the Spark ones run against a real dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlglot

from trailforensics.ingest import IngestOptions, ingest
from trailforensics.spark.ddl import ENGINES, DdlError, create_statements, events_view, export_queries, stored_tables
from trailforensics.spark.session import java_available

ROOT = Path(__file__).resolve().parents[1]
LOCATION = "s3://case-bucket/datasets/case42/"


@pytest.mark.parametrize("engine", ENGINES)
def test_create_statements_parse_back(engine: str) -> None:
    statements = create_statements(engine, LOCATION, database="case42")
    names = {t.name for t in stored_tables()}
    expected = names if engine == "spark" else {n for n in names if not n.startswith("rollup_")}
    assert len(statements) == len(expected)
    for st in statements:
        tree = sqlglot.parse_one(st, read=engine)
        assert isinstance(tree, sqlglot.exp.Create), st
        assert tree.this.find(sqlglot.exp.Table).name in expected
    events = next(s for s in statements if ".events " in s or ".events\n" in s)
    assert "event_date" in events and "s3://case-bucket/datasets/case42/events/" in events
    if engine == "athena":
        assert "'projection.event_date.type' = 'date'" in events
        assert "storage.location.template" in events
    sqlglot.parse_one(events_view(engine, "case42"), read=engine)


def test_unknown_engine_and_table() -> None:
    with pytest.raises(DdlError, match="unknown engine"):
        create_statements("oracle", LOCATION)
    with pytest.raises(DdlError, match="unknown table"):
        create_statements("athena", LOCATION, only=["nope"])


# What Athena and Trino cannot get, and why: every query reading a `..` path (DuckDB's recursive
# descent, a list).  On Spark it is SQL over maps and VARIANTs (`tfs_json_descend`: `from_json`,
# `aggregate` over the depth, typed structs) with no Trino form yet.
RECURSIVE_PATH_QUERIES = {
    "detections/audit_logs_deleted.sql",
    "detections/compute_hijacking.sql",
    "detections/compute_service_hijacking.sql",
    "detections/ebs_encryption_disabled.sql",
    "detections/network_exposure_opened.sql",
    "detections/recovery_inhibition.sql",
    "detections/s3_bucket_exposed.sql",
    "detections/snapshot_or_image_shared.sql",
    "detections/traffic_mirroring.sql",
    "security_group_changes.sql",
}


@pytest.mark.parametrize("engine", ENGINES)
def test_exported_queries_parse_back(engine: str, tmp_path: Path) -> None:
    problems: dict[str, str] = {}
    files = export_queries(engine, tmp_path, problems)
    detections = [f for f in files if f.parent.name == "detections"]
    if engine == "spark":
        assert not problems  # everything runs on Spark (see test_spark_hunt.py)
    else:  # what sqlglot cannot print for Trino is listed, never written half-translated
        assert set(problems) == RECURSIVE_PATH_QUERIES
        assert set(problems) == {ln.split(":")[0] for ln in (tmp_path / "NOT-EXPORTED.txt").read_text().splitlines()}
        assert not {p.relative_to(tmp_path).as_posix() for p in files} & RECURSIVE_PATH_QUERIES
    assert len(detections) >= 20 and len(files) > len(detections)
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert "tf_clip(" not in text.lower() and "tfh_ok(" not in text.lower()  # macros expanded
        sqlglot.parse_one(text, read=engine)


@pytest.fixture(scope="module")
def spark_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    if not java_available():
        pytest.skip("no Java runtime (Spark needs Java 17+; CI installs one in .ci/run)")
    from trailforensics.spark.session import get_session

    ds = tmp_path_factory.mktemp("ddl") / "ds"
    ingest([ROOT / "sample_logs"], ds, IngestOptions(workers=1))
    return get_session("local[2]", shuffle_partitions=4), ds


def test_spark_ddl_runs_and_reads_the_dataset(spark_dataset: tuple[Any, Path]) -> None:
    from trailforensics.engine.dataset import Dataset

    spark, ds = spark_dataset
    spark.sql("CREATE DATABASE IF NOT EXISTS tf_ddl_test")
    for st in create_statements("spark", ds.as_uri() + "/", database="tf_ddl_test"):
        spark.sql(st)
    spark.sql("MSCK REPAIR TABLE tf_ddl_test.events")
    with Dataset(ds) as d:
        for table in ("events", "manifest", "duplicates", "rollup_hourly"):
            expected = d.sql(f"SELECT count(*) AS n FROM {table}").to_pylist()[0]["n"]
            got = spark.sql(f"SELECT count(*) AS n FROM tf_ddl_test.{table}").collect()[0]["n"]
            assert got == expected, table
    spark.sql("DROP DATABASE tf_ddl_test CASCADE")


def test_exported_spark_queries_run(spark_dataset: tuple[Any, Path], tmp_path: Path) -> None:
    from trailforensics.spark import macros
    from trailforensics.spark.hunt import known_accounts
    from trailforensics.spark.tables import register_views

    spark, ds = spark_dataset
    register_views(spark, ds)
    macros.register(spark, known_accounts(spark, None))
    from test_spark_hunt import NOT_YET_ON_SPARK

    failed = {}
    for f in export_queries("spark", tmp_path):
        if "parameters to bind" in f.read_text(encoding="utf-8").splitlines()[0] or f.stem in NOT_YET_ON_SPARK:
            continue
        try:
            spark.sql(f.read_text(encoding="utf-8")).limit(1).collect()
        except Exception as exc:
            failed[f.name] = str(exc).splitlines()[0][:200]
    assert not failed


def test_glob_patterns_become_anchored_regexes() -> None:
    import re

    from trailforensics.spark.dialect import glob_regex

    rx = re.compile(glob_regex("Create*Key?[!0-9].json"))
    assert rx.match("CreateAccessKeyx2.json") is None and rx.match("CreateAccessKeysx.json")
    assert re.match(glob_regex("a.b*"), "a.bc") and not re.match(glob_regex("a.b*"), "axbc")
