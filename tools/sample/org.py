"""Metrolio, the organisation of the committed sample (``sample_logs/``).

Names, ids, addresses and keys the storyline refers to are constants here, so
the incident script, the README and the tests share one source of truth.
"""

from __future__ import annotations

from trailforensics.generate.model import Account, Function, Human, Instance, Org, Pipeline, Role, SsoUser
from trailforensics.generate.orgbuild import service_linked_roles
from trailforensics.generate.resources import build_resources
from trailforensics.generate.rng import Rng
from trailforensics.generate.timeutil import parse_iso
from trailforensics.generate.useragents import BROWSERS, boto3, cli_v2, java_sdk, node_sdk, terraform

SEED = 20260309
ORG_ID = "o-7k2m9x4q1z"
MGMT, PROD, DEV, LOGS = "210987654321", "483920175562", "739104628815", "205117946380"
ACCOUNT_NAMES = {
    MGMT: "metrolio-management",
    PROD: "metrolio-prod",
    DEV: "metrolio-dev",
    LOGS: "metrolio-log-archive",
}
MAIN, DR, GLOBAL = "eu-west-1", "eu-central-1", "us-east-1"
T0 = parse_iso("2026-03-09T00:00:00Z")
T1 = parse_iso("2026-03-11T00:00:00Z")

ORG_TRAIL, ORG_BUCKET = "metrolio-org-trail", "metrolio-org-trail-logs-205117946380"
AUDIT_TRAIL, AUDIT_BUCKET = "metrolio-audit-trail", "metrolio-audit-logs-483920175562"
S3_TRAIL, S3_BUCKET = "metrolio-s3-trail", "metrolio-log-bucket-s3-actions-8bb83f2a"
EXPORTS = "metrolio-customer-exports"
ASSETS, INVOICES = "metrolio-app-assets-prod", "metrolio-invoices-prod"
LOG_KEY_ALIAS = "alias/metrolio-log-key-daca2753"
LOG_KEY_ID = "5f1c9e2a-7b3d-4c8e-9a16-2d4b8e0f3c71"
LOG_KEY_ARN = f"arn:aws:kms:{MAIN}:{PROD}:key/{LOG_KEY_ID}"
AUDIT_TRAIL_ARN = f"arn:aws:cloudtrail:{MAIN}:{PROD}:trail/{AUDIT_TRAIL}"
ORG_TRAIL_ARN = f"arn:aws:cloudtrail:{MAIN}:{MGMT}:trail/{ORG_TRAIL}"
S3_TRAIL_ARN = f"arn:aws:cloudtrail:{MAIN}:{PROD}:trail/{S3_TRAIL}"

OFFICE_NET = "85.115.54.0/24"
ALICE, ALICE_IP = "alice.martin", "85.115.54.12"
ALICE_BROWSER = BROWSERS[0]
DANIEL, DANIEL_KEY, DANIEL_ID, DANIEL_IP = (
    "daniel.kowalski",
    "AKIA5DKW7QHNMV2XRP4L",
    "AIDAUK3XW7MB2QZ5NT4RV",
    "81.2.69.160",
)
DANIEL_UA = (
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-26-generic md/arch#x86_64 lang/python#3.11.8 "
    "md/pyimpl#CPython exec-env/vscode-devcontainer cfg/retry-mode#standard md/installer#exe "
    "md/distrib#ubuntu.22 md/prompt#off"
)
PRIYA, PRIYA_IP = "priya.nair", "85.115.54.37"
JONAS, JONAS_IP = "jonas.weber", "85.115.54.58"

ATTACKER_IP_1 = "185.220.101.47"
ATTACKER_UA_1 = "aws-cli/1.16.312 Python/2.7.18 Linux/5.10.0-kali7-amd64 botocore/1.13.48"
ATTACKER_IP_2 = "45.137.21.9"
ATTACKER_UA_2 = (
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.8 "
    "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69"
)
BACKDOOR, BACKDOOR_KEY, BACKDOOR_ID = "svc-backup-sync", "AKIAR7QZ3M5LXB2K6PYD", "AIDAVB4Z7XQ2M3KLRT6PS"
DEPLOY_ROLE, DEPLOY_ROLE_ID = "metrolio-deploy-role", "AROAW5LKQ2ZP7XM4NHD3E"
DATA_ROLE, DATA_ROLE_ID = "metrolio-data-admin", "AROAT3QH6VZ2KM7PXWR4B"
SYNC_KEY, EXPORTER_KEY = "ASIAXQ4KD7TNZ2VWJ5RB", "ASIAV6MC3PLH7RY2EQTN"
ATTACK_REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-1")
MINING_REGION = "sa-east-1"


def _role(
    rng: Rng, acct: str, name: str, kind: str, path: str = "/", trusted: str = "", rid: str | None = None
) -> Role:
    return Role(name, acct, rid or rng.principal_id("AROA"), path, kind, trusted)


