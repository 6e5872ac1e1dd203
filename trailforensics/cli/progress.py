"""Progress reporting on standard error: ingest's Rich bar on a terminal (plain lines otherwise), and
:class:`Steps`, the one-line bar of the other long commands (hunt, compact, generate, report)."""

from __future__ import annotations

import shutil
import threading
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from trailforensics.ingest.pipeline import ProgressFn
    from trailforensics.output.sink import Sink


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


class Steps:
    """A one-line progress bar on standard error while a command works: on a terminal only (a pipe or
    a log file gets nothing).  With a `total`, a bar over the steps; without, the time so far.

    Use as a context manager (the line is cleared on the way out, Ctrl-C included); :meth:`step` says
    which step starts.  A ticker redraws the line twice a second so a long step still shows time passing.
    """

    def __init__(self, label: str, total: int | None = None, *, quiet: bool = False, sink: Sink | None = None) -> None:
        from trailforensics.output.sink import Sink

        self.sink = sink or Sink.stderr()
        self.shown = self.sink.terminal and not quiet
        self.label, self.total = label, total
        self.done, self.current = 0, ""
        self._begun = 0  # steps started (the one running is not done)
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> Steps:
        if self.shown:
            self._draw()
            self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            with self._lock:
                self.sink.clear_status()

    def step(self, name: str = "") -> None:
        """Step `name` starts (the previous one, if any, is done)."""
        with self._lock:
            self.done, self._begun = self._begun, self._begun + 1
            self.current = name
        self._draw()

    def advance(self, n: int = 1) -> None:
        """`n` more steps are done (for work whose steps are not named)."""
        with self._lock:
            self.done += n
        self._draw()

    def update(self, done: int, total: int) -> None:
        """`done` of `total` steps are done (for work that counts its own steps)."""
        with self._lock:
            self.done, self.total = done, total
        self._draw()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            self._draw()

    def _draw(self) -> None:
        if not self.shown:
            return
        with self._lock:
            if self._stop.is_set():
                return
            self.sink.status(self.render(shutil.get_terminal_size((80, 24)).columns))

    def render(self, columns: int) -> str:
        """The status line, at most `columns - 1` wide (the last column would wrap on some terminals)."""
        from trailforensics.output.sanitize import terminal_safe

        seconds = f"{time.monotonic() - self.started:,.0f} s"
        current = terminal_safe(self.current)  # escaped before it is cut to the width
        if self.total is None:
            text = f"{self.label} ... {seconds}"
        else:
            count = f"{min(self.done, self.total):,}/{self.total:,}"
            width = max(10, min(30, columns // 4))
            filled = round(width * min(self.done, self.total) / max(self.total, 1))
            text = f"{self.label} [{'#' * filled}{'-' * (width - filled)}] {count} {seconds} {current}"
        return text[: max(columns - 1, 1)]
