"""The simulated organisation: accounts, principals, workloads, and the
`userIdentity` objects CloudTrail writes for each kind of caller.

Everything here is plain data built once per process (by `orgbuild` for
random trees, by `tools.sample.org` for the committed sample) and shared by the
shard generators, so the same principal keeps the same ids in every shard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trailforensics.generate.resources import AccountResources

JSON = dict[str, Any]


@dataclass
class Human:
    """An IAM user (long-term AKIA key and/or console password)."""

    name: str
    account: str
    principal_id: str
    access_key: str | None
    ip: str
    ua: str
    ua_kind: str = "cli2"  # cli2 | boto3 | sdk | terraform | browser
    profile: str = "dev"  # API mix: dev | admin | data | ro | report
    console: bool = False
    mfa: bool = True
    browser: str = ""
    work_hours: tuple[int, int] = (8, 18)
    sts_global: bool = False
    assumes: list[str] = field(default_factory=list)  # role names (same or other account ARNs)
    source_identity: bool = False
    uses_session_token: bool = False
    federates: bool = False  # calls GetFederationToken for portal users
    region: str = ""  # preferred region ("" = account main region)
    scripted: bool = False  # only used by explicit scripts, never picked for background

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:user/{self.name}"


@dataclass
class Role:
    name: str
    account: str
    role_id: str
    path: str = "/"
    kind: str = "app"  # app | lambda | ecs | ci | xacct | sso | service | human
    trusted: str = ""  # service principal / provider / account that assumes it

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role{self.path}{self.name}"


@dataclass
class Instance:
    id: str
    account: str
    region: str
    role: Role
    private_ip: str
    ua: str
    app: str
    vpce: str | None = None


@dataclass
class Function:
    name: str
    account: str
    region: str
    role: Role
    ua: str
    ip: str


@dataclass
class SsoUser:
    username: str
    user_id: str
    ip: str
    browser: str
    permission_sets: list[tuple[str, str]]  # (account id, role name)
    work_hours: tuple[int, int] = (8, 18)


@dataclass
class Pipeline:
    """A GitHub Actions workflow federating through the account's OIDC provider."""

    repo: str
    ref: str
    role: Role
    ua: str
    deploys: bool = True


@dataclass
class Account:
    id: str
    name: str
    kind: str  # management | prod | dev | log-archive | workload
    main_region: str
    dr_region: str
    other_regions: list[str]
    weight: float = 1.0
    humans: list[Human] = field(default_factory=list)
    roles: dict[str, Role] = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)
    res: AccountResources = field(default_factory=AccountResources)
    saml_provider: str = ""
    root_activity: bool = False
    batch_launches: bool = False
    xacct_callers: list[tuple[str, str, str]] = field(default_factory=list)  # (caller acct, human, role)
    activity: dict[str, float] = field(default_factory=dict)  # activity weight overrides
    us_east_share: float = 0.08  # share of regional calls that go to us-east-1


@dataclass
class Org:
    accounts: list[Account]
    org_id: str | None
    identity_store: str
    sso_region: str
    sso_users: list[SsoUser]
    management: str

    def account(self, acct_id: str) -> Account:
        for a in self.accounts:
            if a.id == acct_id:
                return a
        raise KeyError(acct_id)


# --------------------------------------------------------------------------- userIdentity builders


def iam_user_identity(h: Human, key: str | None, session: JSON | None = None, invoked_by: str | None = None) -> JSON:
    ident: JSON = {
        "type": "IAMUser",
        "principalId": h.principal_id,
        "arn": h.arn,
        "accountId": h.account,
        "accessKeyId": key if key is not None else "",
        "userName": h.name,
    }
    if session is not None:
        ident["sessionContext"] = session
    if invoked_by:
        ident["invokedBy"] = invoked_by
    return ident


