"""Renders ``sample_logs/README.md`` (the storyline) from the facts of a generated sample.

The README ends with the machine-readable JSON of `facts`, which the tests
check against the files, so the prose and the data cannot drift apart."""

from __future__ import annotations

import collections
import json
from typing import Any

from tools.sample import org as m
from tools.sample.facts import facts_json
from trailforensics.generate.model import JSON

FACTS_BEGIN = "<!-- facts:begin -->"
FACTS_END = "<!-- facts:end -->"
_DETAIL_KEYS = (
    "userName",
    "policyArn",
    "roleArn",
    "roleSessionName",
    "name",
    "trailName",
    "aliasName",
    "description",
    "secretId",
    "bucketName",
    "groupName",
    "groupId",
    "keyName",
    "instanceType",
)
HEAD = ["time", "event", "region", "detail", "result"]


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return out + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]


def _row(rec: JSON) -> list[Any]:
    rp = rec.get("requestParameters")
    parts = [f"{k}={rp[k]}" for k in _DETAIL_KEYS if isinstance(rp, dict) and isinstance(rp.get(k), str)][:2]
    return [
        str(rec["eventTime"])[11:19],
        f"`{rec['eventSource'].split('.')[0]}:{rec['eventName']}`",
        rec["awsRegion"],
        ", ".join(parts),
        rec.get("errorCode") or "ok",
    ]


def _events(recs: list[JSON]) -> list[str]:
    return ["", *_table(HEAD, [_row(r) for r in recs]), ""]


def _intro(fx: JSON, f: dict[str, Any]) -> list[str]:
    tr = fx["trails"]
    rows = [
        [
            f"`{m.ORG_BUCKET}/AWSLogs/{m.ORG_ID}/<acct>/CloudTrail/`",
            f"`{m.ORG_TRAIL}` (organisation trail, management account, home {m.MAIN}, multi-region)",
            "management events (read+write) of the 4 accounts + S3 data events (read+write) on "
            f"`{m.EXPORTS}`; "
            "no log file validation",
            tr[m.ORG_TRAIL]["records"],
            tr[m.ORG_TRAIL]["log_files"],
            0,
        ],
        [
            f"`{m.AUDIT_BUCKET}/AWSLogs/{m.PROD}/`",
            f"`{m.AUDIT_TRAIL}` (prod account trail, home {m.MAIN}, multi-region)",
            "management events (read+write) of prod, log file validation on, Insights (`CloudTrail-Insight/`)",
            tr[m.AUDIT_TRAIL]["records"],
            tr[m.AUDIT_TRAIL]["log_files"],
            tr[m.AUDIT_TRAIL]["digest_files"],
        ],
        [
            f"`{m.S3_BUCKET}/AWSLogs/{m.PROD}/CloudTrail/{m.MAIN}/`",
            f"`{m.S3_TRAIL}` (prod, {m.MAIN} only, created 2026-03-09)",
            f"S3 object **write** data events of all buckets in {m.MAIN} (advanced selector "
            "`s3-write-selector`), "
            "SSE-KMS, validation on",
            tr[m.S3_TRAIL]["records"],
            tr[m.S3_TRAIL]["log_files"],
            tr[m.S3_TRAIL]["digest_files"],
        ],
    ]
    return [
        "# sample_logs: the Metrolio incident (2026-03-09 to 2026-03-11)",
        "",
        "A small, internally consistent CloudTrail dump for tests and demos. It is **generated** by "
        "`make sample` "
        "(`python -m tools.sample sample_logs`, the storyline lives in `tools/sample/`): every "
        "log file is byte-for-byte reproducible; only digest signatures change between runs (the signing key "
        "is "
        "ephemeral and its private half is discarded). This README is rendered from the generated records "
        "and the "
        "JSON block at the end is checked against the files by `tests/test_generate.py`.",
        "",
        "## Layout: three synced buckets",
        "",
        "The responder ran `aws s3 sync` on three buckets into one folder, one sub-folder per bucket. "
        "`s3Object` and "
        "`digestS3Object` values are keys inside the bucket, i.e. paths relative to the bucket folder.",
        "",
        *_table(["folder (bucket)", "trail", "what it holds", "records", "log files", "digests"], rows),
        "",
        "* `_verification/public-keys.json`: the public key as `aws cloudtrail list-public-keys` prints it "
        "(one key "
        "signs every region's digests here). `_verification/digest-signatures.json`: `{digest object key: "
        "hex "
        "signature}` for the newest digest of every chain (the S3 `x-amz-meta-signature` that `aws s3 sync` "
        "does not "
        "download); older digests are verified through their successor's `previousDigestSignature`.",
        "* The audit trail's prod management events are the **same records** (same eventID, byte-identical "
        "JSON) as "
        f"the prod copies in the org trail; writes on `{m.EXPORTS}` appear in both the org trail and the S3 "
        "trail. "
        f"{fx['unique_events']} distinct events in total.",
        f"* Digests: hourly per region for `{m.AUDIT_TRAIL}` in {', '.join(f['audit_regions'])} (the regions "
        "with logs "
        f"plus empty hourly digests for {m.MAIN}, {m.DR}, {m.GLOBAL} and {m.MINING_REGION}); the other "
        "regions' empty "
        f"digests are omitted for size. `{m.S3_TRAIL}`: {m.MAIN} only, from its first delivery. The first "
        "digest of "
        f"each chain has null `previousDigest*` fields.",
        "",
    ]


