"""Every command, in every format, on a real pseudo-terminal: no raw control or bidi character gets through.

The records carry attacker-controlled text (user agent, request parameters, a region, a session
name, an event name, the verified tree's own folder name) holding U+202E, ANSI escape sequences
and C1 controls.  Piped, the values come out exact; on a terminal they must come out escaped.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.ct import record, write_log

UTC = timezone.utc
HOSTILE = "x\u202eevil\x1b]0;pwned\x07\x1b[2J\x1b[31m\x9b31m\x85\x08end"
ACCOUNT = "111122223333"
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE_KEY = "ASIAHOSTILESESSION01"

# What a terminal may receive: text, \n, \r (the pty turns \n into \r\n), \t, and Rich's own
# bold / dim / italic styling (never a colour: the hostile text carries a red one).
RICH_STYLE = re.compile("\x1b\\[(?:[0-3](?:;[0-3])*)?m")
UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _records() -> list[dict[str, object]]:
    t0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    trail_arn = f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/{HOSTILE}"
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/{HOSTILE}"
    recs = [
        record("DescribeInstances", t0 + timedelta(minutes=i), userAgent=HOSTILE, event_id=f"0000000{i}-e")
        for i in range(3)
    ]
    recs.append(
        record(
            "StopLogging",
            t0 + timedelta(minutes=10),
            source="cloudtrail.amazonaws.com",
            user=HOSTILE,
            userAgent=HOSTILE,
            requestParameters={"name": trail_arn},
            readOnly=False,
        )
    )
    recs.append(
        record(
            "AssumeRole",
            t0 + timedelta(minutes=12),
            source="sts.amazonaws.com",
            userAgent=HOSTILE,
            requestParameters={"roleArn": f"arn:aws:iam::{ACCOUNT}:role/ops", "roleSessionName": HOSTILE},
            responseElements={
                "credentials": {"accessKeyId": ROLE_KEY, "expiration": "Mar 10, 2026, 3:12:00 AM"},
                "assumedRoleUser": {"assumedRoleId": "AROAEXAMPLE:" + HOSTILE, "arn": session_arn},
            },
        )
    )
    session = record(
        "GetObject",
        t0 + timedelta(minutes=15),
        source="s3.amazonaws.com",
        region=HOSTILE,
        userAgent=HOSTILE,
        requestParameters={"bucketName": HOSTILE, "key": HOSTILE},
    )
    session["userIdentity"] = {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLE:" + HOSTILE,
        "arn": session_arn,
        "accountId": ACCOUNT,
        "accessKeyId": ROLE_KEY,
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{ACCOUNT}:role/ops", "userName": "ops"}
        },
    }
    recs.append(session)
    recs.append(record(HOSTILE, t0 + timedelta(minutes=20), userAgent=HOSTILE, readOnly=False))
    recs.append(
        record(
            "PutBucketPolicy",
            t0 + timedelta(minutes=21),
            source="s3.amazonaws.com",
            userAgent=HOSTILE,
            requestParameters={"bucketName": HOSTILE, "bucketPolicy": {"Statement": [{"Sid": HOSTILE}]}},
            readOnly=False,
        )
    )
    return recs


_MAIN = "import sys; from trailforensics.cli import main; sys.argv[0] = 'trailforensics'; main()"


def _cli(*args: str) -> list[str]:
    """The installed entry point, `trailforensics.cli:main`, as a subprocess."""
    return [sys.executable, "-c", _MAIN, *args]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(dataset, evidence tree); the tree's own folder name is hostile too (verify prints it)."""
    root = tmp_path_factory.mktemp("hostile")
    tree = root / f"tree{HOSTILE.replace('/', '_')}"
    write_log(tree, _records(), delivered=datetime(2026, 3, 10, 2, 25, tzinfo=UTC))
    ds = root / "ds"
    done = subprocess.run(_cli("ingest", str(tree), "-d", str(ds), "-q"), capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return ds, tree


def _on_terminal(argv: list[str]) -> tuple[int, str]:
    """Run with stdout and stderr on a pseudo-terminal (200 columns); return (exit code, what it showed)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "200"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            raise AssertionError(f"no output for 60 s: {argv}")
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every writer closed the slave
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", errors="replace")


def _command(name: str, ds: Path, tree: Path) -> list[str]:
    return {
        "hunt": ["hunt", "-d", str(ds)],
        "trails": ["trails", "-d", str(ds)],
        "trace": ["trace", "AKIAEXAMPLEKEY000001", "-d", str(ds)],
        "policy": ["policy", "--actor", USER_ARN, "-d", str(ds)],
        "coverage": ["coverage", "-d", str(ds)],
        "verify": ["verify", str(tree), "-q"],
    }[name]


COMMANDS = ("hunt", "trails", "trace", "policy", "coverage", "verify")


def _formats(command: str) -> tuple[str, ...]:
    return ("text", "json") if command == "verify" else ("table", "json", "jsonl")


CASES = [(c, f) for c in COMMANDS for f in _formats(c)]


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize(("command", "fmt"), CASES)
def test_no_raw_control_or_bidi_character_reaches_the_terminal(
    command: str, fmt: str, hostile: tuple[Path, Path]
) -> None:
    ds, tree = hostile
    argv = _cli(*_command(command, ds, tree), "-f", fmt)
    piped = subprocess.run(argv, capture_output=True, check=False)
    assert "\u202e" in piped.stdout.decode(errors="replace") or "\\u202e" in piped.stdout.decode(), (
        f"the hostile text does not reach {command} -f {fmt}: the test proves nothing"
    )
    code, shown = _on_terminal(argv)
    assert code == piped.returncode, shown
    visible = RICH_STYLE.sub("", shown)
    bad = sorted({f"U+{ord(ch):04X}" for ch in UNSAFE.findall(visible)})
    assert not bad, f"{command} -f {fmt} sent {bad} to the terminal:\n{shown!r}"
    if fmt != "table":  # (a table may cut a squeezed cell before it)
        assert "evil" in shown  # the hostile text is shown, escaped, not dropped
