"""RDS, ElastiCache, AWS Backup, Glue, Athena and Kinesis."""

from __future__ import annotations

import time
from typing import Any

from trailforensics.generate.services.base import Out, Service


def _db(g: Any) -> str:
    return str(g.r.pick(g.res.db_instances))


def _day(t: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def _db_snapshot(g: Any, region: str, a: Any) -> Out:
    d = _db(g)
    snap = f"{d}-manual-{_day(g.t).replace('-', '')}"
    resp = {
        "dBSnapshotIdentifier": snap,
        "dBInstanceIdentifier": d,
        "status": "creating",
        "engine": "postgres",
        "allocatedStorage": 200,
        "encrypted": True,
        "dBSnapshotArn": f"arn:aws:rds:{region}:{g.aid}:snapshot:{snap}",
    }
    return {"dBSnapshotIdentifier": snap, "dBInstanceIdentifier": d}, resp, None, None


RDS = Service("rds", errors=("denied", "notfound_rds"))
RDS.read(
    "DescribeDBInstances",
    "dev:1 admin:2 ro:2 ci:2 svc:2 data:1",
    lambda g, rg: {"dBInstanceIdentifier": _db(g)} if g.r.chance(0.4) else {"maxRecords": 100},
)
RDS.read("DescribeDBClusters", "admin:1 ro:1 ci:1 svc:1", {"includeShared": False})
RDS.read(
    "DescribeDBSnapshots",
    "admin:0.5 svc:1",
    lambda g, rg: {
        "dBInstanceIdentifier": _db(g),
        "snapshotType": "automated",
        "includeShared": False,
        "includePublic": False,
    },
)
RDS.read("DescribeDBLogFiles", "admin:0.3 dev:0.2", lambda g, rg: {"dBInstanceIdentifier": _db(g)})
RDS.read("DescribeEvents", "admin:0.5 ro:0.5", {"sourceType": "db-instance", "duration": 1440})
RDS.read("DescribeDBParameterGroups", "ci:1", {"maxRecords": 100})
RDS.write("CreateDBSnapshot", "admin:0.1 svc:0.2", out=_db_snapshot)

EC = Service("elasticache", errors=("denied", "notfound_generic"))
EC.read("DescribeCacheClusters", "admin:1 ro:1 ci:1 svc:1", {"showCacheNodeInfo": True, "maxRecords": 100})
EC.read(
    "DescribeReplicationGroups",
    "ci:1 admin:0.5",
    lambda g, rg: {"replicationGroupId": g.res.cache_clusters[0].rsplit("-", 1)[0]},
)
EC.read("DescribeSnapshots", "svc:0.5", lambda g, rg: {"cacheClusterId": g.r.pick(g.res.cache_clusters)})


def _backup_job(g: Any, region: str, a: Any) -> Out:
    req = {
        "backupVaultName": g.res.vaults[0],
        "resourceArn": f"arn:aws:rds:{region}:{g.aid}:db:{_db(g)}",
        "iamRoleArn": f"arn:aws:iam::{g.aid}:role/service-role/AWSBackupDefaultServiceRole",
        "idempotencyToken": g.r.uuid(),
    }
    return (
        req,
        {"backupJobId": g.r.uuid().upper(), "creationDate": g.java(False), "isParent": False},
        None,
        None,
    )


BK = Service("backup", errors=("denied_exc", "notfound_generic"))
BK.read("ListBackupJobs", "admin:0.5 sec:0.5", {"byState": "COMPLETED", "maxResults": 100})
BK.read("DescribeBackupVault", "admin:0.3 svc:0.5", lambda g, rg: {"backupVaultName": g.r.pick(g.res.vaults)})
BK.read(
    "ListRecoveryPointsByBackupVault",
    "admin:0.3",
    lambda g, rg: {"backupVaultName": g.r.pick(g.res.vaults), "maxResults": 50},
)
BK.write("StartBackupJob", "svc:0.6", out=_backup_job)


def _gdb(g: Any) -> str:
    return str(g.r.pick(g.res.glue_dbs))


def _gtable(g: Any) -> str:
    return str(g.r.pick(g.res.tables)).replace("-", "_")


GL = Service("glue", errors=("denied_exc", "notfound_glue"))
GL.read("GetDatabases", "data:2 ci:1 report:1", {"resourceShareType": "ALL"})
GL.read("GetTables", "data:2 report:1", lambda g, rg: {"databaseName": _gdb(g), "expression": "*"})
GL.read("GetTable", "data:3 report:3 ci:1", lambda g, rg: {"databaseName": _gdb(g), "name": _gtable(g)})
GL.read(
    "GetPartitions",
    "data:1 report:2",
    lambda g, rg: {
        "databaseName": _gdb(g),
        "tableName": _gtable(g),
        "expression": f"dt >= '{_day(g.t - 604800)}'",
        "maxResults": 1000,
    },
)
GL.write("StartCrawler", "data:0.2 svc:0.3", lambda g, rg: {"name": f"{_gdb(g)}-crawler"})
GL.read("GetCrawler", "data:0.5", lambda g, rg: {"name": f"{_gdb(g)}-crawler"})


def _start_query(g: Any, region: str, a: Any) -> Out:
    db = _gdb(g)
    req = {
        "queryString": f'SELECT * FROM "{db}"."{_gtable(g)}" WHERE dt = \'{_day(g.t)}\' LIMIT 100',
        "clientRequestToken": g.r.uuid(),
        "queryExecutionContext": {"database": db, "catalog": "AwsDataCatalog"},
        "resultConfiguration": {"outputLocation": f"s3://{g.r.pick(g.res.buckets)}/athena-results/"},
        "workGroup": g.r.pick(g.res.workgroups),
    }
    return req, {"queryExecutionId": g.r.uuid()}, None, None


AT = Service("athena", errors=("denied_exc", "validation"))
AT.write("StartQueryExecution", "data:3 report:3", out=_start_query)
AT.read("GetQueryExecution", "data:5 report:5", lambda g, rg: {"queryExecutionId": g.r.uuid()})
AT.read("GetQueryResults", "data:3 report:3", lambda g, rg: {"queryExecutionId": g.r.uuid(), "maxResults": 1000})
AT.read("ListWorkGroups", "data:0.5", {"maxResults": 50})
AT.read("GetWorkGroup", "data:1 report:1", lambda g, rg: {"workGroup": g.r.pick(g.res.workgroups)})

KN = Service("kinesis", errors=("denied_exc", "notfound_generic", "throttle"))
KN.read("ListStreams", "dev:0.3 admin:0.5 ci:1", {"limit": 100})
KN.read("DescribeStreamSummary", "ci:1 app:0.5 svc:0.5", lambda g, rg: {"streamName": g.r.pick(g.res.streams)})
KN.read("DescribeStream", "app:0.5 admin:0.3", lambda g, rg: {"streamName": g.r.pick(g.res.streams)})
KN.read(
    "ListShards",
    "app:1 lambda:0.3",
    lambda g, rg: {"streamName": g.r.pick(g.res.streams), "maxResults": 1000},
)
