"""Progress reporting: a Rich bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from trailforensics.ingest.pipeline import ProgressFn


def make_progress(stream: TextIO) -> ProgressFn:
    if stream.isatty():
        return _rich_progress(stream)
    return _plain_progress(stream)


def _plain_progress(stream: TextIO, every: float = 5.0) -> ProgressFn:
    state = {
        "files": 0,
        "bytes": 0,
        "records": 0,
        "total": 0,
        "total_bytes": 0,
        "t0": time.monotonic(),
        "last": 0.0,
    }

    def report(event: str, files: int, nbytes: int, records: int) -> None:
        if event == "start":
            state.update(total=files, total_bytes=nbytes, t0=time.monotonic())
            stream.write(f"ingesting {files:,} files ({nbytes / 1e6:,.1f} MB)\n")
            return
        state["files"] += files
        state["bytes"] += nbytes
        state["records"] += records
        now = time.monotonic()
        if event == "finish" or now - state["last"] >= every:
            state["last"] = now
            elapsed = max(now - state["t0"], 1e-9)
            stream.write(
                f"  {state['files']:,}/{state['total']:,} files, {state['records']:,} records, "
                f"{state['bytes'] / 1e6:,.1f} MB, {state['records'] / elapsed:,.0f} records/s\n"
            )
        stream.flush()

    return report


def _rich_progress(stream: TextIO) -> ProgressFn:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    console = Console(file=stream)
    progress = Progress(
        TextColumn("ingest"),
        BarColumn(),
        TextColumn("{task.fields[files]:,}/{task.fields[total_files]:,} files"),
        TextColumn("{task.fields[records]:,} records"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    )
    state = {"files": 0, "records": 0}
    task: list[TaskID] = []

    def report(event: str, files: int, nbytes: int, records: int) -> None:
        if event == "start":
            progress.start()
            task.append(progress.add_task("ingest", total=nbytes, files=0, total_files=files, records=0))
            return
        if event == "finish":
            progress.stop()
            return
        state["files"] += files
        state["records"] += records
        progress.update(task[0], advance=nbytes, files=state["files"], records=state["records"])

    return report
