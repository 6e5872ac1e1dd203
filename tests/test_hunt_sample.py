"""Hunting on the repository's sample (the Metrolio incident): the detections fire on the incident told in
sample_logs/README.md (its facts block) and on nothing of the normal background activity."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_LOGS, sample_facts
from typer.testing import CliRunner

from trailforensics.cli import app
from trailforensics.engine import Dataset
from trailforensics.hunt import HuntResult, run_hunt
from trailforensics.ingest import IngestOptions, ingest
from trailforensics.output.formats import plain

SIGMAHQ = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "sigma"  # SigmaHQ's AWS rules, when present


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    return sample_facts()


@pytest.fixture(scope="module")
def sample_ds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path: Path = tmp_path_factory.mktemp("sample-hunt") / "ds"
    ingest([SAMPLE_LOGS], path, IngestOptions(workers=1))
    return path


@pytest.fixture(scope="module")
def hunted(sample_ds: Path) -> HuntResult:
    with Dataset(sample_ds) as ds:
        result = run_hunt(ds)
    assert result.errors == []
    return result


# A rule of our own, so the test runs without ../shared (and a rule that cannot compile, to be skipped).
OWN_RULE = """\
title: CloudTrail logging stopped (test rule)
id: 5f0d2c4e-1b7a-4c56-9a0e-2d3f4a5b6c7d
author: Test Author
level: high
tags: [attack.t1562.008, attack.defense-evasion]
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventSource: cloudtrail.amazonaws.com
        eventName: StopLogging
    condition: selection
"""
UNKNOWN_FIELD_RULE = OWN_RULE.replace("5f0d2c4e", "6f0d2c4e").replace("eventSource:", "noSuchField:")


@pytest.mark.skipif(
    importlib.util.find_spec("sigma") is None, reason="pySigma (trailforensics[sigma]) is not installed"
)
def test_notebook_gets_the_cli_answer_sigma_included(sample_ds: Path, tmp_path: Path) -> None:
    """``run_hunt(ds, sigma=[...])`` returns exactly the hits `trailforensics hunt -f jsonl --sigma ...` prints."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "stop_logging.yml").write_text(OWN_RULE, encoding="utf-8")
    (rules / "unknown_field.yml").write_text(UNKNOWN_FIELD_RULE, encoding="utf-8")
    sigma = [rules, *([SIGMAHQ] if SIGMAHQ.is_dir() else [])]
    with Dataset(sample_ds) as ds:
        result = run_hunt(ds, sigma=sigma)
    assert result.errors == [] and result.sigma is not None
    assert [Path(f).name for f, _ in result.sigma.skipped if Path(f).parent == rules] == ["unknown_field.yml"]
    own = [h for h in result.iter_hits() if h.author == "Test Author"]
    assert own and all(h.event_name == "StopLogging" and h.severity == "high" for h in own)

    import trailforensics.cli.hunt_cmd  # noqa: F401 - registers `hunt`

    args = ["hunt", "-d", str(sample_ds), "-f", "jsonl"]
    for path in sigma:
        args += ["--sigma", str(path)]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    cli_hits = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert cli_hits == [plain(row) for row in result.hits.to_pylist()]
    assert f"({len(result.sigma.rules)} Sigma rule(s) loaded)" in r.stderr
    assert r.stderr.count("warning: Sigma rule") == len(result.sigma.skipped)


def step_id(facts: dict[str, Any], event_name: str, nth: int = 0) -> str:
    ids = [s["eventID"] for s in facts["steps"] if s["eventName"] == event_name]
    return str(ids[nth])