def _organisation(f: dict[str, Any]) -> list[str]:
    per: collections.Counter[str] = collections.Counter()
    for meta in f["files"][m.ORG_TRAIL]:
        per[meta.account] += meta.records
    rows = [
        [
            m.MGMT,
            m.ACCOUNT_NAMES[m.MGMT],
            "management account, IAM Identity Center (eu-west-1, `d-93676e2a1b`), org trail owner",
            per[m.MGMT],
        ],
        [m.PROD, m.ACCOUNT_NAMES[m.PROD], "**breached** production account", per[m.PROD]],
        [
            m.DEV,
            m.ACCOUNT_NAMES[m.DEV],
            "development; `lukas.schmidt` reads prod through `metrolio-readonly-from-dev`",
            per[m.DEV],
        ],
        [m.LOGS, m.ACCOUNT_NAMES[m.LOGS], "log archive (org trail bucket); security team reads", per[m.LOGS]],
    ]
    people = [
        [
            f"`arn:aws:iam::{m.PROD}:user/{m.DANIEL}` (key `{m.DANIEL_KEY}`)",
            f"developer; CLI from home IP {m.DANIEL_IP}, `aws-cli/2.15.30 ... exec-env/vscode-devcontainer`, "
            "sessions at "
            "2026-03-09 08:47, 10:58, 13:22, 16:05 and 2026-03-10 09:06, 14:31 (eu-west-1/eu-central-1, "
            "global IAM/STS)",
        ],
        [
            f"`arn:aws:iam::{m.PROD}:user/{m.ALICE}`",
            f"cloud admin; console with MFA from {m.ALICE_IP} (2026-03-09 08:55, 10:02, 15:40; 2026-03-10 09:12)",
        ],
        [
            f"`arn:aws:iam::{m.PROD}:user/{m.PRIYA}`",
            f"data engineer; assumes `{m.DATA_ROLE}` (sourceIdentity `priya.nair`) from {m.PRIYA_IP} and "
            "reads a few "
            "export objects (2026-03-09 10:41, 2026-03-10 11:15)",
        ],
        [
            f"`arn:aws:iam::{m.PROD}:user/{m.JONAS}`",
            f"release engineer; CLI from {m.JONAS_IP}, assumes `{m.DEPLOY_ROLE}` (session `jonas.weber`)",
        ],
        [
            f"`arn:aws:iam::{m.PROD}:role/metrolio-export-task-role`",
            f"ECS task, nightly 01:00Z: 31 `PutObject` into `{m.EXPORTS}` "
            "(`exports/YYYY/MM/DD/customers-part-00NN.csv.gz`, "
            "`manifest.json`)",
        ],
    ]
    return [
        "## Organisation",
        "",
        *_table(["account", "name", "role in the story", "org-trail records"], rows),
        "",
        f"Organisation `{m.ORG_ID}`. Regions normally used: {m.MAIN} (primary), {m.DR} (DR), {m.GLOBAL} "
        "(global "
        "services: IAM, STS global endpoint, Organizations, Route 53, CloudFront, S3 ListBuckets, console "
        "sign-in). "
        f"Office network {m.OFFICE_NET}.",
        "",
        "## Normal activity (background)",
        "",
        "About 5 % of calls fail (AccessDenied, Client.UnauthorizedOperation, throttling, NoSuchEntity, "
        "ResourceNotFound ...). Identity types: IAMUser (CLI keys and console sessions), AssumedRole (EC2 "
        "instance "
        "profiles with `ec2RoleDelivery`, Lambda and ECS task roles, service-linked roles of Config/Security "
        "Hub/GuardDuty/Auto Scaling, `AWSReservedSSO_*` Identity Center roles, human roles), AWSService (KMS "
        "on "
        "behalf of S3/RDS/Secrets Manager..., CloudTrail's own `GenerateDataKey` for the SSE-KMS S3 trail), "
        "FederatedUser (`svc-reporting` → `GetFederationToken`), AWSAccount (cross-account `AssumeRole` from "
        "dev), "
        "IdentityCenterUser (portal sign-ins in the management account), SAMLUser (`AssumeRoleWithSAML` into "
        "`AWSReservedSSO_*`), WebIdentityUser (GitHub Actions OIDC). There is no Root activity, no other "
        "StopLogging, no other AdministratorAccess grant, no 0.0.0.0/0 ingress, no new region and no "
        "offensive user "
        "agent outside the incident.",
        "",
        "Every ASIA key is the `responseElements.credentials.accessKeyId` of a logged STS call (AssumeRole, "
        "AssumeRoleWithSAML, AssumeRoleWithWebIdentity, GetFederationToken), except IAM-user console "
        "sessions "
        '(`sessionCredentialFromConsole: "true"`), whose key comes with the preceding `ConsoleLogin`.',
        "",
        *_table(["principal", "normal use"], people),
        "",
    ]


