"""Scripted normal work of Metrolio (sample background that the storyline relies on):
Daniel's own CLI use, Alice's console sessions, Priya's data-admin reads and the
nightly customer export job that writes ``metrolio-customer-exports``."""

from __future__ import annotations

from tools.sample import org as m
from trailforensics.generate import activities as act
from trailforensics.generate import minting, signin
from trailforensics.generate.engine import Gen
from trailforensics.generate.model import Actor, Human
from trailforensics.generate.services.storage import s3_object_event
from trailforensics.generate.timeutil import parse_iso

EXPORT_PARTS = 30
DANIEL_SESSIONS = (
    "2026-03-09T08:47:12Z",
    "2026-03-09T10:58:40Z",
    "2026-03-09T13:22:05Z",
    "2026-03-09T16:05:51Z",
    "2026-03-10T09:06:33Z",
    "2026-03-10T14:31:18Z",
)
ALICE_SESSIONS = ("2026-03-09T08:55:02Z", "2026-03-09T15:40:27Z", "2026-03-10T09:12:44Z")
PRIYA_SESSIONS = ("2026-03-09T10:41:09Z", "2026-03-10T11:15:37Z")
EXPORT_RUNS = ("2026-03-09T01:00:12Z", "2026-03-10T01:00:09Z")


def export_keys(day: str) -> list[str]:
    """Objects the nightly job writes for `day` (YYYY/MM/DD)."""
    return [f"exports/{day}/customers-part-{i:04d}.csv.gz" for i in range(1, EXPORT_PARTS + 1)] + [
        f"exports/{day}/manifest.json"
    ]


def human(g: Gen, name: str) -> Human:
    return next(h for h in g.acct.humans if h.name == name)


def daniel_normal(g: Gen) -> None:
    d = human(g, m.DANIEL)
    for ts in DANIEL_SESSIONS:
        act.human_cli(g, d, parse_iso(ts))


def alice_console(g: Gen) -> None:
    a = human(g, m.ALICE)
    for ts in ALICE_SESSIONS:
        t = parse_iso(ts)
        actor = signin.console_login(g, a, t, region=m.GLOBAL)
        act.burst(g, actor, t + 9, g.r.randint(12, 30), (3, 40))


def priya_reads(g: Gen) -> None:
    p = human(g, m.PRIYA)
    role = g.acct.roles[m.DATA_ROLE]
    for ts in PRIYA_SESSIONS:
        t = parse_iso(ts)
        caller = minting.user_actor(p)
        actor = minting.assume_role(g, caller, role, p.name, t, source_identity=p.name, region=m.MAIN)
        day = ts[:10].replace("-", "/")
        t += 4
        b = m.EXPORTS
        g.call(
            actor,
            "s3:ListObjects",
            t,
            m.MAIN,
            req={
                "bucketName": b,
                "Host": f"{b}.s3.{m.MAIN}.amazonaws.com",
                "list-type": "2",
                "prefix": f"exports/{day}/",
                "encoding-type": "url",
            },
            resp=None,
            res=None,
            add=None,
            no_error=True,
        )
        for key in g.r.sample(export_keys(day)[:-1], 6):
            t += g.r.randint(2, 9)
            req, resp, res_, add = s3_object_event(g, m.MAIN, "GetObject", b, key)
            g.call(actor, "s3:GetObject", t, m.MAIN, req=req, resp=resp, res=res_, add=add, no_error=True)
        act.burst(g, actor, t + 5, 8, (3, 25), profile="data", fixed_region=m.MAIN)


def export_job(g: Gen) -> None:
    role = g.acct.roles["metrolio-export-task-role"]
    ua = (
        "aws-sdk-java/2.29.43 Linux/5.10.233-224.894.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS "
        "Java/21.0.5 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE io/sync http/Apache "
        "cfg/retry-mode/legacy"
    )
    for ts in EXPORT_RUNS:
        t = parse_iso(ts)
        task = g.r.hexs(32)
        svc = minting.service_actor("ecs-tasks.amazonaws.com", m.PROD)
        actor = minting.assume_role(
            g,
            svc,
            role,
            task,
            t,
            duration=21600,
            region=m.MAIN,
            ip="10.20.7.201",
            ua=ua,
            ua_kind="sdk",
            profile="app",
            vpce="vpce-0b7d2f41c9e3a5d68",
            tls="1.3",
        )
        t += 6
        g.call(
            actor,
            "secretsmanager:GetSecretValue",
            t,
            m.MAIN,
            req={"secretId": "prod/reports/warehouse-readonly"},
            resp=None,
            res=None,
            add=None,
            no_error=True,
        )
        day = ts[:10].replace("-", "/")
        for key in export_keys(day):
            t += g.r.randint(3, 11)
            req, resp, res_, add = s3_object_event(
                g,
                m.MAIN,
                "PutObject",
                m.EXPORTS,
                key,
                size=g.r.randint(2_000_000, 9_000_000) if key.endswith(".gz") else 4121,
            )
            g.call(actor, "s3:PutObject", t, m.MAIN, req=req, resp=resp, res=res_, add=add, no_error=True)


def run_routines(g: Gen) -> None:
    export_job(g)
    daniel_normal(g)
    alice_console(g)
    priya_reads(g)


def cloudtrail_kms_actor() -> Actor:
    return minting.service_actor("cloudtrail.amazonaws.com", m.PROD)
