"""EC2: describes, tags, instance state changes, security groups and RunInstances
(whose responseElements list every launched instance, up to megabytes)."""

from __future__ import annotations

from typing import Any

from trailforensics.generate.services.base import JSON, Out, Service

E2 = Service("ec2", errors=("ec2denied", "throttle_ec2"))


def _tags(**kv: str) -> JSON:
    return {"items": [{"key": k, "value": v} for k, v in kv.items()]}


def _filter(name: str, *values: str) -> JSON:
    return {"name": name, "valueSet": {"items": [{"value": v} for v in values]}}


def _eni(g: Any, subnet: str, vpc: str, ip: str, dns: str, groups: JSON, launch: int) -> JSON:
    r = g.r
    return {
        "networkInterfaceId": r.ec2_id("eni"),
        "subnetId": subnet,
        "vpcId": vpc,
        "ownerId": g.aid,
        "requesterManaged": False,
        "status": "in-use",
        "macAddress": ":".join(r.hexs(2) for _ in range(6)),
        "privateIpAddress": ip,
        "privateDnsName": dns,
        "sourceDestCheck": True,
        "interfaceType": "interface",
        "groupSet": groups,
        "attachment": {
            "attachmentId": r.ec2_id("eni-attach"),
            "deviceIndex": 0,
            "networkCardIndex": 0,
            "status": "attaching",
            "attachTime": launch,
            "deleteOnTermination": True,
        },
        "privateIpAddressesSet": {"item": [{"privateIpAddress": ip, "privateDnsName": dns, "primary": True}]},
        "ipv6AddressesSet": {},
        "tagSet": {},
    }


def instance_item(
    g: Any,
    region: str,
    itype: str,
    ami: str,
    subnet: str,
    vpc: str,
    sg: tuple[str, str],
    idx: int,
    token: str,
    key_name: str | None,
    profile_arn: str | None,
    name: str,
) -> JSON:
    """One entry of RunInstances' ``responseElements.instancesSet.items`` (about 2.5 KB)."""
    r = g.r
    ip = r.private_ip("10.20")
    dns = f"ip-{ip.replace('.', '-')}.{region}.compute.internal"
    launch = g.t * 1000
    groups = {"items": [{"groupId": sg[0], "groupName": sg[1]}]}
    item: JSON = {
        "instanceId": r.ec2_id("i"),
        "imageId": ami,
        "instanceState": {"code": 0, "name": "pending"},
        "privateDnsName": dns,
    }
    if key_name:
        item["keyName"] = key_name
    item.update(
        {
            "amiLaunchIndex": idx,
            "productCodes": {},
            "instanceType": itype,
            "launchTime": launch,
            "placement": {"availabilityZone": region + r.pick("abc"), "tenancy": "default"},
            "monitoring": {"state": "disabled"},
            "subnetId": subnet,
            "vpcId": vpc,
            "privateIpAddress": ip,
            "stateReason": {"code": "pending", "message": "pending"},
            "architecture": "x86_64",
            "rootDeviceType": "ebs",
            "rootDeviceName": "/dev/xvda",
            "blockDeviceMapping": {},
            "virtualizationType": "hvm",
            "clientToken": token,
            "tagSet": _tags(Name=name),
            "groupSet": groups,
            "sourceDestCheck": True,
            "hypervisor": "xen",
            "networkInterfaceSet": {"items": [_eni(g, subnet, vpc, ip, dns, groups, launch)]},
        }
    )
    if profile_arn:
        item["iamInstanceProfile"] = {"arn": profile_arn, "id": r.principal_id("AIPA")}
    item.update(
        {
            "ebsOptimized": False,
            "enaSupport": True,
            "cpuOptions": {"coreCount": 2, "threadsPerCore": 2},
            "capacityReservationSpecification": {"capacityReservationPreference": "open"},
            "enclaveOptions": {"enabled": False},
            "metadataOptions": {
                "state": "pending",
                "httpTokens": "required",
                "httpPutResponseHopLimit": 2,
                "httpEndpoint": "enabled",
                "httpProtocolIpv4": "enabled",
                "httpProtocolIpv6": "disabled",
                "instanceMetadataTags": "disabled",
            },
            "maintenanceOptions": {"autoRecovery": "default"},
            "privateDnsNameOptions": {
                "hostnameType": "ip-name",
                "enableResourceNameDnsARecord": False,
                "enableResourceNameDnsAAAARecord": False,
            },
            "bootMode": "uefi-preferred",
            "currentInstanceBootMode": "legacy-bios",
            "operator": {"managed": False},
        }
    )
    return item


