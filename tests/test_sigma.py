"""Sigma rules compiled to DuckDB SQL: backend semantics, rule loading, and the SigmaHQ corpus.

The corpus part synthesises, for every SigmaHQ CloudTrail rule, a CloudTrail record that
satisfies the rule's own detection, ingests them all into one dataset and checks that every
rule fires on its event (and that a benign event fires nothing).
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from ct import record, write_log

from trailforensics.engine import Dataset
from trailforensics.ingest import IngestOptions, ingest

try:
    from sigma.conditions import ConditionAND, ConditionFieldEqualsValueExpression, ConditionNOT, ConditionOR
    from sigma.types import (
        SigmaBool,
        SigmaCIDRExpression,
        SigmaExists,
        SigmaFieldReference,
        SigmaNull,
        SigmaNumber,
        SigmaRegularExpression,
        SigmaString,
        SpecialChars,
    )

    from trailforensics.sigma import (
        ERRORS_METADATA_KEY,
        SigmaRule,
        compile_text,
        load_sigma_rules,
        pipeline_definition,
        run_sigma_rules,
    )
    from trailforensics.sigma.pipeline import LIST_KEYS, PATH_OVERRIDES

    HAVE_SIGMA = True
except ImportError:  # pragma: no cover - pySigma is an optional extra
    HAVE_SIGMA = False

UTC = timezone.utc
ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "sigma"
T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)

needs_sigma = pytest.mark.skipif(not HAVE_SIGMA, reason="pySigma (trailforensics[sigma]) is not installed")

# SigmaHQ rules (top level of the corpus) that must NOT compile, with the reason.
EXPECTED_FAILURES = {
    # `status: success` is a Splunk-ism, not a CloudTrail field (reference §1, problem 1).
    "aws_delete_saml_provider.yml": "unknown field 'status'",
}
# Everything in _placeholder_and_unsupported/ fails, each for a clear reason.
EXPECTED_UNSUPPORTED = {
    "aws_cloudtrail_console_login_success_from_susp_locations.yml": "unknown field 'src_country', 'src_ip'",
    "aws_ec2_download_userdata.yml": "timeframe",
    "aws_enum_backup.yml": "timeframe",
    "aws_enum_listing.yml": "timeframe",
    "aws_enum_network.yml": "timeframe",
    "aws_enum_storage.yml": "timeframe",
    "aws_lambda_function_created_or_invoked.yml": "pipe syntax",
    "aws_macic_evasion.yml": "timeframe",
    "aws_ses_messaging_enabled.yml": "timeframe",  # two events in a window: can never match one event
}


def sigma_rule(
    detection: str,
    *,
    title: str = "test rule",
    rule_id: str = "",
    logsource: str = "product: aws\n    service: cloudtrail",
    level: str = "medium",
    author: str = "Tester",
    tags: str = "[attack.t1098, attack.persistence]",
) -> str:
    rid = f"id: {rule_id}\n" if rule_id else ""
    return (
        f"title: {title}\n{rid}author: {author}\nlevel: {level}\ntags: {tags}\n"
        f"logsource:\n    {logsource}\n"
        f"detection:\n{textwrap.indent(textwrap.dedent(detection).strip(), '    ')}\n"
    )


def compile_one(text: str) -> SigmaRule:
    rules, errors = compile_text(text)
    assert not errors, errors
    assert len(rules) == 1
    return rules[0]


def compile_error(text: str) -> str:
    rules, errors = compile_text(text)
    assert not rules and len(errors) == 1, (rules, errors)
    return errors[0]


# -- the unit dataset ----------------------------------------------------------------------

HOSTILE_UA = "it's 100%_sure \\ \"x\" '; DROP TABLE events; --"
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::loot-bucket/*"}],
    }
)


def unit_events() -> list[dict[str, Any]]:
    rng = random.Random(7)
    ev: list[dict[str, Any]] = []

    def add(eid: str, name: str, **kw: Any) -> None:
        ev.append(record(name, T0 + timedelta(minutes=len(ev)), event_id=eid, rng=rng, **kw))

    add("benign", "DescribeInstances")
    add("hostile-ua", "GetCallerIdentity", source="sts.amazonaws.com", userAgent=HOSTILE_UA)
    add("ua-underscore", "GetCallerIdentity", source="sts.amazonaws.com", userAgent="it's 100%Xsure")
    add("ua-percent", "GetCallerIdentity", source="sts.amazonaws.com", userAgent="it's 100abc_sure")
    add(
        "mfa-no",
        "ConsoleLogin",
        source="signin.amazonaws.com",
        additionalEventData={"MFAUsed": "No", "LoginTo": "https://console.aws.amazon.com"},
        responseElements={"ConsoleLogin": "Success"},
    )
    add(
        "mfa-yes",
        "ConsoleLogin",
        source="signin.amazonaws.com",
        additionalEventData={"MFAUsed": "Yes"},
        responseElements={"ConsoleLogin": "Success"},
    )
    add("list-ok", "ListBuckets", source="s3.amazonaws.com", requestParameters=None)
    add(
        "list-denied",
        "ListBuckets",
        source="s3.amazonaws.com",
        errorCode="AccessDenied",
        errorMessage="User is not authorized",
    )
    add("ipv6", "ListBuckets", source="s3.amazonaws.com", ip="2001:db8::5")
    add("two-ips", "ListBuckets", source="s3.amazonaws.com", ip="10.1.2.3, 203.0.113.9")
    add(
        "ecs",
        "RegisterTaskDefinition",
        source="ecs.amazonaws.com",
        requestParameters={
            "family": "x",
            "containerDefinitions": [
                {"name": "a", "command": ["sleep", "1"]},
                {"name": "b", "command": ["sh", "-c", "curl 169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]},
            ],
        },
    )
    add(
        "sg-open",
        "AuthorizeSecurityGroupIngress",
        requestParameters={
            "groupId": "sg-1",
            "ipPermissions": {
                "items": [
                    {"ipProtocol": "tcp", "fromPort": 22, "ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]}},
                    {"ipProtocol": "tcp", "fromPort": 3389, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}},
                ]
            },
        },
    )
    add(
        "sg-closed",
        "AuthorizeSecurityGroupIngress",
        requestParameters={
            "groupId": "sg-2",
            "ipPermissions": {
                "items": [{"ipProtocol": "tcp", "fromPort": 22, "ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]}}]
            },
        },
    )
    add(
        "layers",
        "UpdateFunctionConfiguration20150331v2",
        source="lambda.amazonaws.com",
        requestParameters={"functionName": "f", "layers": ["arn:aws:lambda:eu-west-1:999988887777:layer:evil:1"]},
    )
    add(
        "resources",
        "PutBucketPolicy",
        source="s3.amazonaws.com",
        requestParameters={
            "bucketName": "loot-bucket",
            "x-amz-server-side-encryption-customer-algorithm": "AES256",
            "aws:SourceIp": {"a-b": "v:1"},
            "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*"}]},
            "enable": False,
            "port": 5432,
        },
        resources=[
            {"ARN": "arn:aws:s3:::other", "type": "AWS::S3::Bucket"},
            {"ARN": "arn:aws:s3:::loot-bucket", "accountId": "111122223333", "type": "AWS::S3::Bucket"},
        ],
    )
    add(
        "policy",
        "PutUserPolicy",
        source="iam.amazonaws.com",
        userAgent="[S3 Browser 11.5.7]",
        requestParameters={"userName": "bob", "policyName": "p", "policyDocument": POLICY},
    )
    add(
        "login-own",
        "UpdateLoginProfile",
        source="iam.amazonaws.com",
        user="alice",
        requestParameters={"userName": "Alice"},
    )
    add(
        "login-other",
        "UpdateLoginProfile",
        source="iam.amazonaws.com",
        user="alice",
        requestParameters={"userName": "bob"},
    )
    add(
        "key-own",
        "CreateAccessKey",
        source="iam.amazonaws.com",
        user="alice",
        requestParameters={"userName": "alice"},
        responseElements={"accessKey": {"userName": "alice"}},
    )
    add(
        "role",
        "GetObject",
        source="s3.amazonaws.com",
        readOnly=True,
        userIdentity={
            "type": "AssumedRole",
            "principalId": "AROAX:session",
            "accountId": "111122223333",
            "arn": "arn:aws:sts::111122223333:assumed-role/Admin/session",
            "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/Admin", "userName": "Admin"},
                "attributes": {"mfaAuthenticated": "true", "creationDate": "2026-03-10T01:00:00Z"},
            },
        },
    )
    return ev


@pytest.fixture(scope="module")
def unit_ds(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("sigma-unit")
    write_log(tmp / "src", unit_events())
    ingest([tmp / "src"], tmp / "ds", IngestOptions(workers=1))
    with Dataset(tmp / "ds") as ds:
        yield ds


def hits(ds: Dataset, detection: str) -> set[str]:
    rule = compile_one(sigma_rule(detection))
    errors: list[tuple[str, str]] = []
    table = run_sigma_rules(ds, [rule], errors=errors)
    assert not errors, (errors, rule.sql)
    return set(table.column("event_id").to_pylist())


# -- backend semantics ---------------------------------------------------------------------


@needs_sigma
def test_case_insensitive_by_default_and_cased_modifier(unit_ds: Dataset) -> None:
    # Rule-quality problem 2: 'NO' only matches the real "No" because matching ignores case.
    assert hits(
        unit_ds,
        """
        sel:
            eventName: consolelogin
            additionalEventData.MFAUsed: 'NO'
            responseElements.ConsoleLogin: 'SUCCESS'
        condition: sel""",
    ) == {"mfa-no"}
    assert hits(unit_ds, "sel: {additionalEventData.MFAUsed|cased: 'NO'}\ncondition: sel") == set()
    assert hits(unit_ds, "sel: {additionalEventData.MFAUsed|cased: 'No'}\ncondition: sel") == {"mfa-no"}
    assert hits(unit_ds, "sel: {userAgent|contains|cased: 'it''S'}\ncondition: sel") == set()


@needs_sigma
def test_like_metacharacters_quotes_and_sql_fragments_are_literal(unit_ds: Dataset) -> None:
    assert hits(unit_ds, "sel: {userAgent|contains: '100%_sure'}\ncondition: sel") == {"hostile-ua"}
    assert hits(unit_ds, "sel: {userAgent|startswith: 'it''s 100%'}\ncondition: sel") == {"hostile-ua", "ua-underscore"}
    assert hits(unit_ds, 'sel: {userAgent|endswith: "\'; DROP TABLE events; --"}\ncondition: sel') == {"hostile-ua"}
    assert hits(unit_ds, "sel: {userAgent|contains: 'sure \\ \"x\"'}\ncondition: sel") == {"hostile-ua"}
    # Sigma wildcards next to escaped LIKE characters: '?' is one character, '%' and '_' literal.
    assert hits(unit_ds, "sel: {userAgent: 'it?s 100%_s*'}\ncondition: sel") == {"hostile-ua"}
    assert hits(unit_ds, "sel: {userAgent: 'it?s 100%?s*'}\ncondition: sel") == {"hostile-ua", "ua-underscore"}
    # Escaped Sigma wildcards are literal characters too.
    assert hits(unit_ds, "sel: {userAgent|contains: 'sure \\*'}\ncondition: sel") == set()
    rule = compile_one(sigma_rule('sel: {userAgent: "x\'); DELETE FROM events; --"}\ncondition: sel'))
    assert "'x''); delete from events; --'" in rule.sql
    assert unit_ds.sql("SELECT count(*) FROM events").column(0)[0].as_py() == len(unit_events())


@needs_sigma
def test_not_is_null_safe(unit_ds: Dataset) -> None:
    # list-ok has no errorCode and no requestParameters: the filters cannot drop it.
    assert hits(
        unit_ds,
        """
        sel: {eventName: ListBuckets}
        filter_code: {errorCode: AccessDenied}
        filter_json: {requestParameters.bucketName: loot-bucket}
        condition: sel and not 1 of filter_*""",
    ) == {"list-ok", "ipv6", "two-ips"}
    assert hits(
        unit_ds,
        "sel: {eventName: ListBuckets}\nfilter: {sourceIPAddress|cidr: 10.0.0.0/8}\ncondition: sel and not filter",
    ) == {"list-ok", "list-denied", "ipv6"}


@needs_sigma
def test_modifiers(unit_ds: Dataset) -> None:
    assert hits(unit_ds, "sel: {userAgent|contains|all: ['DROP', 'sure']}\ncondition: sel") == {"hostile-ua"}
    assert hits(unit_ds, "sel: {userAgent|contains|all: ['DROP', 'nothere']}\ncondition: sel") == set()
    assert hits(unit_ds, "sel: {userIdentity.arn|re: ':assumed-role/[A-Z][a-z]+/'}\ncondition: sel") == {"role"}
    assert hits(unit_ds, "sel: {userIdentity.arn|re: ':ASSUMED-role/'}\ncondition: sel") == set()
    assert hits(unit_ds, "sel: {userIdentity.arn|re|i: ':ASSUMED-role/'}\ncondition: sel") == {"role"}
    assert hits(unit_ds, "sel: {sourceIPAddress|cidr: 203.0.113.0/24}\ncondition: sel") == {"two-ips"}
    assert hits(unit_ds, "sel: {sourceIPAddress|cidr: '2001:db8::/32'}\ncondition: sel") == {"ipv6"}
    assert hits(unit_ds, "sel: {sourceIPAddress|cidr: [192.0.2.0/24, '2001:db8::/32']}\ncondition: sel") == {"ipv6"}
    assert hits(unit_ds, "sel: {eventName: ListBuckets, errorCode|exists: true}\ncondition: sel") == {"list-denied"}
    assert hits(unit_ds, "sel: {eventName: ListBuckets, errorCode|exists: false}\ncondition: sel") == {
        "list-ok",
        "ipv6",
        "two-ips",
    }
    assert hits(
        unit_ds, "sel: {requestParameters.x-amz-server-side-encryption-customer-algorithm|exists: true}\ncondition: sel"
    ) == {"resources"}
    # |fieldref compares two fields case-insensitively (alice vs Alice).
    assert hits(
        unit_ds,
        "sel: {eventName: UpdateLoginProfile, userIdentity.userName|fieldref: "
        "requestParameters.userName}\ncondition: sel",
    ) == {"login-own"}
    assert hits(
        unit_ds,
        "sel: {eventName: UpdateLoginProfile}\nfilter: {userIdentity.userName|fieldref: "
        "requestParameters.userName}\ncondition: sel and not filter",
    ) == {"login-other"}
    assert hits(unit_ds, "sel: {eventName|startswith: UpdateFunctionConfiguration}\ncondition: sel") == {"layers"}
    assert hits(unit_ds, "sel: {eventName|endswith: '20150331V2'}\ncondition: sel") == {"layers"}
    # numbers and booleans (typed or inside JSON) compare as text
    assert hits(unit_ds, "sel: {requestParameters.enable: false, requestParameters.port: 5432}\ncondition: sel") == {
        "resources"
    }
    assert hits(
        unit_ds, "sel: {requestParameters.enable: 'False', requestParameters.port|gt: 5000}\ncondition: sel"
    ) == {"resources"}
    assert hits(unit_ds, "sel: {readOnly: true, eventName: GetObject}\ncondition: sel") == {"role"}
    assert hits(unit_ds, "sel: {userIdentity.sessionContext.attributes.mfaAuthenticated: 'TRUE'}\ncondition: sel") == {
        "role"
    }
    assert hits(
        unit_ds,
        "sel: {userIdentity.sessionContext.sessionIssuer.userName: admin,"
        " userIdentity.sessionContext.attributes.creationDate|startswith: '2026-03-10T01'}\n"
        "condition: sel",
    ) == {"role"}
    assert hits(unit_ds, "sel: {eventTime|startswith: '2026-03-10T02:00'}\ncondition: sel") == {"benign"}


@needs_sigma
def test_arrays_match_any_element(unit_ds: Dataset) -> None:
    assert hits(
        unit_ds,
        "sel: {requestParameters.containerDefinitions.command|contains: "
        "'$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'}\ncondition: sel",
    ) == {"ecs"}
    assert hits(unit_ds, "sel: {requestParameters.containerDefinitions.name: b}\ncondition: sel") == {"ecs"}
    assert hits(
        unit_ds, "sel: {requestParameters.ipPermissions.items.ipRanges.items.cidrIp: 0.0.0.0/0}\ncondition: sel"
    ) == {"sg-open"}
    assert hits(unit_ds, "sel: {requestParameters.ipPermissions.items.fromPort: 3389}\ncondition: sel") == {"sg-open"}
    assert hits(unit_ds, "sel: {requestParameters.layers|contains: ':999988887777:'}\ncondition: sel") == {"layers"}
    assert hits(unit_ds, "sel: {requestParameters.bucketPolicy.Statement.Principal: '*'}\ncondition: sel") == {
        "resources"
    }
    assert hits(unit_ds, "sel: {resources.ARN|endswith: ':loot-bucket'}\ncondition: sel") == {"resources"}
    assert hits(unit_ds, "sel: {resources.accountId: '111122223333'}\ncondition: sel") == {"resources"}
    # a filter on an array field under `not`: no element matches -> the event stays
    assert hits(
        unit_ds,
        "sel: {eventName: AuthorizeSecurityGroupIngress}\nfilter: "
        "{requestParameters.ipPermissions.items.ipRanges.items.cidrIp|cidr: 0.0.0.0/32}\n"
        "condition: sel and not filter",
    ) == {"sg-open", "sg-closed"}


@needs_sigma
def test_nested_paths_are_quoted(unit_ds: Dataset) -> None:
    assert hits(
        unit_ds, "sel: {requestParameters.x-amz-server-side-encryption-customer-algorithm: aes256}\ncondition: sel"
    ) == {"resources"}
    assert hits(unit_ds, "sel: {requestParameters.aws:SourceIp.a-b: 'v:1'}\ncondition: sel") == {"resources"}
    rule = compile_one(sigma_rule("sel: {requestParameters.a\"b'c.d: x}\ncondition: sel"))
    assert '\'$."a\\"b\'\'c"."d"\'' in rule.sql
    assert hits(unit_ds, "sel: {requestParameters.a\"b'c.d: x}\ncondition: sel") == set()


@needs_sigma
def test_whole_object_contains_unescapes_json_in_json(unit_ds: Dataset) -> None:
    # policyDocument is a JSON string inside the JSON object: its quotes are stored as \"
    assert hits(unit_ds, 'sel: {requestParameters|contains: \'"Effect": "Allow"\'}\ncondition: sel') == {"policy"}
    assert hits(
        unit_ds,
        "sel: {requestParameters|contains|all: ['\"s3:GetObject\"', '\"arn:aws:s3:::loot-bucket/*\"']}\ncondition: sel",
    ) == {"policy"}
    assert hits(unit_ds, "sel: {responseElements|contains: accesskey}\ncondition: sel") == {"key-own"}


@needs_sigma
def test_compile_errors_are_clear_and_do_not_stop_other_rules(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    (rules_dir / "sub").mkdir(parents=True)
    (rules_dir / "good.yml").write_text(sigma_rule("sel: {eventName: CreateUser}\ncondition: sel", title="good"))
    (rules_dir / "sub" / "good2.yaml").write_text(
        sigma_rule("sel: {eventSource: iam.amazonaws.com}\ncondition: sel", title="good2")
    )
    (rules_dir / "status.yml").write_text(sigma_rule("sel: {eventName: X, status: success}\ncondition: sel"))
    (rules_dir / "country.yml").write_text(
        sigma_rule("sel: {eventName: X}\nf: {src_country: RU}\ncondition: sel and not f")
    )
    (rules_dir / "fieldref.yml").write_text(sigma_rule("sel: {userIdentity.arn|fieldref: nosuchfield}\ncondition: sel"))
    (rules_dir / "windows.yml").write_text(
        sigma_rule("sel: {eventName: X}\ncondition: sel", logsource="product: windows\n    service: security")
    )
    (rules_dir / "keyword.yml").write_text(sigma_rule("kw: [mimikatz]\ncondition: kw"))
    (rules_dir / "count.yml").write_text(sigma_rule("sel: {eventName: X}\ncondition: sel | count() > 5"))
    (rules_dir / "broken.yml").write_text("title: [unclosed\n")
    (rules_dir / "badre.yml").write_text(sigma_rule("sel: {userAgent|re: 'a(b'}\ncondition: sel"))
    (rules_dir / "correlation.yml").write_text(
        textwrap.dedent("""\
        title: many
        correlation: {type: event_count, rules: [x], group-by: [userIdentity.arn], timespan: 5m,
                      condition: {gte: 5}}
        """)
    )
    (rules_dir / "notes.txt").write_text("not a rule")
    rules, errors = load_sigma_rules([rules_dir, tmp_path / "missing"])
    assert sorted(r.title for r in rules) == ["good", "good2"]
    by_file = {Path(f).name: m for f, m in errors}
    assert "unknown field 'status'" in by_file["status.yml"]
    assert "not a CloudTrail field" in by_file["status.yml"]
    assert "unknown field 'src_country'" in by_file["country.yml"]
    assert "unknown field 'nosuchfield'" in by_file["fieldref.yml"]
    assert "not a CloudTrail rule" in by_file["windows.yml"] and "logsource" in by_file["windows.yml"]
    assert "keyword" in by_file["keyword.yml"]
    assert "pipe syntax" in by_file["count.yml"]
    assert "YAML" in by_file["broken.yml"]
    assert "badre.yml" in by_file and "invalid" in by_file["badre.yml"].lower()
    assert "correlation" in by_file["correlation.yml"]
    assert by_file["missing"] == "no such file or folder"
    assert len(errors) == 10


@needs_sigma
def test_files_that_are_not_rule_mappings_are_skipped(tmp_path: Path) -> None:
    """A YAML file whose content is a text, a list or a number (or /etc/passwd) is one error, never a crash."""
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "good.yml").write_text(sigma_rule("sel: {eventName: CreateUser}\ncondition: sel", title="good"))
    (folder / "notes.yml").write_text("- a\n- b\n")
    (folder / "scalar.yml").write_text("just some text\n")
    (folder / "number.yaml").write_text("42\n")
    (folder / "empty.yml").write_text("")
    (folder / "multi.yml").write_text(sigma_rule("sel: {eventName: X}\ncondition: sel") + "---\n- x\n")
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
    rules, errors = load_sigma_rules([folder, passwd])
    assert [r.title for r in rules] == ["good"]
    by_file = {Path(f).name: m for f, m in errors}
    assert by_file["notes.yml"] == "not a Sigma rule file: the YAML is a list, not a mapping of rule keys"
    assert by_file["scalar.yml"] == "not a Sigma rule file: the YAML is a text, not a mapping of rule keys"
    assert by_file["passwd"] == by_file["scalar.yml"]
    assert "a single value" in by_file["number.yaml"]
    assert by_file["empty.yml"] == "no Sigma rule in the file"
    assert "document 2 is a list" in by_file["multi.yml"]
    for text in ["[1, 2]", "true", "'x'", "null", "- {title: x}", "--- 1\n--- 2\n"]:
        assert compile_text(text)[0] == []  # never raises


@needs_sigma
def test_cli_hunt_skips_non_rule_yaml_with_a_warning(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from trailforensics.cli import _register_commands, app

    _register_commands()
    write_log(
        tmp_path / "src",
        [record("StopLogging", T0, source="cloudtrail.amazonaws.com", requestParameters={"name": "t"})],
    )
    assert ingest([tmp_path / "src"], tmp_path / "ds", IngestOptions(workers=1)).exit_code == 0
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "notes.yml").write_text("- a\n- b\n")
    (folder / "stop.yml").write_text(sigma_rule("sel: {eventName: StopLogging}\ncondition: sel", title="stop"))
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\n")
    r = CliRunner().invoke(
        app, ["hunt", "-d", str(tmp_path / "ds"), "--sigma", str(folder), "--sigma", str(passwd), "-f", "json"]
    )
    assert r.exit_code == 0, r.output
    assert "notes.yml skipped: not a Sigma rule file" in r.stderr and "passwd skipped" in r.stderr
    found = {h["detection_id"] for h in json.loads(r.stdout)["hits"]}
    assert {"cloudtrail_tampering", "stop"} <= found  # the built-ins and the good Sigma rule both ran


@needs_sigma
def test_unsupported_features_fail_clearly(unit_ds: Dataset) -> None:
    expand = sigma_rule("sel: {userAgent|expand: '%list%'}\ncondition: sel")
    assert "placeholder %list%" in compile_error(expand)
    assert "timestamp part" in compile_error(sigma_rule("sel: {eventTime|minute: 5}\ncondition: sel"))
    assert "NUL" in compile_error(sigma_rule('sel: {userAgent: "a\\u0000b"}\ncondition: sel'))
    # |neq is a NULL-safe negation like `not`
    assert hits(
        unit_ds, "sel: {eventSource: signin.amazonaws.com, additionalEventData.MFAUsed|neq: 'yes'}\ncondition: sel"
    ) == {"mfa-no"}


@needs_sigma
def test_hits_columns_metadata_and_order(unit_ds: Dataset) -> None:
    rule_a = compile_one(
        sigma_rule(
            "sel: {eventSource: iam.amazonaws.com}\ncondition: sel",
            title="IAM call",
            rule_id="11111111-1111-4111-8111-111111111111",
            level="high",
            author="Jane Doe",
            tags="[attack.t1098.001, attack.persistence, attack.ta0003]",
        )
    )
    rule_b = compile_one(
        sigma_rule(
            "sel: {eventName: UpdateLoginProfile}\ncondition: sel",
            title="login",
            rule_id="22222222-2222-4222-8222-222222222222",
        )
    )
    table = run_sigma_rules(unit_ds, [rule_a, rule_b])
    assert table.column_names == [
        "detection_id",
        "title",
        "severity",
        "attack",
        "author",
        "event_time",
        "actor",
        "access_key",
        "source_ip",
        "user_agent",
        "region",
        "account",
        "event_name",
        "event_id",
        "details",
        "attempt",  # a Sigma match is never a denied attempt (always false)
    ]
    assert table.num_rows and not any(table.column("attempt").to_pylist())
    rows = table.to_pylist()
    assert [r["event_time"] for r in rows] == sorted(r["event_time"] for r in rows)
    assert len([r for r in rows if r["detection_id"] == rule_a.id]) == 4
    assert {r["event_id"] for r in rows if r["detection_id"] == rule_b.id} == {"login-own", "login-other"}
    first = next(r for r in rows if r["event_id"] == "login-own" and r["detection_id"] == rule_a.id)
    assert first["title"] == "IAM call" and first["severity"] == "high" and first["author"] == "Jane Doe"
    assert first["attack"] == "T1098.001,TA0003"
    assert first["actor"] == "arn:aws:iam::111122223333:user/alice"
    assert first["details"] == "userName=Alice" and first["account"] == "111122223333"
    assert run_sigma_rules(unit_ds, []).num_rows == 0


@needs_sigma
def test_a_failing_rule_does_not_stop_the_others(unit_ds: Dataset) -> None:
    good = compile_one(sigma_rule("sel: {eventName: ConsoleLogin}\ncondition: sel", title="good"))
    bad = SigmaRule(id="bad-rule", title="bad", level="low", author="x", sql="no_such_column = 1")
    errors: list[tuple[str, str]] = []
    table = run_sigma_rules(unit_ds, [bad, good], errors=errors)
    assert set(table.column("event_id").to_pylist()) == {"mfa-no", "mfa-yes"}
    assert [e[0] for e in errors] == ["bad-rule"] and "no_such_column" in errors[0][1]
    meta = json.loads(table.schema.metadata[ERRORS_METADATA_KEY])
    assert meta[0]["rule"] == "bad-rule"


@needs_sigma
def test_rule_quality_problems_behave_as_the_reference_describes(unit_ds: Dataset) -> None:
    # 3. backdoor keys: the "field" in the filter is a literal string, so the filter never applies.
    backdoor = compile_one(
        sigma_rule("""
        selection_source: {eventSource: iam.amazonaws.com, eventName: CreateAccessKey}
        filter: {userIdentity.arn|contains: responseElements.accessKey.userName}
        condition: selection_source and not filter""")
    )
    assert any("looks like a field name" in w for w in backdoor.warnings)
    assert set(run_sigma_rules(unit_ds, [backdoor]).column("event_id").to_pylist()) == {"key-own"}
    # 4. update login profile: an ARN is never equal to a user name: fires on every UpdateLoginProfile.
    login = compile_one(
        sigma_rule("""
        selection: {eventSource: iam.amazonaws.com, eventName: UpdateLoginProfile}
        filter_main_user_identity: {userIdentity.arn|fieldref: requestParameters.userName}
        condition: selection and not 1 of filter_main_*""")
    )
    assert any("ARN with a bare user name" in w for w in login.warnings)
    assert set(run_sigma_rules(unit_ds, [login]).column("event_id").to_pylist()) == {"login-own", "login-other"}
    # 5. assumerole misuse matches any role session.
    assert hits(
        unit_ds,
        "sel: {userIdentity.type: AssumedRole, userIdentity.sessionContext.sessionIssuer.type: Role}\ncondition: sel",
    ) == {"role"}
    # 6. template text in the S3 Browser rule: flagged; the real bucket name is needed to match.
    template = compile_one(
        sigma_rule("""
        sel:
            requestParameters|contains|all:
                - '"arn:aws:s3:::<YOUR-BUCKET-NAME>/*"'
                - '"s3:GetObject"'
                - '"Allow"'
        condition: sel""")
    )
    assert any("<YOUR-BUCKET-NAME>" in w for w in template.warnings)
    assert run_sigma_rules(unit_ds, [template]).num_rows == 0


@needs_sigma
def test_pipeline_is_data() -> None:
    definition = pipeline_definition()
    ids = [t["id"] for t in definition["transformations"]]
    assert ids == ["cloudtrail_logsource", "cloudtrail_columns", "cloudtrail_json_paths", "cloudtrail_unknown_fields"]
    columns = definition["transformations"][1]["mapping"]
    assert columns["userIdentity.sessionContext.sessionIssuer.type"] == "session_issuer_type"
    assert columns["userIdentity.sessionContext.attributes.mfaAuthenticated"] == "session_mfa_authenticated"
    assert columns["requestParameters"] == "request_parameters"
    assert definition["transformations"][2]["mapping"]["userIdentity."] == "user_identity."
    json.dumps(definition)  # plain data


def test_import_without_pysigma_gives_the_extra_hint() -> None:
    code = (
        "import sys; sys.modules['sigma'] = None\n"
        "try:\n    import trailforensics.sigma\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "pip install 'trailforensics[sigma]'" in out.stdout


# -- the SigmaHQ corpus --------------------------------------------------------------------


def _regex_example(pattern: str) -> str:
    """A string matching a (simple) regular expression."""
    try:
        from re import _parser as parser  # type: ignore[attr-defined]
    except ImportError:  # Python 3.10
        import sre_parse as parser

    def gen(items: Any) -> str:
        out = ""
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                out += chr(arg)
            elif name == "NOT_LITERAL":
                out += "a" if chr(arg) != "a" else "b"
            elif name == "ANY":
                out += "a"
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                lo, _hi, sub = arg
                out += gen(sub) * max(lo, 1)
            elif name == "SUBPATTERN":
                out += gen(arg[-1])
            elif name == "BRANCH":
                out += gen(arg[1][0])
            elif name == "IN":
                first = arg[0]
                if str(first[0]) == "LITERAL":
                    out += chr(first[1])
                elif str(first[0]) == "RANGE":
                    out += chr(first[1][0])
                else:
                    out += "a" if "WORD" in str(first[1]) else "1" if "DIGIT" in str(first[1]) else " "
            elif name == "CATEGORY":
                out += "1" if "DIGIT" in str(arg) else " " if "SPACE" in str(arg) else "a"
            elif name == "AT":
                continue
            else:
                raise AssertionError(f"regex construct {name} not handled by the test synthesiser")
        return out

    text = gen(parser.parse(pattern))
    assert re.search(pattern, text), (pattern, text)
    return text


def _string_example(values: list[SigmaString]) -> str:
    exact = [v for v in values if not v.contains_special()]
    if exact:
        return exact[0].to_plain_regex()
    prefix, middle, suffix = "", [], ""
    for v in values:
        parts = list(v.s)
        text = "".join(p if isinstance(p, str) else ("x" if p == SpecialChars.WILDCARD_SINGLE else "") for p in parts)
        if parts[0] != SpecialChars.WILDCARD_MULTI:
            prefix += text
        elif parts[-1] != SpecialChars.WILDCARD_MULTI:
            suffix += text
        else:
            middle.append(text)
    return prefix + " ".join(middle) + suffix or "x"


def _example(field: str, values: list[Any]) -> Any:
    strings = [v for v in values if isinstance(v, SigmaString)]
    for v in values:
        if isinstance(v, SigmaBool):
            return v.boolean
        if isinstance(v, SigmaNumber):
            return v.number
        if isinstance(v, SigmaRegularExpression):
            return _regex_example(v.regexp.to_plain_regex())
        if isinstance(v, SigmaCIDRExpression):
            return str(next(iter(v.network.hosts()), v.network.network_address))
        if isinstance(v, SigmaExists):
            strings.append(SigmaString("*"))
    text = _string_example(strings)
    if "." in field and field.split(".")[0] != "userIdentity" and text.lower() in ("true", "false"):
        return text.lower() == "true"  # JSON booleans: the rules compare them as text
    return text


def _list_flags(field: str) -> list[bool]:
    segs = field.split(".")
    if field in PATH_OVERRIDES:
        mapped = PATH_OVERRIDES[field].split(".")[1:]
        return [False] + [s.endswith("[]") for s in mapped]
    return [(i == 0 and s == "resources") or (i > 0 and s in LIST_KEYS) for i, s in enumerate(segs)]


WHOLE_OBJECTS = {"requestParameters", "responseElements", "additionalEventData", "serviceEventDetails"}


def _put(rec: dict[str, Any], field: str, value: Any) -> None:
    if field in WHOLE_OBJECTS:  # a substring search over the object: a string inside it (quotes become \")
        field = f"{field}.sigmaText"
    segs, flags = field.split("."), _list_flags(field)
    cur: Any = rec
    for i, (seg, is_list) in enumerate(zip(segs, flags, strict=True)):
        if i == len(segs) - 1:
            cur[seg] = [value] if is_list else value
            return
        nxt = cur.get(seg)
        if is_list:
            if not isinstance(nxt, list) or not nxt or not isinstance(nxt[0], dict):
                nxt = [{}]
                cur[seg] = nxt
            cur = nxt[0]
        else:
            if not isinstance(nxt, dict):
                nxt = {}
                cur[seg] = nxt
            cur = nxt


def _remove(rec: dict[str, Any], field: str) -> None:
    segs = field.split(".")
    cur: Any = rec
    for seg in segs[:-1]:
        cur = cur.get(seg) if isinstance(cur, dict) else None
        if cur is None:
            return
    if isinstance(cur, dict):
        cur.pop(segs[-1], None)


def _get(rec: dict[str, Any], field: str) -> Any:
    cur: Any = rec
    for seg in field.split("."):
        cur = cur.get(seg) if isinstance(cur, dict) else None
    return cur


def _leaf_matches(rec: dict[str, Any], field: str, value: Any) -> bool:
    """Whether the record's current value could satisfy a leaf (conservative: unknown -> True)."""
    current = _get(rec, field)
    if current is None:
        return False
    text = current if isinstance(current, str) else json.dumps(current)
    if isinstance(value, SigmaString):
        pattern = "".join(
            re.escape(p) if isinstance(p, str) else (".*" if p == SpecialChars.WILDCARD_MULTI else ".") for p in value.s
        )
        return re.fullmatch(pattern, text, re.IGNORECASE | re.DOTALL) is not None
    if isinstance(value, SigmaFieldReference):
        other = _get(rec, value.field)
        return other is not None and str(other).lower() == text.lower()
    return True


