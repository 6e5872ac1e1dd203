"""The query layer: Dataset API, timeline filters, summary, identities, named queries, sql, shell, CLI."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from ct import record, write_log
from typer.testing import CliRunner

from trailforensics.cli import _register_commands, app
from trailforensics.cli.shell_cmd import Shell
from trailforensics.engine import Dataset
from trailforensics.engine.dataset import QueryRefused
from trailforensics.ingest import IngestOptions, ingest
from trailforensics.query.identities import identities
from trailforensics.query.named import QueryError, load_queries, run_query
from trailforensics.query.summary import summary
from trailforensics.query.timeline import BadColumn, EventFilter, timeline
from trailforensics.query.when import BadTime, parse_when

UTC = timezone.utc
T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
KEY = "AKIAXDANKOWALSKI0001"


@pytest.fixture(scope="module")
def ds_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("q")
    src = root / "dump"
    normal = [
        record(
            "DescribeInstances",
            T0 - timedelta(hours=20, minutes=i),
            user="daniel",
            key=KEY,
            ip="81.2.69.160",
            event_id=f"n{i}",
        )
        for i in range(5)
    ]
    attack = [
        record(
            "GetCallerIdentity",
            T0 + timedelta(minutes=13),
            user="daniel",
            key=KEY,
            ip="185.220.101.47",
            source="sts.amazonaws.com",
            event_id="a0",
            userAgent="aws-cli/1.16.312 kali",
        ),
        record(
            "ListUsers",
            T0 + timedelta(minutes=14),
            user="daniel",
            key=KEY,
            ip="185.220.101.47",
            source="iam.amazonaws.com",
            event_id="a1",
            errorCode="AccessDenied",
            errorMessage="not authorized",
            userAgent="aws-cli/1.16.312 kali",
        ),
        record(
            "CreateUser",
            T0 + timedelta(minutes=15),
            user="daniel",
            key=KEY,
            ip="185.220.101.47",
            source="iam.amazonaws.com",
            event_id="a2",
            requestParameters={"userName": "svc-backup-sync"},
            userAgent="\x1b[2Jkali",
        ),
        record(
            "GetObject",
            T0 + timedelta(minutes=16),
            user="eve",
            key="ASIAEXAMPLE000000001",
            ip="2001:db8::7",
            source="s3.amazonaws.com",
            event_id="a3",
            eventCategory="Data",
            managementEvent=False,
            readOnly=True,
            requestParameters={"bucketName": "metrolio-customer-exports", "key": "=HYPERLINK(1)"},
        ),
    ]
    login = record(
        "ConsoleLogin",
        T0 + timedelta(minutes=1),
        user="alice",
        key="",
        ip="85.115.54.12",
        source="signin.amazonaws.com",
        event_id="c1",
        eventType="AwsConsoleSignIn",
        responseElements={"ConsoleLogin": "Success"},
        additionalEventData={"MFAUsed": "Yes", "LoginTo": "https://console.aws.amazon.com"},
    )
    write_log(src, normal, delivered=T0 - timedelta(hours=19))
    write_log(src, [login, *attack], delivered=T0 + timedelta(minutes=20))
    assert ingest([src], root / "ds", IngestOptions(workers=1)).rows_written == 10
    return root / "ds"


@pytest.fixture
def ds(ds_path: Path) -> Dataset:
    return Dataset(ds_path)


def ids(table) -> list[str]:  # type: ignore[no-untyped-def]
    return table.column("event_id").to_pylist()


def test_timeline_filters(ds: Dataset) -> None:
    cols = ["event_time", "event_id", "actor"]
    assert ids(timeline(ds, EventFilter(access_key=KEY), columns=cols)) == [f"n{i}" for i in range(4, -1, -1)] + [
        "a0",
        "a1",
        "a2",
    ]
    assert ids(timeline(ds, EventFilter(since=T0, access_key=KEY), columns=cols)) == ["a0", "a1", "a2"]
    assert ids(timeline(ds, EventFilter(ip="185.220.101.0/24"), columns=cols)) == ["a0", "a1", "a2"]
    assert ids(timeline(ds, EventFilter(ip="2001:db8::/32"), columns=cols)) == ["a3"]
    assert ids(timeline(ds, EventFilter(event_name="Create*"), columns=cols)) == ["a2"]
    assert ids(timeline(ds, EventFilter(errors_only=True), columns=cols)) == ["a1"]
    assert "n0" not in ids(timeline(ds, EventFilter(writes_only=True), columns=cols))
    assert ids(timeline(ds, EventFilter(actor="alice"), columns=cols)) == ["c1"]
    assert ids(timeline(ds, EventFilter(event_source="iam"), columns=cols)) == ["a1", "a2"]
    assert timeline(ds, EventFilter(), limit=3).num_rows == 3
    default = timeline(ds, EventFilter(event_name="CreateUser"))
    assert default.column_names == [
        "event_time",
        "actor",
        "access_key",
        "source_ip",
        "region",
        "service",
        "event_name",
        "error",
        "request",
    ]
    assert default.column("request").to_pylist() == ["userName=svc-backup-sync"]
    with pytest.raises(BadColumn):
        timeline(ds, columns=["nope"])


def test_ip_filters_compare_addresses_not_spellings(tmp_path: Path) -> None:
    values = [
        "2001:db8:0:0::2",
        "2001:DB8::1",
        "2001:db8::1",
        "::ffff:45.137.21.10",
        "45.137.21.9, 10.0.0.1",
        "AWS Internal",
    ]
    write_log(tmp_path / "dump", [record("ListUsers", T0, event_id=f"e{i}", ip=v) for i, v in enumerate(values)])
    ingest([tmp_path / "dump"], tmp_path / "ds", IngestOptions(workers=1))
    with Dataset(tmp_path / "ds") as d:

        def match(ip: str) -> list[str]:
            return sorted(ids(timeline(d, EventFilter(ip=ip), columns=["event_id"])))

        assert match("2001:db8::2") == ["e0"]
        assert match("2001:db8::1") == match("2001:db8::1/128") == ["e1", "e2"]
        assert match("45.137.21.0/24") == ["e3", "e4"]  # the IPv4-mapped IPv6 address too
        assert match("10.0.0.1") == ["e4"]
        assert match("AWS Internal") == ["e5"]
        named = load_queries()["activity_from_ip"]
        assert run_query(d, named, {"ip": "2001:db8::1"}).num_rows == 2
        assert run_query(d, named, {"ip": "45.137.21.0/24"}).num_rows == 2


def test_bad_times_are_errors_not_crashes() -> None:
    for text in ("2026-02-30", "2026-13-01", "99999999999d", "2026-02-30T00:00:00Z"):
        with pytest.raises(BadTime):
            parse_when(text)


def test_user_sql_cannot_write_read_other_files_or_reconfigure(ds_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "written.csv"
    with Dataset(ds_path) as d:
        for sql in (
            f"COPY (SELECT 1) TO '{target}'",
            f"EXPLAIN ANALYZE COPY (SELECT 1) TO '{target}'",
            f"explain analyse copy (select 1) to '{target}'",
            "EXPLAIN ANALYZE INSTALL json",
            "EXPLAIN ANALYZE SET threads = 1",
            "ATTACH 'x.db'",
        ):
            with pytest.raises(QueryRefused):
                d.user_sql(sql)
        with pytest.raises(Exception, match="disabled by configuration"):
            d.user_sql("SELECT * FROM read_csv('/etc/passwd')")
        assert d.user_sql("EXPLAIN ANALYZE SELECT count(*) FROM events") is not None
        assert d.user_sql("WITH x AS (SELECT count(*) n FROM events) SELECT n FROM x").column(0)[0].as_py() == 10
    assert not target.exists()


def test_relative_and_iso_times() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert parse_when("-7d", now) == now - timedelta(days=7)
    assert parse_when("2h", now) == now - timedelta(hours=2)
    assert parse_when("2026-03-10T02:00:00+01:00") == datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    assert parse_when("2026-03-10") == datetime(2026, 3, 10, tzinfo=UTC)
    with pytest.raises(BadTime):
        parse_when("yesterday-ish")


def test_summary_sections(ds: Dataset) -> None:
    s = summary(ds)
    overview = s["overview"].to_pylist()[0]
    assert overview["events"] == 10 and overview["errors"] == 1
    assert overview["first_event"] == T0 - timedelta(hours=20, minutes=4)
    assert {r["status"] for r in s["ingest_health"].to_pylist()} == {"ingested"}
    assert s["top_source_ips"].column("source_ip").to_pylist()[0] == "81.2.69.160"


def test_identities_show_the_new_ip(ds: Dataset) -> None:
    rows = {r["access_key"]: r for r in identities(ds).to_pylist()}
    daniel = rows[KEY]
    assert daniel["events"] == 8 and daniel["errors"] == 1
    assert set(daniel["ip_list"]) == {"81.2.69.160", "185.220.101.47"}
    assert daniel["first_seen"] == T0 - timedelta(hours=20, minutes=4)
    assert [r["access_key"] for r in identities(ds, keys="ASIA*").to_pylist()] == ["ASIAEXAMPLE000000001"]


def test_named_queries(ds: Dataset) -> None:
    queries = load_queries()
    assert len(queries) >= 15
    logins = run_query(ds, queries["console_logins"], {}).to_pylist()
    assert logins[0]["result"] == "Success" and logins[0]["mfa_used"] == "Yes"
    created = run_query(ds, queries["iam_changes"], {"since": "2026-03-10T02:00:00Z"}).to_pylist()
    assert [r["event_name"] for r in created] == ["CreateUser"]
    assert run_query(ds, queries["activity_from_ip"], {"ip": "185.220.101.47"}).num_rows == 3
    data = run_query(ds, queries["bucket_data_events"], {"bucket": "metrolio-customer-exports"}).to_pylist()
    assert data[0]["object_key"] == "=HYPERLINK(1)"
    for q in queries.values():  # every shipped query runs with its defaults (required ones given)
        given = {p.name: {"text": "x", "glob": "*"}.get(p.type, "1") for p in q.params if p.required}
        run_query(ds, q, given)
    with pytest.raises(QueryError, match="unknown parameter"):
        queries["console_logins"].bind({"nope": "1"})
    with pytest.raises(QueryError, match="missing required"):
        queries["activity_from_ip"].bind({})
    with pytest.raises(QueryError, match="not a valid timestamp"):
        queries["console_logins"].bind({"since": "last tuesday"})
    with pytest.raises(QueryError, match="not a valid int"):
        queries["access_denied_by_principal"].bind({"min_events": "many"})


def test_named_query_headers_use_id_and_still_read_name(ds: Dataset, tmp_path: Path) -> None:
    # shipped queries are named by `-- id:`, like detections
    for q in load_queries().values():
        assert q.meta.get("id") == q.name == q.path.stem and "name" not in q.meta, q.path
    # a user's folder written with the older `-- name:` header keeps working
    (tmp_path / "mine.sql").write_text("-- name: my_events\n-- title: Mine\nSELECT count(*) AS n FROM events\n")
    (tmp_path / "other.sql").write_text("-- id: other_events\nSELECT 1 AS one\n")
    (tmp_path / "plain.sql").write_text("SELECT 2 AS two\n")
    queries = load_queries([tmp_path])
    assert run_query(ds, queries["my_events"], {}).to_pylist() == [{"n": 10}]
    assert queries["my_events"].title == "Mine"
    assert run_query(ds, queries["other_events"], {}).to_pylist() == [{"one": 1}]
    assert run_query(ds, queries["plain"], {}).to_pylist() == [{"two": 2}]


def test_parameters_are_bound_not_pasted(ds: Dataset) -> None:
    q = load_queries()["activity_from_ip"]
    assert run_query(ds, q, {"ip": "x' OR '1'='1"}).num_rows == 0


def test_sql_is_read_only(ds: Dataset, tmp_path: Path) -> None:
    assert ds.user_sql("SELECT count(*) AS n FROM events").to_pylist() == [{"n": 10}]
    for bad in (
        f"COPY (SELECT 1) TO '{tmp_path}/x.csv'",
        "ATTACH 'x.db'",
        "INSTALL httpfs",
        f"EXPORT DATABASE '{tmp_path}/e'",
        "SET threads=1",
    ):
        with pytest.raises(QueryRefused):
            ds.user_sql(bad)
    assert not (tmp_path / "x.csv").exists()


def test_shell(ds: Dataset) -> None:
    out = io.StringIO()
    script = io.StringIO(
        ".tables\n.schema events\n.format csv\nSELECT event_id\nFROM events\n"
        "WHERE event_id = 'a2';\nCOPY (SELECT 1) TO 'x.csv';\nSELECT nope FROM events;\n.quit\n"
    )
    Shell(ds, "table", out).loop(script, interactive=False)
    text = out.getvalue()
    assert "events" in text and "event_time" in text and "TIMESTAMP WITH TIME ZONE" in text
    assert "event_id\na2\n" in text
    assert "refused: COPY" in text
    assert "error: Binder Error" in text


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register_commands()
    return CliRunner()


def test_cli_commands(ds_path: Path, runner: CliRunner) -> None:
    r = runner.invoke(
        app,
        [
            "timeline",
            "-d",
            str(ds_path),
            "--access-key",
            KEY,
            "--since",
            "2026-03-10T02:00:00Z",
            "-f",
            "jsonl",
        ],
    )
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["event_name"] for row in rows] == ["GetCallerIdentity", "ListUsers", "CreateUser"]
    r = runner.invoke(app, ["timeline", "-d", str(ds_path), "--event-name", "CreateUser"])
    assert r.exit_code == 0 and "\x1b" not in r.stdout
    r = runner.invoke(app, ["sql", "-d", str(ds_path), "SELECT nope FROM events"])
    assert r.exit_code == 1 and "Binder Error" in r.output and len(r.output.strip().splitlines()) == 1
    r = runner.invoke(app, ["sql", "-d", str(ds_path), "-f", "csv"], input="SELECT count(*) AS n FROM events")
    assert r.exit_code == 0 and r.stdout.splitlines() == ["n", "10"]
    r = runner.invoke(app, ["query", "--list"])
    assert r.exit_code == 0 and "console_logins" in r.stdout
    r = runner.invoke(app, ["query", "activity_from_ip", "-d", str(ds_path)])
    assert r.exit_code == 1 and "missing required parameter" in r.output
    r = runner.invoke(app, ["identities", "-d", str(ds_path), "--keys", "ASIA*", "-f", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout)[0]["access_key"] == "ASIAEXAMPLE000000001"
    r = runner.invoke(app, ["summary", "-d", str(ds_path), "-f", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["overview"][0]["events"] == 10
    r = runner.invoke(app, ["summary", "-d", str(ds_path / "missing")])
    assert r.exit_code == 1 and "no trailforensics dataset" in r.output


def test_cli_errors_are_messages_not_tracebacks(ds_path: Path, runner: CliRunner, tmp_path: Path) -> None:
    d = ["-d", str(ds_path)]
    cases = [
        (["timeline", *d, "--since", "2026-02-30"], "not a date"),
        (["timeline", *d, "--since", "99999999999d"], "outside the calendar"),
        (["timeline", *d, "-f", "csv", "-o", str(tmp_path / "missing" / "x.csv")], "cannot write"),
        (["timeline", *d, "-f", "csv", "-o", str(tmp_path)], "cannot write"),
        (["timeline", *d, "-f", "parquet", "-o", str(tmp_path / "missing" / "x.parquet")], "cannot write"),
        (["timeline", *d, "--limit", "-1"], "--limit"),
        (["sql", *d, "--file", str(tmp_path / "nope.sql")], "cannot read"),
        (["sql", *d, "PIVOT events ON aws_region USING count(*)"], "list the values"),
    ]
    for args, message in cases:
        r = runner.invoke(app, args)
        assert r.exit_code == 1 and message in r.output, (args, r.output)
        assert r.exception is None or isinstance(r.exception, SystemExit), (args, r.exception)
        assert "Traceback" not in r.output, args


def test_dataset_from_environment(ds_path: Path, runner: CliRunner) -> None:
    r = runner.invoke(app, ["sql", "SELECT 1 AS x", "-f", "csv"], env={"TRAILFORENSICS_DATASET": str(ds_path)})
    assert r.exit_code == 0 and r.stdout.splitlines() == ["x", "1"]