def run_instances(
    g: Any,
    region: str,
    *,
    itype: str,
    count: int,
    ami: str,
    subnet: str,
    vpc: str,
    sg: tuple[str, str],
    key_name: str | None = None,
    profile: str | None = None,
    name: str = "worker",
) -> Out:
    """requestParameters and responseElements of a RunInstances launching `count` instances."""
    r = g.r
    token = r.uuid()
    profile_arn = f"arn:aws:iam::{g.aid}:instance-profile/{profile}" if profile else None
    inst: JSON = {"imageId": ami, "minCount": count, "maxCount": count}
    if key_name:
        inst["keyName"] = key_name
    req: JSON = {
        "instancesSet": {"items": [inst]},
        "groupSet": {"items": [{"groupId": sg[0]}]},
        "instanceType": itype,
        "blockDeviceMapping": {},
        "monitoring": {"enabled": False},
        "subnetId": subnet,
        "disableApiTermination": False,
        "disableApiStop": False,
        "clientToken": token,
    }
    if profile:
        req["iamInstanceProfile"] = {"name": profile}
    req["tagSpecificationSet"] = {"items": [{"resourceType": "instance", "tags": [{"key": "Name", "value": name}]}]}
    items = [
        instance_item(g, region, itype, ami, subnet, vpc, sg, i, token, key_name, profile_arn, name)
        for i in range(count)
    ]
    resp = {
        "requestId": g.rid,
        "reservationId": r.ec2_id("r"),
        "ownerId": g.aid,
        "groupSet": {},
        "instancesSet": {"items": items},
    }
    return req, resp, None, None


def _inst_ids(g: Any, n: int = 1) -> JSON:
    insts = g.acct.instances
    ids = [g.r.pick(insts).id for _ in range(n)] if insts else [g.r.ec2_id("i")]
    return {"items": [{"instanceId": i} for i in ids]}


def _describe_instances(g: Any, region: str) -> JSON:
    r = g.r
    x = r.random()
    if x < 0.3 and g.acct.instances:
        pick = r.sample(g.acct.instances, min(3, len(g.acct.instances)))
        return {"instancesSet": {"items": [{"instanceId": i.id} for i in pick]}, "filterSet": {}}
    if x < 0.6:
        filters = [_filter("tag:app", r.pick(g.res.ecs_services)), _filter("instance-state-name", "running")]
        return {"instancesSet": {}, "filterSet": {"items": filters}}
    if x < 0.8:
        return {"maxResults": 1000, "instancesSet": {}, "filterSet": {}}
    return {"instancesSet": {}, "filterSet": {}}


def _sg_rule(g: Any, region: str, a: Any) -> Out:
    r = g.r
    sg = r.pick(g.res.sgs)[0]
    port = r.pick((443, 5432, 6379, 8080))
    cidr = r.pick(g.res.sg_cidrs)
    desc = r.pick(("internal alb", "vpn users", "peered vpc", "monitoring"))
    perm = {
        "ipProtocol": "tcp",
        "fromPort": port,
        "toPort": port,
        "groups": {},
        "ipRanges": {"items": [{"cidrIp": cidr, "description": desc}]},
        "ipv6Ranges": {},
        "prefixListIds": {},
    }
    rule = {
        "groupOwnerId": g.aid,
        "groupId": sg,
        "securityGroupRuleId": r.ec2_id("sgr"),
        "isEgress": False,
        "ipProtocol": "tcp",
        "fromPort": port,
        "toPort": port,
        "cidrIpv4": cidr,
        "description": desc,
    }
    resp = {"requestId": g.rid, "_return": True, "securityGroupRuleSet": {"items": [rule]}}
    return {"groupId": sg, "ipPermissions": {"items": [perm]}}, resp, None, None


