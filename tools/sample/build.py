"""Build the committed sample ``sample_logs/`` (Metrolio, 2026-03-09/10).

``make sample``, ``python -m tools.sample OUT`` or :func:`build_sample`.  Three
synced buckets are written under OUT, one folder per bucket:

* ``metrolio-org-trail-logs-205117946380``: organisation trail, management events of
  the four accounts plus S3 data events on ``metrolio-customer-exports``;
* ``metrolio-audit-logs-483920175562``: prod account trail (management events,
  digests, one Insights pair), stopped 02:41:19-03:32:05Z on 2026-03-10, with the
  log file holding StopLogging deleted by the attacker;
* ``metrolio-log-bucket-s3-actions-8bb83f2a``: the S3 write data-event trail created
  on 2026-03-09 (digests).

Everything is deterministic except digest signatures (an ephemeral RSA key whose
private half is discarded); ``_verification/`` holds its public key and the
signatures of the newest digest of every chain.  ``README.md`` is rendered from
the generated records (see `readme`).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from tools.sample import org as m
from tools.sample.impact import T, delete_log, start_logging
from tools.sample.readme import render_readme
from tools.sample.routines import run_routines
from tools.sample.story import incident
from tools.sample.trail_setup import setup_s3_trail
from trailforensics.generate import digests as dg
from trailforensics.generate.delivery import Batch, batch_events
from trailforensics.generate.engine import Event, Gen
from trailforensics.generate.insights import InsightSpec, attribution, insight_batches
from trailforensics.generate.minting import service_actor
from trailforensics.generate.model import Org
from trailforensics.generate.rng import Rng, derive_seed
from trailforensics.generate.schedule import diurnal, run_background
from trailforensics.generate.services import Api, res
from trailforensics.generate.services.storage import S3_WRITES
from trailforensics.generate.timeutil import parse_iso
from trailforensics.generate.writer import FileMeta, log_key, write_batch

BUDGET_PER_DAY = {m.PROD: 700, m.DEV: 330, m.MGMT: 110, m.LOGS: 60}
CHUNK = 6 * 3600
QUIET = frozenset({"iam:GetAccountAuthorizationDetails", "ec2:ImportKeyPair", "ec2:CreateSecurityGroup"})
SALT = {trail: derive_seed(m.SEED, "deliver", trail) for trail in (m.ORG_TRAIL, m.AUDIT_TRAIL, m.S3_TRAIL)}


def sample_api_filter(api: Api) -> bool:
    """Data events only where a Metrolio trail records them (S3 writes; reads on the exports bucket are
    scripted), and no calls that hunting rules treat as attack-like (they belong to the incident)."""
    if api.key in QUIET:
        return False
    return not api.data or (api.source == "s3.amazonaws.com" and not api.read_only)


def background(org: Org) -> list[Event]:
    events: list[Event] = []
    chunks = [(t, t + CHUNK) for t in range(m.T0, m.T1, CHUNK)]
    weights = [sum(diurnal(h) for h in range(a, b, 3600)) for a, b in chunks]
    for acct in org.accounts:
        arn = m.AUDIT_TRAIL_ARN if acct.id == m.PROD else m.ORG_TRAIL_ARN
        for (c0, c1), w in zip(chunks, weights, strict=True):
            g = Gen(
                org,
                acct,
                Rng(derive_seed(m.SEED, "bg", acct.id, c0)),
                c0,
                c1,
                trail_name=m.ORG_TRAIL,
                trail_arn=arn,
            )
            g.api_filter = sample_api_filter
            budget = round(BUDGET_PER_DAY[acct.id] * 2 * w / sum(weights))
            run_background(
                g, budget, m.SEED, (m.T0, m.T1), include_root=False, sso_per_day=(1, 2), xacct_per_day=(1, 2)
            )
            events += g.events
    return events


def in_org_trail(e: Event) -> bool:
    rec = e[3]
    if rec["eventCategory"] == "Management":
        return True
    rp = rec.get("requestParameters")
    return rec["eventSource"] == "s3.amazonaws.com" and isinstance(rp, dict) and rp.get("bucketName") == m.EXPORTS


def in_s3_trail(e: Event, start: int) -> bool:
    t, acct, region, rec = e
    return (
        acct == m.PROD
        and region == m.MAIN
        and rec["eventCategory"] == "Data"
        and t > start
        and rec["eventSource"] == "s3.amazonaws.com"
        and rec["eventName"] in S3_WRITES
    )


class AuditFilter:
    """Management events of prod, except while metrolio-audit-trail was stopped."""

    def __init__(self, stop: dict[str, Any], start: dict[str, Any] | None) -> None:
        self.stop, self.start = stop, start
        self.t_stop = parse_iso(stop["eventTime"])
        self.t_start = parse_iso(start["eventTime"]) if start else None

    def __call__(self, e: Event) -> bool:
        t, acct, _, rec = e
        if acct != m.PROD or rec["eventCategory"] != "Management":
            return False
        if t < self.t_stop or rec is self.stop:
            return True
        if self.t_start is None:
            return False
        return t > self.t_start or rec is self.start


def _key_of(b: Batch, org_id: str | None = None) -> str:
    return log_key(b.account, b.region, b.delivered, b.name, org_id=org_id)


def _holding(batches: list[Batch], rec: dict[str, Any]) -> Batch:
    return next(b for b in batches if any(r is rec for r in b.records))


def kms_for_deliveries(g: Gen, batches: list[Batch]) -> None:
    """CloudTrail asks KMS for a data key for every encrypted log file it delivers."""
    actor = service_actor("cloudtrail.amazonaws.com", m.PROD)
    key_res = [res("AWS::KMS::Key", m.LOG_KEY_ARN, m.PROD)]
    for b in batches:
        g.call(
            actor,
            "kms:GenerateDataKey",
            b.delivered - g.r.randint(1, 4),
            m.MAIN,
            req={
                "keyId": m.LOG_KEY_ARN,
                "encryptionContext": {
                    "aws:cloudtrail:arn": m.S3_TRAIL_ARN,
                    "aws:s3:arn": f"arn:aws:s3:::{m.S3_BUCKET}/{_key_of(b)}",
                },
                "keySpec": "AES_256",
            },
            resp=None,
            res=key_res,
            add=None,
            no_error=True,
        )


def _chains(
    root: Path,
    files: list[FileMeta],
    regions: list[str],
    key: Any,
    *,
    trail: str,
    bucket: str,
    segments: list[tuple[int, int, int]],
    offsets: dict[str, int],
) -> list[list[dg.Digest]]:
    """Digest chains per region; `segments` = [(start, end, restart-or-0)] splits the chain."""
    chains = []
    for region in regions:
        refs = [dg.LogRef.from_meta(f) for f in files if f.region == region]
        for start, end, until in segments:
            seg = [r for r in refs if r.delivered >= start and (not until or r.delivered < until)]
            last = max([end] + [r.delivered for r in seg])
            chains.append(
                dg.build_chain(
                    root,
                    seg,
                    account=m.PROD,
                    region=region,
                    trail_name=trail,
                    home_region=m.MAIN,
                    bucket=bucket,
                    start=start,
                    end=last,
                    offset=offsets[region],
                    private_key=key,
                )
            )
    return chains


def build_sample(out: Path) -> dict[str, Any]:
    """Write the sample under `out` (replacing a previous one) and return its key facts."""
    out = Path(out)
    for sub in (m.ORG_BUCKET, m.AUDIT_BUCKET, m.S3_BUCKET, "_verification"):
        shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    org = m.build_metrolio()
    prod = org.account(m.PROD)
    events = background(org)
    routines = Gen(
        org,
        prod,
        Rng(derive_seed(m.SEED, "routines")),
        m.T0,
        m.T1,
        err_rate=0.03,
        trail_arn=m.AUDIT_TRAIL_ARN,
    )
    routines.emit_all = True
    routines.api_filter = sample_api_filter
    run_routines(routines)
    story = Gen(org, prod, Rng(derive_seed(m.SEED, "story")), m.T0, m.T1, err_rate=0.0, trail_arn=m.AUDIT_TRAIL_ARN)
    story.emit_all = True
    facts: dict[str, Any] = {"setup": setup_s3_trail(story), "incident": incident(story)}
    inc = facts["incident"]
    stop_rec = inc["stop"][-1]
    s3_start = parse_iso(facts["setup"]["StartLogging"]["eventTime"])

    # 1. where did the audit trail deliver StopLogging?  (file names do not depend on other windows)
    base = events + routines.events + story.events
    audit_pre = batch_events([e for e in base if AuditFilter(stop_rec, None)(e)], SALT[m.AUDIT_TRAIL])
    stop_batch = _holding(audit_pre, stop_rec)
    deleted_key = _key_of(stop_batch)
    n_story = len(story.events)
    inc["delete"] = delete_log(story, inc["backdoor"], deleted_key)
    inc["start"] = start_logging(story, inc["backdoor"])
    base += story.events[n_story:]

    # 2. the S3 trail, and the KMS data keys CloudTrail requested for its (encrypted) files
    s3_batches = batch_events([e for e in base if in_s3_trail(e, s3_start)], SALT[m.S3_TRAIL])
    kms = Gen(org, prod, Rng(derive_seed(m.SEED, "kms")), m.T0, m.T1, err_rate=0.0)
    kms.emit_all = True
    kms_for_deliveries(kms, s3_batches)
    base += kms.events

    # 3. final deliveries
    audit_filter = AuditFilter(stop_rec, inc["start"])
    org_batches = batch_events([e for e in base if in_org_trail(e)], SALT[m.ORG_TRAIL])
    audit_batches = batch_events([e for e in base if audit_filter(e)], SALT[m.AUDIT_TRAIL])
    stop_batch = _holding(audit_batches, stop_rec)
    assert _key_of(stop_batch) == deleted_key
    kept = [b for b in audit_batches if b is not stop_batch]  # the attacker deletes stop_batch's file
    roots = {
        t: out / b for t, b in ((m.ORG_TRAIL, m.ORG_BUCKET), (m.AUDIT_TRAIL, m.AUDIT_BUCKET), (m.S3_TRAIL, m.S3_BUCKET))
    }
    org_files = [write_batch(roots[m.ORG_TRAIL], b, org_id=m.ORG_ID) for b in org_batches]
    audit_files = [write_batch(roots[m.AUDIT_TRAIL], b) for b in audit_batches]
    s3_files = [write_batch(roots[m.S3_TRAIL], b) for b in s3_batches]

    # 4. Insights on the recon's error spike (IAM is global: us-east-1)
    daniel_arn = f"arn:aws:iam::{m.PROD}:user/{m.DANIEL}"
    spec = InsightSpec(
        m.PROD,
        m.GLOBAL,
        "iam.amazonaws.com",
        "ListAccessKeys",
        "ApiErrorRateInsight",
        T("02:15:00"),
        2,
        0.0000925,
        0.8,
        10080,
        [
            attribution(
                "userIdentityArn",
                [(daniel_arn, 0.8)],
                [
                    (
                        f"arn:aws:sts::{m.PROD}:assumed-role/AWSServiceRoleForConfig/AWSConfig-Describe",
                        0.0000925,
                    )
                ],
            ),
            attribution("userAgent", [(m.ATTACKER_UA_1, 0.8)], [("config.amazonaws.com", 0.0000925)]),
            attribution("errorCode", [("AccessDenied", 0.8)], [("null", 0.0000925)]),
        ],
    )
    insight_files = [
        write_batch(roots[m.AUDIT_TRAIL], b, kind="CloudTrail-Insight")
        for b in insight_batches(spec, Rng(derive_seed(m.SEED, "insight")))
    ]

    # 5. digests, then the attacker's deletion
    key = dg.new_private_key()
    t_restart = parse_iso(inc["start"]["eventTime"])
    audit_regions = sorted({m.MAIN, m.DR, m.GLOBAL, m.MINING_REGION} | {f.region for f in audit_files})
    orng = Rng(derive_seed(m.SEED, "digest-offsets"))
    offsets = {r: orng.randrange(600, 1800) for r in audit_regions}
    t_stop = parse_iso(stop_rec["eventTime"])
    audit_chains = _chains(
        roots[m.AUDIT_TRAIL],
        audit_files,
        audit_regions,
        key,
        trail=m.AUDIT_TRAIL,
        bucket=m.AUDIT_BUCKET,
        segments=[(m.T0, t_stop, t_restart), (t_restart, m.T1, 0)],
        offsets=offsets,
    )
    s3_chains = _chains(
        roots[m.S3_TRAIL],
        s3_files,
        [m.MAIN],
        key,
        trail=m.S3_TRAIL,
        bucket=m.S3_BUCKET,
        segments=[(s3_start, m.T1, 0)],
        offsets={m.MAIN: orng.randrange(60, 3540)},
    )
    roots[m.AUDIT_TRAIL].joinpath(*deleted_key.split("/")).unlink()
    dg.write_verification(
        out,
        key.public_key(),
        dg.newest_signatures(audit_chains + s3_chains),
        m.T0 - 7 * 86400,
        m.T0 + 23 * 86400,
    )
    unique = {r["eventID"] for bs in (org_batches, kept, s3_batches) for b in bs for r in b.records}
    facts.update(
        org=org,
        deleted_key=deleted_key,
        unique_events=len(unique),
        stop_batch=stop_batch,
        audit_chains=audit_chains,
        s3_chains=s3_chains,
        files={m.ORG_TRAIL: org_files, m.AUDIT_TRAIL: audit_files, m.S3_TRAIL: s3_files},
        insight_files=insight_files,
        insight=spec,
        audit_regions=audit_regions,
        events={
            m.ORG_TRAIL: sum(len(b.records) for b in org_batches),
            m.AUDIT_TRAIL: sum(len(b.records) for b in kept),
            m.S3_TRAIL: sum(len(b.records) for b in s3_batches),
        },
    )
    (out / "README.md").write_text(render_readme(facts), encoding="utf-8")
    return facts


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tools.sample OUT", file=sys.stderr)
        return 2
    build_sample(Path(args[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
