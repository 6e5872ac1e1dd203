"""`generate_tree`: plan shards (account x 6-hour chunk), run them in worker
processes, then write Insights and (optionally) digests in the parent.

Every shard draws from its own `Rng` derived from (seed, account, chunk), so
the output does not depend on the number of workers.
"""

from __future__ import annotations

import math
import os
import time as _time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

from trailforensics.generate import digests as dg
from trailforensics.generate.delivery import batch_events
from trailforensics.generate.engine import Gen
from trailforensics.generate.insights import InsightSpec, attribution, insight_batches
from trailforensics.generate.model import Org
from trailforensics.generate.orgbuild import build_org
from trailforensics.generate.rng import Rng, derive_seed
from trailforensics.generate.schedule import diurnal, run_background
from trailforensics.generate.timeutil import from_epoch, to_epoch
from trailforensics.generate.writer import FileMeta, write_batch

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

DEFAULT_START = datetime(2026, 1, 5, tzinfo=timezone.utc)
CHUNK = 6 * 3600
RATE = 28000.0  # events per hour per account at which a tree spans events/RATE hours


@dataclass
class GenerateStats:
    events: int
    files: int
    insight_files: int
    digest_files: int
    bytes: int
    seconds: float
    start: datetime
    end: datetime
    public_keys_path: Path | None = None
    signatures_path: Path | None = None


@dataclass(frozen=True)
class ShardSpec:
    index: int
    seed: int
    accounts: tuple[str, ...] | None
    org_id: str | None
    intensity: float
    account: str
    t0: int
    t1: int
    budget: int
    out: str
    span: tuple[int, int]


@dataclass
class ShardResult:
    index: int
    events: int
    files: list[FileMeta]


@lru_cache(maxsize=4)
def _org(seed: int, accounts: tuple[str, ...] | None, org_id: str | None, intensity: float) -> Org:
    return build_org(seed, accounts, org_id, intensity)


def run_shard(spec: ShardSpec) -> ShardResult:
    org = _org(spec.seed, spec.accounts, spec.org_id, spec.intensity)
    account = org.account(spec.account)
    rng = Rng(derive_seed(spec.seed, "shard", spec.account, spec.t0))
    trail = "org-trail" if spec.org_id else "account-trail"
    g = Gen(org, account, rng, spec.t0, spec.t1, trail_name=trail)
    run_background(g, spec.budget, spec.seed, spec.span, visit_share=min(1.0, spec.intensity / 2000.0))
    out = Path(spec.out)
    # Per shard: shards meeting at a chunk boundary deliver into the same 5-minute window,
    # and must not produce the same file name (the second would overwrite the first).
    salt = derive_seed(spec.seed, "deliver", spec.account, spec.t0)
    files = [write_batch(out, b, org_id=spec.org_id) for b in batch_events(g.events, salt)]
    return ShardResult(spec.index, len(g.events), files)


def plan_shards(
    out: Path, events: int, seed: int, accounts: Sequence[str] | None, org_id: str | None, t_start: int
) -> tuple[list[ShardSpec], int, float]:
    n_acc = len(accounts) if accounts else 3
    hours = max(1, math.ceil(events / (n_acc * RATE)))
    span = hours * 3600
    intensity = events / (n_acc * hours)
    acc_key = tuple(accounts) if accounts else None
    org = _org(seed, acc_key, org_id, intensity)
    total_w = sum(a.weight for a in org.accounts)
    chunks = [(t, min(t + CHUNK, t_start + span)) for t in range(t_start, t_start + span, CHUNK)]
    chunk_w = [sum(diurnal(h) for h in range(a, b, 3600)) for a, b in chunks]
    all_w = sum(chunk_w)
    specs: list[ShardSpec] = []
    for a in org.accounts:
        for (t0, t1), cw in zip(chunks, chunk_w, strict=True):
            budget = round(events * a.weight / total_w * cw / all_w)
            specs.append(
                ShardSpec(
                    len(specs),
                    seed,
                    acc_key,
                    org_id,
                    intensity,
                    a.id,
                    t0,
                    t1,
                    budget,
                    str(out),
                    (t_start, t_start + span),
                )
            )
    return specs, t_start + span, intensity


