"""Normal work of an organisation, as sequences of API calls by one caller.

Each activity starts at a time `t` and appends records to `g.events` (through
`Gen.call`).  `Workloads` keeps the role sessions of instances, functions and
service-linked roles of a shard: they are minted by logged AssumeRole calls at
the start of the shard, so every later use of their ASIA key is traceable.
"""

from __future__ import annotations

from typing import Any

from trailforensics.generate import minting, signin
from trailforensics.generate.engine import Gen
from trailforensics.generate.model import (
    Actor,
    Function,
    Human,
    Instance,
    Pipeline,
    Role,
    root_identity,
)
from trailforensics.generate.services import res
from trailforensics.generate.services.ec2 import run_instances
from trailforensics.generate.timeutil import iso
from trailforensics.generate.useragents import BROWSERS, runner_ip

SERVICE_ROLES = (
    ("AWSServiceRoleForConfig", "config.amazonaws.com", "AWSConfig-Describe"),
    ("AWSServiceRoleForSecurityHub", "securityhub.amazonaws.com", "securityhub"),
    ("AWSServiceRoleForAmazonGuardDuty", "guardduty.amazonaws.com", "GuardDuty"),
    ("AWSServiceRoleForAutoScaling", "autoscaling.amazonaws.com", "AutoScaling"),
)
KMS_CALLERS = (
    "s3.amazonaws.com",
    "rds.amazonaws.com",
    "secretsmanager.amazonaws.com",
    "ebs.amazonaws.com",
    "logs.amazonaws.com",
    "dynamodb.amazonaws.com",
)


def kms_context(g: Gen, svc: str, region: str) -> dict[str, str]:
    """The encryption context a service passes to KMS on a principal's behalf."""
    r, rs = g.r, g.res
    if svc == "s3.amazonaws.com":
        return {"aws:s3:arn": f"arn:aws:s3:::{r.pick(rs.buckets)}"}
    if svc == "rds.amazonaws.com":
        return {"aws:rds:db-id": f"db-{r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 26)}"}
    if svc == "secretsmanager.amazonaws.com":
        secret = f"arn:aws:secretsmanager:{region}:{g.aid}:secret:{r.pick(rs.secrets)}-{r.alnum(6)}"
        return {"SecretARN": secret, "SecretVersionId": r.uuid()}
    if svc == "ebs.amazonaws.com":
        return {"aws:ebs:id": r.ec2_id("vol")}
    if svc == "logs.amazonaws.com":
        return {"aws:logs:arn": f"arn:aws:logs:{region}:{g.aid}:log-group:{r.pick(rs.log_groups)}"}
    return {"aws:dynamodb:tableName": r.pick(rs.tables), "aws:dynamodb:subscriberId": g.aid}


def region_for(g: Gen, actor: Actor, p_dr: float = 0.12, p_other: float = 0.04) -> str:
    if actor.region:
        return actor.region
    a = g.acct
    x = g.r.random()
    if x < p_dr:
        return a.dr_region
    if x < p_dr + p_other and a.other_regions:
        return g.r.pick(a.other_regions)
    if x < p_dr + p_other + a.us_east_share:
        return "us-east-1"
    return a.main_region


def burst(
    g: Gen,
    actor: Actor,
    t: int,
    n: int,
    gap: tuple[int, int] = (1, 20),
    profile: str | None = None,
    fixed_region: str | None = None,
) -> int:
    """`n` calls picked from the actor's profile; returns the time after the last call."""
    prof = profile or actor.profile
    r = g.r
    for _ in range(n):
        t += r.randint(*gap)
        if t >= g.t1:
            break
        g.call(actor, g.pick(prof), t, fixed_region or region_for(g, actor))
    return t


