"""Fill one shard (account x time chunk) with background activity.

Activities that involve two accounts (IAM Identity Center visits, cross-account
AssumeRole) are planned per day from the seed alone (`sso_visits`,
`xacct_visits`), so the shards of both accounts agree on them whatever the
chunking or the number of worker processes; each shard writes only the records
that belong to its own account.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from trailforensics.generate import activities as act
from trailforensics.generate import minting, signin
from trailforensics.generate.engine import Gen
from trailforensics.generate.model import Actor, Org, SsoUser, identity_center_identity
from trailforensics.generate.rng import Rng, derive_seed

DAY = 86400
# activity -> relative weight (per activity start, not per event)
BASE_WEIGHTS = {
    "human": 6.0,
    "console": 1.2,
    "ci": 0.8,
    "instance": 30.0,
    "lambda": 20.0,
    "service": 22.0,
    "federated": 0.6,
    "batch": 0.012,
}
HUMAN = {"human", "console", "ci", "federated"}


@dataclass(frozen=True)
class SsoVisit:
    user: SsoUser
    account: str
    role: str
    t: int
    seed: int


@dataclass(frozen=True)
class XacctVisit:
    caller_account: str
    caller: str
    account: str
    role: str
    t: int
    seed: int


def _days(t0: int, t1: int) -> range:
    return range(t0 // DAY * DAY, t1, DAY)


def work_time(rng: Rng, day: int, hours: tuple[int, int], span: tuple[int, int]) -> int | None:
    """A time in the working hours of `day` inside the tree `span` (or anywhere in the
    day's part of the span when the span misses the working hours), None if the
    span does not reach this day."""
    lo, hi = max(day + hours[0] * 3600, span[0] + 600), min(day + hours[1] * 3600, span[1] - 600)
    if hi <= lo:
        lo, hi = max(day, span[0] + 600), min(day + DAY, span[1] - 600)
        if hi <= lo:
            return None
    return lo + rng.randrange(hi - lo)


def sso_visits(
    org: Org, seed: int, t0: int, t1: int, span: tuple[int, int], per_day: tuple[int, int] = (0, 3)
) -> list[SsoVisit]:
    out = []
    for day in _days(t0, t1):
        for u in org.sso_users:
            rr = Rng(derive_seed(seed, "sso", day, u.username))
            for i in range(rr.randint(*per_day)):
                acct, role = rr.pick(u.permission_sets)
                t = work_time(rr, day, u.work_hours, span)
                if t is not None and t0 <= t < t1:
                    out.append(SsoVisit(u, acct, role, t, derive_seed(seed, "sso", day, u.username, i)))
    return out


def xacct_visits(
    org: Org, seed: int, t0: int, t1: int, span: tuple[int, int], per_day: tuple[int, int] = (1, 3)
) -> list[XacctVisit]:
    out = []
    for day in _days(t0, t1):
        for a in org.accounts:
            for caller_acct, caller, role in a.xacct_callers:
                rr = Rng(derive_seed(seed, "xacct", day, a.id, caller, role))
                for i in range(rr.randint(*per_day)):
                    t = work_time(rr, day, (8, 18), span)
                    if t is not None and t0 <= t < t1:
                        out.append(
                            XacctVisit(
                                caller_acct,
                                caller,
                                a.id,
                                role,
                                t,
                                derive_seed(seed, "xacct", day, a.id, caller, i),
                            )
                        )
    return out


def portal_events(g: Gen, v: SsoVisit) -> None:
    """Identity Center portal activity, recorded in the management account."""
    org = g.org
    r = g.r
    store_arn = f"arn:aws:identitystore::{org.management}:identitystore/{org.identity_store}"
    ident = identity_center_identity(org.management, v.user.user_id, store_arn, r.uuid())
    actor = Actor(
        ident=ident,
        account=org.management,
        ip=v.user.ip,
        ua=v.user.browser,
        ua_kind="browser",
        region=org.sso_region,
    )
    t = v.t - r.randint(25, 90)
    if r.chance(0.5):
        g.call(
            actor,
            "signin:UserAuthentication",
            t - 20,
            org.sso_region,
            req=None,
            resp=None,
            res=None,
            add={
                "AuthWorkflowID": r.uuid(),
                "UserName": v.user.username,
                "LoginTo": f"https://{org.identity_store}.awsapps.com/start/",
                "CredentialType": "EXTERNAL_IDP",
            },
            event_type="AwsServiceEvent",
            details={"UserAuthentication": "Success"},
            no_error=True,
            read_only=False,
        )
    g.call(
        actor,
        "sso:ListAccounts",
        t,
        org.sso_region,
        req={"maxResults": "100"},
        resp=None,
        res=None,
        add=None,
        no_error=True,
    )
    g.call(
        actor,
        "sso:ListAccountRoles",
        t + r.randint(2, 20),
        org.sso_region,
        req={"accountId": v.account, "maxResults": "100"},
        resp=None,
        res=None,
        add=None,
        no_error=True,
    )
    g.call(
        actor,
        "sso:Federate",
        v.t - r.randint(1, 4),
        org.sso_region,
        req={"roleName": v.role.split("_")[1], "accountId": v.account},
        resp=None,
        res=None,
        add=None,
        no_error=True,
    )


def run_sso_visit(g: Gen, v: SsoVisit) -> None:
    saved = g.r
    g.r = Rng(v.seed)
    try:
        if g.aid == g.org.management:
            portal_events(g, v)
        if g.aid == v.account:
            role = g.acct.roles[v.role]
            qualifier = base64.b64encode(hashlib.sha1(g.org.identity_store.encode()).digest()).decode()
            actor = signin.saml_session(
                g,
                v.user,
                role,
                g.acct.saml_provider,
                qualifier,
                v.t,
                g.org.sso_region,
            )
            act.burst(g, actor, v.t + g.r.randint(3, 20), g.r.randint(6, 40), (2, 50))
    finally:
        g.r = saved


def run_xacct_visit(g: Gen, v: XacctVisit) -> None:
    saved = g.r
    g.r = Rng(v.seed)
    try:
        caller_acct = g.org.account(v.caller_account)
        h = next(x for x in caller_acct.humans if x.name == v.caller)
        caller = minting.user_actor(h)
        target = g.org.account(v.account)
        role = target.roles[v.role]
        region = "us-east-1" if h.sts_global else caller_acct.main_region
        actor = minting.assume_role(g, caller, role, h.name, v.t, region=region, profile="ro")
        if g.aid == v.account:
            actor.region = ""
            act.burst(g, actor, v.t + g.r.randint(1, 6), g.r.randint(4, 25), (1, 20))
    finally:
        g.r = saved


def diurnal(t: int) -> float:
    h = (t // 3600) % 24
    return 1.0 if 7 <= h < 19 else 0.45


def _human_factor(t: int, hours: tuple[int, int] = (8, 18)) -> float:
    h = (t // 3600) % 24
    return 1.0 if hours[0] <= h < hours[1] else 0.04


def activity_weights(g: Gen, include_root: bool) -> dict[str, float]:
    a = g.acct
    w = dict(BASE_WEIGHTS)
    w.update(a.activity)
    if not any(h.access_key and not h.federates and not h.scripted for h in a.humans):
        w["human"] = 0.0
    if not any(h.console and not h.scripted for h in a.humans):
        w["console"] = 0.0
    if not a.pipelines:
        w["ci"] = 0.0
    if not a.instances:
        w["instance"] = 0.0
    if not a.functions:
        w["lambda"] = 0.0
    if not any(h.federates for h in a.humans):
        w["federated"] = 0.0
    if not a.batch_launches:
        w["batch"] = 0.0
    return w


def sample_times(g: Gen) -> Iterator[int]:
    r = g.r
    lo, hi = g.t0 + 300, g.t1 - 30
    while True:
        t = r.randrange(lo, max(lo + 1, hi))
        if r.random() < diurnal(t):
            yield t


def run_background(
    g: Gen,
    budget: int,
    seed: int,
    span: tuple[int, int],
    *,
    include_root: bool = True,
    sso_per_day: tuple[int, int] = (0, 3),
    xacct_per_day: tuple[int, int] = (1, 3),
    visit_share: float = 1.0,
) -> None:
    """Planned visits touching this account (Identity Center, cross-account, a daily
    root sign-in when `include_root`), then local activities until `budget` records.
    `span` is the whole tree's time range (the plans depend on it, not on the chunk);
    `visit_share` thins the planned visits of very small trees (decided per visit, so
    both accounts of a visit agree)."""

    def kept(visit_seed: int) -> bool:
        return visit_share >= 1.0 or Rng(visit_seed ^ 0x5EED).random() < visit_share

    for sv in sso_visits(g.org, seed, g.t0, g.t1, span, sso_per_day):
        if g.aid in (sv.account, g.org.management) and kept(sv.seed):
            run_sso_visit(g, sv)
    for xv in xacct_visits(g.org, seed, g.t0, g.t1, span, xacct_per_day):
        if g.aid in (xv.account, xv.caller_account) and kept(xv.seed):
            run_xacct_visit(g, xv)
    if include_root and g.acct.root_activity:
        for day in _days(g.t0, g.t1):
            rr = Rng(derive_seed(seed, "root", day, g.aid))
            t = work_time(rr, day, (9, 17), span)
            if t is not None and g.t0 <= t < g.t1 and kept(derive_seed(seed, "root", day)):
                saved, g.r = g.r, rr
                act.root_session(g, t)
                g.r = saved
    w = act.Workloads(g)
    weights = activity_weights(g, include_root)
    names = [k for k, v in weights.items() if v > 0]
    base = [weights[k] for k in names]
    a = g.acct
    cli_humans = [h for h in a.humans if h.access_key and not h.federates and not h.scripted]
    console_humans = [h for h in a.humans if h.console and not h.scripted]
    fed_humans = [h for h in a.humans if h.federates and not h.scripted]
    r = g.r
    if not names:
        return
    for t in sample_times(g):
        if len(g.events) >= budget:
            break
        hf = _human_factor(t)
        pairs = zip(names, base, strict=True)
        cum = list(itertools.accumulate(b * (hf if n in HUMAN else 1.0) for n, b in pairs))
        x = r.random() * cum[-1]
        kind = names[next(i for i, c in enumerate(cum) if c > x)]
        if kind == "human" and cli_humans:
            act.human_cli(g, r.pick(cli_humans), t)
        elif kind == "console" and console_humans:
            act.console_session(g, r.pick(console_humans), t)
        elif kind == "ci":
            act.ci_run(g, r.pick(a.pipelines), t)
        elif kind == "instance":
            act.instance_tick(g, w, r.pick(a.instances), t)
        elif kind == "lambda":
            act.lambda_tick(g, w, r.pick(a.functions), t)
        elif kind == "service":
            act.service_tick(g, w, t)
        elif kind == "federated" and fed_humans:
            act.federated_portal(g, r.pick(fed_humans), t)
        elif kind == "batch":
            act.batch_launch(g, w, t)
