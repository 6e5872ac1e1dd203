"""A random but plausible organisation for `generate_tree`, sized by event rate."""

from __future__ import annotations

from collections.abc import Sequence

from trailforensics.generate.model import Account, Function, Human, Instance, Org, Pipeline, Role, SsoUser
from trailforensics.generate.resources import APPS, build_resources
from trailforensics.generate.rng import Rng, derive_seed
from trailforensics.generate.useragents import (
    BROWSERS,
    aws_ip,
    boto3,
    cli_v2,
    go_sdk,
    home_ip,
    java_sdk,
    node_sdk,
    terraform,
)

FIRST = (
    "anna",
    "ben",
    "chloe",
    "david",
    "elena",
    "farid",
    "grace",
    "hugo",
    "ines",
    "jonas",
    "kate",
    "liam",
    "maria",
    "nils",
    "olga",
    "pablo",
    "quinn",
    "rosa",
    "sven",
    "tara",
    "umar",
    "vera",
    "wei",
    "yara",
    "zoe",
)
LAST = (
    "adams",
    "berg",
    "costa",
    "dubois",
    "evans",
    "fischer",
    "garcia",
    "hansen",
    "ivanova",
    "jensen",
    "klein",
    "lopez",
    "moreau",
    "novak",
    "olsen",
    "petrov",
    "quist",
    "rossi",
    "silva",
    "tanaka",
    "urban",
    "varga",
)
REGION_SETS = (
    ("eu-west-1", "eu-central-1", ["eu-west-2", "eu-north-1", "us-west-2"]),
    ("us-east-2", "us-west-2", ["eu-west-1", "ap-southeast-2", "ca-central-1"]),
    ("eu-central-1", "eu-west-1", ["eu-west-3", "us-east-2", "ap-northeast-1"]),
    ("ap-southeast-2", "ap-southeast-1", ["us-west-2", "ap-northeast-1", "eu-west-1"]),
)
KINDS = ("prod", "dev", "management", "data", "shared", "staging")
ENV = {
    "prod": "prod",
    "dev": "dev",
    "management": "mgmt",
    "data": "data",
    "shared": "shared",
    "staging": "stg",
}
SERVICE_LINKED = (
    ("AWSServiceRoleForConfig", "config.amazonaws.com"),
    ("AWSServiceRoleForSecurityHub", "securityhub.amazonaws.com"),
    ("AWSServiceRoleForAmazonGuardDuty", "guardduty.amazonaws.com"),
    ("AWSServiceRoleForAutoScaling", "autoscaling.amazonaws.com"),
)


def service_linked_roles(rng: Rng, account: str) -> dict[str, Role]:
    return {
        name: Role(name, account, rng.principal_id("AROA"), f"/aws-service-role/{svc}/", "service", svc)
        for name, svc in SERVICE_LINKED
    }