def _setup(fx: JSON, f: dict[str, Any]) -> list[str]:
    st = fx["s3_trail_setup"]
    keys = (
        "CreateKey",
        "CreateAlias",
        "PutKeyPolicy",
        "PutBucketPolicy",
        "CreateTrail",
        "PutEventSelectors",
        "StartLogging",
    )
    return [
        f"## 2026-03-09 10:02-10:15Z: `{m.ALICE}` creates `{m.S3_TRAIL}` (console, MFA, {m.ALICE_IP}, prod, {m.MAIN})",
        *_events([f["setup"][k] for k in keys]),
        f"The KMS key is `{st['kms_key_arn']}` (alias `{m.LOG_KEY_ALIAS}`); `CreateTrail` passes the alias "
        "ARN in "
        "`kmsKeyId` and the response carries the key ARN, `logFileValidationEnabled: true`, "
        "`isMultiRegionTrail: "
        "false`, `includeGlobalServiceEvents: false`. `PutEventSelectors` sets the advanced selector "
        "`s3-write-selector` (eventCategory = Data, resources.type = AWS::S3::Object, readOnly = false). The "
        "trail's "
        f"first log file is delivered after `StartLogging` ({st['StartLogging']}).",
        "",
    ]


def _incident(fx: JSON, f: dict[str, Any]) -> list[str]:
    inc = f["incident"]
    ch, ex, sl = fx["role_chain"], fx["exfiltration"], fx["stop_logging"]
    return [
        f"## 2026-03-10: the incident (prod {m.PROD})",
        "",
        f"1. **Stolen key, reconnaissance ({fx['recon']['first']} to {fx['recon']['last']}).** "
        f"`{m.DANIEL_KEY}` "
        f"(`arn:aws:iam::{m.PROD}:user/{m.DANIEL}`) is used from **{m.ATTACKER_IP_1}** with "
        f"`{m.ATTACKER_UA_1}` "
        f"(TLSv1.2, global STS endpoint). {fx['recon']['events']} calls, {fx['recon']['access_denied']} of "
        "them "
        f"denied; EC2 enumeration in {', '.join(m.ATTACK_REGIONS)}.",
        *_events(inc["recon"]),
        f"2. **Persistence (same key, same IP/UA, {m.GLOBAL}).** Backdoor user `{m.BACKDOOR}` with access "
        "key "
        f"**`{m.BACKDOOR_KEY}`** (in `CreateAccessKey`'s `responseElements.accessKey`), AdministratorAccess "
        "and a "
        "console password.",
        *_events(inc["persistence"]),
        f"3. **Defense evasion.** `{m.BACKDOOR_KEY}` from **{m.ATTACKER_IP_2}** with `{m.ATTACKER_UA_2}`:",
        *_events(inc["stop"]),
        f"   `{m.AUDIT_TRAIL}` records nothing from {fx['audit_gap']['from']} to {fx['audit_gap']['to']} "
        "(every "
        "region). The org trail keeps logging.",
        "",
        f"4. **Role chain.** `{m.BACKDOOR_KEY}` → `AssumeRole` `{ch[0]['role_arn']}` session "
        f"`{ch[0]['session_name']}` "
        f"at {ch[0]['assumed_at']} → **`{ch[0]['access_key_id']}`** → `AssumeRole` `{ch[1]['role_arn']}` "
        "session "
        f"`{ch[1]['session_name']}` at {ch[1]['assumed_at']} → **`{ch[1]['access_key_id']}`** (both STS "
        "calls on the "
        f"global endpoint, us-east-1, from {m.ATTACKER_IP_2}; each session's `creationDate` is its "
        "AssumeRole time).",
        "",
        f"5. **Exfiltration.** `arn:aws:sts::{m.PROD}:assumed-role/{m.DATA_ROLE}/exporter` "
        f"(`{ex['access_key_id']}`) "
        f"lists `{m.EXPORTS}` (2 `ListObjects` calls) then downloads **{ex['get_object_count']} objects** "
        f"(`GetObject`, {ex['first']} to {ex['last']}, {ex['bytes_out']} bytes) from {ex['source_ip']}, "
        f"{m.MAIN}: the "
        "export files of 2026-03-01 to 2026-03-10. These data events are only in the org trail.",
        "",
        f"6. **Crypto-mining in a never-used region ({m.MINING_REGION}), `{m.BACKDOOR_KEY}`, "
        f"{m.ATTACKER_IP_2}.** "
        "Only the org trail has these (the audit trail is stopped). The first RunInstances (10 × "
        "p3.16xlarge) fails "
        f"with Client.VcpuLimitExceeded, the second launches `{', '.join(fx['mining']['instance_ids'])}`.",
        *_events(inc["mining"]),
        f"7. **Log tampering ({sl['delete_time']}).** `s3:DeleteObject` by `{m.BACKDOOR_KEY}` on bucket "
        f"`{m.AUDIT_BUCKET}`, key `{sl['deleted_log_key']}`: the audit trail log file that held the "
        "StopLogging "
        f"record (eventID `{sl['eventID']}`). The file is absent from this sample but listed, with its hash, "
        "in the "
        f"{m.MAIN} digest `{sl['deleted_log_digest']}`. The DeleteObject data event is in `{m.S3_TRAIL}` "
        "only; the "
        "StopLogging record survives in the org trail.",
        "",
        f"8. **StartLogging ({fx['start_logging']['time']}, {m.MAIN})** on `{m.AUDIT_TRAIL_ARN}` by "
        f"`{m.BACKDOOR_KEY}`. The audit trail's digest chains restart: in every region the first digest "
        "after the "
        f"restart has null `previousDigest*` fields and starts at {fx['start_logging']['time']}.",
        "",
        "An Insights pair (ApiErrorRateInsight, `iam.amazonaws.com` `ListAccessKeys`, Start "
        f"{fx['insight']['start']}, "
        f"End {fx['insight']['end']}, attributions to `{m.DANIEL}`, the Kali user agent and AccessDenied) is "
        "in the "
        f"audit bucket's `CloudTrail-Insight/{m.GLOBAL}/` folder.",
        "",
    ]


