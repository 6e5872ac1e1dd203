"""Names and ids of an account's resources, which API templates refer to."""

from __future__ import annotations

from dataclasses import dataclass, field

from trailforensics.generate.rng import Rng

APPS = ("orders", "payments", "catalog", "billing", "search", "auth", "notify", "reports", "media", "ledger")
BEDROCK_MODELS = (
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "amazon.titan-embed-text-v2:0",
    "meta.llama3-1-70b-instruct-v1:0",
)


@dataclass
class AccountResources:
    env: str = "prod"
    buckets: list[str] = field(default_factory=list)
    data_buckets: list[str] = field(default_factory=list)  # buckets whose objects apps read/write
    tables: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    keys: list[tuple[str, str]] = field(default_factory=list)  # (key id, alias name)
    secrets: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    log_groups: list[str] = field(default_factory=list)
    ecs_clusters: list[str] = field(default_factory=list)
    ecs_services: list[str] = field(default_factory=list)
    repos: list[str] = field(default_factory=list)
    eks_clusters: list[str] = field(default_factory=list)
    db_instances: list[str] = field(default_factory=list)
    cache_clusters: list[str] = field(default_factory=list)
    stacks: list[str] = field(default_factory=list)
    zones: list[tuple[str, str]] = field(default_factory=list)
    distributions: list[tuple[str, str]] = field(default_factory=list)
    certs: list[str] = field(default_factory=list)
    state_machines: list[str] = field(default_factory=list)
    streams: list[str] = field(default_factory=list)
    glue_dbs: list[str] = field(default_factory=list)
    workgroups: list[str] = field(default_factory=list)
    vaults: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    apis: list[tuple[str, str]] = field(default_factory=list)
    user_pools: list[str] = field(default_factory=list)
    vpcs: list[str] = field(default_factory=list)
    subnets: list[str] = field(default_factory=list)
    sgs: list[tuple[str, str]] = field(default_factory=list)
    amis: list[str] = field(default_factory=list)
    lbs: list[tuple[str, str]] = field(default_factory=list)  # (name, id suffix)
    asgs: list[str] = field(default_factory=list)
    launch_templates: list[tuple[str, str]] = field(default_factory=list)
    sg_cidrs: list[str] = field(default_factory=lambda: ["10.20.0.0/16", "10.30.0.0/16", "192.168.50.0/24"])


def build_resources(rng: Rng, env: str, apps: tuple[str, ...] | list[str], prefix: str) -> AccountResources:
    """Resource names for an account running `apps` in environment `env`."""
    r = AccountResources(env=env)
    for app in apps:
        r.buckets.append(f"{prefix}-{app}-{env}-{rng.hexs(6)}")
        r.tables.append(f"{app}-{env}")
        r.queues.append(f"{app}-{env}-events")
        r.topics.append(f"{app}-{env}-alerts")
        r.keys.append((rng.uuid(), f"alias/{app}-{env}"))
        r.secrets.append(f"{env}/{app}/db-credentials")
        r.secrets.append(f"{env}/{app}/api-key")
        r.params.append(f"/{env}/{app}/config")
        r.params.append(f"/{env}/{app}/feature-flags")
        r.log_groups.append(f"/aws/lambda/{app}-{env}-handler")
        r.log_groups.append(f"/ecs/{app}-{env}")
        r.ecs_services.append(f"{app}-{env}")
        r.repos.append(f"{prefix}/{app}")
        r.db_instances.append(f"{app}-{env}-db")
        r.stacks.append(f"{app}-{env}")
        r.state_machines.append(f"{app}-{env}-workflow")
        r.streams.append(f"{app}-{env}-stream")
        r.rules.append(f"{app}-{env}-schedule")
        r.asgs.append(f"{app}-{env}-asg")
        r.lbs.append((f"{app}-{env}-alb"[:32], rng.hexs(16)))
        r.launch_templates.append((f"lt-{rng.hexs(17)}", f"{app}-{env}"))
    r.data_buckets = list(r.buckets)
    r.ecs_clusters = [f"{prefix}-{env}", f"{prefix}-{env}-batch"]
    r.eks_clusters = [f"{prefix}-{env}-eks"]
    r.cache_clusters = [f"{prefix}-{env}-redis-001", f"{prefix}-{env}-redis-002"]
    r.zones = [(f"Z{rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 20)}", f"{env}.{prefix}.example.com")]
    r.distributions = [(f"E{rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 13)}", f"d{rng.hexs(13)}.cloudfront.net")]
    r.certs = [rng.uuid() for _ in range(3)]
    r.glue_dbs = [f"{prefix}_{env}_lake", f"{prefix}_{env}_raw"]
    r.workgroups = ["primary", f"{prefix}-{env}-analysts"]
    r.vaults = [f"{prefix}-{env}-backup-vault", "Default"]
    r.apis = [(rng.chars("abcdefghijklmnopqrstuvwxyz0123456789", 10), f"{app}-{env}-api") for app in apps[:3]]
    r.user_pools = [f"_{rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 9)}"]
    r.vpcs = [rng.ec2_id("vpc"), rng.ec2_id("vpc")]
    r.subnets = [rng.ec2_id("subnet") for _ in range(6)]
    r.sgs = [(rng.ec2_id("sg"), f"{app}-{env}-sg") for app in apps] + [(rng.ec2_id("sg"), "default")]
    r.amis = [rng.ec2_id("ami") for _ in range(4)]
    return r