def _solve(node: Any, want: bool, pos: dict[str, list[Any]], neg: list[tuple[str, Any]]) -> None:
    if isinstance(node, ConditionNOT):
        _solve(node.args[0], not want, pos, neg)
    elif isinstance(node, (ConditionAND, ConditionOR)):
        every = isinstance(node, ConditionAND) == want  # AND wanted true / OR wanted false: all children
        for arg in node.args if every else node.args[:1]:
            _solve(arg, want, pos, neg)
    elif isinstance(node, ConditionFieldEqualsValueExpression):
        value = node.value
        absent = isinstance(value, SigmaNull) or (isinstance(value, SigmaExists) and not value.exists)
        if want != absent:
            pos.setdefault(node.field, []).append(SigmaExists(True) if absent else value)
        else:
            neg.append((node.field, value))
    else:
        raise AssertionError(f"cannot synthesise {type(node).__name__}")


def synthesise(rule: SigmaRule, index: int) -> dict[str, Any]:
    """A CloudTrail record satisfying the rule's own detection (first branch of each OR)."""
    rec = record(
        "SigmaSynthetic",
        T0 + timedelta(minutes=index),
        source="example.amazonaws.com",
        event_id=f"sigma-{rule.id}",
        rng=random.Random(index),
    )
    pos: dict[str, list[Any]] = {}
    neg: list[tuple[str, Any]] = []
    for condition in rule.source.detection.parsed_condition:
        _solve(condition.parse(), True, pos, neg)
        break  # one condition is enough to fire
    refs: list[tuple[str, str]] = []
    for field, values in pos.items():
        plain = [v for v in values if not isinstance(v, SigmaFieldReference)]
        refs += [(field, v.field) for v in values if isinstance(v, SigmaFieldReference)]
        if plain:
            _put(rec, field, _example(field, plain))
    for field, ref in refs:
        _put(rec, ref, "same-value")
        _put(rec, field, "same-value")
    for field, value in neg:
        if field not in pos and _leaf_matches(rec, field, value):
            _remove(rec, field)  # NULL-safe `not`: a missing field never matches the filter
    return rec