def user_session_context(created: str, mfa: bool) -> JSON:
    return {
        "sessionIssuer": {},
        "webIdFederationData": {},
        "attributes": {"creationDate": created, "mfaAuthenticated": "true" if mfa else "false"},
    }


def role_issuer(role: Role) -> JSON:
    return {
        "type": "Role",
        "principalId": role.role_id,
        "arn": role.arn,
        "accountId": role.account,
        "userName": role.name,
    }


def assumed_role_identity(
    role: Role,
    session_name: str,
    key: str,
    created: str,
    *,
    mfa: bool = False,
    source_identity: str | None = None,
    web_provider: str | None = None,
    ec2: bool = False,
    invoked_by: str | None = None,
) -> JSON:
    ctx: JSON = {"sessionIssuer": role_issuer(role)}
    if web_provider is not None:
        ctx["webIdFederationData"] = {"federatedProvider": web_provider, "attributes": {}}
    else:
        ctx["webIdFederationData"] = {}
    ctx["attributes"] = {"creationDate": created, "mfaAuthenticated": "true" if mfa else "false"}
    if source_identity:
        ctx["sourceIdentity"] = source_identity
    if ec2:
        ctx["ec2RoleDelivery"] = "2.0"
    ident: JSON = {
        "type": "AssumedRole",
        "principalId": f"{role.role_id}:{session_name}",
        "arn": f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{session_name}",
        "accountId": role.account,
        "accessKeyId": key,
        "sessionContext": ctx,
    }
    if invoked_by:
        ident["invokedBy"] = invoked_by
    return ident


def federated_identity(h: Human, name: str, key: str, created: str) -> JSON:
    return {
        "type": "FederatedUser",
        "principalId": f"{h.account}:{name}",
        "arn": f"arn:aws:sts::{h.account}:federated-user/{name}",
        "accountId": h.account,
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {
                "type": "IAMUser",
                "principalId": h.principal_id,
                "arn": h.arn,
                "accountId": h.account,
                "userName": h.name,
            },
            "webIdFederationData": {},
            "attributes": {"creationDate": created, "mfaAuthenticated": "false"},
        },
    }


def service_identity(service: str) -> JSON:
    return {"type": "AWSService", "invokedBy": service}


def aws_account_identity(principal_id: str, account: str) -> JSON:
    return {"type": "AWSAccount", "principalId": principal_id, "accountId": account}


def root_identity(account: str, key: str, created: str) -> JSON:
    return {
        "type": "Root",
        "principalId": account,
        "arn": f"arn:aws:iam::{account}:root",
        "accountId": account,
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {"creationDate": created, "mfaAuthenticated": "true"},
        },
    }


def saml_identity(provider_qualifier: str, username: str) -> JSON:
    return {
        "type": "SAMLUser",
        "principalId": f"{provider_qualifier}:{username}",
        "userName": username,
        "identityProvider": provider_qualifier,
    }


def web_identity(provider_arn: str, subject: str) -> JSON:
    return {
        "type": "WebIdentityUser",
        "principalId": f"{provider_arn}:sts.amazonaws.com:{subject}",
        "userName": subject,
        "identityProvider": provider_arn,
    }


def identity_center_identity(account: str, user_id: str, store_arn: str, credential_id: str) -> JSON:
    return {
        "type": "IdentityCenterUser",
        "accountId": account,
        "onBehalfOf": {"userId": user_id, "identityStoreArn": store_arn},
        "credentialId": credential_id,
    }


@dataclass(slots=True)
class Actor:
    """A caller as seen by CloudTrail: an identity plus where/how it calls from."""

    ident: JSON
    account: str
    ip: str
    ua: str
    ua_kind: str = "cli2"
    profile: str = "dev"
    tls: str = "1.3"  # "" (no tlsDetails), "1.2" or "1.3"
    console: bool = False
    vpce: str | None = None
    sts_global: bool = False
    key: str | None = None
    arn: str | None = None
    created: int = 0
    region: str = ""
    invoked_by: str | None = None