def build_org(seed: int, accounts: Sequence[str] | None, org_id: str | None, intensity: float) -> Org:
    """`intensity` is events per hour per account; it sizes fleets and teams."""
    rng = Rng(derive_seed(seed, "org"))
    ids = list(accounts) if accounts else [rng.account_id() for _ in range(3)]
    scale = max(1.0, min(25.0, intensity / 2500.0))
    main, dr, others = rng.pick(REGION_SETS)
    store = f"d-{rng.hexs(10)}"
    names = [f"{f}.{ln}" for f in FIRST for ln in LAST]
    rng.shuffle(names)
    name_iter = iter(names)
    accts: list[Account] = []
    for i, aid in enumerate(ids):
        kind = KINDS[i % len(KINDS)]
        apps = tuple(rng.sample(APPS, 5))
        res = build_resources(rng, ENV[kind], apps, "acme")
        a = Account(
            id=aid,
            name=f"{kind}-{i}" if i >= len(KINDS) else kind,
            kind=kind,
            main_region=main,
            dr_region=dr,
            other_regions=list(others),
            weight=(1.0, 0.7, 0.45)[i % 3],
            res=res,
            saml_provider=f"AWSSSO_{rng.hexs(16)}_DO_NOT_DELETE",
            root_activity=(kind == "management"),
            batch_launches=(i == 0),
        )
        a.roles.update(service_linked_roles(rng, aid))
        for app in apps:
            a.roles[f"{app}-app-role"] = Role(
                f"{app}-app-role", aid, rng.principal_id("AROA"), "/", "app", "ec2.amazonaws.com"
            )
            a.roles[f"{app}-lambda-role"] = Role(
                f"{app}-lambda-role",
                aid,
                rng.principal_id("AROA"),
                "/service-role/",
                "lambda",
                "lambda.amazonaws.com",
            )
        a.roles["github-actions-deploy"] = Role("github-actions-deploy", aid, rng.principal_id("AROA"), "/", "ci")
        a.roles["admin-role"] = Role("admin-role", aid, rng.principal_id("AROA"), "/", "human")
        a.roles["readonly-role"] = Role("readonly-role", aid, rng.principal_id("AROA"), "/", "human")
        a.roles["cross-account-readonly"] = Role("cross-account-readonly", aid, rng.principal_id("AROA"), "/", "xacct")
        for ps in ("AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess"):
            n = f"AWSReservedSSO_{ps}_{rng.hexs(16)}"
            a.roles[n] = Role(n, aid, rng.principal_id("AROA"), f"/aws-reserved/sso.amazonaws.com/{main}/", "sso")
        for j in range(round(2 + 1.5 * scale)):
            name = next(name_iter)
            x = rng.random()
            kind_ua, ua = (
                ("cli2", cli_v2(rng))
                if x < 0.6
                else ("sdk", boto3(rng))
                if x < 0.8
                else ("terraform", terraform(rng))
                if x < 0.9
                else ("sdk", go_sdk(rng))
            )
            a.humans.append(
                Human(
                    name=name,
                    account=aid,
                    principal_id=rng.principal_id("AIDA"),
                    access_key=rng.access_key("AKIA"),
                    ip=home_ip(rng) if rng.chance(0.5) else f"198.51.100.{rng.randint(10, 60)}",
                    ua=ua,
                    ua_kind=kind_ua,
                    profile=rng.pick(("dev", "dev", "data", "admin")),
                    console=j < 2,
                    mfa=rng.chance(0.9),
                    browser=rng.pick(BROWSERS),
                    sts_global=rng.chance(0.3),
                    assumes=["admin-role", "readonly-role"],
                    source_identity=rng.chance(0.3),
                    uses_session_token=rng.chance(0.2),
                )
            )
        a.humans.append(
            Human(
                name="svc-reporting",
                account=aid,
                principal_id=rng.principal_id("AIDA"),
                access_key=rng.access_key("AKIA"),
                ip=aws_ip(rng),
                ua=boto3(rng),
                ua_kind="sdk",
                profile="report",
                federates=True,
            )
        )
        n_inst = round(4 + 8 * scale)
        app_roles = [r for r in a.roles.values() if r.kind == "app"]
        for _ in range(n_inst):
            role = rng.pick(app_roles)
            region = main if rng.chance(0.75) else dr
            ua = rng.pick(
                (
                    boto3(rng),
                    java_sdk(rng),
                    go_sdk(rng),
                    "aws-sdk-go/1.55.5 (go1.22.9; linux; amd64) amazon-ssm-agent/3.3.1142.0",
                )
            )
            a.instances.append(
                Instance(
                    rng.ec2_id("i"),
                    aid,
                    region,
                    role,
                    rng.private_ip("10.20"),
                    ua,
                    role.name.split("-")[0],
                    f"vpce-{rng.hexs(17)}" if rng.chance(0.5) else None,
                )
            )
        lam_roles = [r for r in a.roles.values() if r.kind == "lambda"]
        for k in range(round(3 + 3 * scale)):
            role = rng.pick(lam_roles)
            fname = f"{role.name.split('-')[0]}-{rng.pick(('handler', 'worker', 'sync', 'cron', 'api'))}-{k}"
            ua = boto3(rng, "AWS_Lambda_python3.12") if rng.chance(0.6) else node_sdk(rng)
            a.functions.append(Function(fname, aid, main, role, ua, aws_ip(rng)))
        a.pipelines.append(
            Pipeline(f"acme/{apps[0]}-service", "refs/heads/main", a.roles["github-actions-deploy"], terraform(rng))
        )
        a.pipelines.append(
            Pipeline(
                "acme/platform-infra",
                "refs/heads/main",
                a.roles["github-actions-deploy"],
                terraform(rng),
                deploys=False,
            )
        )
        accts.append(a)
    for i, a in enumerate(accts):
        other = accts[(i + 1) % len(accts)]
        if other is not a and other.humans:
            a.xacct_callers.append((other.id, other.humans[0].name, "cross-account-readonly"))
    mgmt = next((a.id for a in accts if a.kind == "management"), accts[0].id)
    sso_users = []
    for _ in range(round(3 + 2 * scale)):
        name = next(name_iter)
        sets = []
        for a in accts:
            sso_roles = [r.name for r in a.roles.values() if r.kind == "sso"]
            sets.append((a.id, rng.pick(sso_roles)))
        sso_users.append(SsoUser(f"{name}@acme.example", rng.uuid(), home_ip(rng), rng.pick(BROWSERS), sets))
    return Org(
        accounts=accts,
        org_id=org_id,
        identity_store=store,
        sso_region=main,
        sso_users=sso_users,
        management=mgmt,
    )
