"""`trailforensics --memory-limit SIZE`: checked once, handed to every connection, and DuckDB running
out of memory within it said in one line with the way out."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import orjson
import pytest
from typer.testing import CliRunner

from trailforensics.cli import _register_commands, app
from trailforensics.engine.resources import ENV_MEMORY_LIMIT, SCRATCH

_register_commands()

HINT = "raise it with --memory-limit or TRAILFORENSICS_MEMORY_LIMIT"


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    from tests.ct import simple_tree
    from trailforensics.ingest import IngestOptions, ingest

    simple_tree(tmp_path / "src", files=2, per_file=3)
    ds = tmp_path / "ds"
    ingest([tmp_path / "src"], ds, IngestOptions(workers=1))
    return ds


@pytest.fixture(autouse=True)
def no_limit_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The option writes the variable for the process: monkeypatch puts it back after each test.
    monkeypatch.delenv(ENV_MEMORY_LIMIT, raising=False)


def _setting(ds: Path, *options: str) -> str:
    r = CliRunner().invoke(
        app, [*options, "sql", "-d", str(ds), "-f", "json", "SELECT current_setting('memory_limit') AS m"]
    )
    assert r.exit_code == 0, r.output
    return str(orjson.loads(r.stdout)[0]["m"])


def test_the_option_sets_the_limit_of_the_commands_connection(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trailforensics.cli.common import apply_memory_limit

    assert _setting(dataset, "--memory-limit", "512MiB") == "512.0 MiB"
    monkeypatch.setenv(ENV_MEMORY_LIMIT, "unset")  # recorded, so the value set below is undone afterwards
    monkeypatch.delenv(ENV_MEMORY_LIMIT)  # (a delenv of an absent variable records nothing: 512MiB leaked
    apply_memory_limit("512MiB")  # into later tests of the worker) during a command: what its workers read too
    assert os.environ[ENV_MEMORY_LIMIT] == "512MiB"


def test_the_environment_variable_works_without_the_option(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_MEMORY_LIMIT, "256MiB")
    assert _setting(dataset) == "256.0 MiB"
    assert _setting(dataset, "--memory-limit", "1GiB") == "1.0 GiB"  # the option wins


@pytest.mark.parametrize("value", ["lots", "1x", "3MB"])
def test_a_bad_size_is_one_line_and_exit_1(dataset: Path, value: str) -> None:
    r = CliRunner().invoke(app, ["--memory-limit", value, "summary", "-d", str(dataset)])
    assert r.exit_code == 1
    assert r.stderr.startswith(f"error: --memory-limit ({ENV_MEMORY_LIMIT}): ")
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.output
    assert r.stdout == ""


def test_help_documents_the_option_the_variable_and_the_default() -> None:
    r = CliRunner().invoke(app, ["--help"])
    assert r.exit_code == 0
    text = " ".join(r.stdout.split())
    assert "--memory-limit SIZE" in text
    assert ENV_MEMORY_LIMIT in text
    assert "Default: the smaller of 4 GiB and half the RAM" in text


def test_out_of_memory_is_one_line_with_the_limit_and_the_way_out(dataset: Path) -> None:
    # One list of 40 M integers is a single value: DuckDB cannot spill it.
    query = "SELECT len(list(i)) FROM range(40000000) t(i)"
    r = CliRunner().invoke(app, ["--memory-limit", "64MiB", "sql", "-d", str(dataset), query])
    assert r.exit_code == 1, r.output
    assert r.stderr.startswith("error: out of memory within the memory limit (64 MiB) in Out of Memory Error")
    assert r.stderr.endswith(f"; {HINT}\n")
    assert r.stderr.count("\n") == 1
    assert not (dataset / SCRATCH).exists()  # the spill folder went with the connection


def test_out_of_memory_raised_from_a_library_error_is_recognised(
    dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run_out(*args: object, **kwargs: object) -> None:
        try:
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block\nmore detail")
        except duckdb.Error as exc:
            raise RuntimeError("timeline failed") from exc

    monkeypatch.setattr("trailforensics.query.timeline.timeline", run_out)
    r = CliRunner().invoke(app, ["--memory-limit", "1GiB", "timeline", "-d", str(dataset)])
    assert r.exit_code == 1
    assert r.stderr == (
        "error: out of memory within the memory limit (1 GiB) in "
        f"Out of Memory Error: could not allocate block; {HINT}\n"
    )


def test_other_exceptions_keep_their_traceback(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("trailforensics.query.timeline.timeline", broken)
    r = CliRunner().invoke(app, ["timeline", "-d", str(dataset)])
    assert isinstance(r.exception, ZeroDivisionError)


def test_a_command_removes_its_spill_folder(dataset: Path) -> None:
    r = CliRunner().invoke(app, ["summary", "-d", str(dataset)])
    assert r.exit_code == 0, r.output
    assert not (dataset / SCRATCH).exists()


def test_the_setting_does_not_outlive_an_in_process_command(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test or notebook that runs the app in-process keeps its own memory setting afterwards."""
    monkeypatch.delenv(ENV_MEMORY_LIMIT, raising=False)
    r = CliRunner().invoke(app, ["--memory-limit", "64MiB", "summary", "-d", str(dataset)])
    assert r.exit_code in (0, 1)
    assert ENV_MEMORY_LIMIT not in os.environ
    monkeypatch.setenv(ENV_MEMORY_LIMIT, "2GiB")
    CliRunner().invoke(app, ["--memory-limit", "512MiB", "summary", "-d", str(dataset)])
    assert os.environ[ENV_MEMORY_LIMIT] == "2GiB"
