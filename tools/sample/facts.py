"""The machine-readable facts of the sample (the JSON block at the end of its README),
computed from the generated records; `tests/test_generate.py` checks them against the files."""

from __future__ import annotations

from typing import Any

from tools.sample import org as m
from trailforensics.generate.model import JSON
from trailforensics.generate.timeutil import iso, parse_iso


def _arn(rec: JSON) -> str:
    ui = rec["userIdentity"]
    return str(ui.get("arn") or f"{ui.get('type')}:{ui.get('invokedBy') or ui.get('principalId')}")


def step(rec: JSON) -> JSON:
    ui = rec["userIdentity"]
    return {
        "time": rec["eventTime"],
        "eventSource": rec["eventSource"],
        "eventName": rec["eventName"],
        "region": rec["awsRegion"],
        "actor_arn": _arn(rec),
        "access_key_id": ui.get("accessKeyId"),
        "source_ip": rec["sourceIPAddress"],
        "user_agent": rec["userAgent"],
        "eventID": rec["eventID"],
        "errorCode": rec.get("errorCode"),
    }


def key_steps(f: dict[str, Any]) -> list[JSON]:
    inc = f["incident"]
    recs = inc["recon"] + inc["persistence"] + inc["stop"] + [inc["AssumeRoleSync"], inc["AssumeRoleExporter"]]
    recs += [inc["gets"][0], inc["gets"][-1], *inc["mining"], inc["delete"], inc["start"]]
    return [step(r) for r in recs]


def restart_digests(f: dict[str, Any]) -> dict[str, str]:
    restart = parse_iso(f["incident"]["start"]["eventTime"])
    out = {c[0].key.split("/")[3]: c[0].key for c in f["audit_chains"] if c[0].start == restart}
    return dict(sorted(out.items()))


def _chain(rec: JSON) -> JSON:
    rp = rec["requestParameters"]
    return {
        "role_arn": rp["roleArn"],
        "session_name": rp["roleSessionName"],
        "access_key_id": rec["responseElements"]["credentials"]["accessKeyId"],
        "assumed_at": rec["eventTime"],
        "caller_access_key_id": rec["userIdentity"]["accessKeyId"],
        "eventID": rec["eventID"],
    }


def facts_json(f: dict[str, Any]) -> JSON:
    inc, setup, files = f["incident"], f["setup"], f["files"]
    gets, recon, stop = inc["gets"], inc["recon"], inc["stop"][-1]
    denied = [r for r in recon if str(r.get("errorCode", "")).startswith("AccessDenied")]
    launched = inc["mining"][-1]["responseElements"]["instancesSet"]["items"]
    ins = f["insight"]
    setup_times = {
        k: setup[k]["eventTime"]
        for k in (
            "CreateKey",
            "CreateAlias",
            "PutKeyPolicy",
            "PutBucketPolicy",
            "CreateTrail",
            "PutEventSelectors",
            "StartLogging",
        )
    }
    deleted_digest = next(d.key for c in f["audit_chains"] for d in c if f["deleted_key"] in d.logs)
    return {
        "organization": {"org_id": m.ORG_ID, "accounts": m.ACCOUNT_NAMES},
        "period": {"start": iso(m.T0), "end": iso(m.T1)},
        "trails": {
            m.ORG_TRAIL: {
                "bucket": m.ORG_BUCKET,
                "records": f["events"][m.ORG_TRAIL],
                "log_files": len(files[m.ORG_TRAIL]),
                "digest_files": 0,
            },
            m.AUDIT_TRAIL: {
                "bucket": m.AUDIT_BUCKET,
                "records": f["events"][m.AUDIT_TRAIL],
                "log_files": len(files[m.AUDIT_TRAIL]) - 1,
                "digest_files": sum(len(c) for c in f["audit_chains"]),
                "insight_files": len(f["insight_files"]),
            },
            m.S3_TRAIL: {
                "bucket": m.S3_BUCKET,
                "records": f["events"][m.S3_TRAIL],
                "log_files": len(files[m.S3_TRAIL]),
                "digest_files": sum(len(c) for c in f["s3_chains"]),
            },
        },
        "unique_events": f["unique_events"],
        "s3_trail_setup": {
            "actor_arn": f"arn:aws:iam::{m.PROD}:user/{m.ALICE}",
            "source_ip": m.ALICE_IP,
            "kms_key_arn": m.LOG_KEY_ARN,
            "kms_alias": m.LOG_KEY_ALIAS,
            **setup_times,
        },
        "attacker": {
            "source_ips": [m.ATTACKER_IP_1, m.ATTACKER_IP_2],
            "user_agents": [m.ATTACKER_UA_1, m.ATTACKER_UA_2],
        },
        "compromised_key": {
            "access_key_id": m.DANIEL_KEY,
            "user_arn": f"arn:aws:iam::{m.PROD}:user/{m.DANIEL}",
            "normal_source_ip": m.DANIEL_IP,
            "normal_user_agent_prefix": "aws-cli/2.15.30",
            "first_malicious_use": recon[0]["eventTime"],
            "malicious_events": len(recon) + len(inc["persistence"]),
        },
        "recon": {
            "first": recon[0]["eventTime"],
            "last": recon[-1]["eventTime"],
            "events": len(recon),
            "access_denied": len(denied),
            "ec2_regions": list(m.ATTACK_REGIONS),
        },
        "backdoor": {
            "user_arn": f"arn:aws:iam::{m.PROD}:user/{m.BACKDOOR}",
            "access_key_id": m.BACKDOOR_KEY,
            "created": inc["persistence"][0]["eventTime"],
            "policy": "arn:aws:iam::aws:policy/AdministratorAccess",
        },
        "role_chain": [_chain(inc["AssumeRoleSync"]), _chain(inc["AssumeRoleExporter"])],
        "exfiltration": {
            "bucket": m.EXPORTS,
            "get_object_count": len(gets),
            "first": gets[0]["eventTime"],
            "last": gets[-1]["eventTime"],
            "source_ip": m.ATTACKER_IP_2,
            "access_key_id": m.EXPORTER_KEY,
            "bytes_out": sum(g["additionalEventData"]["bytesTransferredOut"] for g in gets),
        },
        "mining": {
            "region": m.MINING_REGION,
            "instance_type": "p3.16xlarge",
            "instance_ids": [i["instanceId"] for i in launched],
            "security_group": inc["mining"][4]["requestParameters"]["groupId"],
            "key_pair": "backup-sync",
        },
        "stop_logging": {
            "time": stop["eventTime"],
            "eventID": stop["eventID"],
            "deleted_log_key": f["deleted_key"],
            "deleted_log_records": len(f["stop_batch"].records),
            "deleted_log_digest": deleted_digest,
            "delete_time": inc["delete"]["eventTime"],
            "delete_eventID": inc["delete"]["eventID"],
        },
        "start_logging": {"time": inc["start"]["eventTime"], "eventID": inc["start"]["eventID"]},
        "audit_gap": {"from": stop["eventTime"], "to": inc["start"]["eventTime"]},
        "digest_regions": f["audit_regions"],
        "digest_restarts": restart_digests(f),
        "insight": {
            "eventSource": ins.event_source,
            "eventName": ins.event_name,
            "insightType": ins.insight_type,
            "start": iso(ins.start),
            "end": iso(ins.start + 60 * ins.duration_min),
            "files": [x.key for x in f["insight_files"]],
        },
        "steps": key_steps(f),
    }
