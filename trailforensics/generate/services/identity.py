"""IAM, STS, Organizations, IAM Identity Center (sso), sign-in and Cognito user pools.

STS credential-minting calls and sign-in events are registered here but built by
`trailforensics.generate.minting`, which knows the session they create."""

from __future__ import annotations

import json
from typing import Any

from trailforensics.generate.services.base import Out, Service

MANAGED = (
    "ReadOnlyAccess",
    "AmazonS3ReadOnlyAccess",
    "CloudWatchLogsReadOnlyAccess",
    "AmazonSSMManagedInstanceCore",
    "AWSLambdaBasicExecutionRole",
    "AmazonEC2ContainerRegistryReadOnly",
)


def _user(g: Any) -> str:
    hs = g.acct.humans
    return str(g.r.pick(hs).name) if hs else "ci-deployer"


def _role(g: Any) -> str:
    roles = list(g.acct.roles)
    return str(g.r.pick(roles)) if roles else "app-role"


def _self_or_user(g: Any, a: Any) -> str:
    """The caller's own user name most of the time (as a developer checking their keys would)."""
    if a.ident.get("type") == "IAMUser" and g.r.chance(0.7):
        return str(a.ident["userName"])
    return _user(g)


def _user_req(g: Any, rg: str, a: Any) -> Out:
    return {"userName": _self_or_user(g, a)}, None, None, None


def _managed(g: Any) -> str:
    return f"arn:aws:iam::aws:policy/{g.r.pick(MANAGED)}"


def _policy_doc(actions: list[str], resource: str = "*") -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}
    )


def _create_role(g: Any, region: str, a: Any) -> Out:
    name = f"{g.r.pick(g.res.ecs_services)}-{g.r.pick(('task', 'lambda', 'sync'))}-role"
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    tags = [{"key": "managed-by", "value": "terraform"}]
    role = {
        "path": "/",
        "roleName": name,
        "roleId": g.r.principal_id("AROA"),
        "arn": f"arn:aws:iam::{g.aid}:role/{name}",
        "createDate": g.java(False),
        "assumeRolePolicyDocument": trust.replace('"', "%22"),
        "tags": tags,
    }
    return {"roleName": name, "assumeRolePolicyDocument": trust, "tags": tags}, {"role": role}, None, None