def _state(cur: tuple[int, str], prev: tuple[int, str]) -> Any:
    def build(g: Any, region: str, a: Any) -> Out:
        ids = _inst_ids(g)
        items = [
            {
                "instanceId": it["instanceId"],
                "currentState": {"code": cur[0], "name": cur[1]},
                "previousState": {"code": prev[0], "name": prev[1]},
            }
            for it in ids["items"]
        ]
        return {"instancesSet": ids}, {"requestId": g.rid, "instancesSet": {"items": items}}, None, None

    return build


def _bg_run(g: Any, region: str, a: Any) -> Out:
    r, rs = g.r, g.res
    return run_instances(
        g,
        region,
        itype=r.pick(("t3.medium", "m6i.large", "c6i.xlarge")),
        count=r.randint(1, 2),
        ami=r.pick(rs.amis),
        subnet=r.pick(rs.subnets),
        vpc=rs.vpcs[0],
        sg=r.pick(rs.sgs),
        profile=f"{r.pick(rs.ecs_services)}-instance-profile",
        name=r.pick(rs.asgs),
    )


def _snapshot(g: Any, region: str, a: Any) -> Out:
    r = g.r
    vol = r.ec2_id("vol")
    resp = {
        "requestId": g.rid,
        "snapshotId": r.ec2_id("snap"),
        "volumeId": vol,
        "status": "pending",
        "startTime": g.t * 1000,
        "progress": "",
        "ownerId": g.aid,
        "volumeSize": 100,
        "encrypted": True,
    }
    return {"volumeId": vol, "description": "Created by AWS Backup"}, resp, None, None


def _eni_create(g: Any, region: str, a: Any) -> Out:
    r = g.r
    subnet = r.pick(g.res.subnets)
    req = {
        "subnetId": subnet,
        "description": "AWS Lambda VPC ENI",
        "privateIpAddressesSet": {},
        "groupSet": {"items": [{"groupId": r.pick(g.res.sgs)[0]}]},
        "ipv6AddressesSet": {},
    }
    eni = {
        "networkInterfaceId": r.ec2_id("eni"),
        "subnetId": subnet,
        "vpcId": g.res.vpcs[0],
        "status": "pending",
        "interfaceType": "lambda",
        "requesterManaged": True,
    }
    return req, {"requestId": g.rid, "networkInterface": eni}, None, None


def _create_tags(g: Any, region: str, a: Any) -> Out:
    tags = _tags(owner=g.r.pick(("platform", "data", "web")))
    return {"resourcesSet": _inst_ids(g), "tagSet": tags}, {"requestId": g.rid, "_return": True}, None, None


def _create_sg(g: Any, region: str, a: Any) -> Out:
    req = {
        "groupName": f"{g.r.pick(g.res.ecs_services)}-tmp-{g.r.hexs(4)}",
        "groupDescription": "managed by terraform",
        "vpcId": g.res.vpcs[0],
    }
    return req, {"requestId": g.rid, "_return": True, "groupId": g.r.ec2_id("sg")}, None, None


def _import_key(g: Any, region: str, a: Any) -> Out:
    fp = ":".join(g.r.hexs(2) for _ in range(16))
    resp = {"requestId": g.rid, "keyName": "ops", "keyFingerprint": fp, "keyPairId": g.r.ec2_id("key")}
    return {"keyName": "ops", "publicKeyMaterial": "<sensitiveDataRemoved>"}, resp, None, None


def _first_instance(g: Any) -> str:
    return str(g.r.pick(g.acct.instances).id) if g.acct.instances else str(g.r.ec2_id("i"))