def test_every_hit_is_the_incident(hunted: HuntResult, facts: dict[str, Any]) -> None:
    """No hit on the background (routine recon of engineers and pipelines, the reporting broker...)."""
    attacker_ips = set(facts["attacker"]["source_ips"])
    start, end = facts["recon"]["first"], facts["start_logging"]["time"]
    for hit in hunted.hits.to_pylist():
        when = hit["event_time"].strftime("%Y-%m-%dT%H:%M:%SZ")
        assert start <= when <= end, hit
        if hit["detection_id"] == "cloudtrail_insight":  # no caller: attributed to the compromised user
            assert hit["actor"] == facts["compromised_key"]["user_arn"]
        else:
            assert hit["source_ip"] in attacker_ips, hit


def test_the_incident_steps_are_found(hunted: HuntResult, facts: dict[str, Any]) -> None:
    found: dict[str, set[str]] = {}
    for hit in hunted.hits.to_pylist():
        found.setdefault(hit["detection_id"], set()).add(hit["event_id"])
    chain = facts["role_chain"]
    expected = {
        "access_key_new_source": step_id(facts, "GetCallerIdentity"),
        "offensive_tool_user_agent": step_id(facts, "GetCallerIdentity"),
        "iam_configuration_dump": step_id(facts, "GetAccountAuthorizationDetails"),
        "new_user_with_credentials": step_id(facts, "CreateAccessKey"),
        "admin_privileges_granted": step_id(facts, "AttachUserPolicy"),
        "role_chaining": chain[1]["eventID"],
        "ec2_key_pair_unusual": step_id(facts, "ImportKeyPair"),
        "network_exposure_opened": step_id(facts, "AuthorizeSecurityGroupIngress"),
        "region_first_use": step_id(facts, "DescribeVpcs"),
    }
    for detection, event_id in expected.items():
        assert event_id in found.get(detection, set()), detection
    assert {facts["stop_logging"]["eventID"], facts["stop_logging"]["delete_eventID"]} <= found["cloudtrail_tampering"]
    # both launches: the one that failed on the vCPU limit and the one that ran
    assert {step_id(facts, "RunInstances", 0), step_id(facts, "RunInstances", 1)} <= found["compute_hijacking"]
    assert len(found["cloudtrail_insight"]) == 1
    assert {"recon_burst", "access_denied_storm", "s3_mass_download", "credentials_for_other_user"} <= set(found)


def test_first_use_of_the_three_new_regions(hunted: HuntResult, facts: dict[str, Any]) -> None:
    rows = [h for h in hunted.hits.to_pylist() if h["detection_id"] == "region_first_use"]
    regions = {h["region"]: h["severity"] for h in rows}
    new = set(facts["recon"]["ec2_regions"]) - {"eu-west-1", "eu-central-1", "us-east-1"}
    assert regions == {**{r: "low" for r in new}, facts["mining"]["region"]: "medium"}  # writes only in the mining one


def test_details_report_the_whole_exfiltration_and_chain(hunted: HuntResult, facts: dict[str, Any]) -> None:
    by_detection = {h["detection_id"]: h for h in hunted.hits.to_pylist()}
    ex = facts["exfiltration"]
    download = by_detection["s3_mass_download"]["details"]
    assert download.startswith(
        f"{ex['get_object_count']} objects, {round(ex['bytes_out'] / 1e6, 1)} MB from 1 bucket(s)"
    )
    assert f"({ex['bucket']}) between {ex['first']} and {ex['last']}" in download
    chain = by_detection["role_chaining"]
    assert chain["severity"] == "high"
    for hop in facts["role_chain"]:
        assert hop["access_key_id"] in chain["details"] and hop["caller_access_key_id"] in chain["details"]
    assert "origin user created in the dataset" in chain["details"]


def test_counts_and_demo_output(hunted: HuntResult) -> None:
    counts = Counter(hunted.hits.column("detection_id").to_pylist())
    assert counts["recon_burst"] == 1 and "console_access_from_api_keys" not in counts  # W6: the background is quiet
    high = [h for h in hunted.hits.to_pylist() if h["severity"] in ("high", "critical")]
    assert len(high) >= 12  # `make demo` runs hunt --min-severity high