@pytest.fixture(scope="module")
def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpora/sigma is not present")
    return sorted(CORPUS.glob("*.yml"))


@needs_sigma
def test_sigmahq_corpus_compiles_and_every_rule_fires(corpus_files: list[Path], tmp_path: Path) -> None:
    rules, errors = load_sigma_rules(corpus_files)
    failed = {Path(f).name: m for f, m in errors}
    assert set(failed) == set(EXPECTED_FAILURES), failed
    for name, fragment in EXPECTED_FAILURES.items():
        assert fragment in failed[name]
    assert len(rules) + len(failed) == len(corpus_files) == 57
    assert len({r.id for r in rules}) == len(rules)
    # Rule-quality problems 3, 4 and 6 of the reference are flagged on the rules themselves.
    assert {r.path.name for r in rules if r.path and r.warnings} == {
        "aws_iam_backdoor_users_keys.yml",
        "aws_update_login_profile.yml",
        "aws_iam_s3browser_templated_s3_bucket_policy_creation.yml",
    }

    records = [synthesise(rule, i) for i, rule in enumerate(rules)]
    benign = record("DescribeInstances", T0 - timedelta(hours=1), event_id="benign", rng=random.Random(0))
    write_log(tmp_path / "src", [*records, benign])
    summary = ingest([tmp_path / "src"], tmp_path / "ds", IngestOptions(workers=1))
    assert summary.rows_written == len(records) + 1
    errs: list[tuple[str, str]] = []
    with Dataset(tmp_path / "ds") as ds:
        table = run_sigma_rules(ds, rules, errors=errs)
    assert not errs
    fired: dict[str, set[str]] = {}
    for row in table.select(["detection_id", "event_id"]).to_pylist():
        fired.setdefault(row["detection_id"], set()).add(row["event_id"])
    silent = [r.path.name for r in rules if f"sigma-{r.id}" not in fired.get(r.id, set()) and r.path]
    assert not silent, silent
    assert not any("benign" in ids for ids in fired.values()), {k for k, v in fired.items() if "benign" in v}
    # Authors are credited in every hit (Detection Rule License 1.1).
    assert all(table.column("author").to_pylist())
    print(
        f"\nSigmaHQ corpus: {len(corpus_files)} rules, {len(rules)} compiled, "
        f"{len(rules) - len(silent)} fired on their synthesised event, {len(failed)} failed: {failed}"
    )


@needs_sigma
def test_unsupported_and_placeholder_rules_fail_clearly() -> None:
    folder = CORPUS / "_placeholder_and_unsupported"
    if not folder.is_dir():
        pytest.skip("../shared/corpora/sigma is not present")
    rules, errors = load_sigma_rules([folder])
    assert rules == []
    failed = {Path(f).name: m for f, m in errors}
    assert set(failed) == set(EXPECTED_UNSUPPORTED)
    for name, fragment in EXPECTED_UNSUPPORTED.items():
        assert fragment in failed[name], (name, failed[name])