class Workloads:
    """Per-shard sessions of machines (instances, functions, service-linked roles)."""

    def __init__(self, g: Gen) -> None:
        self.g = g
        self.instances: dict[str, Actor] = {}
        self.functions: dict[str, Actor] = {}
        self.services: dict[str, Actor] = {}

    def mint_time(self) -> int:
        return self.g.t0 + self.g.r.randint(0, 240)

    def instance(self, inst: Instance) -> Actor:
        a = self.instances.get(inst.id)
        if a is None:
            g = self.g
            caller = minting.service_actor("ec2.amazonaws.com", inst.account)
            ip = (
                inst.private_ip
                if inst.vpce
                else f"{g.r.pick(('3.250', '34.240', '52.49'))}.{g.r.randrange(256)}.{g.r.randrange(1, 254)}"
            )
            a = minting.assume_role(
                g,
                caller,
                inst.role,
                inst.id,
                self.mint_time(),
                duration=21600,
                region=inst.region,
                ip=ip,
                ua=inst.ua,
                ua_kind="sdk",
                profile="app",
                ec2=True,
                vpce=inst.vpce,
                tls="1.3",
            )
            self.instances[inst.id] = a
        return a

    def function(self, fn: Function) -> Actor:
        a = self.functions.get(fn.name)
        if a is None:
            g = self.g
            caller = minting.service_actor("lambda.amazonaws.com", fn.account)
            a = minting.assume_role(
                g,
                caller,
                fn.role,
                fn.name,
                self.mint_time(),
                duration=43200,
                region=fn.region,
                ip=fn.ip,
                ua=fn.ua,
                ua_kind="sdk",
                profile="lambda",
                tls="1.3",
            )
            self.functions[fn.name] = a
        return a

    def service(self, name: str, principal: str, session: str) -> Actor | None:
        a = self.services.get(name)
        if a is None:
            g = self.g
            role = g.acct.roles.get(name)
            if role is None:
                return None
            caller = minting.service_actor(principal, g.aid)
            a = minting.assume_role(
                g,
                caller,
                role,
                session,
                self.mint_time(),
                ip=principal,
                ua=principal,
                ua_kind="service",
                profile="svc",
                tls="",
            )
            a.ident = dict(a.ident, invokedBy=principal)
            self.services[name] = a
        return a


# ------------------------------------------------------------------------------- people


def human_cli(g: Gen, h: Human, t: int) -> None:
    r = g.r
    actor = minting.user_actor(h)
    if h.uses_session_token and r.chance(0.35):
        actor = minting.get_session_token(g, h, actor, t)
        t += r.randint(2, 30)
    elif h.assumes and r.chance(0.45):
        role = g.acct.roles.get(r.pick(h.assumes))
        if role is not None:
            actor = minting.assume_role(
                g, actor, role, h.name, t, source_identity=h.name if h.source_identity else None
            )
            t += r.randint(1, 5)
    if r.chance(0.3):
        g.call(actor, "sts:GetCallerIdentity", t)
    burst(g, actor, t, r.randint(3, 28), (1, 25))


def console_session(g: Gen, h: Human, t: int) -> None:
    r = g.r
    actor = signin.console_login(g, h, t, region=r.pick(("us-east-1", g.acct.main_region)), fail_first=r.chance(0.06))
    t = burst(g, actor, t + r.randint(3, 20), r.randint(8, 45), (2, 60))
    if r.chance(0.3):
        g.call(
            actor,
            "signin:SwitchRole",
            t + 30,
            "us-east-1",
            req=None,
            resp={"SwitchRole": "Success"},
            res=None,
            add={"SwitchFrom": h.arn, "RedirectTo": "https://console.aws.amazon.com/console/home"},
            request_id=None,
            event_type="AwsConsoleSignIn",
            no_error=True,
        )


def ci_run(g: Gen, p: Pipeline, t: int) -> None:
    r = g.r
    run = r.randint(9_000_000_000, 13_000_000_000)
    actor = minting.web_identity_session(g, p, t, runner_ip(r), run)
    actor.region = g.acct.main_region
    n = r.randint(15, 60)
    t = burst(g, actor, t + r.randint(5, 40), n, (0, 4))
    if p.deploys and r.chance(0.5):
        for key in (
            "ecr:GetAuthorizationToken",
            "ecr:PutImage",
            "ecs:RegisterTaskDefinition",
            "ecs:UpdateService",
        ):
            t += r.randint(2, 40)
            g.call(actor, key, t)


def federated_portal(g: Gen, h: Human, t: int) -> None:
    r = g.r
    caller = minting.user_actor(h)
    name = f"portal-{r.randrange(1000, 9999)}"
    actor = minting.get_federation_token(
        g, h, caller, name, t, f"arn:aws:iam::{g.aid}:policy/reporting-portal-federated"
    )
    burst(g, actor, t + 1, r.randint(3, 12), (1, 15), profile="report")


def root_session(g: Gen, t: int) -> None:
    """Rare root console use (random trees only)."""
    r = g.r
    acct = g.aid
    login = {
        "type": "Root",
        "principalId": acct,
        "arn": f"arn:aws:iam::{acct}:root",
        "accountId": acct,
        "accessKeyId": "",
    }
    ip = f"{r.pick(('81.2.69', '92.40.14', '86.14.99'))}.{r.randrange(1, 254)}"  # three octets, then the host
    browser = BROWSERS[0]
    web = Actor(ident=login, account=acct, ip=ip, ua=browser, ua_kind="browser")
    g.call(
        web,
        "signin:ConsoleLogin",
        t,
        "us-east-1",
        req=None,
        resp={"ConsoleLogin": "Success"},
        res=None,
        add={
            "LoginTo": "https://console.aws.amazon.com/billing/home",
            "MobileVersion": "No",
            "MFAUsed": "Yes",
            "MFAIdentifier": f"arn:aws:iam::{acct}:mfa/root-account-mfa-device",
        },
        request_id=None,
        event_type="AwsConsoleSignIn",
        no_error=True,
    )
    key = r.access_key("ASIA")
    actor = Actor(
        ident=root_identity(acct, key, iso(t)),
        account=acct,
        ip=ip,
        ua=browser,
        ua_kind="browser",
        profile="ro",
        console=True,
        key=key,
        arn=f"arn:aws:iam::{acct}:root",
        created=t,
    )
    for name in ("iam:GetAccountSummary", "iam:ListMFADevices", "iam:GetAccountPasswordPolicy"):
        t += r.randint(5, 60)
        g.call(actor, name, t)


