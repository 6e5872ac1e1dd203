"""Time and peak memory of a call or of a CLI command (the whole process tree, sampled from /proc)."""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class RssSampler:
    """Peak resident memory of this process and all its descendants (sampled every 20 ms), or only
    of the descendants (``children_only``: a command run as a subprocess, without the bench itself)."""

    def __init__(self, children_only: bool = False) -> None:
        self.children_only = children_only
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _tree_rss(root: int) -> int:
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                pid, ppid, pages = int(entry), int(fields[1]), int(fields[21])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(pid)
            rss[pid] = pages * os.sysconf("SC_PAGE_SIZE")
        total, stack = 0, [root]
        while stack:
            pid = stack.pop()
            total += rss.get(pid, 0)
            stack.extend(children.get(pid, []))
        return total

    def _sample(self) -> int:
        me = os.getpid()
        total = self._tree_rss(me)
        if self.children_only:
            total -= self._tree_rss_self(me)
        return total

    @staticmethod
    def _tree_rss_self(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                return int(fh.read().rsplit(")", 1)[1].split()[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            return 0

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._sample())

    def __enter__(self) -> RssSampler:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(fn: Callable[[], Any], children_only: bool = False) -> tuple[float, int, Any]:
    with RssSampler(children_only) as rss:
        t0 = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t0
    return seconds, rss.peak, result


def median_ms(fn: Callable[[], Any], runs: int = 7) -> float:
    fn()  # warm
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def bench_command(args: list[str], memory_limit: str | None = None, stdout: Path | None = None) -> dict[str, Any]:
    """One CLI command as a user runs it (a fresh process, output discarded or kept in ``stdout``):
    time and peak RSS."""
    import subprocess
    import sys

    cmd = [sys.executable, "-c", "from trailforensics.cli import main; main()"]
    if memory_limit:
        cmd += ["--memory-limit", memory_limit]
    with open(stdout or os.devnull, "wb") as sink:
        seconds, peak, proc = timed(
            lambda: subprocess.run(cmd + args, stdout=sink, stderr=subprocess.PIPE, text=True),
            children_only=True,
        )
    row: dict[str, Any] = {"seconds": round(seconds, 2), "peak_rss_mb": round(peak / 2**20), "exit": proc.returncode}
    if proc.returncode not in (0,):
        row["stderr"] = proc.stderr.strip().splitlines()[-1:] if proc.stderr.strip() else []
    return row
