"""Packaging: every subpackage ships, and the named queries ship inside the wheel."""

from __future__ import annotations

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "trailforensics").rglob("__init__.py")}
    found.add("trailforensics.queries")
    assert found <= listed, f"add to pyproject.toml [tool.setuptools] packages: {sorted(found - listed)}"
    assert config["package-dir"]["trailforensics.queries"] == "queries"


def test_queries_are_importable_as_package_data() -> None:
    from trailforensics.query.named import builtin_dir

    assert (builtin_dir() / "console_logins.sql").is_file()


def test_the_wheel_builds_quietly_with_every_query_detection_and_data_file(tmp_path: Path) -> None:
    import subprocess
    import sys
    import zipfile

    run = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    noise = run.stdout + run.stderr
    for warning in ("Package would be ignored", "is deprecated", "deprecated", "does not exist"):
        assert warning not in noise, noise[-3000:]
    (wheel,) = tmp_path.glob("trailforensics-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"trailforensics/queries/{p.relative_to(ROOT / 'queries').as_posix()}"
        for p in (ROOT / "queries").rglob("*")
        if p.is_file() and p.suffix in (".sql", ".jsonl", ".yml", ".yaml") and "__pycache__" not in p.parts
    }
    expected |= {f"trailforensics/posture/data/{p.name}" for p in (ROOT / "trailforensics/posture/data").glob("*.json")}
    expected |= {"trailforensics/py.typed", "trailforensics/__main__.py"}
    assert any(n.startswith("trailforensics/queries/detections/") and n.endswith(".sql") for n in expected)
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"


def test_the_version_is_declared_once() -> None:
    from importlib.metadata import version

    from trailforensics import __version__

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in config["project"]["dynamic"]
    assert version("trailforensics") == __version__


def test_the_lock_and_every_command_module_import_without_fcntl() -> None:
    """Windows has no fcntl: starting the CLI (every command module) and importing the lock must not need it."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.modules['fcntl'] = None  # an import of it raises ImportError, as on Windows\n"
        "import trailforensics.cli as cli\n"
        "cli._register_commands()\n"
        "import trailforensics.store.lock, trailforensics.store.transaction\n"
        "print('ok')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stdout.strip() == "ok", run.stderr


def test_min_versions_pins_every_dependency_floor() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, str(ROOT / ".ci/min_versions.py"), str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert len(out) == len(project["dependencies"]) + len(project["optional-dependencies"]["sigma"])
    assert "duckdb==2.0.0" in out and all("==" in pin for pin in out)
