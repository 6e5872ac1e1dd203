"""The scripted part of the sample: the incident of 2026-03-10 in prod.

Each step returns the records it logged so that the README and the tests can
quote exact times, ids and keys.  The S3 trail set-up of 2026-03-09 is in
`trail_setup`, the impact (exfiltration, mining, log deletion) in `impact`."""

from __future__ import annotations

from tools.sample import org as m
from tools.sample.impact import NONE, Facts, T, exfiltration, mining
from tools.sample.routines import human
from trailforensics.generate.engine import Gen
from trailforensics.generate.errors import not_authorized
from trailforensics.generate.model import JSON, Actor, Human, iam_user_identity
from trailforensics.generate.services import res
from trailforensics.generate.services.storage import s3_additional
from trailforensics.generate.timeutil import java_date


def _denied(arn: str, action: str, resource: str) -> tuple[str, str]:
    return "AccessDenied", not_authorized(arn, action, resource)


def recon(g: Gen, a: Actor) -> list[JSON]:
    """02:13-02:23Z: daniel.kowalski's key from a Kali host enumerates the account."""
    arn = a.arn or ""
    c = g.call
    recs = [c(a, "sts:GetCallerIdentity", T("02:13:07"), req=None, **NONE)]
    for hms, key, req in (
        ("02:13:41", "iam:ListUsers", None),
        ("02:13:58", "iam:ListRoles", None),
        ("02:14:19", "iam:ListPolicies", {"scope": "Local", "onlyAttached": False}),
        ("02:14:36", "iam:ListAttachedUserPolicies", {"userName": m.DANIEL}),
    ):
        recs.append(c(a, key, T(hms), req=req, **NONE))
    gaad = {"filter": ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"]}
    recs.append(
        c(
            a,
            "iam:GetAccountAuthorizationDetails",
            T("02:14:52"),
            req=gaad,
            **NONE,
            error=_denied(arn, "iam:GetAccountAuthorizationDetails", "*"),
        )
    )
    recs.append(c(a, "iam:ListAccessKeys", T("02:15:10"), req={"userName": m.DANIEL}, **NONE))
    for hms, user in (
        ("02:15:21", m.ALICE),
        ("02:15:29", m.PRIYA),
        ("02:15:36", m.JONAS),
        ("02:15:44", "svc-reporting"),
    ):
        recs.append(
            c(
                a,
                "iam:ListAccessKeys",
                T(hms),
                req={"userName": user},
                **NONE,
                error=_denied(arn, "iam:ListAccessKeys", f"user {user}"),
            )
        )
    recs.append(
        c(
            a,
            "organizations:ListAccounts",
            T("02:16:20"),
            req=None,
            **NONE,
            error=("AccessDeniedException", "You don't have permissions to access this resource."),
        )
    )
    recs.append(
        c(
            a,
            "s3:ListBuckets",
            T("02:16:48"),
            req={"Host": "s3.amazonaws.com"},
            resp=None,
            res=None,
            add=s3_additional(g, 0, 0, "ECDHE-RSA-AES128-GCM-SHA256"),
        )
    )
    recs.append(
        c(
            a,
            "ec2:DescribeRegions",
            T("02:17:05"),
            "us-east-1",
            req={"regionSet": {}, "allRegions": False},
            **NONE,
        )
    )
    t = T("02:17:31")
    for region in m.ATTACK_REGIONS:
        recs.append(c(a, "ec2:DescribeInstances", t, region, req={"instancesSet": {}, "filterSet": {}}, **NONE))
        recs.append(
            c(
                a,
                "ec2:DescribeSecurityGroups",
                t + 9,
                region,
                req={"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}},
                **NONE,
            )
        )
        t += 23
    recs.append(c(a, "lambda:ListFunctions20150331", T("02:20:02"), m.MAIN, req=None, **NONE))
    recs.append(c(a, "secretsmanager:ListSecrets", T("02:20:31"), m.MAIN, req=None, **NONE))
    for hms, sid in (
        ("02:20:58", "prod/payments/stripe-api-key"),
        ("02:21:10", "prod/orders/db-credentials"),
    ):
        secret = f"arn:aws:secretsmanager:{m.MAIN}:{m.PROD}:secret:{sid}-{g.r.alnum(6)}"
        recs.append(
            c(
                a,
                "secretsmanager:GetSecretValue",
                T(hms),
                m.MAIN,
                req={"secretId": sid},
                **NONE,
                error=_denied(arn, "secretsmanager:GetSecretValue", secret),
            )
        )
    recs.append(
        c(
            a,
            "secretsmanager:GetSecretValue",
            T("02:21:36"),
            m.MAIN,
            req={"secretId": "prod/notify/smtp-credentials"},
            **NONE,
        )
    )
    key_arn = f"arn:aws:kms:{m.MAIN}:{m.PROD}:key/{g.acct.res.keys[1][0]}"
    recs.append(
        c(
            a,
            "kms:Decrypt",
            T("02:22:05"),
            m.MAIN,
            req={"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
            resp=None,
            res=[res("AWS::KMS::Key", key_arn, m.PROD)],
            add=None,
            error=(
                "AccessDenied",
                not_authorized(arn, "kms:Decrypt", key_arn, "no resource-based policy allows"),
            ),
        )
    )
    data_role = g.acct.roles[m.DATA_ROLE]
    recs.append(
        c(
            a,
            "sts:AssumeRole",
            T("02:22:51"),
            req={"roleArn": data_role.arn, "roleSessionName": "botocore-session-1773109371"},
            **NONE,
            error=_denied(arn, "sts:AssumeRole", data_role.arn),
        )
    )
    return recs


def persistence(g: Gen, a: Actor) -> tuple[list[JSON], Human]:
    """02:24-02:26Z: the same key creates an administrator backdoor user."""
    c = g.call
    arn = f"arn:aws:iam::{m.PROD}:user/{m.BACKDOOR}"
    user = {
        "path": "/",
        "userName": m.BACKDOOR,
        "userId": m.BACKDOOR_ID,
        "arn": arn,
        "createDate": java_date(T("02:24:13"), False),
    }
    access_key = {
        "userName": m.BACKDOOR,
        "accessKeyId": m.BACKDOOR_KEY,
        "status": "Active",
        "createDate": java_date(T("02:24:39"), False),
    }
    profile = {
        "userName": m.BACKDOOR,
        "createDate": java_date(T("02:25:30"), False),
        "passwordResetRequired": False,
    }
    recs = [
        c(
            a,
            "iam:CreateUser",
            T("02:24:13"),
            req={"userName": m.BACKDOOR},
            resp={"user": user},
            res=None,
            add=None,
        ),
        c(
            a,
            "iam:CreateAccessKey",
            T("02:24:39"),
            req={"userName": m.BACKDOOR},
            resp={"accessKey": access_key},
            res=None,
            add=None,
        ),
        c(
            a,
            "iam:AttachUserPolicy",
            T("02:25:02"),
            req={"userName": m.BACKDOOR, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            **NONE,
        ),
        c(
            a,
            "iam:CreateLoginProfile",
            T("02:25:30"),
            req={"userName": m.BACKDOOR, "passwordResetRequired": False},
            resp={"loginProfile": profile},
            res=None,
            add=None,
        ),
    ]
    backdoor = Human(
        m.BACKDOOR,
        m.PROD,
        m.BACKDOOR_ID,
        m.BACKDOOR_KEY,
        m.ATTACKER_IP_2,
        m.ATTACKER_UA_2,
        "sdk",
        "dev",
        sts_global=True,
        scripted=True,
    )
    return recs, backdoor


def attacker_actor(h: Human, ip: str, ua: str, kind: str, tls: str) -> Actor:
    return Actor(
        ident=iam_user_identity(h, h.access_key),
        account=m.PROD,
        ip=ip,
        ua=ua,
        ua_kind=kind,
        profile="dev",
        tls=tls,
        sts_global=True,
        key=h.access_key,
        arn=h.arn,
    )


def stop_logging(g: Gen, b: Actor) -> list[JSON]:
    """02:40-02:41Z: the backdoor key looks at the trails and stops the account trail."""
    c = g.call
    return [
        c(b, "sts:GetCallerIdentity", T("02:40:11"), req=None, **NONE),
        c(
            b,
            "cloudtrail:DescribeTrails",
            T("02:40:38"),
            m.MAIN,
            req={"includeShadowTrails": True, "trailNameList": []},
            **NONE,
        ),
        c(b, "cloudtrail:GetTrailStatus", T("02:40:55"), m.MAIN, req={"name": m.AUDIT_TRAIL_ARN}, **NONE),
        c(b, "cloudtrail:StopLogging", T("02:41:19"), m.MAIN, req={"name": m.AUDIT_TRAIL_ARN}, **NONE),
    ]


def incident(g: Gen) -> Facts:
    """Everything up to (not including) the log deletion, which needs the delivered file's key."""
    d = human(g, m.DANIEL)
    a = attacker_actor(d, m.ATTACKER_IP_1, m.ATTACKER_UA_1, "cli1", "1.2")
    f: Facts = {"recon": recon(g, a)}
    f["persistence"], backdoor_h = persistence(g, a)
    b = attacker_actor(backdoor_h, m.ATTACKER_IP_2, m.ATTACKER_UA_2, "sdk", "1.3")
    f["backdoor"] = b
    f["stop"] = stop_logging(g, b)
    f.update(exfiltration(g, b))
    f["mining"] = mining(g, b)
    return f
