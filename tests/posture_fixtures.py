"""Hand-made CloudTrail records for the posture tests (trails, trace, policy, coverage).

One small organisation, two accounts, written as real AWSLogs trees and ingested once per
test module.  Times are fixed; every fact a test asserts is a constant here.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ct import iso, record, write_log

from trailforensics.ingest import IngestOptions, ingest

UTC = timezone.utc
ACCT = "111122223333"
ACCT_B = "444455556666"
REGION = "eu-west-1"
DAY1 = datetime(2026, 3, 9, tzinfo=UTC)
DAY2 = datetime(2026, 3, 10, tzinfo=UTC)
DATA_END = datetime(2026, 3, 11, tzinfo=UTC)

# trails -------------------------------------------------------------------------------------
TRAIL = "case-trail"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCT}:trail/{TRAIL}"
OLD_TRAIL = "old-trail"
OLD_TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCT_B}:trail/{OLD_TRAIL}"
TEMP_TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCT}:trail/temp-trail"
ORG_TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCT}:trail/org-trail"
ORG_SEEN_AT = DAY2 + timedelta(hours=4, minutes=30)  # the only sign of org-trail: settings unknown
BUCKET = "case-log-bucket"
OLD_BUCKET = "old-log-bucket"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCT}:key/{KEY_ID}"
OLD_KEY_ID = "0000ffff-12ab-34cd-56ef-1234567890ab"
ALIAS = "alias/case-log-key"
OLD_ALIAS = "alias/old-log-key"
STOP_AT = DAY2 + timedelta(hours=1, minutes=5)
START_AT = DAY2 + timedelta(hours=4, minutes=10)
OLD_STOP_AT = DAY2 + timedelta(hours=2)
MALLORY_IP = "203.0.113.66"

# trace ----------------------------------------------------------------------------------------
DEV_KEY = "AKIADEV1EXAMPLE00001"
BD_KEY = "AKIABACKDOOREXAMP001"
OPS_KEY = "AKIAOPS1EXAMPLE00001"
ASIA_A, ASIA_B, ASIA_C = "ASIAROLEAEXAMPLE0001", "ASIAROLEBEXAMPLE0001", "ASIAROLECEXAMPLE0001"
ASIA_X = "ASIACROSSACCOUNT0001"
ASIA_SYNC = "ASIASYNCEXAMPLE00001"
ASIA_SAML = "ASIASAMLEXAMPLE00001"
ASIA_SSO = "ASIASSOFRANKEXAMP001"
ASIA_SSO2 = "ASIASSOERINEXAMPL001"
ASIA_RE = "ASIARECYCLEDKEY00001"
ASIA_GST = "ASIASESSIONTOKEN0001"
ASIA_FED = "ASIAFEDERATIONTO0001"
ASIA_CON = "ASIACONSOLEGINA00001"
ASIA_ORPHAN = "ASIAORPHANEXAMPL0001"
ASIA_HENRY = "ASIACONSOLEHENRY0001"
ASIA_SWITCH = "ASIASWITCHROLEEXA001"
ASIA_PARTNER = "ASIAPARTNEREXAMPL001"
ROLE_E = f"arn:aws:iam::{ACCT}:role/role-e"
ROLE_PARTNER = f"arn:aws:iam::{ACCT}:role/partner-role"
PARTNER_ACCT = "999988887777"
PARTNER_SHARED_ID = "5c1a3c8e-0000-4000-8000-0000000beef0"
TRACE_T = DAY2 + timedelta(hours=5)
SHARED_ID = "5c1a3c8e-0000-4000-8000-00000000cafe"
ROLE_A = f"arn:aws:iam::{ACCT}:role/role-a"
ROLE_B = f"arn:aws:iam::{ACCT}:role/role-b"
ROLE_C = f"arn:aws:iam::{ACCT}:role/role-c"
ROLE_D = f"arn:aws:iam::{ACCT}:role/role-d"
ROLE_X = f"arn:aws:iam::{ACCT_B}:role/cross-role"
SSO_ROLE = f"arn:aws:iam::{ACCT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_ReadOnly_0123abcd"
SAML_PROVIDER = f"arn:aws:iam::{ACCT}:saml-provider/CorpIdP"

# policy ---------------------------------------------------------------------------------------
APP_USER = "app-user"
APP_KEY = "AKIAAPPUSEREXAMPL001"
APP_ARN = f"arn:aws:iam::{ACCT}:user/{APP_USER}"
APP_T = DAY1 + timedelta(hours=12)
APP_BUCKET = "app-data-bucket"

# coverage -------------------------------------------------------------------------------------
GAP_HOURS_STOPPED = (DAY2 + timedelta(hours=2), DAY2 + timedelta(hours=3))  # inside the StopLogging period
GAP_HOURS_OTHER = (DAY2 + timedelta(hours=13), DAY2 + timedelta(hours=14))
RARE_REGION = "sa-east-1"
ACCOUNT_BUCKET = "account-trail-bucket"
ORG_BUCKET = "org-trail-bucket"
ORG_ID = "o-a1b2c3d4e5"
RARE_T = DAY2 + timedelta(hours=20, minutes=7)


def _rng() -> random.Random:
    return random.Random(7)


RNG = _rng()


def iam_user(name: str, key: str, account: str = ACCT, session: dict[str, Any] | None = None) -> dict[str, Any]:
    ident: dict[str, Any] = {
        "type": "IAMUser",
        "principalId": f"AIDA{name.upper().replace('-', '')[:12]}",
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "accessKeyId": key,
        "userName": name,
    }
    if session:
        ident["sessionContext"] = session
    return ident


def assumed(
    role_arn: str,
    session: str,
    key: str,
    created: datetime | None,
    *,
    source_identity: str | None = None,
    mfa: bool = False,
) -> dict[str, Any]:
    account = role_arn.split(":")[4]
    role_name = role_arn.rsplit("/", 1)[1]
    ctx: dict[str, Any] = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": f"AROA{role_name.upper()[:12]}",
            "arn": role_arn,
            "accountId": account,
            "userName": role_name,
        },
        "webIdFederationData": {},
        "attributes": {"mfaAuthenticated": "true" if mfa else "false"},
    }
    if created is not None:
        ctx["attributes"]["creationDate"] = iso(created)
    if source_identity:
        ctx["sourceIdentity"] = source_identity
    return {
        "type": "AssumedRole",
        "principalId": f"AROA{role_name.upper()[:12]}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}",
        "accountId": account,
        "accessKeyId": key,
        "sessionContext": ctx,
    }


def java(dt: datetime) -> str:
    return f"{dt:%b} {dt.day}, {dt.year}, {dt.hour % 12 or 12}:{dt:%M:%S} {'AM' if dt.hour < 12 else 'PM'}"


def ev(
    name: str,
    when: datetime,
    source: str,
    identity: dict[str, Any],
    *,
    req: Any = None,
    resp: Any = None,
    account: str | None = None,
    region: str = REGION,
    ip: str = "198.51.100.10",
    error: str | None = None,
    resources: list[dict[str, Any]] | None = None,
    shared: str | None = None,
    read_only: bool | None = None,
    ua: str = "aws-cli/2.15.30 Python/3.11.8 Linux/6.1",
    category: str = "Management",
    request_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    rec = record(
        name,
        when,
        account=account or identity.get("accountId") or ACCT,
        region=region,
        ip=ip,
        source=source,
        rng=RNG,
        userIdentity=identity,
        requestParameters=req,
        responseElements=resp,
        userAgent=ua,
        eventCategory=category,
        managementEvent=category == "Management",
        **extra,
    )
    rec["readOnly"] = read_only if read_only is not None else name.startswith(("Describe", "List", "Get", "Head"))
    if error:
        rec["errorCode"] = error
        rec["errorMessage"] = f"User is not authorized to perform {name}"
    if resources is not None:
        rec["resources"] = resources
    if shared:
        rec["sharedEventID"] = shared
    if request_id:
        rec["requestID"] = request_id
    if source != "ec2.amazonaws.com":
        rec["tlsDetails"]["clientProvidedHostHeader"] = source.replace(".amazonaws.com", f".{region}.amazonaws.com")
    return rec


def creds(key: str, issued: datetime, hours: float = 1.0) -> dict[str, Any]:
    return {
        "accessKeyId": key,
        "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE",
        "expiration": java(issued + timedelta(hours=hours)),
    }


def assume_role(
    caller: dict[str, Any],
    when: datetime,
    role_arn: str,
    session: str,
    key: str,
    *,
    source_identity: str | None = None,
    **kw: Any,
) -> dict[str, Any]:
    req: dict[str, Any] = {"roleArn": role_arn, "roleSessionName": session}
    resp: dict[str, Any] = {
        "credentials": creds(key, when),
        "assumedRoleUser": {
            "assumedRoleId": f"AROA:{session}",
            "arn": assumed(role_arn, session, key, when)["arn"],
        },
    }
    if source_identity:
        req["sourceIdentity"] = resp["sourceIdentity"] = source_identity
    return ev(
        "AssumeRole",
        when,
        "sts.amazonaws.com",
        caller,
        req=req,
        resp=resp,
        resources=[{"ARN": role_arn, "accountId": role_arn.split(":")[4], "type": "AWS::IAM::Role"}],
        region=kw.pop("region", "us-east-1"),
        **kw,
    )


# -----------------------------------------------------------------------------------------------
def trail_records() -> list[dict[str, Any]]:
    alice = iam_user("alice", "AKIAALICEEXAMPLE0001")
    mallory = iam_user("mallory", "AKIAMALLORYEXAMP0001")
    t = DAY1 + timedelta(hours=10)
    selectors = [
        {"name": "mgmt", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]},
        {
            "name": "s3-writes",
            "fieldSelectors": [
                {"field": "eventCategory", "equals": ["Data"]},
                {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                {"field": "readOnly", "equals": ["false"]},
            ],
        },
    ]
    cloudtrail_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/AWSLogs/{ACCT}/*",
                "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}},
            }
        ],
    }
    opened_policy = {
        "Version": "2012-10-17",
        "Statement": [
            cloudtrail_policy["Statement"][0],
            {
                "Sid": "Open",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            },
            {
                "Sid": "Partner",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                "Action": "s3:*",
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            },
        ],
    }
    bucket_res = [{"ARN": f"arn:aws:s3:::{BUCKET}", "accountId": ACCT, "type": "AWS::S3::Bucket"}]
    key_res = [{"ARN": KEY_ARN, "accountId": ACCT, "type": "AWS::KMS::Key"}]
    m = dict(ip=MALLORY_IP, ua="Boto3/1.34.0 Python/3.12 kali")
    recs = [
        ev("CreateAlias", t, "kms.amazonaws.com", alice, req={"aliasName": ALIAS, "targetKeyId": KEY_ID}),
        ev(
            "PutBucketPolicy",
            t + timedelta(minutes=2),
            "s3.amazonaws.com",
            alice,
            req={"bucketName": BUCKET, "bucketPolicy": cloudtrail_policy, "policy": ""},
            resources=bucket_res,
        ),
        ev(
            "CreateTrail",
            t + timedelta(minutes=5),
            "cloudtrail.amazonaws.com",
            alice,
            req={
                "name": TRAIL,
                "s3BucketName": BUCKET,
                "s3KeyPrefix": "ct",
                "isMultiRegionTrail": True,
                "includeGlobalServiceEvents": True,
                "enableLogFileValidation": True,
                "kmsKeyId": ALIAS,
                "isOrganizationTrail": False,
            },
            resp={
                "name": TRAIL,
                "s3BucketName": BUCKET,
                "s3KeyPrefix": "ct",
                "includeGlobalServiceEvents": True,
                "isMultiRegionTrail": True,
                "trailARN": TRAIL_ARN,
                "logFileValidationEnabled": True,
                "kmsKeyId": KEY_ARN,
                "isOrganizationTrail": False,
            },
        ),
        ev(
            "PutEventSelectors",
            t + timedelta(minutes=6),
            "cloudtrail.amazonaws.com",
            alice,
            req={"trailName": TRAIL, "advancedEventSelectors": selectors},
            resp={"trailARN": TRAIL_ARN, "advancedEventSelectors": selectors},
        ),
        # logged in the same second as PutEventSelectors: the order of calls within a second must hold
        ev("StartLogging", t + timedelta(minutes=6), "cloudtrail.amazonaws.com", alice, req={"name": TRAIL}),
        ev(
            "PutInsightSelectors",
            t + timedelta(minutes=8),
            "cloudtrail.amazonaws.com",
            alice,
            req={"trailName": TRAIL, "insightSelectors": [{"insightType": "ApiCallRateInsight"}]},
            resp={"trailARN": TRAIL_ARN, "insightSelectors": [{"insightType": "ApiCallRateInsight"}]},
        ),
        ev(
            "AddTags",
            t + timedelta(minutes=9),
            "cloudtrail.amazonaws.com",
            alice,
            req={"resourceId": TRAIL_ARN, "tagsList": [{"key": "owner", "value": "secops"}]},
        ),
        # A VPC endpoint network-activity record of an UpdateTrail: not an API call, ignored.
        ev(
            "UpdateTrail",
            t + timedelta(minutes=30),
            "cloudtrail.amazonaws.com",
            alice,
            req={"name": TRAIL, "isMultiRegionTrail": False},
            category="NetworkActivity",
            eventType="AwsVpceEvent",
        ),
        # old-trail in the second account: created with an alias ARN, no response logged.
        ev(
            "CreateAlias",
            t,
            "kms.amazonaws.com",
            iam_user("bob", "AKIABOBEXAMPLE000001", ACCT_B),
            req={"aliasName": OLD_ALIAS, "targetKeyId": OLD_KEY_ID},
            account=ACCT_B,
        ),
        ev(
            "CreateTrail",
            t + timedelta(minutes=1),
            "cloudtrail.amazonaws.com",
            iam_user("bob", "AKIABOBEXAMPLE000001", ACCT_B),
            account=ACCT_B,
            req={
                "name": OLD_TRAIL,
                "s3BucketName": OLD_BUCKET,
                "kmsKeyId": f"arn:aws:kms:{REGION}:{ACCT_B}:{OLD_ALIAS}",
            },
        ),
        # the attack, day 2
        ev(
            "UpdateTrail",
            DAY2 + timedelta(hours=1),
            "cloudtrail.amazonaws.com",
            mallory,
            req={"name": TRAIL, "enableLogFileValidation": False},
            resp={
                "name": TRAIL,
                "s3BucketName": BUCKET,
                "s3KeyPrefix": "ct",
                "includeGlobalServiceEvents": True,
                "isMultiRegionTrail": True,
                "trailARN": TRAIL_ARN,
                "logFileValidationEnabled": False,
                "kmsKeyId": KEY_ARN,
                "isOrganizationTrail": False,
            },
            **m,
        ),
        ev(
            "UpdateTrail",
            DAY2 + timedelta(hours=1, minutes=1),
            "cloudtrail.amazonaws.com",
            mallory,
            req={"name": TRAIL, "isMultiRegionTrail": False},
            error="AccessDenied",
            **m,
        ),
        ev(
            "PutEventSelectors",
            DAY2 + timedelta(hours=1, minutes=2),
            "cloudtrail.amazonaws.com",
            mallory,
            req={
                "trailName": TRAIL_ARN,
                "eventSelectors": [
                    {
                        "readWriteType": "All",
                        "includeManagementEvents": False,
                        "dataResources": [],
                        "excludeManagementEventSources": [],
                    }
                ],
            },
            resp={
                "trailARN": TRAIL_ARN,
                "eventSelectors": [
                    {
                        "readWriteType": "All",
                        "includeManagementEvents": False,
                        "dataResources": [],
                        "excludeManagementEventSources": [],
                    }
                ],
            },
            **m,
        ),
        ev("StopLogging", STOP_AT, "cloudtrail.amazonaws.com", mallory, req={"name": TRAIL_ARN}, **m),
        ev("StartLogging", START_AT, "cloudtrail.amazonaws.com", alice, req={"name": TRAIL}),
        ev(
            "PutBucketPolicy",
            DAY2 + timedelta(hours=1, minutes=10),
            "s3.amazonaws.com",
            mallory,
            req={"bucketName": BUCKET, "bucketPolicy": opened_policy, "policy": ""},
            resources=bucket_res,
            **m,
        ),
        ev(
            "PutBucketLifecycle",
            DAY2 + timedelta(hours=1, minutes=11),
            "s3.amazonaws.com",
            mallory,
            req={
                "bucketName": BUCKET,
                "lifecycle": "",
                "LifecycleConfiguration": {
                    "Rule": {
                        "ID": "expire-logs",
                        "Status": "Enabled",
                        "Filter": {"Prefix": ""},
                        "Expiration": {"Days": 1},
                    }
                },
            },
            resources=bucket_res,
            **m,
        ),
        ev(
            "PutBucketVersioning",
            DAY2 + timedelta(hours=1, minutes=12),
            "s3.amazonaws.com",
            mallory,
            req={"bucketName": BUCKET, "versioning": "", "VersioningConfiguration": {"Status": "Suspended"}},
            resources=bucket_res,
            **m,
        ),
        ev(
            "ScheduleKeyDeletion",
            DAY2 + timedelta(hours=1, minutes=15),
            "kms.amazonaws.com",
            mallory,
            req={"keyId": KEY_ID, "pendingWindowInDays": 7},
            resp={
                "keyId": KEY_ARN,
                "deletionDate": java(DAY2 + timedelta(days=7, hours=1, minutes=15)),
                "keyState": "PendingDeletion",
                "pendingWindowInDays": 7,
            },
            resources=key_res,
            **m,
        ),
        # the old trail's key is disabled through its alias (no resources[]): resolved via CreateAlias
        ev(
            "DisableKey",
            DAY2 + timedelta(hours=1, minutes=20),
            "kms.amazonaws.com",
            iam_user("mallory", "AKIAMALLORYEXAMP0002", ACCT_B),
            account=ACCT_B,
            req={"keyId": f"arn:aws:kms:{REGION}:{ACCT_B}:{OLD_ALIAS}"},
            **m,
        ),
        ev(
            "StopLogging",
            OLD_STOP_AT,
            "cloudtrail.amazonaws.com",
            iam_user("mallory", "AKIAMALLORYEXAMP0002", ACCT_B),
            account=ACCT_B,
            req={"name": OLD_TRAIL},
            **m,
        ),
        # temp-trail: created and deleted; org-trail: only ever started by ARN (settings unknown)
        ev(
            "CreateTrail",
            DAY2 + timedelta(hours=6),
            "cloudtrail.amazonaws.com",
            mallory,
            req={"name": "temp-trail", "s3BucketName": "attacker-bucket"},
            resp={
                "name": "temp-trail",
                "s3BucketName": "attacker-bucket",
                "trailARN": TEMP_TRAIL_ARN,
                "includeGlobalServiceEvents": True,
                "isMultiRegionTrail": False,
                "logFileValidationEnabled": False,
                "isOrganizationTrail": False,
            },
            **m,
        ),
        ev(
            "DeleteTrail",
            DAY2 + timedelta(hours=6, minutes=30),
            "cloudtrail.amazonaws.com",
            mallory,
            req={"name": "temp-trail"},
            **m,
        ),
        ev("StartLogging", ORG_SEEN_AT, "cloudtrail.amazonaws.com", alice, req={"name": ORG_TRAIL_ARN}),
    ]
    return recs


def trace_records() -> list[dict[str, Any]]:
    t = TRACE_T
    dev = iam_user("dev1", DEV_KEY)
    recs: list[dict[str, Any]] = []
    # provenance: dev1 creates the backdoor user and its key
    recs += [
        ev(
            "CreateUser",
            t - timedelta(minutes=30),
            "iam.amazonaws.com",
            dev,
            req={"userName": "svc-bd"},
            resp={"user": {"userName": "svc-bd", "arn": f"arn:aws:iam::{ACCT}:user/svc-bd"}},
            region="us-east-1",
        ),
        ev(
            "CreateAccessKey",
            t - timedelta(minutes=29),
            "iam.amazonaws.com",
            dev,
            req={"userName": "svc-bd"},
            resp={
                "accessKey": {
                    "userName": "svc-bd",
                    "accessKeyId": BD_KEY,
                    "status": "Active",
                    "createDate": java(t - timedelta(minutes=29)),
                }
            },
            region="us-east-1",
        ),
    ]
    bd = iam_user("svc-bd", BD_KEY)
    recs.append(assume_role(bd, t - timedelta(minutes=20), ROLE_A, "sync", ASIA_SYNC, ip=MALLORY_IP))
    recs.append(
        ev(
            "ListBuckets",
            t - timedelta(minutes=19),
            "s3.amazonaws.com",
            assumed(ROLE_A, "sync", ASIA_SYNC, t - timedelta(minutes=20)),
            ip=MALLORY_IP,
        )
    )
    # three-hop chain dev1 -> A -> B -> C
    a = assumed(ROLE_A, "a-sess", ASIA_A, t)
    b = assumed(ROLE_B, "b-sess", ASIA_B, t + timedelta(minutes=6))
    c = assumed(ROLE_C, "c-sess", ASIA_C, t + timedelta(minutes=10), source_identity="dev1")
    recs += [
        ev("GetCallerIdentity", t - timedelta(minutes=1), "sts.amazonaws.com", dev, region="us-east-1"),
        assume_role(dev, t, ROLE_A, "a-sess", ASIA_A),
        ev("DescribeInstances", t + timedelta(minutes=5), "ec2.amazonaws.com", a),
        assume_role(a, t + timedelta(minutes=6), ROLE_B, "b-sess", ASIA_B),
        ev(
            "ListRoles",
            t + timedelta(minutes=7),
            "iam.amazonaws.com",
            b,
            region="us-east-1",
            error="AccessDenied",
        ),
        assume_role(b, t + timedelta(minutes=10), ROLE_C, "c-sess", ASIA_C, source_identity="dev1"),
        ev(
            "GetObject",
            t + timedelta(minutes=15),
            "s3.amazonaws.com",
            c,
            category="Data",
            read_only=True,
            req={"bucketName": APP_BUCKET, "key": "exports/1.csv"},
            ip="198.51.100.99",
        ),
        ev(
            "GetObject",
            t + timedelta(minutes=16),
            "s3.amazonaws.com",
            c,
            category="Data",
            read_only=True,
            req={"bucketName": APP_BUCKET, "key": "exports/2.csv"},
            ip="198.51.100.99",
        ),
    ]
    # cross-account hop from role-b's session: two copies sharing sharedEventID and requestID
    x_at = t + timedelta(minutes=12)
    hop = assume_role(b, x_at, ROLE_X, "xacct", ASIA_X, shared=SHARED_ID, request_id="req-cross-1")
    hop_b = json.loads(json.dumps(hop))
    hop_b.update(
        eventID="cross-copy-b",
        recipientAccountId=ACCT_B,
        userIdentity={"type": "AWSAccount", "principalId": "AROAROLEB:b-sess", "accountId": ACCT},
    )
    recs += [
        hop,
        hop_b,
        ev(
            "ListBuckets",
            x_at + timedelta(minutes=2),
            "s3.amazonaws.com",
            assumed(ROLE_X, "xacct", ASIA_X, x_at),
            account=ACCT_B,
        ),
    ]
    # SAML federation
    s_at = t + timedelta(minutes=30)
    saml_caller = {
        "type": "SAMLUser",
        "principalId": "CorpIdPqualifier:carol@example.com",
        "userName": "carol@example.com",
        "identityProvider": "CorpIdPqualifier",
    }
    recs += [
        ev(
            "AssumeRoleWithSAML",
            s_at,
            "sts.amazonaws.com",
            saml_caller,
            ip="192.0.2.44",
            ua="Mozilla/5.0",
            req={
                "sAMLAssertionID": "_abc",
                "roleSessionName": "carol@example.com",
                "roleArn": ROLE_D,
                "principalArn": SAML_PROVIDER,
                "durationSeconds": 3600,
            },
            resp={
                "credentials": creds(ASIA_SAML, s_at),
                "subject": "carol@example.com",
                "subjectType": "persistent",
                "issuer": "https://idp.example.com/saml",
                "audience": "https://signin.aws.amazon.com/saml",
                "nameQualifier": "CorpIdPqualifier",
                "assumedRoleUser": {
                    "assumedRoleId": "AROA:carol",
                    "arn": f"arn:aws:sts::{ACCT}:assumed-role/role-d/carol@example.com",
                },
            },
            region="us-east-1",
        ),
        ev(
            "DescribeVpcs",
            s_at + timedelta(minutes=3),
            "ec2.amazonaws.com",
            assumed(ROLE_D, "carol@example.com", ASIA_SAML, s_at),
            ip="192.0.2.44",
        ),
    ]
    # Identity Center: one session with its AssumeRoleWithSAML (portal issuer), one without
    f_at = t + timedelta(minutes=40)
    recs += [
        ev(
            "AssumeRoleWithSAML",
            f_at,
            "sts.amazonaws.com",
            {
                "type": "SAMLUser",
                "principalId": "ssoqual:frank",
                "userName": "frank",
                "identityProvider": "ssoqual",
            },
            req={
                "roleSessionName": "frank",
                "roleArn": SSO_ROLE,
                "principalArn": f"arn:aws:iam::{ACCT}:saml-provider/AWSSSO_0123_DO_NOT_DELETE",
            },
            resp={
                "credentials": creds(ASIA_SSO, f_at, 8),
                "subject": "frank",
                "issuer": "https://portal.sso.eu-west-1.amazonaws.com/saml/assertion/abc",
                "assumedRoleUser": {"arn": f"arn:aws:sts::{ACCT}:assumed-role/AWSReservedSSO_ReadOnly_0123abcd/frank"},
            },
            ip="192.0.2.50",
            region="us-east-1",
        ),
        ev(
            "ListUsers",
            f_at + timedelta(minutes=1),
            "iam.amazonaws.com",
            assumed(SSO_ROLE, "frank", ASIA_SSO, f_at),
            ip="192.0.2.50",
            region="us-east-1",
        ),
        ev(
            "DescribeInstances",
            t + timedelta(minutes=41),
            "ec2.amazonaws.com",
            assumed(SSO_ROLE, "erin", ASIA_SSO2, t - timedelta(hours=1)),
            ip="192.0.2.51",
        ),
    ]
    # recycled ASIA id: issued at 04:00 to dev1 (role-a/first) and at 08:00 to ops1 (role-d/second)
    ops = iam_user("ops1", OPS_KEY)
    first_at, second_at = DAY2 + timedelta(hours=4), DAY2 + timedelta(hours=8)
    no_ctx = assumed(ROLE_D, "second", ASIA_RE, None)
    recs += [
        assume_role(dev, first_at, ROLE_A, "first", ASIA_RE),
        ev(
            "ListBuckets",
            first_at + timedelta(minutes=10),
            "s3.amazonaws.com",
            assumed(ROLE_A, "first", ASIA_RE, first_at),
        ),
        assume_role(ops, second_at, ROLE_D, "second", ASIA_RE, ip="198.51.100.20"),
        ev(
            "ListBuckets",
            second_at + timedelta(minutes=10),
            "s3.amazonaws.com",
            assumed(ROLE_D, "second", ASIA_RE, second_at),
            ip="198.51.100.20",
        ),
        ev("ListTopics", second_at + timedelta(minutes=20), "sns.amazonaws.com", no_ctx, ip="198.51.100.20"),
    ]
    # GetSessionToken and GetFederationToken from dev1's key
    g_at = t + timedelta(minutes=50)
    recs += [
        ev(
            "GetSessionToken",
            g_at,
            "sts.amazonaws.com",
            dev,
            req={"durationSeconds": 3600, "serialNumber": f"arn:aws:iam::{ACCT}:mfa/dev1"},
            resp={"credentials": creds(ASIA_GST, g_at)},
            region="us-east-1",
        ),
        ev(
            "ListAliases",
            g_at + timedelta(minutes=2),
            "kms.amazonaws.com",
            iam_user(
                "dev1",
                ASIA_GST,
                session={"attributes": {"creationDate": iso(g_at), "mfaAuthenticated": "true"}},
            ),
        ),
        ev(
            "GetFederationToken",
            g_at + timedelta(minutes=5),
            "sts.amazonaws.com",
            dev,
            req={"name": "fed-report", "durationSeconds": 3600},
            resp={
                "credentials": creds(ASIA_FED, g_at + timedelta(minutes=5)),
                "federatedUser": {
                    "federatedUserId": f"{ACCT}:fed-report",
                    "arn": f"arn:aws:sts::{ACCT}:federated-user/fed-report",
                },
            },
            region="us-east-1",
        ),
        ev(
            "DescribeAlarms",
            g_at + timedelta(minutes=7),
            "monitoring.amazonaws.com",
            {
                "type": "FederatedUser",
                "principalId": f"{ACCT}:fed-report",
                "arn": f"arn:aws:sts::{ACCT}:federated-user/fed-report",
                "accountId": ACCT,
                "accessKeyId": ASIA_FED,
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "IAMUser",
                        "arn": f"arn:aws:iam::{ACCT}:user/dev1",
                        "userName": "dev1",
                        "accountId": ACCT,
                    },
                    "attributes": {
                        "creationDate": iso(g_at + timedelta(minutes=5)),
                        "mfaAuthenticated": "false",
                    },
                },
            },
        ),
    ]
    # console login: ConsoleLogin (no key) then the console session's ASIA key
    c_at = t + timedelta(minutes=55)
    gina_login = iam_user("gina", "")
    gina_session = iam_user(
        "gina", ASIA_CON, session={"attributes": {"creationDate": iso(c_at), "mfaAuthenticated": "true"}}
    )
    recs += [
        ev(
            "ConsoleLogin",
            c_at,
            "signin.amazonaws.com",
            gina_login,
            resp={"ConsoleLogin": "Success"},
            additionalEventData={"MFAUsed": "Yes", "LoginTo": "https://console.aws.amazon.com"},
            eventType="AwsConsoleSignIn",
            region="us-east-1",
            ip="192.0.2.60",
            ua="Mozilla/5.0",
        ),
        ev(
            "DescribeTrails",
            c_at + timedelta(minutes=1),
            "cloudtrail.amazonaws.com",
            gina_session,
            sessionCredentialFromConsole="true",
            ip="192.0.2.60",
            ua="Mozilla/5.0",
        ),
        # a role session whose AssumeRole is not in the data
        ev(
            "ListFunctions20150331",
            t + timedelta(minutes=58),
            "lambda.amazonaws.com",
            assumed(ROLE_B, "ghost", ASIA_ORPHAN, t - timedelta(hours=2)),
        ),
    ]
    # console SwitchRole: henry signs in, then switches to role-e in the console
    h_at = t + timedelta(minutes=70)
    henry_arn = f"arn:aws:iam::{ACCT}:user/henry"
    recs += [
        ev(
            "ConsoleLogin",
            h_at,
            "signin.amazonaws.com",
            iam_user("henry", ""),
            resp={"ConsoleLogin": "Success"},
            additionalEventData={"MFAUsed": "No"},
            eventType="AwsConsoleSignIn",
            region="us-east-1",
            ip="192.0.2.70",
            ua="Mozilla/5.0",
        ),
        ev(
            "ListRoles",
            h_at + timedelta(minutes=1),
            "iam.amazonaws.com",
            iam_user(
                "henry",
                ASIA_HENRY,
                session={"attributes": {"creationDate": iso(h_at), "mfaAuthenticated": "false"}},
            ),
            sessionCredentialFromConsole="true",
            region="us-east-1",
            ip="192.0.2.70",
            ua="Mozilla/5.0",
        ),
        ev(
            "SwitchRole",
            h_at + timedelta(minutes=2),
            "signin.amazonaws.com",
            assumed(ROLE_E, "henry", ASIA_SWITCH, h_at + timedelta(minutes=2)),
            resp={"SwitchRole": "Success"},
            additionalEventData={"SwitchFrom": henry_arn, "RedirectTo": "https://console.aws.amazon.com"},
            eventType="AwsConsoleSignIn",
            region="us-east-1",
            ip="192.0.2.70",
            ua="Mozilla/5.0",
        ),
        ev(
            "DescribeSecurityGroups",
            h_at + timedelta(minutes=3),
            "ec2.amazonaws.com",
            assumed(ROLE_E, "henry", ASIA_SWITCH, h_at + timedelta(minutes=2)),
            sessionCredentialFromConsole="true",
            ip="192.0.2.70",
            ua="Mozilla/5.0",
        ),
    ]
    # a partner account assumes a role here: only this account's copy (AWSAccount caller) is in the data
    p_at = t + timedelta(minutes=80)
    partner = assume_role(
        {"type": "AWSAccount", "principalId": "AIDAPARTNEREXAMPLE", "accountId": PARTNER_ACCT},
        p_at,
        ROLE_PARTNER,
        "partner-sync",
        ASIA_PARTNER,
        shared=PARTNER_SHARED_ID,
        ip="203.0.113.200",
    )
    partner["recipientAccountId"] = ACCT
    recs += [
        partner,
        ev(
            "ListBuckets",
            p_at + timedelta(minutes=1),
            "s3.amazonaws.com",
            assumed(ROLE_PARTNER, "partner-sync", ASIA_PARTNER, p_at),
            ip="203.0.113.200",
        ),
    ]
    return recs


def policy_records() -> list[dict[str, Any]]:
    app = iam_user(APP_USER, APP_KEY)
    t = APP_T

    def obj(k: str) -> list[dict[str, Any]]:
        return [
            {"ARN": f"arn:aws:s3:::{APP_BUCKET}/{k}", "type": "AWS::S3::Object"},
            {"ARN": f"arn:aws:s3:::{APP_BUCKET}", "accountId": ACCT, "type": "AWS::S3::Bucket"},
        ]

    recs = [
        ev("ListBuckets", t, "s3.amazonaws.com", app, req={"Host": "s3.amazonaws.com"}),
        ev(
            "PutObject",
            t + timedelta(minutes=3),
            "s3.amazonaws.com",
            app,
            category="Data",
            read_only=False,
            req={"bucketName": APP_BUCKET, "key": "in/report.csv"},
            resources=obj("in/report.csv"),
        ),
        ev(
            "UpdateFunctionConfiguration20150331v2",
            t + timedelta(minutes=4),
            "lambda.amazonaws.com",
            app,
            req={"functionName": "fn-report", "timeout": 30},
        ),
        ev("GetUser", t + timedelta(minutes=5), "iam.amazonaws.com", app, region="us-east-1"),
        ev("GetCallerIdentity", t + timedelta(minutes=6), "sts.amazonaws.com", app, region="us-east-1"),
        ev(
            "PutMetricData",
            t + timedelta(minutes=7),
            "monitoring.amazonaws.com",
            app,
            req={"namespace": "App"},
        ),
        ev("DoThing", t + timedelta(minutes=8), "thirdparty.example.com", app),
        ev("DescribeInstances", t + timedelta(minutes=9), "ec2.amazonaws.com", app),
        ev("GetItem", t + timedelta(minutes=10), "dynamodb.amazonaws.com", app, req={"tableName": "orders"}),
        ev(
            "DeleteUser",
            t + timedelta(minutes=11),
            "iam.amazonaws.com",
            app,
            req={"userName": "x"},
            error="AccessDenied",
            region="us-east-1",
        ),
        ev(
            "CreateFunction20150331",
            t + timedelta(minutes=12),
            "lambda.amazonaws.com",
            app,
            req={
                "functionName": "fn-new",
                "role": f"arn:aws:iam::{ACCT}:role/lambda-exec",
                "runtime": "python3.12",
            },
        ),
        ev(
            "ConsoleLogin",
            t + timedelta(minutes=13),
            "signin.amazonaws.com",
            iam_user(APP_USER, ""),
            resp={"ConsoleLogin": "Success"},
            eventType="AwsConsoleSignIn",
            region="us-east-1",
        ),
    ]
    recs += [
        ev(
            "GetObject",
            t + timedelta(minutes=1, seconds=i),
            "s3.amazonaws.com",
            app,
            category="Data",
            read_only=True,
            req={"bucketName": APP_BUCKET, "key": f"in/{i}.csv"},
            resources=obj(f"in/{i}.csv"),
        )
        for i in range(3)
    ]
    return recs


def coverage_records() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Background activity every hour in eu-west-1 (12 events an hour) and a never-used region.

    Returns (records both trails deliver, records only the organisation trail delivers): during
    GAP_HOURS_STOPPED the account trail is stopped; during GAP_HOURS_OTHER nothing is logged.
    """
    worker = assumed(f"arn:aws:iam::{ACCT}:role/worker", "i-0abc", "ASIAWORKEREXAMPLE001", DAY1)
    both: list[dict[str, Any]] = []
    org_only: list[dict[str, Any]] = []
    hour = DAY1
    while hour < DATA_END:
        if hour not in GAP_HOURS_OTHER:
            batch = [
                ev(
                    "DescribeInstances",
                    hour + timedelta(minutes=4 * i + 1),
                    "ec2.amazonaws.com",
                    worker,
                    ip="10.0.1.5",
                )
                for i in range(12)
            ]
            (org_only if hour in GAP_HOURS_STOPPED else both).extend(batch)
        hour += timedelta(hours=1)
    attacker = iam_user("svc-bd", BD_KEY)
    both += [
        ev(
            "RunInstances",
            RARE_T + timedelta(minutes=i),
            "ec2.amazonaws.com",
            attacker,
            region=RARE_REGION,
            ip=MALLORY_IP,
            req={"instanceType": "p3.16xlarge"},
        )
        for i in range(3)
    ]
    return both, org_only


