"""Sessions that mint temporary credentials, each with the STS (or sign-in) event
that a responder can trace: the ASIA key an actor uses is always the
``responseElements.credentials.accessKeyId`` of a logged STS call, except console
sessions of IAM users and root, whose key comes with the logged ``ConsoleLogin``."""

from __future__ import annotations

from trailforensics.generate.engine import Gen
from trailforensics.generate.model import (
    JSON,
    Actor,
    Human,
    Pipeline,
    Role,
    assumed_role_identity,
    aws_account_identity,
    federated_identity,
    iam_user_identity,
    web_identity,
)
from trailforensics.generate.services import res
from trailforensics.generate.timeutil import iso, java_date


def credentials(g: Gen, key: str, t: int, duration: int) -> JSON:
    return {"accessKeyId": key, "sessionToken": g.r.session_token(), "expiration": java_date(t + duration)}


def _assumed(role: Role, session: str) -> JSON:
    return {
        "assumedRoleId": f"{role.role_id}:{session}",
        "arn": f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{session}",
    }


def user_actor(h: Human) -> Actor:
    """The long-term access key of an IAM user."""
    return Actor(
        ident=iam_user_identity(h, h.access_key),
        account=h.account,
        ip=h.ip,
        ua=h.ua,
        ua_kind=h.ua_kind,
        profile=h.profile,
        key=h.access_key,
        arn=h.arn,
        sts_global=h.sts_global,
        region=h.region,
        tls="1.2" if h.ua_kind == "cli1" else "1.3",
    )


def service_actor(service: str, account: str) -> Actor:
    return Actor(
        ident={"type": "AWSService", "invokedBy": service},
        account=account,
        ip=service,
        ua=service,
        ua_kind="service",
        profile="svc",
        tls="",
    )


def assume_role(
    g: Gen,
    caller: Actor,
    role: Role,
    session: str,
    t: int,
    *,
    duration: int = 3600,
    source_identity: str | None = None,
    mfa_serial: str | None = None,
    region: str | None = None,
    ip: str | None = None,
    ua: str | None = None,
    ua_kind: str | None = None,
    profile: str | None = None,
    ec2: bool = False,
    vpce: str | None = None,
    tls: str | None = None,
    key: str | None = None,
    console: bool = False,
    tags: list[JSON] | None = None,
    shared: str | None = None,
) -> Actor:
    """Log an AssumeRole (both copies when cross-account) and return the new session."""
    r = g.r
    key = key or r.access_key("ASIA")
    req: JSON = {"roleArn": role.arn, "roleSessionName": session}
    if duration != 3600:
        req["durationSeconds"] = duration
    if tags:
        req["tags"] = tags
    if source_identity:
        req["sourceIdentity"] = source_identity
    if mfa_serial:
        req["serialNumber"] = mfa_serial
    resp: JSON = {"credentials": credentials(g, key, t, duration), "assumedRoleUser": _assumed(role, session)}
    if source_identity:
        resp["sourceIdentity"] = source_identity
    resources = [res("AWS::IAM::Role", role.arn, role.account)]
    cross = role.account != caller.account
    if shared is None and (cross or caller.ident.get("type") == "AWSService"):
        shared = r.uuid()
    rid = r.uuid()
    g.call(
        caller,
        "sts:AssumeRole",
        t,
        region,
        req=req,
        resp=resp,
        res=resources,
        add=None,
        shared=shared,
        request_id=rid,
        no_error=True,
        recipient=caller.account,
    )
    if cross:
        principal = str(caller.ident.get("principalId", ""))
        g.call(
            caller,
            "sts:AssumeRole",
            t,
            region,
            req=req,
            resp=resp,
            res=resources,
            add=None,
            shared=shared,
            request_id=rid,
            no_error=True,
            recipient=role.account,
            ident=aws_account_identity(principal, caller.account),
        )
    ident = assumed_role_identity(
        role, session, key, iso(t), mfa=bool(mfa_serial) or console, source_identity=source_identity, ec2=ec2
    )
    return Actor(
        ident=ident,
        account=role.account,
        ip=ip or caller.ip,
        ua=ua or caller.ua,
        ua_kind=ua_kind or caller.ua_kind,
        profile=profile or caller.profile,
        tls=caller.tls if tls is None else tls,
        console=console,
        vpce=vpce,
        sts_global=caller.sts_global,
        key=key,
        arn=f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{session}",
        created=t,
        region=region or caller.region,
    )