def _insights(out: Path, org: Org, seed: int, t0: int, t1: int, org_id: str | None) -> list[FileMeta]:
    rng = Rng(derive_seed(seed, "insights"))
    hours = (t1 - t0) // 3600
    metas = []
    catalogue = (
        ("ec2.amazonaws.com", "DescribeInstances", "ApiCallRateInsight"),
        ("kms.amazonaws.com", "Decrypt", "ApiCallRateInsight"),
        ("ssm.amazonaws.com", "UpdateInstanceInformation", "ApiCallRateInsight"),
        ("iam.amazonaws.com", "GetRole", "ApiErrorRateInsight"),
        ("s3.amazonaws.com", "ListBuckets", "ApiCallRateInsight"),
    )
    for _ in range(min(6, 1 + hours // 10)):
        a = rng.pick(org.accounts)
        src, name, itype = rng.pick(catalogue)
        region = "us-east-1" if src.startswith(("iam", "s3")) else a.main_region
        start = (t0 + rng.randrange(max(1, t1 - t0 - 7200))) // 60 * 60
        dur = rng.randint(3, 40)
        base, peak = (round(rng.uniform(0.5, 20), 7), round(rng.uniform(40, 400), 2))
        attrs = [
            attribution(
                "userAgent",
                [(a.res.ecs_services[0] + "-worker", peak)],
                [(a.res.ecs_services[0] + "-worker", base)],
            )
        ]
        if itype == "ApiErrorRateInsight":
            base, peak = round(rng.uniform(0.0, 0.02), 7), round(rng.uniform(0.3, 0.9), 4)
            attrs = [attribution("errorCode", [("NoSuchEntityException", peak)], [("null", 1 - base)])]
        spec = InsightSpec(a.id, region, src, name, itype, start, dur, base, peak, attributions=attrs)
        for b in insight_batches(spec, rng):
            metas.append(write_batch(out, b, org_id=org_id, kind="CloudTrail-Insight"))
    return metas


def generate_tree(
    out: Path,
    *,
    events: int,
    seed: int,
    accounts: Sequence[str] | None = None,
    org_id: str | None = None,
    start: datetime | None = None,
    digests: bool = False,
    private_key: rsa.RSAPrivateKey | None = None,
    workers: int | None = None,
    trail_name: str | None = None,
    bucket: str = "trailforensics-demo-bucket",
    progress: Callable[[int, int], None] | None = None,
) -> GenerateStats:
    """Write a synced CloudTrail bucket (``OUT/AWSLogs/...``) with about `events` records.

    ``progress(done, total)`` is called as the shards (an account's hours) are written."""
    t_begin = _time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = to_epoch(start or DEFAULT_START)
    specs, t_end, intensity = plan_shards(out, events, seed, accounts, org_id, t_start)
    workers = workers or os.cpu_count() or 1
    results: list[ShardResult] = []

    def done(result: ShardResult) -> None:
        results.append(result)
        if progress is not None:
            progress(len(results), len(specs))

    if workers <= 1 or len(specs) <= 1:
        for s in specs:
            done(run_shard(s))
    else:
        order = sorted(specs, key=lambda s: -s.budget)
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
            for result in pool.map(run_shard, order, chunksize=1):
                done(result)
    results.sort(key=lambda r: r.index)
    files = [f for r in results for f in r.files]
    org = _org(seed, tuple(accounts) if accounts else None, org_id, intensity)
    insight_files = _insights(out, org, seed, t_start, t_end, org_id)
    n_digests = digest_bytes = 0
    pk_path = sig_path = None
    if digests:
        key = private_key or dg.new_private_key()
        name = trail_name or ("org-trail" if org_id else "account-trail")
        home = org.accounts[0].main_region
        by_stream: dict[tuple[str, str], list[dg.LogRef]] = defaultdict(list)
        for f in files:
            by_stream[(f.account, f.region)].append(dg.LogRef.from_meta(f))
        last = max((f.delivered for f in files), default=t_end)
        orng = Rng(derive_seed(seed, "digest-offsets"))
        chains = []
        for acct, region in sorted(by_stream):
            chain = dg.build_chain(
                out,
                by_stream[(acct, region)],
                account=acct,
                region=region,
                trail_name=name,
                home_region=home,
                bucket=bucket,
                start=t_start,
                end=last,
                offset=orng.randrange(60, 3540),
                private_key=key,
                org_id=org_id,
            )
            chains.append(chain)
            n_digests += len(chain)
            digest_bytes += sum(out.joinpath(*d.key.split("/")).stat().st_size for d in chain)
        pk_path, sig_path = dg.write_verification(
            out,
            key.public_key(),
            dg.newest_signatures(chains),
            t_start - 86400 * 3,
            t_start + 86400 * 27 + (last - t_start),
        )
    total_bytes = sum(f.size for f in files) + sum(f.size for f in insight_files) + digest_bytes
    return GenerateStats(
        events=sum(r.events for r in results),
        files=len(files),
        insight_files=len(insight_files),
        digest_files=n_digests,
        bytes=total_bytes,
        seconds=_time.perf_counter() - t_begin,
        start=from_epoch(t_start),
        end=from_epoch(t_end),
        public_keys_path=pk_path,
        signatures_path=sig_path,
    )