def _sso_roles(rng: Rng, a: Account, sets: tuple[str, ...]) -> None:
    for ps in sets:
        n = f"AWSReservedSSO_{ps}_{rng.hexs(16)}"
        a.roles[n] = _role(rng, a.id, n, "sso", f"/aws-reserved/sso.amazonaws.com/{MAIN}/")


def sso_role(a: Account, ps: str) -> str:
    return next(n for n in a.roles if n.startswith(f"AWSReservedSSO_{ps}_"))


def build_metrolio() -> Org:
    rng = Rng(SEED)

    def account(aid: str, kind: str, env: str, apps: tuple[str, ...]) -> Account:
        a = Account(
            id=aid,
            name=ACCOUNT_NAMES[aid],
            kind=kind,
            main_region=MAIN,
            dr_region=DR,
            other_regions=[],
            res=build_resources(rng, env, apps, "metrolio"),
            saml_provider=f"AWSSSO_{rng.hexs(16)}_DO_NOT_DELETE",
            us_east_share=0.0,
        )
        a.roles.update(service_linked_roles(rng, aid))
        return a

    prod = account(PROD, "prod", "prod", ("orders", "payments", "notify", "reports", "media"))
    dev = account(DEV, "dev", "dev", ("orders", "payments", "notify"))
    mgmt = account(MGMT, "management", "mgmt", ("billing",))
    logs = account(LOGS, "log-archive", "logs", ("archive",))

    pr = prod.res
    pr.buckets = [EXPORTS, ASSETS, INVOICES, AUDIT_BUCKET, S3_BUCKET]
    pr.data_buckets = [ASSETS, INVOICES]
    pr.secrets = [
        "prod/payments/stripe-api-key",
        "prod/orders/db-credentials",
        "prod/notify/smtp-credentials",
        "prod/reports/warehouse-readonly",
    ]
    dev.res.buckets = ["metrolio-dev-artifacts", "metrolio-dev-scratch"]
    dev.res.data_buckets = list(dev.res.buckets)
    mgmt.res.buckets = ["metrolio-billing-reports"]
    mgmt.res.data_buckets = []
    logs.res.buckets = [ORG_BUCKET, "metrolio-config-history-205117946380"]
    logs.res.data_buckets = []

    # ---- prod principals
    prod.roles[DEPLOY_ROLE] = _role(rng, PROD, DEPLOY_ROLE, "human", rid=DEPLOY_ROLE_ID)
    prod.roles[DATA_ROLE] = _role(rng, PROD, DATA_ROLE, "human", rid=DATA_ROLE_ID)
    prod.roles["metrolio-readonly-from-dev"] = _role(rng, PROD, "metrolio-readonly-from-dev", "xacct", trusted=DEV)
    prod.roles["metrolio-github-deploy"] = _role(rng, PROD, "metrolio-github-deploy", "ci")
    prod.roles["metrolio-web-role"] = _role(rng, PROD, "metrolio-web-role", "app", trusted="ec2.amazonaws.com")
    prod.roles["metrolio-export-task-role"] = _role(
        rng, PROD, "metrolio-export-task-role", "ecs", trusted="ecs-tasks.amazonaws.com"
    )
    for fn in ("orders-api", "invoice-renderer", "image-resizer"):
        prod.roles[f"metrolio-{fn}-role"] = _role(
            rng, PROD, f"metrolio-{fn}-role", "lambda", "/service-role/", "lambda.amazonaws.com"
        )
    _sso_roles(rng, prod, ("AdministratorAccess", "ReadOnlyAccess", "SecurityAudit"))
    prod.humans = [
        Human(
            ALICE,
            PROD,
            rng.principal_id("AIDA"),
            None,
            ALICE_IP,
            ALICE_BROWSER,
            "browser",
            "admin",
            console=True,
            mfa=True,
            browser=ALICE_BROWSER,
            scripted=True,
        ),
        Human(DANIEL, PROD, DANIEL_ID, DANIEL_KEY, DANIEL_IP, DANIEL_UA, "cli2", "dev", scripted=True),
        Human(
            PRIYA,
            PROD,
            rng.principal_id("AIDA"),
            rng.access_key("AKIA"),
            PRIYA_IP,
            cli_v2(rng),
            "cli2",
            "data",
            assumes=[DATA_ROLE],
            source_identity=True,
            scripted=True,
        ),
        Human(
            JONAS,
            PROD,
            rng.principal_id("AIDA"),
            rng.access_key("AKIA"),
            JONAS_IP,
            cli_v2(rng),
            "cli2",
            "dev",
            assumes=[DEPLOY_ROLE],
            uses_session_token=False,
        ),
        Human(
            "svc-reporting",
            PROD,
            rng.principal_id("AIDA"),
            rng.access_key("AKIA"),
            "52.49.201.77",
            boto3(rng),
            "sdk",
            "report",
            federates=True,
        ),
    ]
    web = prod.roles["metrolio-web-role"]
    for i in range(7):
        region = MAIN if i < 5 else DR
        prod.instances.append(
            Instance(
                rng.ec2_id("i"),
                PROD,
                region,
                web,
                rng.private_ip("10.20" if region == MAIN else "10.40"),
                java_sdk(rng) if i % 2 else boto3(rng),
                "web",
                f"vpce-{rng.hexs(17)}" if i % 3 == 0 else None,
            )
        )
    for fn in ("orders-api", "invoice-renderer", "image-resizer"):
        ua = node_sdk(rng) if fn == "orders-api" else boto3(rng, "AWS_Lambda_python3.12")
        prod.functions.append(
            Function(
                f"metrolio-{fn}",
                PROD,
                MAIN,
                prod.roles[f"metrolio-{fn}-role"],
                ua,
                f"52.49.{rng.randrange(64, 127)}.{rng.randrange(1, 254)}",
            )
        )
    prod.pipelines = [
        Pipeline("metrolio/orders-service", "refs/heads/main", prod.roles["metrolio-github-deploy"], terraform(rng))
    ]
    prod.xacct_callers = [(DEV, "lukas.schmidt", "metrolio-readonly-from-dev")]
    prod.activity = {"instance": 10, "lambda": 8, "service": 12, "human": 5, "ci": 1.5, "federated": 0.8}

    # ---- dev
    dev.roles["github-actions-dev"] = _role(rng, DEV, "github-actions-dev", "ci")
    dev.roles["metrolio-dev-app-role"] = _role(rng, DEV, "metrolio-dev-app-role", "app", trusted="ec2.amazonaws.com")
    dev.roles["metrolio-orders-api-dev-role"] = _role(
        rng, DEV, "metrolio-orders-api-dev-role", "lambda", "/service-role/"
    )
    _sso_roles(rng, dev, ("ReadOnlyAccess", "PowerUserAccess"))
    dev.humans = [
        Human(
            "lukas.schmidt",
            DEV,
            rng.principal_id("AIDA"),
            rng.access_key("AKIA"),
            "92.40.188.21",
            cli_v2(rng),
            "cli2",
            "dev",
        ),
        Human(
            "sofia.costa",
            DEV,
            rng.principal_id("AIDA"),
            rng.access_key("AKIA"),
            "85.115.54.44",
            boto3(rng),
            "sdk",
            "dev",
        ),
    ]
    for _ in range(2):
        dev.instances.append(
            Instance(
                rng.ec2_id("i"),
                DEV,
                MAIN,
                dev.roles["metrolio-dev-app-role"],
                rng.private_ip("10.60"),
                boto3(rng),
                "dev",
            )
        )
    dev.functions.append(
        Function(
            "metrolio-orders-api-dev",
            DEV,
            MAIN,
            dev.roles["metrolio-orders-api-dev-role"],
            node_sdk(rng),
            f"34.240.{rng.randrange(256)}.{rng.randrange(1, 254)}",
        )
    )
    dev.pipelines = [
        Pipeline(
            "metrolio/platform-infra",
            "refs/heads/main",
            dev.roles["github-actions-dev"],
            terraform(rng),
            deploys=False,
        )
    ]
    dev.activity = {"instance": 6, "lambda": 4, "service": 8, "human": 6, "ci": 1.5}

    # ---- management and log archive: services and Identity Center only
    _sso_roles(rng, mgmt, ("AdministratorAccess", "ReadOnlyAccess"))
    mgmt.activity = {"service": 10}
    _sso_roles(rng, logs, ("SecurityAudit", "ReadOnlyAccess"))
    logs.activity = {"service": 10}

    users = [
        SsoUser(
            "tomas.novak@metrolio.eu",
            rng.uuid(),
            "85.115.54.20",
            BROWSERS[1],
            [(PROD, sso_role(prod, "AdministratorAccess")), (MGMT, sso_role(mgmt, "AdministratorAccess"))],
        ),
        SsoUser(
            "eva.lindqvist@metrolio.eu",
            rng.uuid(),
            "85.115.54.71",
            BROWSERS[4],
            [(PROD, sso_role(prod, "ReadOnlyAccess")), (DEV, sso_role(dev, "ReadOnlyAccess"))],
        ),
        SsoUser(
            "karim.haddad@metrolio.eu",
            rng.uuid(),
            "85.115.54.90",
            BROWSERS[2],
            [(LOGS, sso_role(logs, "SecurityAudit")), (PROD, sso_role(prod, "SecurityAudit"))],
        ),
        SsoUser(
            "ana.ferreira@metrolio.eu",
            rng.uuid(),
            "176.24.88.13",
            BROWSERS[3],
            [(DEV, sso_role(dev, "PowerUserAccess")), (MGMT, sso_role(mgmt, "ReadOnlyAccess"))],
        ),
    ]
    return Org(
        accounts=[mgmt, prod, dev, logs],
        org_id=ORG_ID,
        identity_store="d-93676e2a1b",
        sso_region=MAIN,
        sso_users=users,
        management=MGMT,
    )
