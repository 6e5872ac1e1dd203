"""Memory and spill settings of every DuckDB connection the product opens.

Memory is a setting, never a consequence of the input size: each connection gets a
``memory_limit`` (default: the smaller of 4 GiB and half of the machine's RAM; change it with
``--memory-limit`` or ``$TRAILFORENSICS_MEMORY_LIMIT``) and a spill folder, so sorts,
aggregates, joins and windows larger than the limit go to disk instead of growing the process.

Spill files go to a scratch folder inside the dataset (``DATASET/.scratch/<pid>-<hex>/``):
never the evidence tree, never a shared temp folder another case could read.  The folder is
removed when the connection closes; one left by a killed process is removed by the next
process that opens the dataset (its pid no longer runs).  Writers (compact) spill into their
transaction's own scratch folder instead, which the commit discards.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from trailforensics.errors import TrailforensicsError

if TYPE_CHECKING:
    import duckdb

ENV_MEMORY_LIMIT = "TRAILFORENSICS_MEMORY_LIMIT"
DEFAULT_CAP = 4 << 30
SCRATCH = ".scratch"
MIN_LIMIT = 64 << 20  # below this DuckDB cannot even hold one row group of events

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1 << 10,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1 << 20,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1 << 30,
    "t": 1000**4,
    "tb": 1000**4,
    "tib": 1 << 40,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*|%)\s*$", re.IGNORECASE)


class BadMemoryLimit(TrailforensicsError, ValueError):
    """A --memory-limit value that is not a size."""


def total_ram() -> int:
    """Physical memory in bytes (0 when the platform cannot tell)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def parse_size(text: str) -> int:
    """``"1GB"``, ``"512MiB"``, ``"2g"``, ``"1.5 GB"`` or ``"25%"`` (of RAM) as bytes."""
    m = _SIZE_RE.match(text)
    if not m:
        raise BadMemoryLimit(f"not a memory size: {text!r} (examples: 1GB, 512MiB, 25%)")
    number, unit = float(m.group(1)), m.group(2).lower()
    if unit == "%":
        ram = total_ram()
        if not ram:
            raise BadMemoryLimit("a percentage needs the machine's RAM size, which this platform does not report")
        value = int(ram * number / 100)
    elif unit in _UNITS:
        value = int(number * _UNITS[unit])
    else:
        raise BadMemoryLimit(f"unknown unit {m.group(2)!r} in {text!r} (use KB, MB, GB, KiB, MiB, GiB or %)")
    if value < MIN_LIMIT:
        raise BadMemoryLimit(f"memory limit {text!r} is below the minimum of {MIN_LIMIT >> 20} MiB")
    return value


def default_memory_limit() -> int:
    ram = total_ram()
    return min(DEFAULT_CAP, ram // 2) if ram else DEFAULT_CAP


def memory_limit(value: str | int | None = None) -> int:
    """The limit in bytes: ``value`` if given, else ``$TRAILFORENSICS_MEMORY_LIMIT``, else the default."""
    if isinstance(value, int):
        return max(value, MIN_LIMIT)
    if value:
        return parse_size(value)
    env = os.environ.get(ENV_MEMORY_LIMIT)
    if env:
        return parse_size(env)
    return default_memory_limit()


def format_size(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n >= size:
            return f"{n / size:.1f} {unit}".replace(".0 ", " ")
    return f"{n} B"


def configure(
    con: duckdb.DuckDBPyConnection,
    *,
    limit: int,
    spill: Path,
    threads: int | None = None,
    preserve_order: bool = True,
) -> None:
    """Apply the memory limit and spill folder (before any sandboxing locks the configuration).

    ``preserve_order=False`` (writers whose output is sorted explicitly) lets COPY and CREATE
    TABLE AS stream without buffering rows to keep their input order.
    """
    con.execute(f"SET memory_limit='{int(limit)}B'")
    # DuckDB's own progress bar writes straight to the terminal, around the output layer.
    con.execute("SET enable_progress_bar=false")
    con.execute("SET temp_directory=?", [str(spill)])
    if not preserve_order:
        con.execute("SET preserve_insertion_order=false")
    if threads:
        con.execute(f"SET threads={int(threads)}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ScratchDir:
    """A private spill folder under ``DATASET/.scratch/``, removed on close (stale ones too)."""

    def __init__(self, dataset: Path):
        self.root = dataset / SCRATCH
        self.path = self.root / f"{os.getpid()}-{secrets.token_hex(3)}"

    def open(self) -> Path:
        try:
            self._remove_stale()
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError:
            # A dataset on read-only media: spill to a private temporary folder instead.
            self.root = Path(tempfile.mkdtemp(prefix="trailforensics-scratch-"))
            self.path = self.root / f"{os.getpid()}-{secrets.token_hex(3)}"
            self.path.mkdir()
        return self.path

    def _remove_stale(self) -> None:
        if not self.root.is_dir():
            return
        for entry in self.root.iterdir():
            pid_text = entry.name.split("-", 1)[0]
            if pid_text.isdigit() and not _alive(int(pid_text)):
                shutil.rmtree(entry, ignore_errors=True)

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.root.rmdir()  # only when no other process is using it

    def __enter__(self) -> Path:
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
