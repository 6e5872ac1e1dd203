"""Hand-made positive and negative fixtures for every built-in detection (used by tests/test_hunt.py).

Each ``Case`` is a handful of CloudTrail records built with ``ct.record`` plus the event ids the
detection must report (``hits``) and must not report (``quiet``: the near misses).  Every case
gets its own principal, access key, source address and a three-hour time slot, so that all the
cases can be ingested into one dataset and hunted once without seeing each other.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ct import iso, record

UTC = timezone.utc
ACCOUNT = "111122223333"  # the dataset's account: recipient of every fixture event
PARTNER = "444455556666"  # given to run_hunt as a known account
STRANGER = "999988887777"  # never a recipient, never known
EPOCH = datetime(2026, 1, 5, tzinfo=UTC)
SLOT = timedelta(hours=3)

CT = "cloudtrail.amazonaws.com"
S3 = "s3.amazonaws.com"
IAM = "iam.amazonaws.com"
EC2 = "ec2.amazonaws.com"
STS = "sts.amazonaws.com"
SIGNIN = "signin.amazonaws.com"
RDS = "rds.amazonaws.com"
KMS = "kms.amazonaws.com"
LAMBDA = "lambda.amazonaws.com"
SSM = "ssm.amazonaws.com"

HIT, QUIET = "hit", "quiet"


@dataclass
class Case:
    detection: str
    name: str
    records: list[dict[str, Any]] = field(default_factory=list)
    hits: list[str] = field(default_factory=list)
    quiet: list[str] = field(default_factory=list)
    severities: dict[str, str] = field(default_factory=dict)  # event id -> expected hit severity

    @property
    def id(self) -> str:
        return f"{self.detection}:{self.name}"


CASES: list[Case] = []
_numbers = itertools.count()


class Builder:
    """One case: ``ev(...)`` adds a record and returns its event id."""

    def __init__(self, detection: str, name: str) -> None:
        self.n = next(_numbers)
        self.case = Case(detection, name)
        CASES.append(self.case)
        self.t0 = EPOCH + self.n * SLOT
        self.user = f"user{self.n:03d}"
        self.key = f"AKIAFIXTURE{self.n:09d}"
        self.ip = f"198.18.{self.n // 200}.{self.n % 200 + 1}"
        self._k = 0

    # identities -------------------------------------------------------------------------
    def iam_user(self, name: str | None = None, key: str | None = None) -> dict[str, Any]:
        name = name or self.user
        return {
            "type": "IAMUser",
            "principalId": "AIDA" + name.upper().replace("-", "")[:16],
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
            "accountId": ACCOUNT,
            "accessKeyId": key or self.key,
            "userName": name,
        }

    def role(
        self,
        role: str = "AppRole",
        session: str | None = None,
        key: str | None = None,
        created: str | None = None,
        console: bool = False,
    ) -> dict[str, Any]:
        session = session or self.user
        ident: dict[str, Any] = {
            "type": "AssumedRole",
            "principalId": f"AROAFIXTURE{self.n:06d}:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
            "accountId": ACCOUNT,
            "accessKeyId": key or f"ASIAFIXTURE{self.n:09d}",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": f"AROAFIXTURE{self.n:06d}",
                    "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                    "accountId": ACCOUNT,
                    "userName": role,
                },
                "attributes": {"creationDate": created or iso(self.t0), "mfaAuthenticated": "false"},
            },
        }
        return ident

    def root(self) -> dict[str, Any]:
        return {
            "type": "Root",
            "principalId": ACCOUNT,
            "arn": f"arn:aws:iam::{ACCOUNT}:root",
            "accountId": ACCOUNT,
            "accessKeyId": f"ASIAROOT{self.n:012d}",
        }

    # events -----------------------------------------------------------------------------
    def ev(
        self,
        event_name: str,
        source: str,
        *,
        at: float = 0,
        mark: str | None = None,
        severity: str | None = None,
        ident: dict[str, Any] | None = None,
        rp: Any = None,
        resp: Any = None,
        error: str | None = None,
        ua: str | None = None,
        ip: str | None = None,
        region: str = "eu-west-1",
        **extra: Any,
    ) -> str:
        self._k += 1
        event_id = f"{self.case.detection}-{self.case.name}-{self._k}"
        fields: dict[str, Any] = {
            "userIdentity": ident or self.iam_user(),
            "requestParameters": rp,
            "responseElements": resp,
        }
        if error:
            fields["errorCode"] = error
            fields["errorMessage"] = f"{error} (fixture)"
        if ua:
            fields["userAgent"] = ua
        fields.update(extra)
        rec = record(
            event_name,
            self.t0 + timedelta(minutes=at),
            account=ACCOUNT,
            region=region,
            user=self.user,
            key=self.key,
            ip=ip or self.ip,
            source=source,
            event_id=event_id,
            **fields,
        )
        self.case.records.append(rec)
        if mark == HIT:
            self.case.hits.append(event_id)
            if severity:
                self.case.severities[event_id] = severity
        elif mark == QUIET:
            self.case.quiet.append(event_id)
        return event_id


def case(detection: str, name: str) -> Builder:
    return Builder(detection, name)


def policy(*statements: dict[str, Any], as_string: bool = True) -> Any:
    doc = {"Version": "2012-10-17", "Statement": list(statements)}
    return json.dumps(doc) if as_string else doc


def allow(principal: Any, action: Any = "sts:AssumeRole", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, **extra}


def signin(
    b: Builder,
    *,
    ok: bool,
    at: float,
    ident: dict[str, Any] | None = None,
    mfa: str = "No",
    ip: str | None = None,
    mark: str | None = None,
    severity: str | None = None,
) -> str:
    return b.ev(
        "ConsoleLogin",
        SIGNIN,
        at=at,
        mark=mark,
        severity=severity,
        ident=ident,
        ip=ip,
        resp={"ConsoleLogin": "Success" if ok else "Failure"},
        additionalEventData={
            "LoginTo": "https://console.aws.amazon.com/console/home",
            "MobileVersion": "No",
            "MFAUsed": mfa,
        },
        eventType="AwsConsoleSignIn",
        **({} if ok else {"errorMessage": "Failed authentication"}),
    )


def created_user(b: Builder, name: str | None = None, at: float = -1) -> str:
    """CreateUser of the case's user (or ``name``) by an administrator, with the new user's ARN in the response."""
    name = name or b.user
    return b.ev(
        "CreateUser",
        IAM,
        at=at,
        ident=b.iam_user(f"{b.user}-admin", key=f"AKIAADMIN{b.n:011d}"),
        rp={"userName": name},
        resp={"user": {"userName": name, "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}", "userId": "AIDANEW"}},
    )


HOURS_13 = 13 * 60  # more than min_history_hours (12) later


# 1. CloudTrail tampering ---------------------------------------------------------------------------
b = case("cloudtrail_tampering", "stop_and_delete")
b.ev("StopLogging", CT, rp={"name": "main-trail"}, mark=HIT)
b.ev("StopLogging", CT, at=1, rp={"name": "main-trail"}, error="AccessDenied", mark=QUIET)
b.ev("StartLogging", CT, at=2, rp={"name": "main-trail"}, mark=QUIET)
b.ev("DeleteTrail", CT, at=3, rp={"name": "main-trail"}, mark=HIT)
b.ev("GetTrailStatus", CT, at=4, rp={"name": "main-trail"}, mark=QUIET)

b = case("cloudtrail_tampering", "update_trail")
b.ev("UpdateTrail", CT, rp={"name": "org", "isMultiRegionTrail": False}, mark=HIT)
b.ev(
    "UpdateTrail",
    CT,
    at=1,
    rp={"name": "org", "isMultiRegionTrail": True, "includeGlobalServiceEvents": True},
    mark=QUIET,
)
b.ev(
    "UpdateTrail",
    CT,
    at=2,
    rp={"name": "org", "kmsKeyId": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/abc"},
    mark=QUIET,
)
b.ev(
    "UpdateTrail",
    CT,
    at=3,
    rp={"name": "org", "kmsKeyId": f"arn:aws:kms:eu-west-1:{STRANGER}:key/abc"},
    mark=HIT,
)

b = case("cloudtrail_tampering", "selectors")
b.ev(
    "PutEventSelectors",
    CT,
    rp={
        "trailName": "t",
        "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": False, "dataResources": []}],
    },
    mark=HIT,
)
b.ev(
    "PutEventSelectors",
    CT,
    at=1,
    rp={
        "trailName": "t",
        "eventSelectors": [
            {"readWriteType": "All", "includeManagementEvents": True, "dataResources": []},
            {
                "readWriteType": "All",
                "includeManagementEvents": True,
                "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}],
            },
        ],
    },
    mark=QUIET,
)
b.ev(
    "PutEventSelectors",
    CT,
    at=2,
    rp={
        "trailName": "t",
        "eventSelectors": [
            {"readWriteType": "All", "includeManagementEvents": True},
            {"readWriteType": "WriteOnly", "includeManagementEvents": True},
        ],
    },
    mark=HIT,
)
b.ev(
    "PutEventSelectors",
    CT,
    at=3,
    rp={
        "trailName": "t",
        "advancedEventSelectors": [
            {"name": "data only", "fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}]}
        ],
    },
    mark=HIT,
)
b.ev(
    "PutEventSelectors",
    CT,
    at=4,
    rp={
        "trailName": "t",
        "advancedEventSelectors": [
            {"name": "mgmt", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]}
        ],
    },
    mark=QUIET,
)

b = case("cloudtrail_tampering", "trail_bucket_lifecycle")
bucket = f"trail-logs-{b.n}"
b.ev("CreateTrail", CT, rp={"name": "t2", "s3BucketName": bucket}, mark=QUIET)
b.ev(
    "PutBucketLifecycle",
    S3,
    at=1,
    rp={
        "bucketName": bucket,
        "LifecycleConfiguration": {
            "Rule": {"ID": "nuke", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}
        },
    },
    mark=HIT,
)
b.ev(
    "PutBucketLifecycle",
    S3,
    at=2,
    rp={
        "bucketName": bucket,
        "LifecycleConfiguration": {
            "Rule": [
                {"ID": "keep", "Status": "Enabled", "Expiration": {"Days": 400}},
                {"ID": "off", "Status": "Disabled", "Expiration": {"Days": 1}},
            ]
        },
    },
    mark=QUIET,
)
b.ev(
    "PutBucketLifecycle",
    S3,
    at=3,
    rp={
        "bucketName": f"app-assets-{b.n}",
        "LifecycleConfiguration": {"Rule": {"ID": "tmp", "Status": "Enabled", "Expiration": {"Days": 1}}},
    },
    mark=QUIET,
)
b.ev(
    "PutBucketLifecycleConfiguration",
    S3,
    at=4,
    rp={
        "bucketName": bucket,
        "LifecycleConfiguration": {
            "Rule": [
                {"ID": "keep", "Status": "Enabled", "Expiration": {"Days": 400}},
                {"ID": "short", "Status": "Enabled", "Expiration": {"Days": 7}},
            ]
        },
    },
    mark=HIT,
)

b = case("cloudtrail_tampering", "log_files_and_new_trails")
log_key = f"AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/2026/01/05/{ACCOUNT}_CloudTrail_eu-west-1_20260105T0000Z"
b.ev("DeleteObject", S3, rp={"bucketName": "any-bucket", "key": log_key}, eventCategory="Data", mark=HIT)
b.ev(
    "DeleteObject",
    S3,
    at=1,
    rp={"bucketName": "any-bucket", "key": "tmp/x.json"},
    eventCategory="Data",
    mark=QUIET,
)
b.ev("CreateTrail", CT, at=2, rp={"name": f"s3-trail-{b.n}", "s3BucketName": f"s3-trail-bucket-{b.n}"})
data_only = [{"name": "w", "fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}]}]
b.ev(
    "PutEventSelectors",
    CT,
    at=3,
    rp={"trailName": f"s3-trail-{b.n}", "advancedEventSelectors": data_only},
    mark=QUIET,
)  # the set-up of a trail just created by the same principal
b.ev(
    "PutEventSelectors",
    CT,
    at=4,
    ident=b.iam_user(f"{b.user}-other"),
    rp={"trailName": f"s3-trail-{b.n}", "advancedEventSelectors": data_only},
    mark=HIT,
)

b = case("cloudtrail_tampering", "selector_exclusions")
b.ev(
    "PutEventSelectors",
    CT,
    rp={
        "trailName": "t",
        "eventSelectors": [
            {"readWriteType": "All", "includeManagementEvents": True, "excludeManagementEventSources": [KMS]}
        ],
    },
    mark=HIT,
)
mgmt = {"field": "eventCategory", "equals": ["Management"]}
for at, extra, mark in [
    (1, {"field": "eventSource", "notEquals": [KMS, "rdsdata.amazonaws.com"]}, HIT),
    (2, {"Field": "readOnly", "Equals": ["true"]}, HIT),  # the API's own capitalisation
    (3, {"field": "eventName", "notStartsWith": ["Describe"]}, HIT),
    (4, {"field": "eventSource", "equals": [IAM]}, HIT),
]:
    b.ev(
        "PutEventSelectors",
        CT,
        at=at,
        rp={"trailName": "t", "advancedEventSelectors": [{"name": "m", "fieldSelectors": [mgmt, extra]}]},
        mark=mark,
    )
b.ev(  # every management event plus S3 data events: nothing narrowed
    "PutEventSelectors",
    CT,
    at=5,
    rp={
        "trailName": "t",
        "advancedEventSelectors": [
            {"name": "m", "fieldSelectors": [mgmt]},
            {
                "name": "d",
                "fieldSelectors": [
                    {"field": "eventCategory", "equals": ["Data"]},
                    {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                    {"field": "readOnly", "equals": ["false"]},
                ],
            },
        ],
    },
    mark=QUIET,
)
b.ev("PutInsightSelectors", CT, at=6, rp={"trailName": "t", "insightSelectors": []}, mark=HIT)
b.ev(
    "PutInsightSelectors",
    CT,
    at=7,
    rp={"trailName": "t", "insightSelectors": [{"insightType": "ApiErrorRateInsight"}]},
    mark=QUIET,
)

# 2. Security monitoring disabled -------------------------------------------------------------------
b = case("security_monitoring_disabled", "guardduty")
GD = "guardduty.amazonaws.com"
b.ev("DeleteDetector", GD, rp={"detectorId": "d1"}, mark=HIT)
b.ev("UpdateDetector", GD, at=1, rp={"detectorId": "d1", "enable": False}, mark=HIT)
b.ev("UpdateDetector", GD, at=2, rp={"detectorId": "d1", "enable": True}, mark=QUIET)
b.ev("CreateFilter", GD, at=3, rp={"detectorId": "d1", "name": "hide", "action": "ARCHIVE"}, mark=HIT)
b.ev("CreateFilter", GD, at=4, rp={"detectorId": "d1", "name": "tag", "action": "NOOP"}, mark=QUIET)
b.ev("DeleteDetector", GD, at=5, rp={"detectorId": "d2"}, error="AccessDenied", mark=QUIET)

b = case("security_monitoring_disabled", "other_services")
b.ev("StopConfigurationRecorder", "config.amazonaws.com", rp={"configurationRecorderName": "default"}, mark=HIT)
b.ev("DescribeConfigurationRecorders", "config.amazonaws.com", at=1, mark=QUIET)
b.ev(
    "BatchUpdateFindings",
    "securityhub.amazonaws.com",
    at=2,
    rp={"FindingIdentifiers": [{"Id": "f1", "ProductArn": "p"}], "Workflow": {"Status": "SUPPRESSED"}},
    mark=HIT,
)
b.ev(
    "BatchUpdateFindings",
    "securityhub.amazonaws.com",
    at=3,
    rp={"FindingIdentifiers": [{"Id": "f2", "ProductArn": "p"}], "Workflow": {"Status": "RESOLVED"}},
    mark=QUIET,
)
b.ev("DisableSecurityHub", "securityhub.amazonaws.com", at=4, mark=HIT)
b.ev("Disable", "inspector2.amazonaws.com", at=5, rp={"resourceTypes": ["EC2", "ECR"]}, mark=HIT)
b.ev("DeleteAnalyzer", "access-analyzer.amazonaws.com", at=6, rp={"analyzerName": "org"}, mark=HIT)
b.ev("UpdateMacieSession", "macie2.amazonaws.com", at=7, rp={"status": "PAUSED"}, mark=HIT)
b.ev(
    "UpdateMacieSession",
    "macie2.amazonaws.com",
    at=8,
    rp={"findingPublishingFrequency": "SIX_HOURS"},
    mark=QUIET,
)

# 3. Other audit logs deleted -----------------------------------------------------------------------
b = case("audit_logs_deleted", "logs")
b.ev(
    "DeleteFlowLogs",
    EC2,
    rp={"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-1", "tag": 1}}},
    mark=HIT,
)
b.ev(
    "DeleteFlowLogs",
    EC2,
    at=1,
    rp={"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-2", "tag": 1}}},
    error="Client.UnauthorizedOperation",
    mark=QUIET,
)
b.ev(
    "PutRetentionPolicy",
    "logs.amazonaws.com",
    at=2,
    rp={"logGroupName": "/app", "retentionInDays": 1},
    mark=HIT,
)
b.ev(
    "PutRetentionPolicy",
    "logs.amazonaws.com",
    at=3,
    rp={"logGroupName": "/app", "retentionInDays": 30},
    mark=QUIET,
)
b.ev("DeleteLogGroup", "logs.amazonaws.com", at=4, rp={"logGroupName": "/aws/lambda/x"}, mark=HIT)
b.ev(
    "PutBucketLogging",
    S3,
    at=5,
    rp={"bucketName": "b", "BucketLoggingStatus": {"xmlns": "x"}, "logging": ""},
    mark=HIT,
)
b.ev(
    "PutBucketLogging",
    S3,
    at=6,
    rp={
        "bucketName": "b",
        "BucketLoggingStatus": {"LoggingEnabled": {"TargetBucket": "logs", "TargetPrefix": "b/"}},
    },
    mark=QUIET,
)
b.ev("PutBucketLogging", S3, at=7, rp={"bucketName": "b"}, mark=QUIET)
b.ev(
    "UpdateClusterConfig",
    "eks.amazonaws.com",
    at=8,
    rp={"name": "prod", "logging": {"clusterLogging": [{"types": ["api", "audit"], "enabled": False}]}},
    mark=HIT,
)
b.ev(
    "UpdateClusterConfig",
    "eks.amazonaws.com",
    at=9,
    rp={"name": "prod", "logging": {"clusterLogging": [{"types": ["api", "audit"], "enabled": True}]}},
    mark=QUIET,
)
b.ev(
    "ModifyLoadBalancerAttributes",
    "elasticloadbalancing.amazonaws.com",
    at=10,
    rp={"loadBalancerArn": "arn:lb", "attributes": [{"key": "access_logs.s3.enabled", "value": "false"}]},
    mark=HIT,
)
b.ev(
    "ModifyLoadBalancerAttributes",
    "elasticloadbalancing.amazonaws.com",
    at=11,
    rp={"loadBalancerArn": "arn:lb", "attributes": [{"key": "idle_timeout.timeout_seconds", "value": "60"}]},
    mark=QUIET,
)
b.ev("StopActivityStream", RDS, at=12, rp={"resourceArn": "arn:aws:rds:eu-west-1:1:cluster:c"}, mark=HIT)

# 4. Root account used ------------------------------------------------------------------------------
b = case("root_account_usage", "root")
signin(b, ok=True, at=0, ident=b.root(), mark=HIT, severity="critical")
signin(b, ok=False, at=1, ident=b.root(), mark=QUIET)
b.ev("ListBuckets", S3, at=2, ident=b.root(), mark=HIT, severity="medium")
b.ev("ListUsers", IAM, at=3, ident=b.root(), mark=QUIET)  # same day, key and address: grouped with ListBuckets
b.ev("CreateAccessKey", IAM, at=4, ident=b.root(), mark=HIT, severity="critical")
b.ev("AssumeRole", STS, at=5, ident=b.root(), eventType="AwsServiceEvent", mark=QUIET)
signin(b, ok=True, at=6, mark=QUIET)  # an IAM user

b = case("root_account_usage", "root_writes")
b.ev(
    "PutBucketVersioning",
    S3,
    ident=b.root(),
    readOnly=False,
    rp={"bucketName": "b", "VersioningConfiguration": {"Status": "Enabled"}},
    mark=HIT,
    severity="high",
)
b.ev("DeleteBucket", S3, at=1, ident=b.root(), error="AccessDenied", readOnly=False, mark=QUIET)

# 5. Console login without MFA ----------------------------------------------------------------------
b = case("console_login_without_mfa", "logins")
signin(b, ok=True, at=0, mark=HIT)
signin(b, ok=True, at=1, mfa="Yes", mark=QUIET)
signin(b, ok=False, at=2, mark=QUIET)
signin(b, ok=True, at=3, ident=b.role("AWSReservedSSO_Admin_1234", session="a@example.com"), mark=QUIET)
signin(b, ok=True, at=4, ident=b.root(), mark=HIT)

# 6. Brute force ------------------------------------------------------------------------------------
b = case("console_brute_force", "five_failures")
ids = [signin(b, ok=False, at=i) for i in range(6)]
b.case.quiet += ids[:4] + ids[5:]
b.case.hits.append(ids[4])

b = case("console_brute_force", "four_failures")
b.case.quiet += [signin(b, ok=False, at=i) for i in range(4)]

b = case("console_brute_force", "slow_failures")
b.case.quiet += [signin(b, ok=False, at=i * 30) for i in range(6)]

b = case("console_brute_force", "spray")
ids = [signin(b, ok=False, at=i, ident=b.iam_user(f"{b.user}-{i}")) for i in range(3)]
b.case.quiet += ids[:2]
b.case.hits.append(ids[2])

b = case("console_login_after_failures", "success_after_three")
b.case.quiet += [signin(b, ok=False, at=i) for i in range(3)]
signin(b, ok=True, at=10, mark=HIT)

b = case("console_login_after_failures", "success_after_two")
b.case.quiet += [signin(b, ok=False, at=i) for i in range(2)]
signin(b, ok=True, at=10, mark=QUIET)

b = case("console_login_after_failures", "success_much_later")
b.case.quiet += [signin(b, ok=False, at=i) for i in range(3)]
signin(b, ok=True, at=120, mark=QUIET)

# 7. Console access from API keys -------------------------------------------------------------------
b = case("console_access_from_api_keys", "new_habit")  # a known user starts minting federation tokens
b.ev("ListBuckets", S3, mark=QUIET)
b.ev("GetFederationToken", STS, at=HOURS_13, rp={"name": "portal", "policyArns": [{"arn": "arn:x/Reports"}]}, mark=HIT)
b.ev("GetFederationToken", STS, at=HOURS_13 + 5, rp={"name": "portal"}, mark=QUIET)
broker = b.iam_user(f"{b.user}-broker", key=f"AKIABROKER{b.n:010d}")  # its first call opens its history
b.ev("GetFederationToken", STS, at=1, ident=broker, rp={"name": "portal"}, mark=QUIET)
mfa_user = b.iam_user(f"{b.user}-dev", key=f"AKIADEV{b.n:013d}")
b.ev("GetSessionToken", STS, at=2, ident=mfa_user, rp={"serialNumber": "arn:aws:iam::1:mfa/dev"}, mark=QUIET)

b = case("console_access_from_api_keys", "tokens")
b.ev("GetSigninToken", SIGNIN, ident=b.role("Ops"), ua="python-requests/2.31.0", mark=HIT)
b.ev("GetSigninToken", SIGNIN, at=1, ident=b.role("Ops"), ua="Jersey/${project.version}", mark=QUIET)
b.ev(
    "GetFederationToken",
    STS,
    at=2,
    rp={"name": "x", "policyArns": [{"arn": "arn:aws:iam::aws:policy/AdministratorAccess"}]},
    mark=HIT,
)
b.ev("GetFederationToken", STS, at=3, ident=b.role("Ops"), rp={"name": "y"}, mark=QUIET)
b.ev("GetSessionToken", STS, at=4, mark=HIT)
b.ev("GetSessionToken", STS, at=5, mark=QUIET)
b.ev("GetSessionToken", STS, at=6, ident=b.iam_user(f"{b.user}-x"), error="AccessDenied", mark=QUIET)

# 8. Recon burst ------------------------------------------------------------------------------------
RECON = [
    ("GetCallerIdentity", STS),
    ("ListUsers", IAM),
    ("ListRoles", IAM),
    ("ListBuckets", S3),
    ("DescribeInstances", EC2),
    ("DescribeSecurityGroups", EC2),
    ("ListFunctions20150331", LAMBDA),
    ("DescribeDBInstances", RDS),
    ("ListSecrets", "secretsmanager.amazonaws.com"),
    ("GetAccountAuthorizationDetails", IAM),
    ("ListKeys", KMS),
]

b = case("recon_burst", "burst")
created_user(b)  # a user created in the dataset that starts enumerating
ids = [b.ev(n, s, at=i * 0.5, ua="Boto3/1.34.0") for i, (n, s) in enumerate(RECON[:10])]
b.case.quiet += ids[:9]
b.case.hits.append(ids[9])
b.case.severities[ids[9]] = "medium"
b.ev("ListKeys", KMS, at=6, mark=QUIET)  # same burst

b = case("recon_burst", "clients")
old_cli = "aws-cli/1.16.312 Python/2.7.18 Linux/5.10.0-kali7-amd64 botocore/1.13.48"
for burst, (start, ua, ip) in enumerate(
    [(0, None, None), (30, None, None), (HOURS_13, old_cli, "203.0.113.50"), (HOURS_13 + 30, old_cli, "203.0.113.50")]
):
    ids = [b.ev(n, s, at=start + i * 0.5, ua=ua, ip=ip) for i, (n, s) in enumerate(RECON[:10])]
    b.case.quiet += ids[:9]
    # the usual bursts (no history to judge them) and the second burst of the new client are not reported
    (b.case.hits if burst == 2 else b.case.quiet).append(ids[9])

b = case("recon_burst", "routine")  # the principal's usual address and client, 13 h into its history
b.ev("ListBuckets", S3, mark=QUIET)
ids = [b.ev(n, s, at=HOURS_13 + i * 0.5) for i, (n, s) in enumerate(RECON[:10])]
b.case.quiet += ids
ROUTINE_BURST = ids[9]

b = case("recon_burst", "new_address_only")  # a new address with the usual client is not enough
b.ev("ListBuckets", S3, mark=QUIET)
b.case.quiet += [b.ev(n, s, at=HOURS_13 + i * 0.5, ip="203.0.113.51") for i, (n, s) in enumerate(RECON[:10])]

b = case("recon_burst", "failures")
ids = [b.ev(n, s, at=i * 0.5, error="AccessDenied" if i % 3 == 0 else None) for i, (n, s) in enumerate(RECON[:10])]
b.case.quiet += ids[:9]
b.case.hits.append(ids[9])

b = case("recon_burst", "nine_calls")
created_user(b)
b.case.quiet += [b.ev(n, s, at=i * 0.5) for i, (n, s) in enumerate(RECON[:9])]

b = case("recon_burst", "service_principal")
svc = {"type": "AWSService", "invokedBy": "config.amazonaws.com"}
b.case.quiet += [b.ev(n, s, at=i * 0.5, ident=svc) for i, (n, s) in enumerate(RECON)]

b = case("recon_burst", "regions")
created_user(b)
ids = [
    b.ev("DescribeInstances", EC2, at=i, region=r)
    for i, r in enumerate(["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1"])
]
b.case.quiet += ids[:5]
b.case.hits.append(ids[5])

# 9. Access denied storm ----------------------------------------------------------------------------
DENIED = ["ListUsers", "ListRoles", "ListBuckets", "DescribeInstances", "ListSecrets"]
b = case("access_denied_storm", "storm")
ids = [b.ev(DENIED[i % 5], IAM, at=i * 0.3, error="AccessDenied") for i in range(10)]
b.case.quiet += ids[:9]
b.case.hits.append(ids[9])

b = case("access_denied_storm", "two_apis")
b.case.quiet += [b.ev(DENIED[i % 2], IAM, at=i * 0.3, error="AccessDenied") for i in range(12)]

b = case("access_denied_storm", "nine_denials")
b.case.quiet += [b.ev(DENIED[i % 5], IAM, at=i * 0.3, error="AccessDenied") for i in range(9)]

# 10. Offensive tooling user agents -----------------------------------------------------------------
b = case("offensive_tool_user_agent", "agents")
b.ev("GetCallerIdentity", STS, ua="TruffleHog", mark=HIT)
b.ev("ListBuckets", S3, at=1, ua="TruffleHog", mark=QUIET)  # same principal, key, agent and day
b.ev("ListUsers", IAM, at=2, ua="aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0-kali9-amd64 exe/x86_64", mark=HIT)
b.ev("ListUsers", IAM, at=3, ua="aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64", mark=QUIET)
b.ev("ListRoles", IAM, at=4, ua="Boto3/1.34.0 Python/3.12 Linux/6.5 Botocore/1.34.0", mark=QUIET)

# 11. Persistence via credentials -------------------------------------------------------------------
b = case("credentials_for_other_user", "keys_and_passwords")
b.ev(
    "CreateAccessKey",
    IAM,
    rp={"userName": "bob"},
    resp={"accessKey": {"accessKeyId": "AKIANEW", "userName": "bob"}},
    mark=HIT,
    severity="high",
)
b.ev("CreateAccessKey", IAM, at=1, rp={"userName": b.user}, mark=QUIET)
b.ev("CreateAccessKey", IAM, at=2, rp=None, mark=QUIET)
b.ev("CreateAccessKey", IAM, at=3, rp={"userName": "carol"}, error="LimitExceeded", mark=QUIET)
b.ev(
    "UpdateLoginProfile",
    IAM,
    at=4,
    rp={"userName": "bob", "passwordResetRequired": True},
    mark=HIT,
    severity="medium",
)
b.ev(
    "CreateLoginProfile",
    IAM,
    at=5,
    rp={"userName": "dave", "passwordResetRequired": False},
    mark=HIT,
    severity="high",
)
b.ev("UpdateLoginProfile", IAM, at=6, ident=b.role("IAM", session="erin"), rp={"userName": "erin"}, mark=QUIET)
b.ev("CreateAccessKey", IAM, at=7, ident=b.root(), rp={"userName": "frank"}, mark=HIT)

b = case("new_user_with_credentials", "create_then_key")
b.ev("CreateUser", IAM, rp={"userName": f"svc-{b.n}"}, mark=QUIET)
b.ev("CreateAccessKey", IAM, at=5, rp={"userName": f"svc-{b.n}"}, mark=HIT)
b.ev(
    "AttachUserPolicy",
    IAM,
    at=6,
    rp={"userName": f"svc-{b.n}", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    mark=QUIET,
)

b = case("new_user_with_credentials", "other_actor_or_late")
b.ev("CreateUser", IAM, rp={"userName": f"svc-{b.n}"})
b.ev(
    "CreateAccessKey",
    IAM,
    at=5,
    ident=b.iam_user(f"{b.user}-helpdesk"),
    rp={"userName": f"svc-{b.n}"},
    mark=QUIET,
)
b.ev("CreateLoginProfile", IAM, at=120, rp={"userName": f"svc-{b.n}"}, mark=QUIET)
b.ev("CreateUser", IAM, at=130, rp={"userName": f"svc2-{b.n}"}, error="EntityAlreadyExists")
b.ev("CreateAccessKey", IAM, at=131, rp={"userName": f"svc2-{b.n}"}, mark=QUIET)

# 12. Administrator privileges granted --------------------------------------------------------------
ADMIN_DOC = policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
b = case("admin_privileges_granted", "grants")
b.ev(
    "AttachRolePolicy",
    IAM,
    rp={"roleName": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    mark=HIT,
)
b.ev(
    "AttachRolePolicy",
    IAM,
    at=1,
    rp={"roleName": "r", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
    mark=QUIET,
)
b.ev("PutUserPolicy", IAM, at=2, rp={"userName": "u", "policyName": "p", "policyDocument": ADMIN_DOC}, mark=HIT)
b.ev(
    "PutUserPolicy",
    IAM,
    at=3,
    rp={
        "userName": "u",
        "policyName": "p",
        "policyDocument": policy({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}),
    },
    mark=QUIET,
)
b.ev(
    "PutRolePolicy",
    IAM,
    at=4,
    rp={
        "roleName": "r",
        "policyName": "p",
        "policyDocument": policy({"Effect": "Allow", "Action": ["iam:*", "s3:*"], "Resource": ["*"]}),
    },
    mark=HIT,
)
b.ev(
    "AttachUserPolicy",
    IAM,
    at=5,
    rp={"userName": "u", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    error="AccessDenied",
    mark=QUIET,
)

b = case("admin_privileges_granted", "custom_policies_and_groups")
custom = f"arn:aws:iam::{ACCOUNT}:policy/custom-{b.n}"
b.ev(
    "CreatePolicy",
    IAM,
    rp={"policyName": f"custom-{b.n}", "policyDocument": ADMIN_DOC},
    resp={"policy": {"arn": custom, "defaultVersionId": "v1"}},
    mark=QUIET,
)
b.ev("AttachUserPolicy", IAM, at=1, rp={"userName": "u", "policyArn": custom}, mark=HIT)
b.ev(
    "CreatePolicyVersion",
    IAM,
    at=2,
    rp={"policyArn": f"{custom}-b", "policyDocument": ADMIN_DOC, "setAsDefault": True},
    mark=HIT,
)
b.ev(
    "CreatePolicyVersion",
    IAM,
    at=3,
    rp={"policyArn": f"{custom}-c", "policyDocument": ADMIN_DOC, "setAsDefault": False},
    resp={"policyVersion": {"versionId": "v2"}},
    mark=QUIET,
)
b.ev("SetDefaultPolicyVersion", IAM, at=4, rp={"policyArn": f"{custom}-c", "versionId": "v2"}, mark=HIT)
b.ev(
    "AttachGroupPolicy",
    IAM,
    at=5,
    rp={"groupName": f"ops-{b.n}", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    mark=HIT,
)
b.ev("AddUserToGroup", IAM, at=6, rp={"groupName": f"ops-{b.n}", "userName": "u"}, mark=HIT)
b.ev("AddUserToGroup", IAM, at=7, rp={"groupName": f"readers-{b.n}", "userName": "u"}, mark=QUIET)
b.ev("AddUserToGroup", IAM, at=8, rp={"groupName": "Admins", "userName": "u"}, mark=HIT)

# 13. Role trust backdoor ---------------------------------------------------------------------------
b = case("role_trust_backdoor", "trust")
b.ev("UpdateAssumeRolePolicy", IAM, rp={"roleName": "r1", "policyDocument": policy(allow("*"))}, mark=HIT)
b.ev(
    "UpdateAssumeRolePolicy",
    IAM,
    at=1,
    rp={"roleName": "r1", "policyDocument": policy(allow({"AWS": f"arn:aws:iam::{STRANGER}:root"}))},
    mark=HIT,
)
b.ev(
    "UpdateAssumeRolePolicy",
    IAM,
    at=2,
    rp={"roleName": "r1", "policyDocument": policy(allow({"AWS": f"arn:aws:iam::{PARTNER}:root"}))},
    mark=QUIET,
)
b.ev(
    "UpdateAssumeRolePolicy",
    IAM,
    at=3,
    rp={
        "roleName": "r1",
        "policyDocument": policy(
            allow({"AWS": [f"arn:aws:iam::{ACCOUNT}:role/ci"]}), allow({"Service": "ec2.amazonaws.com"})
        ),
    },
    mark=QUIET,
)
b.ev(
    "CreateRole",
    IAM,
    at=4,
    rp={
        "roleName": "r2",
        "assumeRolePolicyDocument": policy(
            allow({"AWS": "*"}, Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})
        ),
    },
    mark=QUIET,
)
b.ev(
    "CreateRole",
    IAM,
    at=5,
    rp={
        "roleName": "r3",
        "assumeRolePolicyDocument": policy(allow({"AWS": "*"}, Condition={"StringEquals": {"sts:ExternalId": "123"}})),
    },
    mark=HIT,
)
b.ev(
    "UpdateAssumeRolePolicy",
    IAM,
    at=6,
    rp={"roleName": "r1", "policyDocument": policy(allow("*"))},
    error="MalformedPolicyDocument",
    mark=QUIET,
)

# 14. MFA tampering ---------------------------------------------------------------------------------
b = case("mfa_tampering", "mfa")
b.ev("DeactivateMFADevice", IAM, rp={"userName": b.user, "serialNumber": "arn:mfa/x"}, mark=HIT)
b.ev(
    "DeactivateMFADevice",
    IAM,
    at=1,
    rp={"userName": "bob", "serialNumber": "arn:mfa/y"},
    error="AccessDenied",
    mark=QUIET,
)
b.ev("EnableMFADevice", IAM, at=2, rp={"userName": "bob", "serialNumber": "arn:mfa/z"}, mark=HIT)
b.ev("EnableMFADevice", IAM, at=3, rp={"userName": b.user, "serialNumber": "arn:mfa/w"}, mark=QUIET)
b.ev(
    "CreateVirtualMFADevice",
    IAM,
    at=4,
    ident=b.iam_user(key=f"ASIAFIXTUREMFA{b.n:06d}"),
    rp={"virtualMFADeviceName": "x"},
    mark=HIT,
)
b.ev(
    "CreateVirtualMFADevice",
    IAM,
    at=5,
    ident=b.iam_user(key=f"ASIAFIXTUREMFA{b.n:06d}"),
    rp={"virtualMFADeviceName": "y"},
    sessionCredentialFromConsole="true",
    mark=QUIET,
)

# 15. Federation changes ----------------------------------------------------------------------------
b = case("federation_trust_changes", "providers")
b.ev("CreateSAMLProvider", IAM, rp={"name": "evil-idp", "sAMLMetadataDocument": "<x/>"}, mark=HIT)
b.ev("UpdateSAMLProvider", IAM, at=1, rp={"sAMLProviderArn": "arn:saml"}, error="AccessDenied", mark=QUIET)
b.ev("ListSAMLProviders", IAM, at=2, mark=QUIET)
b.ev("CreateTrustAnchor", "rolesanywhere.amazonaws.com", at=3, rp={"name": "anchor"}, mark=HIT)
sso_role = b.role("AWSServiceRoleForSSO", session="AWS-SSO")
sso_role["invokedBy"] = "sso.amazonaws.com"
b.ev("CreateSAMLProvider", IAM, at=4, ident=sso_role, rp={"name": "AWSSSO_abc_DO_NOT_DELETE"}, mark=QUIET)

# 16. Instance credentials used elsewhere -----------------------------------------------------------
b = case("instance_credentials_off_instance", "stolen")
inst = f"i-0abc{b.n:012x}"
me = b.role("WebRole", session=inst, created=iso(b.t0))
b.ev("DescribeInstances", EC2, ident=me, ip="3.250.1.10", mark=QUIET)
b.ev("GetObject", S3, at=1, ident=me, ip="10.0.1.5", mark=QUIET)
b.ev("ListBuckets", S3, at=5, ident=me, ip="45.33.32.156", mark=HIT)
b.ev("ListUsers", IAM, at=6, ident=me, ip="45.33.32.156", mark=QUIET)  # same address: grouped
b.ev("DescribeInstances", EC2, at=7, ident=me, ip="3.250.1.10", mark=QUIET)

b = case("instance_credentials_off_instance", "normal")
inst = f"i-0abc{b.n:012x}"
b.ev(
    "DescribeInstances",
    EC2,
    ident=b.role("WebRole", session=inst, created=iso(b.t0)),
    ip="3.250.2.10",
    mark=QUIET,
)
b.ev(
    "PutObject",
    S3,
    at=1,
    ident=b.role("WebRole", session=inst, created=iso(b.t0)),
    ip="172.31.5.9",
    mark=QUIET,
)
via = b.role("WebRole", session=inst, created=iso(b.t0))
via["invokedBy"] = "eks.amazonaws.com"
b.ev("DescribeInstances", EC2, at=2, ident=via, ip="eks.amazonaws.com", mark=QUIET)
later = b.role("WebRole", session=inst, created=iso(b.t0 + timedelta(hours=1)))  # new credentials, new address
b.ev("DescribeInstances", EC2, at=61, ident=later, ip="3.250.2.99", mark=QUIET)
b.ev("DescribeInstances", EC2, at=62, ident=b.role("WebRole", session="deploy"), ip="45.33.32.157", mark=QUIET)

# 17. Secrets harvesting ----------------------------------------------------------------------------
SM = "secretsmanager.amazonaws.com"
b = case("secrets_harvesting", "burst")
ids = [b.ev("GetSecretValue", SM, at=i * 0.2, rp={"secretId": f"prod/secret-{i}"}) for i in range(20)]
b.case.quiet += ids[:19]
b.case.hits.append(ids[19])

b = case("secrets_harvesting", "parameters")
b.ev("GetParameters", SSM, rp={"names": [f"/p/{i}" for i in range(10)], "withDecryption": True}, mark=QUIET)
b.ev(
    "GetParameters",
    SSM,
    at=1,
    rp={"names": [f"/p/{i}" for i in range(10, 20)], "withDecryption": True},
    mark=HIT,
)
b.ev(
    "GetParameters",
    SSM,
    at=2,
    ident=b.iam_user(f"{b.user}-plain"),
    rp={"names": [f"/q/{i}" for i in range(25)], "withDecryption": False},
    mark=QUIET,
)

b = case("secrets_harvesting", "few_secrets")
b.case.quiet += [b.ev("GetSecretValue", SM, at=i * 0.2, rp={"secretId": f"prod/secret-{i % 5}"}) for i in range(30)]

b = case("secrets_harvesting", "batch_catch_all")
b.ev(
    "BatchGetSecretValue",
    SM,
    rp={"filters": [{"key": "tag-key", "values": ["!nonexistent"]}]},
    mark=HIT,
    severity="high",
)
b.ev(
    "BatchGetSecretValue",
    SM,
    at=1,
    rp={"filters": [{"key": "tag-key", "values": ["!nonexistent"]}, {"key": "tag-key", "values": ["team"]}]},
    mark=QUIET,
)
b.ev("BatchGetSecretValue", SM, at=2, rp={"secretIdList": ["a", "b"]}, mark=QUIET)

# 18. EC2 user data ---------------------------------------------------------------------------------
b = case("ec2_user_data_modified", "modify")
b.ev("StopInstances", EC2, rp={"instancesSet": {"items": [{"instanceId": "i-1"}]}}, mark=QUIET)
b.ev(
    "ModifyInstanceAttribute",
    EC2,
    at=3,
    rp={"instanceId": "i-1", "userData": "<sensitiveDataRemoved>"},
    mark=HIT,
    severity="critical",
)
b.ev("StartInstances", EC2, at=4, rp={"instancesSet": {"items": [{"instanceId": "i-1"}]}}, mark=QUIET)
b.ev(
    "ModifyInstanceAttribute",
    EC2,
    at=5,
    rp={"instanceId": "i-2", "instanceType": {"value": "t3.large"}},
    mark=QUIET,
)
b.ev(
    "ModifyInstanceAttribute",
    EC2,
    at=6,
    rp={"instanceId": "i-3", "attribute": "userData", "value": "<sensitiveDataRemoved>"},
    mark=HIT,
    severity="high",
)
b.ev(
    "ModifyInstanceAttribute",
    EC2,
    at=7,
    rp={"instanceId": "i-4", "userData": "x"},
    error="IncorrectInstanceState",
    mark=QUIET,
)

b = case("ec2_user_data_harvested", "bulk")
ids = [
    b.ev("DescribeInstanceAttribute", EC2, at=i, rp={"instanceId": f"i-{i}", "attribute": "userData"}) for i in range(5)
]
b.case.quiet += ids[:4]
b.case.hits.append(ids[4])

b = case("ec2_user_data_harvested", "few_or_other_attribute")
b.case.quiet += [
    b.ev("DescribeInstanceAttribute", EC2, at=i, rp={"instanceId": f"i-{i}", "attribute": "userData"}) for i in range(4)
]
b.case.quiet += [
    b.ev(
        "DescribeInstanceAttribute",
        EC2,
        at=5 + i,
        rp={"instanceId": f"i-{i + 10}", "attribute": "instanceType"},
    )
    for i in range(6)
]

# 19. Remote access to instances --------------------------------------------------------------------
b = case("remote_instance_access", "ssm")
b.ev("DescribeInstances", EC2, at=-49 * 60)  # active more than two days before: a baseline
b.ev("SendCommand", SSM, rp={"documentName": "AWS-RunShellScript", "instanceIds": ["i-1"]}, mark=HIT)
b.ev("SendCommand", SSM, at=1, rp={"documentName": "AWS-RunShellScript", "instanceIds": ["i-2"]}, mark=QUIET)
b.ev(
    "SendCommand",
    SSM,
    at=2,
    rp={"documentName": "AWS-RunShellScript", "instanceIds": [f"i-{i}" for i in range(12)]},
    mark=HIT,
)
b.ev("StartSession", SSM, at=3, rp={"target": "i-1"}, mark=HIT)
b.ev("EnableSerialConsoleAccess", EC2, at=4, mark=HIT)

b = case("remote_instance_access", "no_baseline_or_service")
b.ev("SendCommand", SSM, rp={"documentName": "AWS-RunPatchBaseline", "instanceIds": ["i-1"]}, mark=QUIET)
svc_ident = b.iam_user(f"{b.user}-sm")
svc_ident["invokedBy"] = "ssm.amazonaws.com"
b.ev("SendCommand", SSM, at=1, ident=svc_ident, rp={"instanceIds": [f"i-{i}" for i in range(20)]}, mark=QUIET)

b = case("remote_instance_access", "instance_connect")
ids = [
    b.ev(
        "SendSSHPublicKey",
        "ec2-instance-connect.amazonaws.com",
        at=i,
        rp={"instanceId": f"i-{i}", "instanceOSUser": "ec2-user"},
    )
    for i in range(2)
]
b.case.quiet.append(ids[0])
b.case.hits.append(ids[1])
b.ev(
    "SendSSHPublicKey",
    "ec2-instance-connect.amazonaws.com",
    at=3,
    ident=b.iam_user(f"{b.user}-one"),
    rp={"instanceId": "i-9"},
    mark=QUIET,
)

# 20. Lambda backdoor -------------------------------------------------------------------------------
b = case("lambda_backdoor", "permissions_and_layers")
b.ev(
    "AddPermission20150331v2",
    LAMBDA,
    rp={"functionName": "f", "principal": "*", "action": "lambda:InvokeFunction"},
    mark=HIT,
)
b.ev(
    "AddPermission20150331v2",
    LAMBDA,
    at=1,
    rp={"functionName": "f", "principal": "s3.amazonaws.com"},
    mark=QUIET,
)
b.ev("AddPermission20150331v2", LAMBDA, at=2, rp={"functionName": "f", "principal": STRANGER}, mark=HIT)
b.ev(
    "AddPermission20150331v2",
    LAMBDA,
    at=3,
    rp={"functionName": "f", "principal": f"arn:aws:iam::{PARTNER}:root"},
    mark=QUIET,
)
b.ev("CreateFunctionUrlConfig20211031", LAMBDA, at=4, rp={"functionName": "f", "authType": "NONE"}, mark=HIT)
b.ev(
    "CreateFunctionUrlConfig20211031",
    LAMBDA,
    at=5,
    rp={"functionName": "g", "authType": "AWS_IAM"},
    mark=QUIET,
)
b.ev(
    "UpdateFunctionConfiguration20150331v2",
    LAMBDA,
    at=6,
    rp={"functionName": "f", "layers": [f"arn:aws:lambda:eu-west-1:{STRANGER}:layer:ext:1"]},
    mark=HIT,
)
b.ev(
    "UpdateFunctionConfiguration20150331v2",
    LAMBDA,
    at=7,
    rp={"functionName": "f", "layers": [f"arn:aws:lambda:eu-west-1:{ACCOUNT}:layer:ours:3"]},
    mark=QUIET,
)

b = case("lambda_code_changed_by_user", "code")
b.ev("UpdateFunctionCode20150331v2", LAMBDA, rp={"functionName": "f"}, mark=HIT)
b.ev(
    "UpdateFunctionCode20150331v2",
    LAMBDA,
    at=1,
    ident=b.role("deploy-pipeline", session="codebuild"),
    rp={"functionName": "f"},
    mark=QUIET,
)
b.ev(
    "UpdateFunctionCode20150331v2",
    LAMBDA,
    at=2,
    ident=b.role("AWSReservedSSO_Dev_abc", session="dev@example.com"),
    rp={"functionName": "f"},
    mark=HIT,
)
b.ev("UpdateFunctionConfiguration20150331v2", LAMBDA, at=3, rp={"functionName": "f", "timeout": 30}, mark=QUIET)
b.ev(
    "UpdateFunctionConfiguration20150331v2",
    LAMBDA,
    at=4,
    rp={"functionName": "f"},
    resp={"functionName": "f", "layers": [{"arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:layer:l:1"}]},
    mark=HIT,
)

# 21. Snapshots and images shared -------------------------------------------------------------------
b = case("snapshot_or_image_shared", "ebs_and_ami")
b.ev(
    "ModifySnapshotAttribute",
    EC2,
    rp={
        "snapshotId": "snap-1",
        "attributeType": "CREATE_VOLUME_PERMISSION",
        "createVolumePermission": {"add": {"items": [{"group": "all"}]}},
    },
    mark=HIT,
)
b.ev(
    "ModifySnapshotAttribute",
    EC2,
    at=1,
    rp={"snapshotId": "snap-1", "createVolumePermission": {"add": {"items": [{"userId": STRANGER}]}}},
    mark=HIT,
)
b.ev(
    "ModifySnapshotAttribute",
    EC2,
    at=2,
    rp={
        "snapshotId": "snap-1",
        "createVolumePermission": {"add": {"items": [{"userId": PARTNER}, {"userId": ACCOUNT}]}},
    },
    mark=QUIET,
)
b.ev(
    "ModifySnapshotAttribute",
    EC2,
    at=3,
    rp={"snapshotId": "snap-1", "createVolumePermission": {"remove": {"items": [{"group": "all"}]}}},
    mark=QUIET,
)
b.ev(
    "ModifyImageAttribute",
    EC2,
    at=4,
    rp={"imageId": "ami-1", "launchPermission": {"add": {"items": [{"group": "all"}]}}},
    mark=HIT,
)

b = case("snapshot_or_image_shared", "rds")
b.ev(
    "ModifyDBSnapshotAttribute",
    RDS,
    rp={"dBSnapshotIdentifier": "s", "attributeName": "restore", "valuesToAdd": [STRANGER]},
    mark=HIT,
)
b.ev(
    "ModifyDBSnapshotAttribute",
    RDS,
    at=1,
    rp={"dBSnapshotIdentifier": "s", "attributeName": "restore", "valuesToAdd": []},
    mark=QUIET,
)
b.ev(
    "ModifyDBClusterSnapshotAttribute",
    RDS,
    at=2,
    rp={"dBClusterSnapshotIdentifier": "s", "attributeName": "restore", "valuesToAdd": ["all"]},
    mark=HIT,
)
b.ev(
    "CopyDBSnapshot",
    RDS,
    at=3,
    region="eu-west-1",
    rp={
        "sourceDBSnapshotIdentifier": f"arn:aws:rds:us-east-1:{ACCOUNT}:snapshot:s",
        "targetDBSnapshotIdentifier": "c",
        "sourceRegion": "us-east-1",
    },
    mark=HIT,
)
b.ev(
    "CopyDBSnapshot",
    RDS,
    at=4,
    rp={"sourceDBSnapshotIdentifier": "s", "targetDBSnapshotIdentifier": "c2"},
    mark=QUIET,
)
b.ev("StartExportTask", RDS, at=5, rp={"sourceArn": "arn:snap", "s3BucketName": "export"}, mark=HIT)
b.ev(
    "StartExportTask",
    RDS,
    at=6,
    rp={"sourceArn": "arn:snap", "s3BucketName": "export"},
    error="AccessDenied",
    mark=QUIET,
)

# 22. S3 exposure -----------------------------------------------------------------------------------
b = case("s3_bucket_exposed", "policies_and_acls")
b.ev(
    "PutBucketPolicy",
    S3,
    rp={
        "bucketName": "b",
        "bucketPolicy": policy(allow({"AWS": "*"}, "s3:GetObject", Resource="arn:aws:s3:::b/*"), as_string=False),
    },
    mark=HIT,
)
b.ev(
    "PutBucketPolicy",
    S3,
    at=1,
    rp={
        "bucketName": "b",
        "bucketPolicy": policy(
            allow("*", "s3:GetObject", Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}}),
            as_string=False,
        ),
    },
    mark=QUIET,
)
b.ev(
    "PutBucketPolicy",
    S3,
    at=2,
    rp={
        "bucketName": "b",
        "bucketPolicy": policy(allow({"AWS": [f"arn:aws:iam::{STRANGER}:root"]}, "s3:*"), as_string=False),
    },
    mark=HIT,
)
b.ev(
    "PutBucketAcl",
    S3,
    at=3,
    rp={
        "bucketName": "b",
        "AccessControlPolicy": {
            "AccessControlList": {
                "Grant": [
                    {
                        "Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                        "Permission": "READ",
                    }
                ]
            }
        },
    },
    mark=HIT,
)
b.ev("PutBucketAcl", S3, at=4, rp={"bucketName": "b", "x-amz-acl": ["private"]}, mark=QUIET)
b.ev("PutBucketAcl", S3, at=5, rp={"bucketName": "b", "x-amz-acl": ["public-read"]}, mark=HIT)

b = case("s3_bucket_exposed", "public_access_block_and_replication")
b.ev("DeleteBucketPublicAccessBlock", S3, rp={"bucketName": "b"}, mark=HIT)
b.ev(
    "PutBucketPublicAccessBlock",
    S3,
    at=1,
    rp={
        "bucketName": "b",
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    },
    mark=QUIET,
)
b.ev(
    "PutBucketPublicAccessBlock",
    S3,
    at=2,
    rp={
        "bucketName": "b",
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    },
    mark=HIT,
)
b.ev(
    "PutBucketReplication",
    S3,
    at=3,
    rp={
        "bucketName": "b",
        "ReplicationConfiguration": {
            "Rule": [{"Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::x", "Account": STRANGER}}]
        },
    },
    mark=HIT,
)
b.ev(
    "PutBucketReplication",
    S3,
    at=4,
    rp={
        "bucketName": "b",
        "ReplicationConfiguration": {
            "Rule": [{"Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::y", "Account": ACCOUNT}}]
        },
    },
    mark=QUIET,
)
b.ev("DeleteBucketPublicAccessBlock", S3, at=5, rp={"bucketName": "b"}, error="AccessDenied", mark=QUIET)

b = case("resource_policy_public", "policies")
b.ev(
    "SetQueueAttributes",
    "sqs.amazonaws.com",
    rp={"queueUrl": "https://sqs/q", "attributes": {"Policy": policy(allow("*", "sqs:SendMessage"))}},
    mark=HIT,
)
b.ev(
    "PutKeyPolicy",
    KMS,
    at=1,
    rp={"keyId": "k", "policy": policy(allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "kms:*"))},
    mark=QUIET,
)
b.ev(
    "SetRepositoryPolicy",
    "ecr.amazonaws.com",
    at=2,
    rp={"repositoryName": "r", "policyText": policy(allow("*", ["ecr:BatchGetImage"]))},
    mark=HIT,
)
b.ev(
    "SetTopicAttributes",
    "sns.amazonaws.com",
    at=3,
    rp={
        "topicArn": "arn:t",
        "attributeName": "Policy",
        "attributeValue": policy(allow({"AWS": f"arn:aws:iam::{STRANGER}:root"}, "SNS:Publish")),
    },
    mark=HIT,
)
b.ev(
    "PutResourcePolicy",
    SM,
    at=4,
    rp={
        "secretId": "s",
        "resourcePolicy": policy(
            allow(
                "*",
                "secretsmanager:GetSecretValue",
                Condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}},
            )
        ),
    },
    mark=QUIET,
)

# 23. Network exposure ------------------------------------------------------------------------------


def ingress(*perms: tuple[str, int | None, int | None, list[str], list[str]]) -> dict[str, Any]:
    items = []
    for proto, lo, hi, v4, v6 in perms:
        item: dict[str, Any] = {
            "ipProtocol": proto,
            "groups": {},
            "prefixListIds": {},
            "ipRanges": {"items": [{"cidrIp": c} for c in v4]} if v4 else {},
            "ipv6Ranges": {"items": [{"cidrIpv6": c} for c in v6]} if v6 else {},
        }
        if lo is not None:
            item["fromPort"], item["toPort"] = lo, hi
        items.append(item)
    return {"groupId": "sg-1", "ipPermissions": {"items": items}}


b = case("network_exposure_opened", "security_groups")
b.ev(
    "AuthorizeSecurityGroupIngress",
    EC2,
    rp=ingress(("tcp", 22, 22, ["0.0.0.0/0"], [])),
    mark=HIT,
    severity="high",
)
b.ev(
    "AuthorizeSecurityGroupIngress",
    EC2,
    at=1,
    rp=ingress(("tcp", 443, 443, ["0.0.0.0/0"], [])),
    mark=HIT,
    severity="medium",
)
b.ev("AuthorizeSecurityGroupIngress", EC2, at=2, rp=ingress(("tcp", 22, 22, ["10.0.0.0/8"], [])), mark=QUIET)
b.ev(
    "AuthorizeSecurityGroupIngress",
    EC2,
    at=3,
    rp=ingress(("-1", None, None, [], ["::/0"])),
    mark=HIT,
    severity="high",
)
b.ev(
    "AuthorizeSecurityGroupIngress",
    EC2,
    at=4,
    rp=ingress(("tcp", 3389, 3389, ["10.0.0.0/8"], []), ("tcp", 80, 80, ["192.168.0.0/16", "0.0.0.0/0"], [])),
    mark=HIT,
    severity="medium",
)
b.ev(
    "AuthorizeSecurityGroupIngress",
    EC2,
    at=5,
    rp=ingress(("tcp", 5000, 6000, ["0.0.0.0/0"], [])),
    mark=HIT,
    severity="high",
)  # the range covers 5432
b.ev(
    "AuthorizeSecurityGroupIngress",
    EC2,
    at=6,
    rp=ingress(("tcp", 22, 22, ["0.0.0.0/0"], [])),
    error="InvalidPermission.Duplicate",
    mark=QUIET,
)

b = case("network_exposure_opened", "acl_route_rds")
b.ev(
    "CreateNetworkAclEntry",
    EC2,
    rp={
        "networkAclId": "acl-1",
        "ruleNumber": 10,
        "egress": False,
        "ruleAction": "allow",
        "aclProtocol": "6",
        "cidrBlock": "0.0.0.0/0",
        "portRange": {"from": 22, "to": 22},
    },
    mark=HIT,
    severity="medium",
)
b.ev(
    "CreateNetworkAclEntry",
    EC2,
    at=1,
    rp={
        "networkAclId": "acl-1",
        "ruleNumber": 11,
        "egress": True,
        "ruleAction": "allow",
        "aclProtocol": "-1",
        "cidrBlock": "0.0.0.0/0",
    },
    mark=QUIET,
)
b.ev(
    "CreateNetworkAclEntry",
    EC2,
    at=2,
    rp={
        "networkAclId": "acl-1",
        "ruleNumber": 12,
        "egress": False,
        "ruleAction": "deny",
        "aclProtocol": "-1",
        "cidrBlock": "0.0.0.0/0",
    },
    mark=QUIET,
)
b.ev(
    "CreateRoute",
    EC2,
    at=3,
    rp={"routeTableId": "rtb-1", "destinationCidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"},
    mark=HIT,
    severity="low",
)
b.ev(
    "CreateRoute",
    EC2,
    at=4,
    rp={"routeTableId": "rtb-1", "destinationCidrBlock": "0.0.0.0/0", "natGatewayId": "nat-1"},
    mark=QUIET,
)
b.ev(
    "ModifyDBInstance",
    RDS,
    at=5,
    rp={"dBInstanceIdentifier": "db", "publiclyAccessible": True},
    mark=HIT,
    severity="high",
)
b.ev("ModifyDBInstance", RDS, at=6, rp={"dBInstanceIdentifier": "db", "publiclyAccessible": False}, mark=QUIET)

# 24. Ransomware / destruction ----------------------------------------------------------------------
b = case("recovery_inhibition", "s3")
b.ev(
    "PutBucketVersioning",
    S3,
    rp={"bucketName": "b", "VersioningConfiguration": {"Status": "Suspended"}},
    mark=HIT,
)
b.ev(
    "PutBucketVersioning",
    S3,
    at=1,
    rp={"bucketName": "b", "VersioningConfiguration": {"Status": "Enabled"}},
    mark=QUIET,
)
b.ev("DeleteBucketEncryption", S3, at=2, rp={"bucketName": "b"}, mark=HIT, severity="medium")
b.ev(
    "PutBucketEncryption",
    S3,
    at=3,
    rp={
        "bucketName": "b",
        "ServerSideEncryptionConfiguration": {
            "Rule": {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        },
    },
    mark=QUIET,
)
b.ev(
    "PutBucketEncryption",
    S3,
    at=4,
    rp={
        "bucketName": "b",
        "ServerSideEncryptionConfiguration": {
            "Rule": {
                "ApplyServerSideEncryptionByDefault": {
                    "SSEAlgorithm": "aws:kms",
                    "KMSMasterKeyID": f"arn:aws:kms:eu-west-1:{STRANGER}:key/x",
                }
            }
        },
    },
    mark=HIT,
    severity="high",
)
b.ev(
    "PutBucketLifecycleConfiguration",
    S3,
    at=5,
    rp={
        "bucketName": "b",
        "LifecycleConfiguration": {"Rule": [{"ID": "x", "Status": "Enabled", "Expiration": {"Days": 1}}]},
    },
    mark=HIT,
    severity="medium",
)
b.ev(
    "PutBucketLifecycleConfiguration",
    S3,
    at=6,
    rp={
        "bucketName": "b",
        "LifecycleConfiguration": {"Rule": [{"ID": "x", "Status": "Enabled", "Expiration": {"Days": 30}}]},
    },
    mark=QUIET,
)

b = case("recovery_inhibition", "keys_backups_databases")
b.ev("ScheduleKeyDeletion", KMS, rp={"keyId": "k", "pendingWindowInDays": 7}, mark=HIT)
b.ev("DescribeKey", KMS, at=1, rp={"keyId": "k"}, mark=QUIET)
b.ev(
    "DeleteRecoveryPoint",
    "backup.amazonaws.com",
    at=2,
    rp={"backupVaultName": "v", "recoveryPointArn": "arn:rp"},
    mark=HIT,
)
b.ev("ModifyDBInstance", RDS, at=3, rp={"dBInstanceIdentifier": "db", "backupRetentionPeriod": 0}, mark=HIT)
b.ev("ModifyDBInstance", RDS, at=4, rp={"dBInstanceIdentifier": "db", "backupRetentionPeriod": 7}, mark=QUIET)
b.ev(
    "DeleteDBInstance",
    RDS,
    at=5,
    rp={"dBInstanceIdentifier": "db", "skipFinalSnapshot": True},
    mark=HIT,
    severity="high",
)
b.ev("ScheduleKeyDeletion", KMS, at=6, rp={"keyId": "k2"}, error="KMSInvalidStateException", mark=QUIET)

b = case("s3_data_destruction", "mass_delete")
ids = [
    b.ev("DeleteObject", S3, at=i * 0.1, rp={"bucketName": "b", "key": f"k{i}"}, eventCategory="Data")
    for i in range(50)
]
b.case.quiet += ids[:49]
b.case.hits.append(ids[49])

b = case("s3_data_destruction", "few_deletes")
b.case.quiet += [
    b.ev("DeleteObject", S3, at=i * 0.1, rp={"bucketName": "b", "key": f"k{i}"}, eventCategory="Data")
    for i in range(49)
]

b = case("s3_data_destruction", "ssec_and_notes")
b.ev(
    "CopyObject",
    S3,
    rp={"bucketName": "b", "key": "a.db", "x-amz-server-side-encryption-customer-algorithm": "AES256"},
    eventCategory="Data",
    mark=HIT,
)
b.ev(
    "CopyObject",
    S3,
    at=1,
    rp={"bucketName": "b", "key": "b.db", "x-amz-server-side-encryption-customer-algorithm": "AES256"},
    eventCategory="Data",
    mark=QUIET,
)
b.ev("PutObject", S3, at=2, rp={"bucketName": "b", "key": "reports/q1.pdf"}, eventCategory="Data", mark=QUIET)
b.ev(
    "PutObject",
    S3,
    at=3,
    rp={"bucketName": "b", "key": "docs/HOW_TO_DECRYPT_FILES.txt"},
    eventCategory="Data",
    mark=HIT,
)
b.ev(
    "PutObject",
    S3,
    at=4,
    rp={"bucketName": "b", "key": "docs/Ransom-Note.txt"},
    eventCategory="Data",
    error="AccessDenied",
    mark=QUIET,
)

# 25. Resource hijacking ----------------------------------------------------------------------------


def run(itype: str, count: int = 1) -> dict[str, Any]:
    return {
        "instanceType": itype,
        "instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1, "maxCount": count}]},
    }


b = case("compute_hijacking", "instances")
b.ev("DescribeInstances", EC2, ident=b.iam_user(f"{b.user}-ops"), region="eu-west-1")  # the region is in use
b.ev("RunInstances", EC2, at=1, rp=run("p4d.24xlarge"), region="eu-west-1", mark=HIT, severity="medium")
b.ev("RunInstances", EC2, at=2, rp=run("t3.micro"), region="eu-west-1", mark=QUIET)
b.ev("RunInstances", EC2, at=3, rp=run("t3.micro", 20), region="eu-west-1", mark=HIT, severity="medium")
b.ev(  # an attempt that hit a capacity or quota limit is reported as well
    "RunInstances",
    EC2,
    at=4,
    rp=run("g5.xlarge"),
    region="eu-west-1",
    error="InsufficientInstanceCapacity",
    mark=HIT,
    severity="medium",
)
b.ev("RunInstances", EC2, at=5, rp=run("p3.16xlarge", 10), error="Client.UnauthorizedOperation", mark=QUIET)
b.ev("RunInstances", EC2, at=6, rp=run("t3.micro"), error="Client.VcpuLimitExceeded", mark=QUIET)

b = case("compute_hijacking", "failed_in_new_region")
b.ev("DescribeImages", EC2, region="ap-east-1")
b.ev(
    "RunInstances",
    EC2,
    at=1,
    rp=run("p3.16xlarge", 10),
    region="ap-east-1",
    error="Client.VcpuLimitExceeded",
    mark=HIT,
    severity="high",
)

b = case("compute_hijacking", "new_region")
b.ev("DescribeImages", EC2, region="ap-southeast-3")
b.ev("RunInstances", EC2, at=5, rp=run("g5.2xlarge"), region="ap-southeast-3", mark=HIT, severity="high")

b = case("compute_hijacking", "region_used_by_others")
b.ev("DescribeVpcs", EC2, ident=b.iam_user(f"{b.user}-ops"), region="sa-east-1")
b.ev("RunInstances", EC2, at=5, rp=run("t3.small"), region="sa-east-1", mark=QUIET)

SES = "ses.amazonaws.com"
b = case("ses_abuse", "enumeration")
b.ev("GetSendQuota", SES, mark=QUIET)
b.ev("GetAccountSendingEnabled", SES, at=5, mark=QUIET)
b.ev("ListIdentities", SES, at=10, mark=HIT)
b.ev("UpdateAccountSendingEnabled", SES, at=11, rp={"enabled": True}, mark=HIT)

b = case("ses_abuse", "benign")
b.ev("GetSendQuota", SES, mark=QUIET)
b.ev("GetSendQuota", SES, at=5, mark=QUIET)
b.ev("ListIdentities", SES, at=10, mark=QUIET)
ta = b.role("AWSServiceRoleForTrustedAdvisor", session="TrustedAdvisor_1")
b.case.quiet += [
    b.ev(n, SES, at=20 + i, ident=ta)
    for i, n in enumerate(["GetSendQuota", "GetAccountSendingEnabled", "ListIdentities"])
]
b.ev("UpdateAccountSendingEnabled", SES, at=30, rp={"enabled": False}, mark=QUIET)

BR = "bedrock.amazonaws.com"
b = case("bedrock_llmjacking", "sweep_and_first_use")
b.ev("GetFoundationModelAvailability", BR, region="us-east-1", mark=QUIET)
b.ev("GetFoundationModelAvailability", BR, at=1, region="us-west-2", mark=QUIET)
b.ev("GetFoundationModelAvailability", BR, at=2, region="eu-central-1", mark=HIT, severity="high")
b.ev("PutUseCaseForModelAccess", BR, at=3, region="us-east-1", mark=HIT, severity="medium")
b.ev("ListBuckets", S3, at=-49 * 60)  # two days of history before the first invocation
b.ev(
    "InvokeModel",
    BR,
    at=4,
    region="us-east-1",
    rp={"modelId": "anthropic.claude-3-sonnet"},
    mark=HIT,
    severity="medium",
)
b.ev("InvokeModel", BR, at=5, region="us-east-1", rp={"modelId": "anthropic.claude-3-sonnet"}, mark=QUIET)

b = case("bedrock_llmjacking", "benign")
b.ev("ListFoundationModels", BR, region="us-east-1", mark=QUIET)
b.ev("ListFoundationModels", BR, at=1, region="us-west-2", mark=QUIET)
b.ev("InvokeModel", BR, at=2, region="us-east-1", rp={"modelId": "amazon.titan"}, mark=QUIET)  # no history

# Notable changes -----------------------------------------------------------------------------------
ORG = "organizations.amazonaws.com"
b = case("leave_organization", "leave")
b.ev("LeaveOrganization", ORG, mark=HIT)
b.ev("LeaveOrganization", ORG, at=1, error="AccessDenied", mark=HIT)
b.ev("DescribeOrganization", ORG, at=2, mark=QUIET)

b = case("region_enabled", "regions")
b.ev("EnableRegion", "account.amazonaws.com", rp={"RegionName": "me-central-1"}, mark=HIT)
b.ev(
    "EnableRegion",
    "account.amazonaws.com",
    at=1,
    rp={"RegionName": "me-south-1"},
    error="AccessDenied",
    mark=QUIET,
)
b.ev("ListRegions", "account.amazonaws.com", at=2, mark=QUIET)

R53D = "route53domains.amazonaws.com"
b = case("domain_transfer", "domains")
b.ev("DisableDomainTransferLock", R53D, rp={"domainName": "example.com"}, mark=HIT)
b.ev(
    "TransferDomainToAnotherAwsAccount",
    R53D,
    at=1,
    rp={"domainName": "example.com", "accountId": STRANGER},
    mark=HIT,
)
b.ev("EnableDomainTransferLock", R53D, at=2, rp={"domainName": "example.com"}, mark=QUIET)


def caller_from(account: str, n: int) -> dict[str, Any]:
    return {"type": "AWSAccount", "principalId": f"AIDAEXTERNAL{n}", "accountId": account}


b = case("cross_account_assume_role", "assume")
role_arn = f"arn:aws:iam::{ACCOUNT}:role/vendor-{b.n}"
b.ev(
    "AssumeRole",
    STS,
    ident=caller_from(STRANGER, b.n),
    rp={"roleArn": role_arn, "roleSessionName": "x"},
    mark=HIT,
)
b.ev(
    "AssumeRole",
    STS,
    at=1,
    ident=caller_from(STRANGER, b.n),
    rp={"roleArn": role_arn, "roleSessionName": "y"},
    mark=QUIET,
)
b.ev("AssumeRole", STS, at=2, ident=caller_from(PARTNER, b.n), rp={"roleArn": role_arn}, mark=QUIET)
b.ev("AssumeRole", STS, at=3, rp={"roleArn": role_arn}, mark=QUIET)  # same account
b.ev(
    "AssumeRole",
    STS,
    at=4,
    ident={"type": "AWSService", "invokedBy": "lambda.amazonaws.com"},
    rp={"roleArn": role_arn},
    mark=QUIET,
)
b.ev(
    "AssumeRole",
    STS,
    at=5,
    ident=caller_from(STRANGER, b.n),
    rp={"roleArn": role_arn + "-b"},
    error="AccessDenied",
    mark=QUIET,
)

b = case("eks_admin_access_granted", "policies")
b.ev(
    "AssociateAccessPolicy",
    "eks.amazonaws.com",
    rp={
        "name": "prod",
        "principalArn": f"arn:aws:iam::{ACCOUNT}:user/x",
        "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    },
    mark=HIT,
)
b.ev(
    "AssociateAccessPolicy",
    "eks.amazonaws.com",
    at=1,
    rp={
        "name": "prod",
        "principalArn": f"arn:aws:iam::{ACCOUNT}:user/y",
        "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
    },
    mark=QUIET,
)


# S3 mass download ---------------------------------------------------------------------------------
def get_object(b: Builder, i: int, *, error: str | None = None, nbytes: int = 1000, **kw: Any) -> str:
    return b.ev(
        "GetObject",
        S3,
        at=i * 0.02,
        error=error,
        eventCategory="Data",
        managementEvent=False,
        readOnly=True,
        rp={"bucketName": "exports", "key": f"part-{i:04d}.csv"},
        additionalEventData={"bytesTransferredOut": nbytes},
        **kw,
    )


b = case("s3_mass_download", "burst")
ids = [get_object(b, i) for i in range(120)]
b.case.quiet += ids[:99] + ids[100:]  # one hit: the 100th object; the rest of the day is the same burst
b.case.hits.append(ids[99])

b = case("s3_mass_download", "two_bursts")  # one hit per burst; a pause longer than the window ends a burst
first = [get_object(b, i) for i in range(130)]
second = [get_object(b, 2000 + i) for i in range(100)]  # 40 min later
b.case.quiet += first[:99] + first[100:] + second[:99]
b.case.hits += [first[99], second[99]]
TWO_BURSTS = (first[99], second[99])

b = case("s3_mass_download", "big_objects")
ids = [get_object(b, i, nbytes=300_000_000) for i in range(4)]
b.case.quiet += ids[:3]
b.case.hits.append(ids[3])

b = case("s3_mass_download", "below_threshold")
b.case.quiet += [get_object(b, i) for i in range(99)]

b = case("s3_mass_download", "denied_reads")
b.case.quiet += [get_object(b, i, error="AccessDenied") for i in range(150)]

b = case("s3_mass_download", "service_principal")
svc = {"type": "AWSService", "invokedBy": "s3.amazonaws.com"}
b.case.quiet += [get_object(b, i, ident=svc) for i in range(150)]

# Long-term key used from a new address with a new client --------------------------------------------
OLD_UA = "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64"
NEW_UA = "Boto3/1.26.0 Python/3.9.2 Linux/5.15 Botocore/1.29.0"
b = case("access_key_new_source", "new_ip_and_client")
b.ev("ListBuckets", S3, ua=OLD_UA, ip="81.2.69.160", mark=QUIET)
b.ev("ListBuckets", S3, at=13 * 60, ua=OLD_UA, ip="81.2.69.160", mark=QUIET)
b.ev("GetCallerIdentity", STS, at=14 * 60, ua=NEW_UA, ip="185.220.101.47", mark=HIT)
b.ev("ListUsers", IAM, at=14 * 60 + 1, ua=NEW_UA, ip="185.220.101.47", mark=QUIET)

b = case("access_key_new_source", "new_ip_same_client")
b.ev("ListBuckets", S3, ua=OLD_UA, ip="81.2.69.161", mark=QUIET)
b.ev("ListBuckets", S3, at=14 * 60, ua=OLD_UA, ip="203.0.113.9", mark=QUIET)

b = case("access_key_new_source", "no_history")
b.ev("ListBuckets", S3, ua=OLD_UA, ip="81.2.69.162", mark=QUIET)
b.ev("ListBuckets", S3, at=60, ua=NEW_UA, ip="203.0.113.10", mark=QUIET)

b = case("access_key_new_source", "temporary_key")
role = b.role()
b.ev("ListBuckets", S3, ua=OLD_UA, ip="81.2.69.163", ident=role, mark=QUIET)
b.ev("ListBuckets", S3, at=14 * 60, ua=NEW_UA, ip="203.0.113.11", ident=role, mark=QUIET)


def kms_put(b: Builder, account: str, at: float, mark: str, severity: str | None = None) -> str:
    return b.ev(
        "PutObject",
        S3,
        at=at,
        rp={
            "bucketName": "b",
            "key": f"data-{at}.db",
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id": f"arn:aws:kms:eu-west-1:{account}:key/k",
        },
        eventCategory="Data",
        mark=mark,
        severity=severity,
    )


b = case("s3_data_destruction", "foreign_kms_key")
kms_put(b, STRANGER, 0, HIT, "high")  # the attacker's key
kms_put(b, STRANGER, 1, QUIET)  # same principal and bucket: counted in the first hit
kms_put(b, ACCOUNT, 2, QUIET)

b = case("s3_data_destruction", "partner_kms_key")
kms_put(b, PARTNER, 0, HIT, "medium")

# Role chaining ----------------------------------------------------------------------------------------


def assume(
    b: Builder,
    role: str,
    session: str,
    new_key: str,
    *,
    at: float,
    ident: dict[str, Any],
    mark: str | None = None,
    severity: str | None = None,
    **kw: Any,
) -> str:
    return b.ev(
        "AssumeRole",
        STS,
        at=at,
        ident=ident,
        rp={"roleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "roleSessionName": session},
        resp={
            "credentials": {"accessKeyId": new_key, "expiration": "x", "sessionToken": "x"},
            "assumedRoleUser": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"},
        },
        mark=mark,
        severity=severity,
        **kw,
    )


b = case("role_chaining", "new_origin")  # a user created in the dataset hops through two roles
created_user(b)
k1, k2 = f"ASIACHAINA{b.n:010d}", f"ASIACHAINB{b.n:010d}"
assume(b, f"Deploy{b.n}", "sync", k1, at=1, ident=b.iam_user(), mark=QUIET)  # one role: not a chain
assume(
    b, f"DataAdmin{b.n}", "exporter", k2, at=2, ident=b.role(f"Deploy{b.n}", "sync", key=k1), mark=HIT, severity="high"
)

b = case("role_chaining", "new_path")  # an established role assumes a role it never assumed before
k1, k2, k3 = (f"ASIAPATH{c}{b.n:011d}" for c in "ABC")
b.ev("ListBuckets", S3, ident=b.role(f"Hub{b.n}", "early", key=f"ASIAEARLY{b.n:011d}"), mark=QUIET)
assume(b, f"Hub{b.n}", "ci", k1, at=HOURS_13, ident=b.iam_user(), mark=QUIET)
assume(
    b, f"Target{b.n}", "t1", k2, at=HOURS_13 + 1, ident=b.role(f"Hub{b.n}", "ci", key=k1), mark=HIT, severity="medium"
)
assume(b, f"Target{b.n}", "t2", k3, at=HOURS_13 + 2, ident=b.role(f"Hub{b.n}", "ci", key=k1), mark=QUIET)  # path seen

b = case("role_chaining", "routine")  # a chain with no history to judge it: not reported
k1, k2 = f"ASIAROUTA{b.n:011d}", f"ASIAROUTB{b.n:011d}"
assume(b, f"Hub{b.n}", "ci", k1, at=0, ident=b.iam_user(), mark=QUIET)
assume(b, f"Target{b.n}", "t", k2, at=1, ident=b.role(f"Hub{b.n}", "ci", key=k1), mark=QUIET)
svc_session = b.role(f"Hub{b.n}", "svc", key=f"ASIASVC{b.n:013d}")
svc_session["invokedBy"] = "lambda.amazonaws.com"
assume(b, f"Other{b.n}", "o", f"ASIAOTHER{b.n:011d}", at=2, ident=svc_session, mark=QUIET)

# First use of a region -------------------------------------------------------------------------------
b = case("region_first_use", "regions")
b.ev("DescribeVpcs", EC2, region="me-central-1", mark=HIT, severity="medium")
b.ev("CreateSecurityGroup", EC2, at=1, region="me-central-1", readOnly=False, mark=QUIET)
b.ev("DescribeInstances", EC2, at=2, region="il-central-1", mark=HIT, severity="low")  # reads only
b.ev("DescribeInstances", EC2, at=3, region="eu-west-1", mark=QUIET)  # in use since the dataset started
b.ev(  # AWS services alone in a region are not someone working there
    "AssumeRole",
    STS,
    at=4,
    region="mx-central-1",
    ident={"type": "AWSService", "invokedBy": "ec2.amazonaws.com"},
    mark=QUIET,
)
young = "210987650000"  # an account whose history is too short to tell a new region
b.ev("DescribeInstances", EC2, at=5, region="eu-west-1", recipientAccountId=young, mark=QUIET)
b.ev("DescribeInstances", EC2, at=65, region="ca-west-1", recipientAccountId=young, mark=QUIET)

# EC2 key pairs ---------------------------------------------------------------------------------------
b = case("ec2_key_pair_unusual", "new_principal_and_region")
created_user(b)
b.ev("ImportKeyPair", EC2, region="ap-south-2", rp={"keyName": "k"}, mark=HIT, severity="high")
b.ev("ImportKeyPair", EC2, at=1, region="eu-west-1", rp={"keyName": "k"}, mark=HIT, severity="medium")
b.ev("CreateKeyPair", EC2, at=2, region="ap-south-2", rp={"keyName": "k2"}, error="AccessDenied", mark=QUIET)

b = case("ec2_key_pair_unusual", "established_principal")
b.ev("DescribeInstances", EC2, at=-25 * 60, mark=QUIET)  # a day of history
b.ev("CreateKeyPair", EC2, rp={"keyName": "ops"}, mark=QUIET)
b.ev("CreateKeyPair", EC2, at=1, region="ap-southeast-4", rp={"keyName": "ops"}, mark=HIT, severity="medium")

# CloudTrail Insights --------------------------------------------------------------------------------


def insight(b: Builder, kind: str, state: str, at: float, shared: str, mark: str, severity: str | None = None) -> None:
    event_id = f"{b.case.detection}-{b.case.name}-i{len(b.case.records)}"
    stats: dict[str, Any] = {"baseline": {"average": 0.01}, "insight": {"average": 2.5}}
    if state == "End":
        stats.update(insightDuration=3, baselineDuration=10080)
    b.case.records.append(
        {
            "eventVersion": "1.08",
            "eventTime": iso(b.t0 + timedelta(minutes=at)),
            "awsRegion": "us-east-1",
            "eventID": event_id,
            "eventType": "AwsCloudTrailInsight",
            "recipientAccountId": ACCOUNT,
            "sharedEventID": shared,
            "insightDetails": {
                "state": state,
                "eventSource": IAM,
                "eventName": "ListAccessKeys",
                "insightType": kind,
                "insightContext": {
                    "statistics": stats,
                    "attributions": [
                        {
                            "attribute": "userIdentityArn",
                            "insight": [{"value": f"arn:aws:iam::{ACCOUNT}:user/{b.user}", "average": 2.5}],
                            "baseline": [],
                        },
                        {"attribute": "errorCode", "insight": [{"value": "AccessDenied", "average": 2.5}]},
                    ],
                },
            },
            "eventCategory": "Insight",
        }
    )
    (b.case.hits if mark == HIT else b.case.quiet).append(event_id)
    if severity:
        b.case.severities[event_id] = severity


b = case("cloudtrail_insight", "insights")
insight(b, "ApiErrorRateInsight", "Start", 0, f"shared-a-{b.n}", HIT, "medium")
insight(b, "ApiErrorRateInsight", "End", 3, f"shared-a-{b.n}", QUIET)  # the same insight
insight(b, "ApiCallRateInsight", "End", 10, f"shared-b-{b.n}", HIT, "low")  # its Start is missing
b.ev("ListAccessKeys", IAM, at=1, mark=QUIET)  # not an insight

# GetAccountAuthorizationDetails ---------------------------------------------------------------------
b = case("iam_configuration_dump", "dumps")
b.ev("GetAccountAuthorizationDetails", IAM, mark=HIT)
b.ev("GetAccountAuthorizationDetails", IAM, at=60, mark=QUIET)  # same principal and client
b.ev("GetAccountAuthorizationDetails", IAM, at=61, ua="Boto3/1.26.0 Python/3.9", error="AccessDenied", mark=HIT)
b.ev(
    "GetAccountAuthorizationDetails",
    IAM,
    at=62,
    ident={"type": "AWSService", "invokedBy": "access-analyzer.amazonaws.com"},
    mark=QUIET,
)
b.ev("GetAccountSummary", IAM, at=63, mark=QUIET)

# Leaked-key quarantine -------------------------------------------------------------------------------
b = case("access_key_quarantined", "quarantine")
quarantine = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"
b.ev("AttachUserPolicy", IAM, rp={"userName": "ci", "policyArn": quarantine}, mark=HIT)
b.ev(
    "AttachUserPolicy",
    IAM,
    at=1,
    rp={"userName": "ci", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
    mark=QUIET,
)
b.ev(
    "PutUserPolicy",
    IAM,
    at=2,
    rp={"userName": "ci", "policyName": "AWSExposedCredentialPolicy_DO_NOT_REMOVE", "policyDocument": "{}"},
    mark=HIT,
)
b.ev("DetachUserPolicy", IAM, at=3, rp={"userName": "ci", "policyArn": quarantine}, mark=HIT)
b.ev("DetachUserPolicy", IAM, at=4, rp={"userName": "ci", "policyArn": quarantine}, error="AccessDenied", mark=QUIET)

# Traffic mirroring ------------------------------------------------------------------------------------
b = case("traffic_mirroring", "mirroring")
b.ev(
    "CreateTrafficMirrorSession",
    EC2,
    rp={"CreateTrafficMirrorSessionRequest": {"NetworkInterfaceId": "eni-1", "TrafficMirrorTargetId": "tmt-1"}},
    mark=HIT,
    severity="medium",
)
b.ev("DeleteTrafficMirrorSession", EC2, at=1, rp={"TrafficMirrorSessionId": "tms-1"}, mark=HIT, severity="low")
b.ev("CreateTrafficMirrorTarget", EC2, at=2, error="Client.UnauthorizedOperation", mark=HIT, severity="low")
b.ev("DescribeTrafficMirrorSessions", EC2, at=3, mark=QUIET)
b.ev(
    "CreateTrafficMirrorFilter",
    EC2,
    at=4,
    ident={"type": "AWSService", "invokedBy": "cloudformation.amazonaws.com"},
    mark=QUIET,
)

# EBS encryption -------------------------------------------------------------------------------------------
b = case("ebs_encryption_disabled", "ebs")
b.ev("DisableEbsEncryptionByDefault", EC2, rp={"DisableEbsEncryptionByDefaultRequest": ""}, mark=HIT, severity="medium")
b.ev("EnableEbsEncryptionByDefault", EC2, at=1, mark=QUIET)
b.ev("DisableEbsEncryptionByDefault", EC2, at=2, error="Client.UnauthorizedOperation", mark=QUIET)
b.ev(
    "ModifyEbsDefaultKmsKeyId",
    EC2,
    at=3,
    rp={"ModifyEbsDefaultKmsKeyIdRequest": {"KmsKeyId": f"arn:aws:kms:eu-west-1:{STRANGER}:key/x"}},
    mark=HIT,
    severity="high",
)
b.ev(
    "ModifyEbsDefaultKmsKeyId",
    EC2,
    at=4,
    rp={"ModifyEbsDefaultKmsKeyIdRequest": {"KmsKeyId": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/x"}},
    mark=QUIET,
)

# Failed root sign-in ------------------------------------------------------------------------------------
b = case("root_console_login_failed", "failures")
signin(b, ok=False, at=0, ident=b.root(), mark=HIT, severity="medium")
ids = [signin(b, ok=False, at=10 + 11 * i, ident=b.root(), ip="203.0.113.77") for i in range(5)]  # within 60 min
b.case.hits.append(ids[0])
b.case.severities[ids[0]] = "high"
b.case.quiet += ids[1:]
signin(b, ok=False, at=20, mark=QUIET)  # an IAM user

# S3 objects copied to another account's bucket --------------------------------------------------------


def copy_object(b: Builder, at: float, dest_account: str, mark: str, severity: str | None = None) -> str:
    return b.ev(
        "CopyObject",
        S3,
        at=at,
        rp={"bucketName": f"dest-{dest_account}", "key": "db.csv", "x-amz-copy-source": "exports/db.csv"},
        resources=[
            {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::exports/db.csv"},
            {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::exports"},
            {"accountId": dest_account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::dest-{dest_account}"},
        ],
        eventCategory="Data",
        mark=mark,
        severity=severity,
    )


b = case("s3_copy_to_external_account", "copies")
copy_object(b, 0, STRANGER, HIT, "high")
copy_object(b, 1, STRANGER, QUIET)  # the same day: counted in the first hit
copy_object(b, 2, PARTNER, HIT, "low")
copy_object(b, 3, ACCOUNT, QUIET)


def all_records() -> list[dict[str, Any]]:
    return [r for c in CASES for r in c.records]