def get_session_token(g: Gen, h: Human, caller: Actor, t: int, duration: int = 43200) -> Actor:
    key = g.r.access_key("ASIA")
    serial = f"arn:aws:iam::{h.account}:mfa/{h.name}"
    g.call(
        caller,
        "sts:GetSessionToken",
        t,
        req={"durationSeconds": duration, "serialNumber": serial},
        resp={"credentials": credentials(g, key, t, duration)},
        res=None,
        add=None,
        no_error=True,
    )
    ident = iam_user_identity(h, key, {"attributes": {"creationDate": iso(t), "mfaAuthenticated": "true"}})
    return Actor(
        ident=ident,
        account=h.account,
        ip=caller.ip,
        ua=caller.ua,
        ua_kind=caller.ua_kind,
        profile=caller.profile,
        tls=caller.tls,
        key=key,
        arn=h.arn,
        created=t,
        sts_global=caller.sts_global,
        region=caller.region,
    )


def get_federation_token(
    g: Gen, h: Human, caller: Actor, name: str, t: int, policy_arn: str, duration: int = 3600
) -> Actor:
    key = g.r.access_key("ASIA")
    arn = f"arn:aws:sts::{h.account}:federated-user/{name}"
    g.call(
        caller,
        "sts:GetFederationToken",
        t,
        req={"name": name, "durationSeconds": duration, "policyArns": [{"arn": policy_arn}]},
        resp={
            "credentials": credentials(g, key, t, duration),
            "federatedUser": {"federatedUserId": f"{h.account}:{name}", "arn": arn},
            "packedPolicySize": g.r.randint(5, 30),
        },
        res=None,
        add=None,
        no_error=True,
    )
    return Actor(
        ident=federated_identity(h, name, key, iso(t)),
        account=h.account,
        ip=caller.ip,
        ua=caller.ua,
        ua_kind=caller.ua_kind,
        profile="report",
        tls=caller.tls,
        key=key,
        arn=arn,
        created=t,
        region=caller.region,
    )


def web_identity_session(g: Gen, p: Pipeline, t: int, runner_ip: str, run_id: int) -> Actor:
    """GitHub Actions OIDC: AssumeRoleWithWebIdentity then the workflow's session."""
    role = p.role
    provider = f"arn:aws:iam::{role.account}:oidc-provider/token.actions.githubusercontent.com"
    subject = f"repo:{p.repo}:ref:{p.ref}"
    session = f"GitHubActions-{run_id}"
    key = g.r.access_key("ASIA")
    caller = Actor(
        ident=web_identity(provider, subject),
        account=role.account,
        ip=runner_ip,
        ua="configure-aws-credentials-for-github-actions",
        ua_kind="sdk",
        profile="ci",
    )
    g.call(
        caller,
        "sts:AssumeRoleWithWebIdentity",
        t,
        req={"roleArn": role.arn, "roleSessionName": session, "durationSeconds": 3600},
        resp={
            "credentials": credentials(g, key, t, 3600),
            "subjectFromWebIdentityToken": subject,
            "assumedRoleUser": _assumed(role, session),
            "provider": provider,
            "audience": "sts.amazonaws.com",
        },
        res=[res("AWS::IAM::Role", role.arn, role.account)],
        add={"identityProviderConnectionVerificationMethod": "IAMTrustStore"},
        no_error=True,
    )
    ident = assumed_role_identity(role, session, key, iso(t), web_provider=provider)
    return Actor(
        ident=ident,
        account=role.account,
        ip=runner_ip,
        ua=p.ua,
        ua_kind="terraform",
        profile="ci",
        key=key,
        arn=f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{session}",
        created=t,
    )
