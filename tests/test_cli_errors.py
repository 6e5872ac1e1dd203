"""The CLI's one exit for library errors: `error: <message>` on stderr, the error's exit code."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import trailforensics
from trailforensics.cli import _register_commands, app
from trailforensics.errors import TrailforensicsError

_register_commands()

# Every exception class the library defines for a reason, by module (the census).
LIBRARY_ERRORS = {
    "trailforensics.engine.dataset": ["QueryRefused"],
    "trailforensics.engine.resources": ["BadMemoryLimit"],
    "trailforensics.hunt.model": ["DetectionError"],
    "trailforensics.hunt.sigma_bridge": ["SigmaUnavailable", "SigmaPathError"],
    "trailforensics.hunt.sqlenv": ["KnownAccountsError"],
    "trailforensics.ingest.pipeline": ["IngestError"],
    "trailforensics.spark.commands": ["SparkCommandError"],
    "trailforensics.spark.ddl": ["DdlError"],
    "trailforensics.spark.dialect": ["TranspileError"],
    "trailforensics.spark.session": ["SparkUnavailable"],
    "trailforensics.normalize.tolerant": ["RejectedRecord"],
    "trailforensics.output.sink": ["OutputError"],
    "trailforensics.posture.least_privilege": ["PolicyError"],
    "trailforensics.posture.trace": ["TraceError"],
    "trailforensics.query.ipmatch": ["BadAddress"],
    "trailforensics.query.named": ["QueryError"],
    "trailforensics.query.timeline": ["BadColumn"],
    "trailforensics.query.when": ["BadTime"],
    "trailforensics.readers.cloudtrail": ["FileFormatError"],
    "trailforensics.readers.csvexport": ["NotEventHistory"],
    "trailforensics.readers.decompress": ["DecompressError"],
    "trailforensics.readers.items": ["NotARecord"],
    "trailforensics.readers.sniff": ["LookAlike"],
    "trailforensics.sigma.backend": ["SigmaCompileError"],
    "trailforensics.store.layout": ["NotADataset"],
    "trailforensics.store.lock": ["DatasetLocked"],
    "trailforensics.verify.keys": ["KeyFileError"],
    "trailforensics.verify.store": ["StoreError"],
}


@pytest.mark.parametrize("module", sorted(LIBRARY_ERRORS))
def test_every_library_error_shares_the_base(module: str) -> None:
    for name in LIBRARY_ERRORS[module]:
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, TrailforensicsError), f"{module}.{name}"
        builtin = [b for b in cls.__mro__ if b.__module__ == "builtins" and b not in (Exception, BaseException, object)]
        assert builtin, f"{module}.{name} lost its builtin base"  # `except ValueError` still catches it


def test_no_error_class_is_left_out() -> None:
    """A new exception class in the package must join the base (and this census)."""
    found = set()
    for info in pkgutil.walk_packages(trailforensics.__path__, "trailforensics."):
        if info.name.startswith(("trailforensics.cli", "trailforensics.generate.sample")):
            continue
        try:
            mod = importlib.import_module(info.name)
        except ImportError:  # an optional dependency (pySigma) is missing
            continue
        for name, obj in vars(mod).items():
            mine = isinstance(obj, type) and obj.__module__ == info.name and obj is not TrailforensicsError
            if mine and issubclass(obj, Exception):
                found.add((info.name, name))
    assert found == {(m, n) for m, names in LIBRARY_ERRORS.items() for n in names}


def test_builtin_bases_still_catch() -> None:
    from trailforensics.query.when import BadTime
    from trailforensics.store.layout import NotADataset

    with pytest.raises(ValueError):
        raise BadTime("x")
    with pytest.raises(FileNotFoundError):
        raise NotADataset("x")


def _dataset(tmp_path: Path) -> Path:
    from tests.ct import simple_tree
    from trailforensics.ingest import IngestOptions, ingest

    simple_tree(tmp_path / "src", files=2, per_file=3)
    ds = tmp_path / "ds"
    ingest([tmp_path / "src"], ds, IngestOptions(workers=1))
    return ds


def test_a_library_error_becomes_one_safe_line_and_its_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Odd(TrailforensicsError):
        exit_code = 3

    def raise_odd(*args: object, **kwargs: object) -> None:
        raise Odd("bad \x1b[2J\u202e value")

    ds = _dataset(tmp_path)
    monkeypatch.setattr("trailforensics.query.timeline.timeline", raise_odd)  # imported when the command runs
    r = CliRunner().invoke(app, ["timeline", "-d", str(ds)])
    assert r.exit_code == 3
    assert r.stderr == "error: bad \\x1b[2J\\u202e value\n"
    assert r.stdout == ""


def test_errors_users_see_keep_their_message_and_code(tmp_path: Path) -> None:
    ds = _dataset(tmp_path)
    cases = [
        (["timeline", "-d", str(ds), "--columns", "nope"], "error: unknown column"),
        (["timeline", "-d", str(ds), "--ip", "10.0.0.0/99"], "error: "),
        (["timeline", "-d", str(ds), "-f", "xml"], "error: unknown format 'xml'"),
        (["sql", "-d", str(ds), "DELETE FROM events"], "error: "),
        (["trace", "AKIANOSUCHKEY0000000", "-d", str(ds)], "error: "),
        (["trails", "-d", str(ds), "-f", "xml"], "error: unknown format 'xml'"),
        (["query", "no_such_query", "-d", str(ds)], "error: no named query"),
    ]
    for args, start in cases:
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 1, (args, r.output)
        assert r.stderr.startswith(start) and r.stderr.count("\n") == 1, (args, r.stderr)
        assert "Traceback" not in r.output


def test_compact_takes_the_dataset_as_d_or_positionally(tmp_path: Path) -> None:
    ds = _dataset(tmp_path)
    for args in (["compact", "-d", str(ds)], ["compact", str(ds)]):
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["compact"], env={"TRAILFORENSICS_DATASET": ""})
    assert r.exit_code == 1 and "name the dataset" in r.stderr