# ------------------------------------------------------------------------------- machines


def instance_tick(g: Gen, w: Workloads, inst: Instance, t: int) -> None:
    r = g.r
    actor = w.instance(inst)
    if r.chance(0.25):
        g.call(actor, "ssm:UpdateInstanceInformation", t, inst.region)
    burst(g, actor, t, r.randint(1, 5), (0, 8), fixed_region=inst.region)


def lambda_tick(g: Gen, w: Workloads, fn: Function, t: int) -> None:
    r = g.r
    actor = w.function(fn)
    if r.chance(0.5) and g.allows("lambda:Invoke"):
        svc = r.pick(("apigateway.amazonaws.com", "events.amazonaws.com", "sqs.amazonaws.com"))
        caller = minting.service_actor(svc, fn.account)
        arn = f"arn:aws:lambda:{fn.region}:{fn.account}:function:{fn.name}"
        g.call(
            caller,
            "lambda:Invoke",
            t,
            fn.region,
            req={
                "functionName": arn,
                "invocationType": "Event" if svc != "apigateway.amazonaws.com" else "RequestResponse",
            },
            resp=None,
            res=[res("AWS::Lambda::Function", arn, fn.account)],
            add={"functionVersion": f"{arn}:$LATEST"},
            shared=r.uuid(),
            no_error=True,
        )
    burst(g, actor, t, r.randint(1, 6), (0, 3), fixed_region=fn.region)


def service_tick(g: Gen, w: Workloads, t: int) -> None:
    r = g.r
    x = r.random()
    if x < 0.45:
        svc = r.pick(KMS_CALLERS)
        actor = minting.service_actor(svc, g.aid)
        region = region_for(g, actor, 0.2, 0.03)
        kid = r.pick(g.res.keys)[0]
        arn = f"arn:aws:kms:{region}:{g.aid}:key/{kid}"
        req: dict[str, Any] = {"encryptionContext": kms_context(g, svc, region)}
        if r.chance(0.5):
            name, req["encryptionAlgorithm"] = "kms:Decrypt", "SYMMETRIC_DEFAULT"
        else:
            name, req = "kms:GenerateDataKey", {"keyId": arn, **req, "keySpec": "AES_256"}
        g.call(
            actor,
            name,
            t,
            region,
            req=req,
            resp=None,
            res=[res("AWS::KMS::Key", arn, g.aid)],
            add=None,
            shared=r.uuid(),
        )
        return
    name, principal, session = r.pick(SERVICE_ROLES)
    role_actor = w.service(name, principal, session)
    if role_actor is not None:
        burst(g, role_actor, t, r.randint(1, 6), (0, 5), profile="svc")


def batch_launch(g: Gen, w: Workloads, t: int) -> None:
    """A large Auto Scaling / Batch launch: one RunInstances with hundreds of instances."""
    actor = w.service("AWSServiceRoleForAutoScaling", "autoscaling.amazonaws.com", "AutoScaling")
    if actor is None:
        return
    r = g.r
    region = g.acct.main_region
    rs = g.res
    req, resp, _, _ = run_instances(
        g,
        region,
        itype=r.pick(("c6i.2xlarge", "m6i.xlarge")),
        count=r.randint(150, 700),
        ami=r.pick(rs.amis),
        subnet=r.pick(rs.subnets),
        vpc=rs.vpcs[0],
        sg=rs.sgs[0],
        profile=f"{rs.ecs_services[0]}-instance-profile",
        name=f"{rs.asgs[0]}-batch",
    )
    g.t = t
    g.call(actor, "ec2:RunInstances", t, region, req=req, resp=resp, res=None, add=None, no_error=True)


def cross_account_session(g: Gen, caller: Actor, role: Role, t: int, session: str, n: int) -> None:
    """Caller in one account assumes a role in another; the target account records an
    AWSAccount identity and the session's calls."""
    actor = minting.assume_role(g, caller, role, session, t, profile="ro")
    if role.account != g.aid and not g.emit_all:
        return
    actor.region = ""
    burst(g, actor, t + g.r.randint(1, 6), n, (1, 20))
