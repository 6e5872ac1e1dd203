"""Console and federated sign-in sessions: IAM users' ``ConsoleLogin`` (with ``CheckMfa``)
and IAM Identity Center access through ``AssumeRoleWithSAML``."""

from __future__ import annotations

from typing import Any

from trailforensics.generate.engine import Gen
from trailforensics.generate.minting import _assumed, credentials
from trailforensics.generate.model import (
    Actor,
    Human,
    Role,
    SsoUser,
    assumed_role_identity,
    iam_user_identity,
    saml_identity,
    user_session_context,
)
from trailforensics.generate.services import res
from trailforensics.generate.timeutil import iso


def saml_session(g: Gen, u: SsoUser, role: Role, provider_name: str, qualifier: str, t: int, sso_region: str) -> Actor:
    """IAM Identity Center access to an account: AssumeRoleWithSAML, then a console session."""
    r = g.r
    key = r.access_key("ASIA")
    acct = role.account
    provider_arn = f"arn:aws:iam::{acct}:saml-provider/{provider_name}"
    caller = Actor(
        ident=saml_identity(qualifier, u.username),
        account=acct,
        ip=u.ip,
        ua=u.browser,
        ua_kind="browser",
        profile="ro",
    )
    resp = {
        "credentials": credentials(g, key, t, 43200),
        "assumedRoleUser": _assumed(role, u.username),
        "packedPolicySize": 0,
        "subject": u.username,
        "subjectType": "persistent",
        "issuer": f"https://portal.sso.{sso_region}.amazonaws.com/saml/assertion/{qualifier[:20]}",
        "audience": "https://signin.aws.amazon.com/saml",
        "nameQualifier": qualifier,
    }
    g.call(
        caller,
        "sts:AssumeRoleWithSAML",
        t,
        req={
            "sAMLAssertionID": f"_{r.uuid()}",
            "roleSessionName": u.username,
            "roleArn": role.arn,
            "principalArn": provider_arn,
            "durationSeconds": 43200,
        },
        resp=resp,
        res=[res("AWS::IAM::Role", role.arn, acct), res("AWS::IAM::SAMLProvider", provider_arn, acct)],
        add=None,
        no_error=True,
    )
    ident = assumed_role_identity(role, u.username, key, iso(t))
    return Actor(
        ident=ident,
        account=acct,
        ip=u.ip,
        ua=u.browser,
        ua_kind="browser",
        profile="admin" if "Admin" in role.name else "ro",
        console=True,
        key=key,
        arn=f"arn:aws:sts::{acct}:assumed-role/{role.name}/{u.username}",
        created=t,
    )


def console_login(
    g: Gen, h: Human, t: int, *, region: str = "us-east-1", fail_first: bool = False, key: str | None = None
) -> Actor:
    """CheckMfa (when MFA is used) and ConsoleLogin; returns the console session."""
    r = g.r
    login_ident = {
        "type": "IAMUser",
        "principalId": h.principal_id,
        "arn": h.arn,
        "accountId": h.account,
        "accessKeyId": "",
        "userName": h.name,
    }
    web = Actor(ident=login_ident, account=h.account, ip=h.ip, ua=h.browser, ua_kind="browser", profile="admin")
    host = f"{region}.signin.aws.amazon.com" if region != "us-east-1" else "signin.aws.amazon.com"
    login_to = (
        "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true"
        f"&state=hashArgsFromTB_us-east-1_{r.hexs(16)}"
    )
    common: dict[str, Any] = {"res": None, "request_id": None, "event_type": "AwsConsoleSignIn", "tls_host": host}
    if fail_first:
        g.call(
            web,
            "signin:ConsoleLogin",
            t - r.randint(20, 50),
            region,
            req=None,
            resp={"ConsoleLogin": "Failure"},
            add={"LoginTo": login_to, "MobileVersion": "No", "MFAUsed": "No"},
            error=(None, "Failed authentication"),
            **common,
        )
    if h.mfa:
        g.call(
            web,
            "signin:CheckMfa",
            t - r.randint(4, 15),
            region,
            req=None,
            resp={"CheckMfa": "Success"},
            add={"MfaType": "Virtual MFA"},
            no_error=True,
            **common,
        )
    add = {"LoginTo": login_to, "MobileVersion": "No", "MFAUsed": "Yes" if h.mfa else "No"}
    if h.mfa:
        add["MFAIdentifier"] = f"arn:aws:iam::{h.account}:mfa/{h.name}"
    g.call(
        web,
        "signin:ConsoleLogin",
        t,
        region,
        req=None,
        resp={"ConsoleLogin": "Success"},
        add=add,
        no_error=True,
        **common,
    )
    key = key or r.access_key("ASIA")
    ident = iam_user_identity(h, key, user_session_context(iso(t), h.mfa))
    return Actor(
        ident=ident,
        account=h.account,
        ip=h.ip,
        ua=h.browser,
        ua_kind="browser",
        profile=h.profile,
        console=True,
        key=key,
        arn=h.arn,
        created=t,
        region=h.region,
    )