E2.read("DescribeInstances", "dev:6 admin:6 ro:6 ci:5 svc:4 sec:3 app:0.3", _describe_instances, err=1.5)
E2.read(
    "DescribeSecurityGroups",
    "dev:2 admin:3 ro:3 ci:4 svc:3 sec:3",
    {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}},
)
E2.read("DescribeVpcs", "dev:1 admin:2 ro:2 ci:3 svc:2", {"vpcSet": {}, "filterSet": {}})
E2.read(
    "DescribeSubnets",
    "dev:1 admin:2 ro:2 ci:3 svc:2",
    lambda g, rg: {"subnetSet": {}, "filterSet": {"items": [_filter("vpc-id", g.res.vpcs[0])]}},
)
E2.read("DescribeRegions", "dev:1 admin:2 ro:1 ci:1 svc:1", {"regionSet": {}, "allRegions": False})
E2.read(
    "DescribeImages",
    "dev:1 ci:3 app:0.2",
    lambda g, rg: {
        "executableBySet": {},
        "imagesSet": {"items": [{"imageId": g.r.pick(g.res.amis)}]},
        "ownersSet": {},
        "filterSet": {},
    },
)
E2.read("DescribeVolumes", "admin:2 ro:2 ci:1 svc:2 sec:1", {"volumeSet": {}, "filterSet": {}})
E2.read(
    "DescribeSnapshots",
    "admin:1 svc:2",
    {"snapshotSet": {}, "ownersSet": {"items": [{"owner": "self"}]}, "sharedUsersSet": {}, "filterSet": {}},
)
E2.read(
    "DescribeInstanceStatus",
    "admin:2 ro:2 app:0.5 svc:2",
    lambda g, rg: {"instancesSet": _inst_ids(g, 2), "filterSet": {}, "includeAllInstances": True},
)
E2.read(
    "DescribeTags",
    "app:2 ci:1",
    lambda g, rg: {"filterSet": {"items": [_filter("resource-id", _first_instance(g))]}},
)
E2.read(
    "DescribeNetworkInterfaces",
    "svc:2 ci:1 lambda:0.2",
    lambda g, rg: {"networkInterfaceIdSet": {}, "filterSet": {"items": [_filter("vpc-id", g.res.vpcs[0])]}},
)
E2.read(
    "DescribeLaunchTemplates",
    "ci:1 svc:1",
    lambda g, rg: {
        "DescribeLaunchTemplatesRequest": {
            "LaunchTemplateId": {"tag": 1, "content": g.r.pick(g.res.launch_templates)[0]}
        }
    },
)
E2.read("DescribeAddresses", "admin:1 ci:1", {"publicIpsSet": {}, "allocationIdsSet": {}, "filterSet": {}})
E2.read("DescribeKeyPairs", "admin:1 dev:0.5", {"keySet": {}, "filterSet": {}, "keyPairIdSet": {}})
E2.write("CreateTags", "ci:1 admin:0.5 svc:1", out=_create_tags)
E2.write("StartInstances", "admin:0.3 dev:0.2 svc:0.3", out=_state((0, "pending"), (80, "stopped")))
E2.write("StopInstances", "admin:0.3 dev:0.2 svc:0.3", out=_state((64, "stopping"), (16, "running")))
E2.write("TerminateInstances", "svc:0.5 ci:0.2", out=_state((32, "shutting-down"), (16, "running")))
E2.write("RunInstances", "svc:0.4 ci:0.2", out=_bg_run, version="1.09")
E2.write("CreateSnapshot", "svc:0.5", out=_snapshot)
E2.write("AuthorizeSecurityGroupIngress", "ci:0.3 admin:0.2", out=_sg_rule, version="1.09")
E2.write("CreateSecurityGroup", "ci:0.1", out=_create_sg)
E2.write("ImportKeyPair", "", out=_import_key)
E2.write("CreateNetworkInterface", "lambda:0.1", out=_eni_create)