def _put_role_policy(g: Any, rg: str) -> Any:
    doc = _policy_doc(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::{g.r.pick(g.res.buckets)}/*")
    return {"roleName": _role(g), "policyName": "inline-s3-access", "policyDocument": doc}


IAM = Service("iam", glob=True, errors=("denied", "notfound_iam", "throttle_iam"))
_maybe_max = lambda g, rg: {"maxItems": 1000} if g.r.chance(0.5) else None  # noqa: E731
IAM.read("ListUsers", "admin:2 ro:2 sec:2 ci:0.5 svc:1", _maybe_max)
IAM.read("ListRoles", "admin:2 ro:2 sec:2 ci:1 svc:1 dev:0.5", _maybe_max)
IAM.read("ListPolicies", "admin:1 ro:1 sec:1 ci:0.5", {"scope": "Local", "onlyAttached": False, "maxItems": 1000})
IAM.read(
    "GetUser",
    "dev:1 admin:2 ro:1 ci:1",
    out=lambda g, rg, a: _user_req(g, rg, a) if g.r.chance(0.7) else (None, None, None, None),
)
IAM.read("GetRole", "admin:2 ro:1 ci:4 dev:0.5 svc:2", lambda g, rg: {"roleName": _role(g)}, err=1.5)
IAM.read("GetPolicy", "admin:1 ci:2 svc:1", lambda g, rg: {"policyArn": _managed(g)})
IAM.read(
    "GetPolicyVersion",
    "ci:2 svc:1",
    lambda g, rg: {"policyArn": _managed(g), "versionId": f"v{g.r.randint(1, 9)}"},
)
IAM.read("ListAttachedUserPolicies", "admin:1 ro:0.5 sec:1 dev:0.3", out=_user_req)
IAM.read("ListAttachedRolePolicies", "admin:1 ci:3 sec:1 svc:1", lambda g, rg: {"roleName": _role(g)})
IAM.read("ListRolePolicies", "ci:2 svc:1", lambda g, rg: {"roleName": _role(g)})
IAM.read("ListAccessKeys", "dev:0.3 admin:1 sec:1 svc:1", out=_user_req)
IAM.read("ListMFADevices", "admin:1 ro:0.5 dev:0.2", out=_user_req)
IAM.read("ListGroupsForUser", "admin:0.5 sec:0.5", out=_user_req)
IAM.read("ListInstanceProfilesForRole", "ci:2", lambda g, rg: {"roleName": _role(g)})
IAM.read(
    "GetAccountAuthorizationDetails",
    "sec:0.5 svc:0.3",
    {"filter": ["User", "Role", "Group", "LocalManagedPolicy"], "maxItems": 1000},
)
IAM.read("GetAccountSummary", "admin:1 ro:1 sec:0.5")
IAM.read("GetAccountPasswordPolicy", "sec:0.5 svc:0.5 admin:0.3", errors=("notfound_iam",))
IAM.read(
    "GenerateCredentialReport",
    "sec:0.5 svc:0.5",
    out=lambda g, rg, a: ({}, {"state": "COMPLETE"}, None, None),
)
IAM.read("GetCredentialReport", "sec:0.5 svc:0.5")
IAM.read(
    "SimulatePrincipalPolicy",
    "admin:0.2",
    lambda g, rg: {
        "policySourceArn": f"arn:aws:iam::{g.aid}:role/{_role(g)}",
        "actionNames": ["s3:GetObject"],
    },
)
IAM.write("CreateRole", "ci:0.15", out=_create_role)
IAM.write("PutRolePolicy", "ci:0.3", _put_role_policy)
IAM.write("AttachRolePolicy", "ci:0.2", lambda g, rg: {"roleName": _role(g), "policyArn": _managed(g)})
IAM.write(
    "TagRole",
    "ci:0.3",
    lambda g, rg: {
        "roleName": _role(g),
        "tags": [{"key": "cost-center", "value": str(g.r.randint(1000, 9999))}],
    },
)
IAM.write(
    "UpdateAssumeRolePolicy",
    "ci:0.05",
    lambda g, rg: {"roleName": _role(g), "policyDocument": _policy_doc(["sts:AssumeRole"])},
)
for _n in ("CreateUser", "CreateAccessKey", "AttachUserPolicy", "CreateLoginProfile"):
    IAM.write(_n)  # only used by the sample's incident script (tools/sample), never picked for background
IAM.write("CreateServiceLinkedRole", "", {"aWSServiceName": "ecs.amazonaws.com"}, errors=("validation",))

STS = Service("sts", vpce=True)
STS.read("GetCallerIdentity", "dev:2 ci:3 app:0.5 data:0.5 admin:0.2", errors=())
for _n in (
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "GetSessionToken",
    "GetFederationToken",
):
    STS.read(_n)
STS.read("DecodeAuthorizationMessage", "dev:0.05 admin:0.05", lambda g, rg: {"encodedMessage": g.r.alnum(120)})

ORG = Service("organizations", glob=True, errors=("denied_org",))
ORG.read("DescribeOrganization", "mgmt:2 sec:0.5 svc:1")
ORG.read("ListAccounts", "mgmt:2 sec:0.5")
ORG.read("DescribeAccount", "mgmt:1 svc:0.5", lambda g, rg: {"accountId": g.r.pick(g.org_accounts)})
ORG.read("ListRoots", "mgmt:1")
ORG.read("ListOrganizationalUnitsForParent", "mgmt:1", {"parentId": "r-7k2m"})
ORG.read(
    "ListPoliciesForTarget",
    "mgmt:1 sec:0.3",
    lambda g, rg: {"targetId": g.r.pick(g.org_accounts), "filter": "SERVICE_CONTROL_POLICY"},
)


def _instance_arn(g: Any) -> str:
    return f"arn:aws:sso:::instance/ssoins-{g.r.hexs(16)}"


SSO = Service("sso", version="1.09", errors=("denied_exc",))
SSO.read("ListPermissionSets", "mgmt:1", lambda g, rg: {"instanceArn": _instance_arn(g), "maxResults": "100"})
SSO.read(
    "ListAccountAssignments",
    "mgmt:1",
    lambda g, rg: {
        "instanceArn": _instance_arn(g),
        "accountId": g.r.pick(g.org_accounts),
        "maxResults": "100",
        "permissionSetArn": f"arn:aws:sso:::permissionSet/ssoins-{g.r.hexs(16)}/ps-{g.r.hexs(16)}",
    },
)
for _n in ("ListAccounts", "ListAccountRoles", "GetRoleCredentials", "Federate", "Authenticate", "Logout"):
    SSO.add(_n, _n != "Logout", errors=())

SIGNIN = Service("signin", version="1.09", errors=())
for _n in (
    "ConsoleLogin",
    "CheckMfa",
    "UserAuthentication",
    "CredentialChallenge",
    "CredentialVerification",
    "SwitchRole",
    "GetSigninToken",
):
    SIGNIN.write(_n)

COG = Service("cognito-idp", errors=("denied_exc", "notfound_generic"))
COG.read(
    "ListUsers",
    "admin:0.3 app:0.2",
    lambda g, rg: {
        "userPoolId": f"{rg}{g.res.user_pools[0]}",
        "limit": 10,
        "filter": f'email = "{g.r.pick(("ops", "support", "billing"))}@example.com"',
    },
)
COG.read("DescribeUserPool", "ci:1 admin:0.2", lambda g, rg: {"userPoolId": f"{rg}{g.res.user_pools[0]}"})
