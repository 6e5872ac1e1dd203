"""KMS, Secrets Manager, SSM, GuardDuty, Security Hub, Config, CloudTrail and ACM."""

from __future__ import annotations

from typing import Any

from trailforensics.generate.services.base import JSON, Out, Service, res


def _key(g: Any, region: str) -> tuple[str, str]:
    kid = g.r.pick(g.res.keys)[0]
    return kid, f"arn:aws:kms:{region}:{g.aid}:key/{kid}"


def _secret_arn(g: Any, region: str, name: str) -> str:
    return f"arn:aws:secretsmanager:{region}:{g.aid}:secret:{name}-{g.r.alnum(6)}"


def kms_crypto(op: str) -> Any:
    def build(g: Any, region: str, a: Any) -> Out:
        _, arn = _key(g, region)
        req: JSON
        if op == "GenerateDataKey":
            req = {
                "keyId": arn,
                "encryptionContext": {"aws:s3:arn": f"arn:aws:s3:::{g.r.pick(g.res.buckets)}"},
                "keySpec": "AES_256",
            }
        elif op == "Decrypt":
            ctx = {
                "SecretARN": _secret_arn(g, region, g.r.pick(g.res.secrets)),
                "SecretVersionId": g.r.uuid(),
            }
            req = {"encryptionContext": ctx, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
        else:
            req = {
                "keyId": arn,
                "encryptionContext": {"app": g.r.pick(g.res.ecs_services)},
                "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
            }
        return req, None, [res("AWS::KMS::Key", arn, g.aid)], None

    return build


def _key_op(extra: JSON | None = None, by_id: bool = False) -> Any:
    def build(g: Any, region: str, a: Any) -> Out:
        kid, arn = _key(g, region)
        return (
            {"keyId": kid if by_id else arn, **(extra or {})},
            None,
            [res("AWS::KMS::Key", arn, g.aid)],
            None,
        )

    return build


KMS = Service("kms", errors=("denied", "notfound_kms", "throttle"))
KMS.read("Decrypt", "app:5 lambda:5 data:1", out=kms_crypto("Decrypt"), err=0.5, vpce=True)
KMS.read("GenerateDataKey", "app:2 lambda:2", out=kms_crypto("GenerateDataKey"), err=0.3, vpce=True)
KMS.read("Encrypt", "app:1 lambda:1", out=kms_crypto("Encrypt"), err=0.3, vpce=True)
KMS.read("DescribeKey", "ci:3 admin:1 ro:1 svc:2", out=_key_op())
KMS.read("ListAliases", "admin:1 ro:1 ci:1", {"limit": 100})
KMS.read("ListKeys", "sec:1 svc:1 admin:0.5", {"limit": 1000})
KMS.read("GetKeyPolicy", "ci:2 svc:1 sec:0.5", out=_key_op({"policyName": "default"}))
KMS.read("GetKeyRotationStatus", "ci:2 svc:2", out=_key_op(by_id=True))
for _n in ("CreateKey", "CreateAlias", "PutKeyPolicy"):
    KMS.write(_n)


def _secret(g: Any, region: str) -> tuple[str, str]:
    name = g.r.pick(g.res.secrets)
    return name, _secret_arn(g, region, name)


def _put_secret(g: Any, region: str, a: Any) -> Out:
    name, arn = _secret(g, region)
    req = {
        "secretId": arn,
        "clientRequestToken": g.r.uuid(),
        "secretString": "HIDDEN_DUE_TO_SECURITY_REASONS",
    }
    return (
        req,
        {"aRN": arn, "name": name, "versionId": g.r.uuid(), "versionStages": ["AWSPENDING"]},
        None,
        None,
    )


SM = Service("secretsmanager", version="1.09", errors=("denied", "notfound_sm", "throttle"))
SM.read(
    "GetSecretValue",
    "app:3 lambda:4 ci:0.5 dev:0.3",
    lambda g, rg: {"secretId": g.r.pick(g.res.secrets) if g.r.chance(0.6) else _secret(g, rg)[1]},
    err=0.6,
    vpce=True,
)
SM.read("DescribeSecret", "ci:2 admin:1 ro:0.5 svc:1", lambda g, rg: {"secretId": _secret(g, rg)[1]})
SM.read(
    "ListSecrets",
    "admin:1 ro:1 svc:0.5 dev:0.2",
    lambda g, rg: {"maxResults": 100} if g.r.chance(0.5) else None,
)
SM.read("GetResourcePolicy", "ci:1 svc:0.5", lambda g, rg: {"secretId": _secret(g, rg)[1]})
SM.write("PutSecretValue", "lambda:0.1", out=_put_secret)


def _param(g: Any) -> str:
    return str(g.r.pick(g.res.params))


def _update_instance_info(g: Any, region: str, a: Any) -> Out:
    iid = str(a.ident.get("principalId", ":i-0")).split(":")[-1]
    req = {
        "instanceId": iid,
        "agentVersion": "3.3.1142.0",
        "agentStatus": "Active",
        "platformType": "Linux",
        "platformName": "Amazon Linux",
        "platformVersion": "2023",
        "iPAddress": a.ip,
        "computerName": f"ip-{a.ip.replace('.', '-')}.{region}.compute.internal",
        "agentName": "amazon-ssm-agent",
        "availabilityZone": region + "a",
        "availabilityZoneId": region[:3] + "1-az1",
    }
    return req, None, None, None


def _send_command(g: Any, region: str, a: Any) -> Out:
    iid = g.r.pick(g.acct.instances).id if g.acct.instances else g.r.ec2_id("i")
    req = {
        "instanceIds": [iid],
        "documentName": "AWS-RunPatchBaseline",
        "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS",
        "interactive": False,
    }
    cmd = {"commandId": g.r.uuid(), "documentName": "AWS-RunPatchBaseline", "status": "Pending"}
    return req, {"command": cmd}, None, None


SSM = Service("ssm", errors=("denied_exc", "notfound_ssm", "throttle"))
SSM.read(
    "GetParameter",
    "app:3 lambda:2 ci:2 dev:1",
    lambda g, rg: {"name": _param(g), "withDecryption": g.r.chance(0.5)},
    err=0.8,
    vpce=True,
)
SSM.read(
    "GetParameters",
    "app:2 lambda:1 ci:1",
    lambda g, rg: {"names": g.r.sample(g.res.params, 2), "withDecryption": True},
    vpce=True,
)
SSM.read(
    "GetParametersByPath",
    "app:1 ci:1",
    lambda g, rg: {
        "path": f"/{g.res.env}/{g.r.pick(g.res.ecs_services).split('-')[0]}/",
        "recursive": True,
        "withDecryption": True,
        "maxResults": 10,
    },
    vpce=True,
)
SSM.read("DescribeParameters", "admin:0.5 ro:0.5 ci:1", {"maxResults": 50})
SSM.write("UpdateInstanceInformation", "app:2", out=_update_instance_info, errors=(), vpce=True)
SSM.read(
    "DescribeInstanceInformation",
    "admin:1 ro:1 svc:1",
    {"maxResults": 50, "filters": [{"key": "PingStatus", "values": ["Online"]}]},
)
SSM.write("SendCommand", "admin:0.2 svc:0.3", out=_send_command)
SSM.read("ListCommandInvocations", "admin:0.3", lambda g, rg: {"commandId": g.r.uuid(), "details": True})
SSM.write(
    "PutParameter",
    "ci:0.4",
    out=lambda g, rg, a: (
        {
            "name": _param(g),
            "type": "SecureString",
            "overwrite": True,
            "value": "HIDDEN_DUE_TO_SECURITY_REASONS",
        },
        {"version": g.r.randint(2, 40), "tier": "Standard"},
        None,
        None,
    ),
)

_DET = "a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1"
GD = Service("guardduty", errors=("denied_exc",))
GD.read("ListDetectors", "sec:2 svc:1 admin:0.3")
GD.read("GetDetector", "sec:1 svc:1", {"detectorId": _DET})
GD.read(
    "ListFindings",
    "sec:2",
    {
        "detectorId": _DET,
        "maxResults": 50,
        "findingCriteria": {"criterion": {"service.archived": {"eq": ["false"]}}},
    },
)
GD.read("GetFindings", "sec:1", lambda g, rg: {"detectorId": _DET, "findingIds": [g.r.hexs(32) for _ in range(3)]})


def _import_findings(g: Any, region: str, a: Any) -> Out:
    finding = {
        "id": f"arn:aws:securityhub:{region}:{g.aid}:finding/{g.r.uuid()}",
        "productArn": f"arn:aws:securityhub:{region}::product/aws/guardduty",
    }
    return {"findings": [finding]}, {"failedCount": 0, "successCount": 1, "failedFindings": []}, None, None


def _update_findings(g: Any, region: str, a: Any) -> Out:
    ident = {"id": g.r.uuid(), "productArn": f"arn:aws:securityhub:{region}::product/aws/securityhub"}
    req = {"findingIdentifiers": [ident], "workflow": {"status": "RESOLVED"}}
    return req, {"processedFindings": [], "unprocessedFindings": []}, None, None


SH = Service("securityhub", errors=("denied_exc", "throttle"))
SH.read(
    "GetFindings",
    "sec:3 admin:0.2",
    {
        "maxResults": 100,
        "filters": {
            "RecordState": [{"value": "ACTIVE", "comparison": "EQUALS"}],
            "SeverityLabel": [{"value": "HIGH", "comparison": "EQUALS"}],
        },
    },
)
SH.read("DescribeHub", "sec:0.5 svc:0.5")
SH.read("GetEnabledStandards", "sec:0.5 svc:0.5")
SH.write("BatchImportFindings", "svc:2", out=_import_findings)
SH.write("BatchUpdateFindings", "sec:0.5", out=_update_findings)


def _put_evaluations(g: Any, region: str, a: Any) -> Out:
    ev = {
        "complianceResourceType": "AWS::S3::Bucket",
        "complianceResourceId": g.r.pick(g.res.buckets),
        "complianceType": "COMPLIANT",
        "orderingTimestamp": g.java(True),
    }
    return (
        {"evaluations": [ev], "resultToken": "HIDDEN_DUE_TO_SECURITY_REASONS"},
        {"failedEvaluations": []},
        None,
        None,
    )


CF = Service("config", errors=("denied_exc",))
CF.read("DescribeConfigurationRecorders", "sec:0.5 svc:0.3 ci:0.5")
CF.read("DescribeConfigRules", "sec:1 ci:0.5", {"configRuleNames": []})
CF.read("DescribeDeliveryChannels", "sec:0.3 ci:0.3")
CF.read(
    "GetComplianceDetailsByConfigRule",
    "sec:1",
    {
        "configRuleName": "s3-bucket-server-side-encryption-enabled",
        "complianceTypes": ["NON_COMPLIANT"],
        "limit": 100,
    },
)
CF.write("PutEvaluations", "svc:2 lambda:0.3", out=_put_evaluations)


def _trail(g: Any, region: str) -> str:
    return str(g.trail_arn or f"arn:aws:cloudtrail:{region}:{g.aid}:trail/{g.trail_name}")


CT = Service("cloudtrail", version="1.11", errors=("denied_exc", "notfound_trail"))
CT.read("DescribeTrails", "sec:1 svc:1 admin:0.3 ci:0.3", {"includeShadowTrails": True, "trailNameList": []})
CT.read("GetTrailStatus", "sec:1 svc:1", lambda g, rg: {"name": _trail(g, rg)})
CT.read("GetEventSelectors", "sec:0.5 svc:1", lambda g, rg: {"trailName": _trail(g, rg)})
CT.read("ListTrails", "sec:0.5 svc:0.5")
CT.read(
    "LookupEvents",
    "admin:0.5 ro:0.5 sec:1",
    {"maxResults": 50, "lookupAttributes": [{"attributeKey": "ReadOnly", "attributeValue": "false"}]},
)
CT.read("GetInsightSelectors")
for _n in ("CreateTrail", "PutEventSelectors", "StartLogging", "StopLogging"):
    CT.write(_n)


def _cert(g: Any, region: str) -> str:
    return f"arn:aws:acm:{region}:{g.aid}:certificate/{g.r.pick(g.res.certs)}"


ACM = Service("acm", errors=("denied_exc", "notfound_generic"))
ACM.read(
    "ListCertificates",
    "admin:0.5 ro:0.5 ci:1",
    {
        "certificateStatuses": ["ISSUED", "PENDING_VALIDATION"],
        "includes": {"keyTypes": ["RSA_2048", "EC_prime256v1"]},
    },
)
ACM.read("DescribeCertificate", "ci:2 svc:1", lambda g, rg: {"certificateArn": _cert(g, rg)})
ACM.read("ListTagsForCertificate", "ci:1", lambda g, rg: {"certificateArn": _cert(g, rg)})
