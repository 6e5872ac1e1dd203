"""Spark Connect: ``SPARK_REMOTE`` makes ``--engine spark`` a Connect client, with the same dataset and hits.

A Connect session has no SparkContext (the JVM is on the server), so every use of one must be
guarded; this runs the CLI as a user would, in fresh processes, against a local Connect server
(``SPARK_REMOTE=local[2]``: pyspark starts one), and compares with the local engine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trailforensics.spark.session import java_available

if not java_available():
    pytest.skip("no Java runtime (Spark needs Java 17+; CI installs one in .ci/run)", allow_module_level=True)
try:
    import grpc  # noqa: F401  (pyspark's Connect client)
except ImportError:
    pytest.skip("pyspark's Connect client is missing: pip install 'trailforensics[spark]'", allow_module_level=True)

from tests.test_spark_ingest import assert_same_dataset
from trailforensics.ingest import IngestOptions, ingest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_logs"


def _cli(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from trailforensics.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=900,
    )


def _hits(jsonl: str) -> list[str]:
    return sorted(json.dumps(json.loads(line), sort_keys=True) for line in jsonl.splitlines() if line.strip())


def test_spark_remote_ingest_and_hunt_equal_the_local_engine(tmp_path: Path) -> None:
    connect = {"SPARK_REMOTE": "local[2]"}
    remote_ds, local_ds = tmp_path / "connect", tmp_path / "local"
    done = _cli(["ingest", str(SAMPLE), "-d", str(remote_ds), "--engine", "spark", "-q"], connect)
    assert done.returncode == 0, done.stderr[-2000:]
    ingest([SAMPLE], local_ds, IngestOptions(workers=1))  # the serial order: the copy of a duplicate Spark keeps
    assert_same_dataset(local_ds, remote_ds)

    remote = _cli(["hunt", "-d", str(remote_ds), "--engine", "spark", "-f", "jsonl"], connect)
    assert remote.returncode == 0, remote.stderr[-2000:]
    local = _cli(["hunt", "-d", str(local_ds), "-f", "jsonl"])
    assert local.returncode == 0, local.stderr[-2000:]
    assert _hits(remote.stdout) == _hits(local.stdout)
    assert len(_hits(local.stdout)) > 10  # the sample incident is found, not two empty outputs