def all_records() -> list[dict[str, Any]]:
    both, org_only = coverage_records()
    return trail_records() + trace_records() + policy_records() + both + org_only


def write_tree(root: Path, records: list[dict[str, Any]], *, per_file: int = 40, org_id: str | None = None) -> None:
    """AWSLogs files per account and region; records shuffled so events arrive out of order."""
    by_place: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rec in records:
        by_place.setdefault((rec["recipientAccountId"], rec["awsRegion"]), []).append(rec)
    rng = random.Random(11)
    for (account, region), recs in sorted(by_place.items()):
        recs = list(recs)
        rng.shuffle(recs)
        for i in range(0, len(recs), per_file):
            chunk = recs[i : i + per_file]
            delivered = DATA_END + timedelta(minutes=i // per_file)
            write_log(root, chunk, account=account, region=region, delivered=delivered, rng=rng, org_id=org_id)


def build_dataset(tmp: Path) -> Path:
    """Two delivery locations, as a responder syncs them: the account trail's bucket (everything but
    the background events logged while it was stopped) and the organisation trail's bucket (every
    record: ingest keeps one copy of each event, the other goes to `duplicates`)."""
    src, ds = tmp / "logs", tmp / "ds"
    both, org_only = coverage_records()
    account_trail = trail_records() + trace_records() + policy_records() + both
    write_tree(src / ACCOUNT_BUCKET, account_trail)
    write_tree(src / ORG_BUCKET, account_trail + org_only, org_id=ORG_ID)
    ingest([src], ds, IngestOptions(workers=1))
    return ds
