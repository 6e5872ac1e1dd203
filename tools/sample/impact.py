"""The incident's impact: role chain and exfiltration, crypto-mining in a new region,
deletion of the audit log file and StartLogging (2026-03-10, prod).  Also the small
helpers the other sample scripts share (`T`, `NONE`, `s3_req`)."""

from __future__ import annotations

from typing import Any

from tools.sample import org as m
from tools.sample.routines import export_keys
from trailforensics.generate import minting
from trailforensics.generate.engine import Gen
from trailforensics.generate.model import JSON, Actor
from trailforensics.generate.services import res
from trailforensics.generate.services.ec2 import run_instances
from trailforensics.generate.services.storage import s3_additional, s3_object_event
from trailforensics.generate.timeutil import parse_iso

Facts = dict[str, Any]
NONE: dict[str, Any] = {"resp": None, "res": None, "add": None}
VCPU_MSG = (
    "You have requested more vCPU capacity than your current vCPU limit of 64 allows for the instance "
    "bucket that the specified instance type belongs to. Please visit "
    "http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit."
)


def T(hms: str, day: str = "2026-03-10") -> int:
    return parse_iso(f"{day}T{hms}Z")


def s3_req(bucket: str, region: str, **extra: Any) -> JSON:
    return {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", **extra}


def exfiltration(g: Gen, b: Actor) -> Facts:
    """02:43-02:55Z: role chain to metrolio-data-admin and a GetObject burst on the exports bucket."""
    deploy = g.acct.roles[m.DEPLOY_ROLE]
    data = g.acct.roles[m.DATA_ROLE]
    sync = minting.assume_role(g, b, deploy, "sync", T("02:43:02"), key=m.SYNC_KEY)
    chain1 = g.events[-1][3]
    exporter = minting.assume_role(g, sync, data, "exporter", T("02:43:40"), key=m.EXPORTER_KEY)
    chain2 = g.events[-1][3]
    t = T("02:44:15")
    bucket = m.EXPORTS
    for token in (None, g.r.alnum(40)):
        extra = {"list-type": "2", "prefix": "exports/", "encoding-type": "url"}
        if token:
            extra["continuation-token"] = token
        g.call(
            exporter,
            "s3:ListObjects",
            t,
            m.MAIN,
            req=s3_req(bucket, m.MAIN, **extra),
            resp=None,
            res=[res("AWS::S3::Bucket", f"arn:aws:s3:::{bucket}", m.PROD)],
            add=s3_additional(g, 0, 0),
        )
        t += 3
    gets = []
    t = T("02:44:41")
    for d in range(1, 11):
        for key in export_keys(f"2026/03/{d:02d}"):
            size = g.r.randint(2_000_000, 9_000_000) if key.endswith(".gz") else 4121
            req, resp, res_, add = s3_object_event(g, m.MAIN, "GetObject", bucket, key, size=size)
            gets.append(g.call(exporter, "s3:GetObject", t, m.MAIN, req=req, resp=resp, res=res_, add=add))
            t += g.r.choice((1, 2, 2, 2, 3))
    return {
        "sync": sync,
        "exporter": exporter,
        "AssumeRoleSync": chain1,
        "AssumeRoleExporter": chain2,
        "gets": gets,
    }


def mining(g: Gen, b: Actor) -> list[JSON]:
    """03:04-03:07Z: a never-used region, an SSH key, an open security group and a GPU instance."""
    r, c, region = g.r, g.call, m.MINING_REGION
    vpc, subnet, sg, ami = r.ec2_id("vpc"), r.ec2_id("subnet"), r.ec2_id("sg"), r.ec2_id("ami")
    default_vpc = {"items": [{"name": "isDefault", "valueSet": {"items": [{"value": "true"}]}}]}
    ubuntu = {
        "items": [
            {
                "name": "name",
                "valueSet": {"items": [{"value": "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"}]},
            }
        ]
    }
    recs = [
        c(b, "ec2:DescribeVpcs", T("03:04:41"), region, req={"vpcSet": {}, "filterSet": default_vpc}, **NONE),
        c(
            b,
            "ec2:DescribeImages",
            T("03:04:58"),
            region,
            req={
                "executableBySet": {},
                "imagesSet": {},
                "ownersSet": {"items": [{"owner": "099720109477"}]},
                "filterSet": ubuntu,
            },
            **NONE,
        ),
    ]
    rid = r.uuid()
    fingerprint = ":".join(r.hexs(2) for _ in range(16))
    recs.append(
        c(
            b,
            "ec2:ImportKeyPair",
            T("03:05:17"),
            region,
            request_id=rid,
            req={"keyName": "backup-sync", "publicKeyMaterial": "<sensitiveDataRemoved>"},
            resp={
                "requestId": rid,
                "keyName": "backup-sync",
                "keyFingerprint": fingerprint,
                "keyPairId": r.ec2_id("key"),
            },
            res=None,
            add=None,
        )
    )
    rid = r.uuid()
    recs.append(
        c(
            b,
            "ec2:CreateSecurityGroup",
            T("03:05:39"),
            region,
            request_id=rid,
            req={"groupName": "backup-sync-sg", "groupDescription": "backup sync", "vpcId": vpc},
            resp={"requestId": rid, "_return": True, "groupId": sg},
            res=None,
            add=None,
        )
    )
    rid = r.uuid()
    perm = {
        "ipProtocol": "tcp",
        "fromPort": 22,
        "toPort": 22,
        "groups": {},
        "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
        "ipv6Ranges": {},
        "prefixListIds": {},
    }
    rule = {
        "groupOwnerId": m.PROD,
        "groupId": sg,
        "securityGroupRuleId": r.ec2_id("sgr"),
        "isEgress": False,
        "ipProtocol": "tcp",
        "fromPort": 22,
        "toPort": 22,
        "cidrIpv4": "0.0.0.0/0",
    }
    recs.append(
        c(
            b,
            "ec2:AuthorizeSecurityGroupIngress",
            T("03:05:58"),
            region,
            request_id=rid,
            req={"groupId": sg, "ipPermissions": {"items": [perm]}},
            resp={"requestId": rid, "_return": True, "securityGroupRuleSet": {"items": [rule]}},
            res=None,
            add=None,
        )
    )
    for hms, count in (("03:06:31", 10), ("03:06:52", 1)):
        g.t = T(hms)
        g.rid = rid = r.uuid()
        req, resp, _, _ = run_instances(
            g,
            region,
            itype="p3.16xlarge",
            count=count,
            ami=ami,
            subnet=subnet,
            vpc=vpc,
            sg=(sg, "backup-sync-sg"),
            key_name="backup-sync",
            name="backup-sync",
        )
        req["userData"] = "<sensitiveDataRemoved>"
        if count > 1:
            recs.append(
                c(
                    b,
                    "ec2:RunInstances",
                    T(hms),
                    region,
                    req=req,
                    **NONE,
                    request_id=rid,
                    error=("Client.VcpuLimitExceeded", VCPU_MSG),
                )
            )
        else:
            recs.append(
                c(
                    b,
                    "ec2:RunInstances",
                    T(hms),
                    region,
                    req=req,
                    resp=resp,
                    res=None,
                    add=None,
                    request_id=rid,
                )
            )
    return recs


def delete_log(g: Gen, b: Actor, key: str) -> JSON:
    """03:24Z: DeleteObject of the audit trail log file that holds the StopLogging record."""
    req, resp, res_, add = s3_object_event(g, m.MAIN, "DeleteObject", m.AUDIT_BUCKET, key)
    return g.call(b, "s3:DeleteObject", T("03:24:18"), m.MAIN, req=req, resp=resp, res=res_, add=add)


def start_logging(g: Gen, b: Actor) -> JSON:
    """03:32Z: the attacker turns the account trail back on."""
    return g.call(b, "cloudtrail:StartLogging", T("03:32:05"), m.MAIN, req={"name": m.AUDIT_TRAIL_ARN}, **NONE)