def _findings(fx: JSON, f: dict[str, Any]) -> list[str]:
    tr, ex, sl, gap = fx["trails"], fx["exfiltration"], fx["stop_logging"], fx["audit_gap"]
    return [
        "## Expected findings",
        "",
        f"* **summary**: {fx['unique_events']} distinct events (after de-duplicating trail copies by "
        "eventID), "
        "2026-03-09T00:00Z to 2026-03-11T00:00Z plus delivery lag, 4 accounts, regions "
        f"{m.MAIN}/{m.DR}/{m.GLOBAL} "
        f"plus us-west-2, ap-southeast-1 (recon only) and {m.MINING_REGION} (mining only); ~5 % errors; "
        "attacker IPs "
        f"{m.ATTACKER_IP_1} and {m.ATTACKER_IP_2}.",
        f"* **timeline** (2026-03-10): first malicious call {fx['compromised_key']['first_malicious_use']} "
        f"(GetCallerIdentity from {m.ATTACKER_IP_1}), CreateUser {fx['backdoor']['created']}, StopLogging "
        f"{sl['time']}, role chain {fx['role_chain'][0]['assumed_at']}/{fx['role_chain'][1]['assumed_at']}, "
        "GetObject "
        f"burst {ex['first']} to {ex['last']}, {m.MINING_REGION} 03:04:41 to 03:06:52, DeleteObject "
        f"{sl['delete_time']}, StartLogging {fx['start_logging']['time']}.",
        f"* **identities**: `{m.DANIEL}` key `{m.DANIEL_KEY}` normally used from {m.DANIEL_IP} with "
        "aws-cli/2.15.30, "
        f"on 2026-03-10 from {m.ATTACKER_IP_1} with aws-cli/1.16.312 (Kali); new user `{m.BACKDOOR}` "
        f"(`{m.BACKDOOR_KEY}`, AdministratorAccess, login profile); sessions `{m.DEPLOY_ROLE}/sync` and "
        f"`{m.DATA_ROLE}/exporter` from {m.ATTACKER_IP_2}.",
        "* **hunt detections** (should fire on the incident and on little else): access key used from a new "
        "IP / new "
        "user agent; offensive user agent (kali); recon burst with many AccessDenied; "
        "GetAccountAuthorizationDetails; "
        "IAM user created then access key + AdministratorAccess + login profile; CloudTrail StopLogging; S3 "
        "DeleteObject on a CloudTrail bucket; role chaining; S3 mass download; first use of a region "
        "(us-west-2, "
        "ap-southeast-1, sa-east-1); ImportKeyPair; security group 0.0.0.0/0 port 22; GPU instance "
        "(p3.16xlarge) "
        "RunInstances; Insights error-rate spike.",
        f"* **verify** (`{m.AUDIT_TRAIL}`): all {tr[m.AUDIT_TRAIL]['digest_files']} digests valid "
        "(signatures, chain "
        f"hashes); 1 log file missing: `{sl['deleted_log_key']}`; no log file delivered between "
        f"{gap['from']} and "
        f"{gap['to']} and the chain restarts at {fx['start_logging']['time']} in "
        f"{len(fx['digest_restarts'])} regions "
        f"(`digest_restarts` below); every present log file matches its digest. `{m.S3_TRAIL}`: "
        f"{tr[m.S3_TRAIL]['digest_files']} digests, all valid, no missing file. `{m.ORG_TRAIL}`: no digests "
        "(cannot "
        "be verified).",
        f"* **trails posture**: `{m.ORG_TRAIL}` multi-region organisation trail without log file validation; "
        f"`{m.AUDIT_TRAIL}` multi-region, validation on, stopped {gap['from']} → restarted {gap['to']} by "
        f"`{m.BACKDOOR}`; `{m.S3_TRAIL}` created 2026-03-09 by `{m.ALICE}`: single region, no global events, "
        "SSE-KMS "
        f"`{m.LOG_KEY_ALIAS}`, validation on, write-only S3 data events, no management events.",
        f"* **trace chains**: `{m.DANIEL_KEY}` → CreateAccessKey → `{m.BACKDOOR_KEY}` → AssumeRole → "
        f"`{m.SYNC_KEY}` "
        f"→ AssumeRole → `{m.EXPORTER_KEY}` → {ex['get_object_count']} GetObject on `{m.EXPORTS}`.",
        f"* **coverage**: org trail continuous; audit trail gap {gap['from']} to {gap['to']} in every "
        "region; S3 "
        f"trail ({m.MAIN} writes) from {fx['s3_trail_setup']['StartLogging']} on; the audit trail's digests "
        "cover "
        f"{', '.join(f['audit_regions'])}.",
        "",
    ]


def render_readme(f: dict[str, Any]) -> str:
    fx = facts_json(f)
    lines = _intro(fx, f) + _organisation(f) + _setup(fx, f) + _incident(fx, f) + _findings(fx, f)
    lines += [
        "## Facts (machine-readable, checked by the tests)",
        "",
        FACTS_BEGIN,
        "```json",
        json.dumps(fx, indent=2),
        "```",
        FACTS_END,
        "",
    ]
    return "\n".join(lines)
