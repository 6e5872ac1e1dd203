"""Hadoop filesystem URIs as ingest sources: described like local files, refused by the local engine.

No Spark here (``spark.sources.describe`` works on what Spark listed); the Spark runs that list and
read ``file:`` URIs are in test_spark_ingest.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from trailforensics.discovery import InputFile, arrange, discover
from trailforensics.spark.sources import describe, is_uri, local_path

CLI = [sys.executable, "-m", "trailforensics"]
KEY = "AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/eu-west-1/2026/03/10"
LOG = "111122223333_CloudTrail_eu-west-1_20260310T0105Z_Ab3dEf.json.gz"
DIGEST = (
    "AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail-Digest/eu-west-1/2026/03/10/"
    "111122223333_CloudTrail-Digest_eu-west-1_org-trail_eu-west-1_20260310T010000Z.json.gz"
)
NAMES = [f"{KEY}/{LOG}", DIGEST, "AWSLogs/111122223333/Config/eu-west-1/x.json.gz", "notes/.DS_Store", "export.csv"]


def _local_tree(root: Path) -> Path:
    for name in NAMES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    return root


def _listed(uri: str, base: str, names: list[str]) -> list[tuple[InputFile, str]]:
    paths = [f"{base}/{n}" for n in names]
    return describe(uri, paths, [1] * len(paths), [0] * len(paths))


def _essentials(files: list[InputFile]) -> list[tuple[object, ...]]:
    keys = ("source_file", "kind", "reason", "org_id", "account_id", "region", "file_time")
    return [tuple(getattr(f, k) for k in keys) for f in files]


@pytest.mark.parametrize(
    ("given", "under"),
    [
        ("", ""),  # the bucket (the dump's root)
        ("/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail", ""),  # a level inside: keys still read from AWSLogs/
        ("/AWSLogs/*/111122223333", ""),  # a glob: its fixed prefix is the folder
    ],
)
def test_a_uri_listing_is_described_like_the_local_tree(tmp_path: Path, given: str, under: str) -> None:
    local_root = _local_tree(tmp_path / "dump")
    start = local_root / given.lstrip("/") if "*" not in given else local_root / "AWSLogs"
    local = discover([start])
    names = [n for n in NAMES if (local_root / n).as_posix().startswith(start.as_posix() + "/")]
    remote = arrange(_listed(f"s3a://case-bucket{given}/", "s3a://case-bucket", names))
    assert local and _essentials(remote) == _essentials(local)
    kinds = {f.source_file: (f.kind, f.reason) for f in remote}
    assert kinds[f"{KEY}/{LOG}"] == ("cloudtrail", None)
    if DIGEST in kinds:
        assert kinds[DIGEST][0] == "cloudtrail-digest"


def test_a_single_object_and_file_uris(tmp_path: Path) -> None:
    one = describe(f"s3a://b/{KEY}/{LOG}", [f"s3a://b/{KEY}/{LOG}"], [5], [7])
    assert [(f.source_file, f.path, f.account_id, f.size, f.mtime_ns) for f, _ in one] == [
        (f"{KEY}/{LOG}", f"s3a://b/{KEY}/{LOG}", "111122223333", 5, 7)
    ]
    # Spark names local files file:/abs whichever form was given.
    for given in (f"file://{tmp_path}/case", f"file:{tmp_path}/case/", f"file:///{tmp_path}//case"):
        ((f, _label),) = describe(given, [f"file:{tmp_path}/case/export.csv"], [1], [0])
        assert f.source_file == "export.csv" and local_path(given) == tmp_path / "case"
    assert local_path("s3a://b/k") is None


def test_two_syncs_of_one_bucket_keep_their_names_apart() -> None:
    files = arrange(
        [
            *_listed("s3a://b/sync-monday/", "s3a://b/sync-monday", [f"{KEY}/{LOG}"]),
            *_listed("hdfs://nn:8020/case/sync-friday", "hdfs://nn:8020/case/sync-friday", [f"{KEY}/{LOG}"]),
        ]
    )
    assert sorted(f.source_file for f in files) == [f"sync-friday/{KEY}/{LOG}", f"sync-monday/{KEY}/{LOG}"]


def test_what_is_a_uri(tmp_path: Path) -> None:
    for uri in ("s3a://b/AWSLogs/", "hdfs://nn:8020/x", "gs://b", "abfss://c@acct.dfs.core.windows.net/x", "file:/x"):
        assert is_uri(uri), uri
    for path in ("/abs/path", "relative/dir", "-", "C:/evidence", "C:\\evidence"):
        assert not is_uri(path), path
    odd = tmp_path / "s3a:" / "bucket"  # a local folder that looks like a URI stays local
    odd.mkdir(parents=True)
    assert not is_uri(f"{tmp_path}/s3a:/bucket") and is_uri("s3a:/bucket-not-here")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("s3a://x/", "s3a://x: S3 is not read directly"),
        ("hdfs://namenode:8020/case/AWSLogs", "hdfs://namenode:8020/case/AWSLogs: the local engine reads local"),
        ("gs://case-bucket/AWSLogs/", "gs://case-bucket/AWSLogs: the local engine reads local"),
        ("file:///nowhere/evidence", "file:///nowhere/evidence: the local engine takes the path itself"),
    ],
)
def test_the_local_engine_refuses_uris_in_one_line(tmp_path: Path, url: str, says: str) -> None:
    run = subprocess.run([*CLI, "ingest", url, "-d", str(tmp_path / "ds")], capture_output=True, text=True)
    assert run.returncode == 1 and run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith(f"error: {says}") and "--engine spark" in run.stderr
    assert not (tmp_path / "ds").exists()


def test_ingest_help_names_uris_for_spark() -> None:
    run = subprocess.run([*CLI, "ingest", "--help"], capture_output=True, text=True, env={"COLUMNS": "200"})
    assert run.returncode == 0
    text = " ".join(run.stdout.split())
    assert "with --engine spark also Hadoop filesystem URIs" in text and "s3a://bucket/AWSLogs/" in text
