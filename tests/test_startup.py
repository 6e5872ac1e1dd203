"""Start-up cost of the CLI: declaring the commands (what ``--help`` needs) loads no heavy library.

The check is on ``sys.modules`` in a fresh interpreter, not on time (the machine may be busy);
the time of ``trailforensics --help`` is printed for information (``pytest -s``).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

# Loaded by a command when it runs, never to build --help or parse options.
HEAVY = ("duckdb", "pyarrow", "numpy", "rich", "msgspec", "cryptography", "pydantic")

_REGISTER = (
    "import sys\n"
    "import trailforensics.cli as cli\n"
    "cli._register_commands()\n"
    "from trailforensics import __version__\n"
    "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})))\n"
)


def test_registering_the_commands_loads_no_heavy_library() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _REGISTER.format(heavy=set(HEAVY))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == []


# What declaring the commands may load of the package: the CLI, the output layer (format names,
# sinks), the error base and the memory settings (--memory-limit is checked before any command).
LIGHT = ("trailforensics.cli", "trailforensics.output", "trailforensics.errors", "trailforensics.engine.resources")


def test_the_library_modules_load_only_when_a_command_asks() -> None:
    code = (
        "import sys\n"
        "import trailforensics.cli as cli\n"
        "cli._register_commands()\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('trailforensics.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    packages = {"trailforensics.engine"}  # the package of resources: its __init__ is lazy
    assert [m for m in out if m not in packages and not m.startswith(LIGHT)] == []


def test_package_import_is_light_and_dataset_still_importable() -> None:
    code = (
        "import sys\n"
        "import trailforensics\n"
        "assert 'duckdb' not in sys.modules and 'pyarrow' not in sys.modules\n"
        "from trailforensics import Dataset\n"
        "assert Dataset.__name__ == 'Dataset' and 'duckdb' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_coverage_buckets_named_in_the_cli_are_the_librarys() -> None:
    from trailforensics.cli.posture_cmd import BUCKETS as CLI_BUCKETS
    from trailforensics.posture.activity_coverage import BUCKETS

    assert CLI_BUCKETS == BUCKETS


def test_help_start_up_time_is_reported() -> None:
    """Not an assertion: the median of 5 runs of `trailforensics --help`, for the record."""
    code = "import sys; sys.argv = ['trailforensics', '--help']; from trailforensics.cli import main; main()"
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    print(f"\ntrailforensics --help: median {statistics.median(times):.3f} s, min {min(times):.3f} s")
